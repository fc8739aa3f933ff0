import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DiagnosisRequest, DiagnosisResult } from '../src/contract/diagnosis';
import type { EscalationAdvice } from '../src/contract/escalation-notice';
import type { Action, Decision, Facts } from '../src/contract/policy';
import { ACTIVITY_OPTIONS, llmActivityOptions } from './activity-options';
import { compactDiagnosis } from './decision-chain';
import type { IncidentRecord } from './record';
import type { Advice } from '../src/policy';
import { adviceFrom } from '../src/policy';

const advisor = proxyActivities<Activities>(ACTIVITY_OPTIONS.llm);

/**
 * Ask the model (through the gateway) what it makes of the facts. Advice only: nothing it says
 * becomes an argument of any call. Any failure — no answer, a malformed one, budgets spent,
 * retries exhausted — leaves the policy to decide alone, with the reason recorded.
 */
export async function diagnose(rec: IncidentRecord, facts: Facts): Promise<Advice | null> {
  const llm = rec.input.llm;
  const options = llmActivityOptions(llm.maxTurns, llm.timeoutSeconds);
  const request: DiagnosisRequest = {
    container: rec.input.container,
    containerId: rec.input.containerId,
    facts,
    maxTurns: llm.maxTurns,
    maxAttempts: options.retry?.maximumAttempts ?? 1,
  };
  const res = await rec.call(
    'llm_diagnosis',
    { container: rec.input.containerId, maxTurns: llm.maxTurns },
    () => advisor.diagnoseIncident.executeWithOptions({ ...options, summary: `model diagnosis of ${rec.input.container}` }, [request]),
    compactDiagnosis,
  );
  if (!res.ok) {
    rec.st.diagnosis = { model: '-', ok: false, reason: res.error.code, detail: res.error.message.slice(0, 500), turns: 0, tokens: 0, toolCalls: [], weighed: false };
    rec.adviceNotice = { model: '-', verdict: 'failed', note: `the model's diagnosis failed (${res.error.code}); the policy decided alone` };
    rec.note(`model diagnosis failed (${res.error.code}): ${res.error.message.slice(0, 300)}; the policy decides alone`);
    return null;
  }
  const r: DiagnosisResult = res.value;
  const advice = adviceFrom(r);
  rec.st.diagnosis = {
    model: r.model,
    ok: r.ok,
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.detail ? { detail: r.detail } : {}),
    turns: r.turns,
    tokens: r.tokens,
    toolCalls: r.toolCalls,
    weighed: advice?.use === true,
    ...(advice && !advice.use ? { disregarded: advice.why } : {}),
  };
  if (r.otherContainers.length > 0) rec.note(`the model asked to look at other containers (${r.otherContainers.join(', ')}); refused before any call`);
  if (r.stoppedAtTurnLimit) rec.note(`the model was stopped at its turn limit (${r.turns} of ${llm.maxTurns})`);
  if (!advice) {
    rec.adviceNotice = { model: r.model, verdict: 'failed', note: `no usable proposal (${r.reason ?? 'unknown'}); the policy decided alone` };
    rec.note(`model diagnosis gave no proposal (${r.reason ?? 'unknown'}: ${(r.detail ?? '').slice(0, 300)}); the policy decides alone`);
    return null;
  }
  if (advice.proposal) rec.st.proposal = advice.proposal;
  return advice;
}

/** Says what the gate made of the advice, in the notes and for the escalation notification. */
export function noteAdvice(rec: IncidentRecord, advice: Advice, decision: Decision, finalAction: Action): void {
  const p = advice.proposal;
  const model = rec.st.diagnosis?.model ?? '-';
  const quoted = p
    ? {
        proposedAction: p.proposedAction,
        failureType: p.failureType,
        confidence: p.confidence,
        rationale: p.rationale.slice(0, 600),
        evidence: p.evidence.slice(0, 5).map((e) => e.slice(0, 200)),
      }
    : {};
  let note: string;
  let verdict: EscalationAdvice['verdict'];
  if (!advice.use) {
    verdict = 'disregarded';
    note = `model advice disregarded: ${advice.why}; the policy decides alone (${decision.action})`;
  } else if (p?.proposedAction === decision.action) {
    verdict = 'agrees';
    note = `the model agrees with the policy: ${decision.action} (confidence ${p.confidence})`;
  } else {
    verdict = 'disagrees';
    note =
      decision.action === 'escalate'
        ? `the model proposed ${p?.proposedAction ?? '?'}; the policy's escalation stands (the model can only make a decision more conservative)`
        : `the model proposed ${p?.proposedAction ?? '?'}, the policy decided ${decision.action}: final action ${finalAction} (the model can only make a decision more conservative)`;
  }
  rec.adviceNotice = { model, verdict, ...quoted, note };
  rec.note(note);
}
