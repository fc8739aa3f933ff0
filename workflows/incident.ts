import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  condition,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, MutationOutcome } from '../activities';
import type { ContainerSummary, LogsResult } from '../src/gateway/protocol';
import { POLICY_TABLE, decide, gate, raisedMemory } from '../src/policy';
import type { Action, Decision, Facts, FailureKind } from '../src/policy/types';
import { ACTIVITY_OPTIONS, llmActivityOptions } from './activity-options';
import type { Advice, DiagnosisRequest, DiagnosisResult } from './diagnosis';
import { adviceFrom } from './diagnosis';
import type { EscalationAdvice, EscalationNotice } from './escalation-notice';
import { evidenceLines, factsFrom, formatBytes } from './facts';
import type { GatewayFailureDetails } from './failures';
import { FAILURE_TYPES } from './failures';
import type { IncidentInput, IncidentState, Observation, Outcome, Phase, Response, ResponseAction, ToolCallRecord } from './messages';
import { RESPONSE_ACTIONS, SA, observeSignal, respondSignal, stateQuery } from './messages';
import { ObservationTracker, describeObservation, isObservation } from './observations';

const read = proxyActivities<Activities>(ACTIVITY_OPTIONS.dockerRead);
const mutating = proxyActivities<Activities>(ACTIVITY_OPTIONS.dockerMutate);
const visibility = proxyActivities<Activities>(ACTIVITY_OPTIONS.visibility);
const notifications = proxyActivities<Activities>(ACTIVITY_OPTIONS.notify);
const advisor = proxyActivities<Activities>(ACTIVITY_OPTIONS.llm);

/** Log lines fetched as evidence when an incident escalates (the activity truncates them further). */
const EVIDENCE_LOG_TAIL = 20;
/** Log lines quoted in a notification. */
const NOTICE_LOG_LINES = 8;
const MAX_NOTES = 100;
const MAX_RESPONSES = 50;

/** What `approve` runs for an escalation, computed from facts, never from model text. */
interface Remedy {
  action: Action;
  memoryBytes?: number;
  text: string;
}

type ToolResult<R> = { ok: true; value: R } | { ok: false; error: { code: string; message: string } };

/**
 * One incident of one container (DESIGN §3): triage → diagnose → decide → act → verify →
 * resolved | escalated → closed. Returns the final state, which `incidents show` displays.
 */
export async function incidentWorkflow(input: IncidentInput): Promise<IncidentState> {
  validateInput(input);
  return new Incident(input).run();
}

class Incident {
  private readonly st: IncidentState;
  private readonly tracker = new ObservationTracker();
  /** Responses received while an escalation waits, in arrival order. */
  private readonly inbox: Response[] = [];
  private summary: ContainerSummary | undefined;
  private facts: Facts | undefined;
  private decision: Decision | undefined;
  private readonly decisionHistory: Decision[] = [];
  /** What the model advised, for the escalation notification. */
  private adviceNotice: EscalationAdvice | undefined;

  constructor(private readonly input: IncidentInput) {
    const info = workflowInfo();
    this.st = {
      incidentId: info.workflowId,
      host: input.host,
      container: input.container,
      containerId: input.containerId,
      phase: 'triage',
      startedAt: now(),
      observations: this.tracker.recent,
      decisionChain: [],
      responses: [],
      notes: [],
    };
    // The trigger also arrives as signalWithStart's signal: adding it first makes that a duplicate.
    this.tracker.add(input.trigger);
    setHandler(observeSignal, (o) => this.onObserve(o));
    setHandler(respondSignal, (r) => this.onRespond(r));
    setHandler(stateQuery, () => this.st);
  }

  async run(): Promise<IncidentState> {
    upsertSearchAttributes([
      { key: SA.container, value: this.input.container },
      { key: SA.host, value: this.input.host },
    ]);
    this.setPhase('triage');

    const inspected = await this.inspect();
    if (!inspected.ok) return this.triageFailed(inspected.error);
    this.summary = inspected.value;

    let facts = factsFrom(this.summary, this.tracker, this.input.policy, 0, false);
    let countError: { code: string; message: string } | undefined;
    if (facts.oomKilled && facts.optedIn && !facts.stackMember) {
      const counted = await this.countRecentOomIncidents();
      if (counted.ok) facts = { ...facts, priorOomIncidents: counted.value };
      else countError = counted.error;
    }
    this.facts = facts;
    this.st.facts = facts;
    let decision = decide(facts, this.input.policy);
    if (countError && decision.failure === 'oom') {
      decision = {
        action: 'escalate',
        failure: 'oom',
        rule: 'uncertain',
        expected: 'escalated',
        reason: `OOM killed, but past OOM incidents could not be counted (${countError.code}): escalating rather than guessing`,
      };
    }

    // An ignore decision never reaches the model; otherwise this is where it advises.
    let advice: Advice | null = null;
    if (decision.action !== 'ignore') {
      this.setPhase('diagnose');
      if (this.input.llm.enabled) advice = await this.diagnose(facts);
    }

    this.setPhase('decide');
    // The gate weighs a usable proposal only; it can make the decision more conservative, never less.
    const gated = gate(decision.action, advice?.use ? advice.proposal.proposedAction : undefined);
    const proposed = this.st.proposal?.proposedAction;
    if (proposed !== undefined && proposed !== decision.action) {
      this.st.disagreement = { policy: decision.action, model: proposed, final: gated.action };
    }
    this.setDecision(decision, gated.action);
    if (advice) this.noteAdvice(advice, decision, gated.action);

    if (gated.action === 'ignore') return this.close('ignored');
    if (gated.action === 'escalate') {
      if (decision.action === 'escalate') return this.escalate(decision.reason);
      return this.escalate(`the model proposed ${proposed ?? '?'} where the policy decided ${decision.action} (${decision.rule}: ${decision.reason}); the model can only make a decision more conservative, so a person decides`);
    }

    this.setPhase('act');
    const acted = await this.act(gated.action, decision.newMemoryBytes);
    if (!acted.ok) {
      return this.escalate(`${describeAction(gated.action)} was refused or failed (${acted.error.code}): ${acted.error.message}`);
    }
    return this.verify();
  }

  // ── phases ──────────────────────────────────────────────────────────────────────────────

  /**
   * Ask the model (through the gateway) what it makes of the facts. Advice only: nothing it says
   * becomes an argument of any call. Any failure — no answer, a malformed one, budgets spent,
   * retries exhausted — leaves the policy to decide alone, with the reason recorded.
   */
  private async diagnose(facts: Facts): Promise<Advice | null> {
    const llm = this.input.llm;
    const options = llmActivityOptions(llm.maxTurns, llm.timeoutSeconds);
    const request: DiagnosisRequest = {
      container: this.input.container,
      containerId: this.input.containerId,
      facts,
      maxTurns: llm.maxTurns,
      maxAttempts: options.retry?.maximumAttempts ?? 1,
    };
    const res = await this.tool(
      'llm_diagnosis',
      { container: this.input.containerId, maxTurns: llm.maxTurns },
      () => advisor.diagnoseIncident.executeWithOptions({ ...options, summary: `model diagnosis of ${this.input.container}` }, [request]),
      compactDiagnosis,
    );
    if (!res.ok) {
      this.st.diagnosis = { model: '-', ok: false, reason: res.error.code, detail: res.error.message.slice(0, 500), turns: 0, tokens: 0, toolCalls: [], weighed: false };
      this.adviceNotice = { model: '-', verdict: 'failed', note: `the model's diagnosis failed (${res.error.code}); the policy decided alone` };
      this.note(`model diagnosis failed (${res.error.code}): ${res.error.message.slice(0, 300)}; the policy decides alone`);
      return null;
    }
    const r: DiagnosisResult = res.value;
    const advice = adviceFrom(r);
    this.st.diagnosis = {
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
    if (r.otherContainers.length > 0) this.note(`the model asked to look at other containers (${r.otherContainers.join(', ')}); refused before any call`);
    if (r.stoppedAtTurnLimit) this.note(`the model was stopped at its turn limit (${r.turns} of ${llm.maxTurns})`);
    if (!advice) {
      this.adviceNotice = { model: r.model, verdict: 'failed', note: `no usable proposal (${r.reason ?? 'unknown'}); the policy decided alone` };
      this.note(`model diagnosis gave no proposal (${r.reason ?? 'unknown'}: ${(r.detail ?? '').slice(0, 300)}); the policy decides alone`);
      return null;
    }
    if (advice.proposal) this.st.proposal = advice.proposal;
    return advice;
  }

  /** Says what the gate made of the advice, in the notes and for the escalation notification. */
  private noteAdvice(advice: Advice, decision: Decision, finalAction: Action): void {
    const p = advice.proposal;
    const model = this.st.diagnosis?.model ?? '-';
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
    this.adviceNotice = { model, verdict, ...quoted, note };
    this.note(note);
  }

  /**
   * The fix must hold for the stabilisation window: a durable timer plus `observe` signals. A
   * failure inside the window, or a final state that is not running (and healthy when the
   * container has a health check), is a recurrence.
   */
  private async verify(): Promise<IncidentState> {
    this.setPhase('verify');
    const windowSeconds = this.input.policy.stabilizationSeconds;
    const recurred = await condition(() => this.tracker.recurrence !== null, windowSeconds * 1000, {
      summary: `stabilisation window (${windowSeconds}s)`,
    });
    if (recurred && this.tracker.recurrence) {
      // Facts after a recurrence come from Docker again (e.g. the limit we just raised).
      const current = await this.inspect();
      if (current.ok) this.summary = current.value;
      return this.onRecurrence(`observed ${describeObservation(this.tracker.recurrence)}`);
    }

    const final = await this.inspect();
    if (!final.ok) return this.escalate(`the fix could not be verified: inspect failed (${final.error.code}): ${final.error.message}`);
    this.summary = final.value;
    const s = final.value;
    if (!s.running) return this.onRecurrence(`not running at the end of the stabilisation window (status ${s.status}, exit ${s.exitCode})`);
    if (s.health === 'unhealthy') return this.onRecurrence('health check unhealthy at the end of the stabilisation window');
    if (s.health === 'starting') return this.onRecurrence('health check did not report healthy within the stabilisation window');
    this.setPhase('resolved');
    this.note(`held for ${windowSeconds}s: running${s.health ? `, ${s.health}` : ''}`);
    return this.close('auto_resolved');
  }

  /** A failure after dockmedic acted: never a second action, escalate (DESIGN §2). */
  private onRecurrence(what: string): Promise<IncidentState> {
    this.note(`recurrence after dockmedic acted: ${what}`);
    const facts = this.summary
      ? factsFrom(this.summary, this.tracker, this.input.policy, this.facts?.priorOomIncidents ?? 0, true)
      : { ...(this.facts as Facts), recurrenceAfterAction: true };
    let d = decide(facts, this.input.policy);
    if (d.action === 'ignore' && this.tracker.recurrence === null) {
      // No failure was observed and Docker's state says there is none now (e.g. an operator
      // stopped the container during the window): nothing left to fix or to page about.
      this.facts = facts;
      this.st.facts = facts;
      this.note(`no longer a failure (${d.rule}): ${d.reason}`);
      this.setDecision(d, 'ignore');
      return Promise.resolve(this.close('ignored'));
    }
    if (d.action !== 'escalate') d = recurrenceDecision(this.decision?.failure ?? 'unknown');
    this.facts = facts;
    this.st.facts = facts;
    this.setDecision(d, 'escalate');
    return this.escalate(`${d.reason}; ${what}`);
  }

  /** Couldn't even inspect the container. */
  private triageFailed(error: { code: string; message: string }): Promise<IncidentState> | IncidentState {
    if (error.code === 'container_not_found') {
      this.setDecision({ action: 'ignore', failure: 'unknown', rule: 'container-gone', expected: 'ignored', reason: 'the container no longer exists' }, 'ignore');
      return this.close('ignored');
    }
    if (error.code === 'container_not_opted_in' || error.code === 'container_protected') {
      this.setDecision(decisionFromRow('out-of-scope'), 'ignore');
      this.note(`the gateway says the container is out of scope (${error.code})`);
      return this.close('ignored');
    }
    const d: Decision = { action: 'escalate', failure: 'unknown', rule: 'uncertain', expected: 'escalated', reason: `the container could not be inspected (${error.code}): ${error.message}` };
    this.setDecision(d, 'escalate');
    return this.escalate(d.reason);
  }

  /**
   * Page people up the ladder until someone answers (DESIGN §3). Notifications are not awaited:
   * a slow or failing webhook never delays the ladder's timers.
   */
  private async escalate(reason: string): Promise<IncidentState> {
    this.setPhase('escalated');
    if (this.st.finalAction !== 'escalate') {
      this.st.finalAction = 'escalate';
      upsertSearchAttributes([{ key: SA.decision, value: 'escalate' }]);
    }
    const remedy = this.remedy();
    const evidence = [...evidenceLines(this.facts, this.summary), ...(await this.logEvidence())];
    const answerable: ResponseAction[] = remedy.action === 'escalate' ? ['reject', 'acknowledge', 'resolve'] : ['approve', 'reject', 'acknowledge', 'resolve'];
    const ladder = this.input.escalation.ladder;

    for (const [i, level] of ladder.entries()) {
      this.st.pendingEscalation = { level: i + 1, levelName: level.name, since: now(), waitingFor: answerable, proposedAction: remedy.action, reason };
      this.setDetails();
      this.page({
        incidentId: this.st.incidentId,
        host: this.input.host,
        container: this.input.container,
        containerId: this.input.containerId,
        failure: this.decision?.failure ?? 'unknown',
        rule: this.decision?.rule ?? 'uncertain',
        reason,
        level: i + 1,
        levels: ladder.length,
        levelName: level.name,
        timeoutSeconds: level.timeoutSeconds,
        evidence,
        recommendedAction: remedy.action,
        recommendation: remedy.text,
        waitingFor: answerable,
        ...(this.input.uiUrl ? { uiUrl: this.input.uiUrl } : {}),
        ...(this.adviceNotice ? { advice: this.adviceNotice } : {}),
      });
      const answer = await this.waitForResponse(answerable, level.timeoutSeconds, `waiting for ${level.name} (level ${i + 1})`);
      if (answer === null) {
        this.note(`no answer from ${level.name} within ${level.timeoutSeconds}s`);
        continue;
      }
      if (answer.action !== 'acknowledge') return this.answered(answer, remedy);

      // Acknowledged: nobody else is paged; wait for the decision.
      const waitingFor = answerable.filter((a) => a !== 'acknowledge');
      this.st.pendingEscalation = { ...this.st.pendingEscalation, since: now(), waitingFor };
      this.note(`acknowledged by ${answer.by}; waiting up to ${this.input.escalation.resolveTimeoutSeconds}s for resolve, approve or reject`);
      this.setDetails();
      const decided = await this.waitForResponse(waitingFor, this.input.escalation.resolveTimeoutSeconds, `acknowledged by ${answer.by}`);
      if (decided === null) {
        this.note(`acknowledged by ${answer.by} but not resolved within ${this.input.escalation.resolveTimeoutSeconds}s`);
        return this.close('unacknowledged');
      }
      return this.answered(decided, remedy);
    }
    this.note(`no answer after the last escalation level (${ladder.length})`);
    return this.close('unacknowledged');
  }

  private async answered(answer: Response, remedy: Remedy): Promise<IncidentState> {
    delete this.st.pendingEscalation;
    switch (answer.action) {
      case 'reject':
        this.note(`rejected by ${answer.by}: no action`);
        return this.close('rejected');
      case 'resolve':
        this.note(`resolved by ${answer.by}`);
        return this.close('resolved_by_human');
      case 'approve': {
        this.setPhase('act');
        this.note(`approved by ${answer.by}: ${remedy.text}`);
        const done = await this.act(remedy.action, remedy.memoryBytes, answer.by);
        if (!done.ok) {
          this.note(`the approved action was refused or failed (${done.error.code}): ${done.error.message}`);
          return this.close('failed');
        }
        return this.close('approved');
      }
      default:
        // waitForResponse only returns actions from the list it was given.
        throw ApplicationFailure.nonRetryable(`unexpected response ${answer.action}`);
    }
  }

  private close(outcome: Outcome): IncidentState {
    delete this.st.pendingEscalation;
    this.st.outcome = outcome;
    this.st.closedAt = now();
    this.st.phase = 'closed';
    upsertSearchAttributes([{ key: SA.outcome, value: outcome }]);
    this.setDetails();
    log.info('incident closed', { outcome, rule: this.decision?.rule, action: this.st.finalAction });
    return this.st;
  }

  // ── actions ─────────────────────────────────────────────────────────────────────────────

  /** The only place mutating tools are called: after the gate, arguments from facts only. */
  private async act(action: Action, memoryBytes: number | undefined, approvedBy?: string): Promise<ToolResult<MutationOutcome>> {
    const id = this.input.containerId;
    const name = this.input.container;
    this.tracker.arm();
    if (action === 'restart') {
      return this.tool(
        'restart_container',
        { container: id },
        () => mutating.restartContainer.executeWithOptions({ ...ACTIVITY_OPTIONS.dockerMutate, summary: `restart ${name}` }, [id]),
        compactMutation,
        approvedBy,
      );
    }
    if (action === 'raise_memory' && memoryBytes !== undefined) {
      const raised = await this.tool(
        'update_container_resources',
        { container: id, memoryBytes },
        () => mutating.raiseMemory.executeWithOptions({ ...ACTIVITY_OPTIONS.dockerMutate, summary: `raise memory of ${name} to ${formatBytes(memoryBytes)}` }, [id, memoryBytes]),
        compactMutation,
        approvedBy,
      );
      if (raised.ok && this.summary) this.summary = { ...this.summary, memoryBytes: raised.value.after.memoryBytes, memorySwapBytes: raised.value.after.memorySwapBytes };
      if (!raised.ok || raised.value.after.running) return raised;
      return this.tool(
        'start_container',
        { container: id },
        () => mutating.startContainer.executeWithOptions({ ...ACTIVITY_OPTIONS.dockerMutate, summary: `start ${name}` }, [id]),
        compactMutation,
        approvedBy,
      );
    }
    return { ok: false, error: { code: 'no_action', message: `nothing to run for ${action}` } };
  }

  /** The natural remedy a person can approve: more memory (within bounds) for OOM, a restart otherwise. */
  private remedy(): Remedy {
    const failure = this.decision?.failure ?? 'unknown';
    const name = this.input.container;
    if (failure === 'oom') {
      const next = this.facts ? raisedMemory(this.facts, this.input.policy) : null;
      if (next !== null && this.facts) {
        return { action: 'raise_memory', memoryBytes: next, text: `raise the memory limit of ${name} from ${formatBytes(this.facts.memoryBytes)} to ${formatBytes(next)} and start it` };
      }
      return { action: 'escalate', text: 'no automatic action within bounds: suspected leak; a permanent limit change is recommended' };
    }
    if (failure === 'exit' || failure === 'unhealthy' || failure === 'crashloop' || failure === 'unknown') {
      return { action: 'restart', text: `restart ${name}` };
    }
    return { action: 'escalate', text: 'no automatic action' };
  }

  // ── activities, recorded in the decision chain ──────────────────────────────────────────

  private inspect(): Promise<ToolResult<ContainerSummary>> {
    const id = this.input.containerId;
    return this.tool('inspect_container', { container: id }, () => read.inspectContainer(id), compactSummary);
  }

  private countRecentOomIncidents(): Promise<ToolResult<number>> {
    const { host, container, policy } = this.input;
    const runId = workflowInfo().runId;
    return this.tool(
      'count_recent_oom_incidents',
      { host, container, windowSeconds: policy.oomRecurrenceWindowSeconds },
      () => visibility.countRecentOomIncidents(host, container, policy.oomRecurrenceWindowSeconds, runId),
      (n) => n,
    );
  }

  private async logEvidence(): Promise<string[]> {
    if (!this.summary) return [];
    const id = this.input.containerId;
    const logs = await this.tool('check_container_logs', { container: id, tail: EVIDENCE_LOG_TAIL }, () => read.fetchLogs(id, EVIDENCE_LOG_TAIL), compactLogs);
    if (!logs.ok) return [`logs unavailable (${logs.error.code})`];
    return logs.value.lines.slice(-NOTICE_LOG_LINES).map((l) => `log: ${l.slice(0, 200)}`);
  }

  private page(notice: EscalationNotice): void {
    const what = `level ${notice.level} (${notice.levelName})`;
    void notifications.notifyEscalation.executeWithOptions({ ...ACTIVITY_OPTIONS.notify, summary: `page ${notice.levelName}` }, [notice]).then(
      (r) => this.note(`notified ${what}: webhook ${r.webhook}`),
      (err: unknown) => {
        if (!isCancellation(err)) this.note(`notification to ${what} failed: ${failureOf(err).message}`);
      },
    );
    this.note(`paging ${what}`);
  }

  private async tool<R>(tool: string, args: Record<string, unknown>, run: () => Promise<R>, compact: (r: R) => unknown, approvedBy?: string): Promise<ToolResult<R>> {
    const at = now();
    try {
      const value = await run();
      this.record({ tool, args, ok: true, result: compact(value), at, ...(approvedBy ? { approvedBy } : {}) });
      return { ok: true, value };
    } catch (err) {
      if (isCancellation(err)) throw err;
      const error = failureOf(err);
      this.record({ tool, args, ok: false, error, at, ...(approvedBy ? { approvedBy } : {}) });
      return { ok: false, error };
    }
  }

  // ── messages ────────────────────────────────────────────────────────────────────────────

  private onObserve(o: Observation): void {
    if (!isObservation(o)) {
      this.note('dropped a malformed observation');
      return;
    }
    this.tracker.add(o);
  }

  private onRespond(r: Response): void {
    if (!isResponse(r)) {
      this.note('dropped a malformed response');
      return;
    }
    if (this.st.responses.length < MAX_RESPONSES) this.st.responses.push(r);
    if (!this.st.pendingEscalation) {
      this.note(`${r.action} by ${r.by} ignored: no escalation is waiting for an answer`);
      return;
    }
    this.inbox.push(r);
  }

  /** The first response among `accepted` within the timeout, or null. Others are recorded and skipped. */
  private async waitForResponse(accepted: readonly ResponseAction[], timeoutSeconds: number, summary: string): Promise<Response | null> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const remaining = deadline - Date.now();
      if (this.inbox.length === 0 && remaining <= 0) return null;
      if (!(await condition(() => this.inbox.length > 0, Math.max(remaining, 1), { summary }))) return null;
      const r = this.inbox.shift() as Response;
      if (accepted.includes(r.action)) return r;
      this.note(`${r.action} by ${r.by} ignored: waiting for ${accepted.join(' | ')}`);
    }
  }

  // ── state ───────────────────────────────────────────────────────────────────────────────

  private setDecision(d: Decision, finalAction: Action): void {
    if (this.decision) this.decisionHistory.push(this.decision);
    this.decision = d;
    this.st.decision = d;
    this.st.finalAction = finalAction;
    if (this.decisionHistory.length > 0) this.st.decisionHistory = [...this.decisionHistory];
    upsertSearchAttributes([
      { key: SA.failure, value: d.failure },
      { key: SA.decision, value: finalAction },
    ]);
    this.setDetails();
  }

  private setPhase(phase: Phase): void {
    this.st.phase = phase;
    this.setDetails();
  }

  private note(text: string): void {
    if (this.st.notes.length < MAX_NOTES) this.st.notes.push(text);
  }

  private record(r: ToolCallRecord): void {
    this.st.decisionChain.push(r);
  }

  /** The "current details" the Temporal UI shows for a running workflow. */
  private setDetails(): void {
    const d = this.decision;
    const lines = [
      `**${this.input.container}** on ${this.input.host} · phase **${this.st.phase}**`,
      ...(d ? [`decision: ${this.st.finalAction ?? d.action} (${d.rule}) — ${d.reason}`] : []),
      ...(this.st.pendingEscalation ? [`waiting for ${this.st.pendingEscalation.levelName}: ${this.st.pendingEscalation.waitingFor.join(' | ')}`] : []),
      ...(this.st.outcome ? [`outcome: ${this.st.outcome}`] : []),
    ];
    setCurrentDetails(lines.join('\n\n'));
  }
}

// ── helpers ───────────────────────────────────────────────────────────────────────────────

/** Workflow time (deterministic in the sandbox). */
function now(): string {
  return new Date().toISOString();
}

function describeAction(action: Action): string {
  return action === 'raise_memory' ? 'raising the memory limit' : action === 'restart' ? 'the restart' : action;
}

function decisionFromRow(id: string): Decision {
  const row = POLICY_TABLE.find((r) => r.id === id);
  if (!row) return { action: 'escalate', failure: 'unknown', rule: 'uncertain', expected: 'escalated', reason: 'facts match no rule: escalate rather than guess' };
  return { action: row.action, failure: row.failure, rule: row.id, expected: row.expected, reason: row.reason };
}

/** The table's own recurrence row for a failure (oom/exit/unhealthy), else the catch-all. */
function recurrenceDecision(failure: FailureKind): Decision {
  const d = decisionFromRow(`${failure}-recurrence`);
  return d.action === 'escalate' ? d : decisionFromRow('uncertain');
}

/** Why an activity failed, in the gateway's words when it was the gateway. */
function failureOf(err: unknown): { code: string; message: string } {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) {
      const details = cause.details?.[0] as Partial<GatewayFailureDetails> | undefined;
      return { code: details?.code ?? cause.type ?? 'activity_failed', message: cause.message };
    }
    if (cause instanceof TimeoutFailure) return { code: 'timeout', message: `activity timed out (${cause.timeoutType})` };
    return { code: 'activity_failed', message: cause?.message ?? err.message };
  }
  return { code: 'error', message: err instanceof Error ? err.message : String(err) };
}

function compactSummary(s: ContainerSummary): Record<string, unknown> {
  return {
    status: s.status,
    running: s.running,
    restarting: s.restarting,
    oomKilled: s.oomKilled,
    exitCode: s.exitCode,
    health: s.health,
    restartCount: s.restartCount,
    memoryBytes: s.memoryBytes,
    memorySwapBytes: s.memorySwapBytes,
  };
}

function compactDiagnosis(d: DiagnosisResult): Record<string, unknown> {
  return {
    model: d.model,
    ok: d.ok,
    ...(d.proposal ? { proposedAction: d.proposal.proposedAction, failureType: d.proposal.failureType, confidence: d.proposal.confidence } : { reason: d.reason }),
    turns: d.turns,
    tokens: d.tokens,
    toolCalls: d.toolCalls.length,
    attempt: d.attempt,
  };
}

function compactLogs(l: LogsResult): Record<string, unknown> {
  return { lines: l.lines, truncated: l.truncated, redactions: l.redactions };
}

function compactMutation(m: MutationOutcome): Record<string, unknown> {
  return { action: m.action, after: m.after, ...(m.before ? { before: m.before } : {}), requestId: m.requestId, replayed: m.replayed };
}

function isResponse(r: unknown): r is Response {
  if (typeof r !== 'object' || r === null) return false;
  const x = r as Record<string, unknown>;
  return (
    typeof x.action === 'string' &&
    (RESPONSE_ACTIONS as readonly string[]).includes(x.action) &&
    typeof x.by === 'string' &&
    x.by.length > 0 &&
    x.by.length <= 64 &&
    (x.comment === undefined || (typeof x.comment === 'string' && x.comment.length <= 2000)) &&
    typeof x.at === 'string' &&
    x.at.length <= 64
  );
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const CONTAINER_ID = /^(?:[a-f0-9]{12,64}|[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127})$/;

/** Bad input fails the workflow at once (a bare throw would retry the workflow task forever). */
function validateInput(input: IncidentInput): void {
  const problems: string[] = [];
  const x = input as Partial<IncidentInput> | null | undefined;
  if (typeof x !== 'object' || x === null) {
    throw ApplicationFailure.nonRetryable('invalid incident input: not an object', FAILURE_TYPES.invalidIncident);
  }
  if (typeof x.host !== 'string' || !NAME.test(x.host)) problems.push('host');
  if (typeof x.container !== 'string' || !NAME.test(x.container.replace(/^\//, ''))) problems.push('container');
  if (typeof x.containerId !== 'string' || !CONTAINER_ID.test(x.containerId)) problems.push('containerId');
  if (!isObservation(x.trigger)) problems.push('trigger');
  const p = x.policy;
  if (typeof p !== 'object' || p === null) problems.push('policy');
  else {
    for (const k of ['memoryFactor', 'memoryMaxFactor', 'memoryCeilingBytes', 'oomRecurrenceCount', 'oomRecurrenceWindowSeconds', 'crashLoopDeaths', 'crashLoopWindowSeconds', 'stabilizationSeconds'] as const) {
      if (typeof p[k] !== 'number' || !Number.isFinite(p[k]) || p[k] <= 0) problems.push(`policy.${k}`);
    }
  }
  const e = x.escalation;
  if (typeof e !== 'object' || e === null || !Array.isArray(e.ladder) || e.ladder.length === 0) problems.push('escalation.ladder');
  else {
    e.ladder.forEach((l, i) => {
      if (typeof l?.name !== 'string' || l.name.length === 0 || l.name.length > 64 || !Number.isInteger(l.timeoutSeconds) || l.timeoutSeconds < 1) problems.push(`escalation.ladder[${i}]`);
    });
    if (!Number.isInteger(e.resolveTimeoutSeconds) || e.resolveTimeoutSeconds < 1) problems.push('escalation.resolveTimeoutSeconds');
  }
  if (typeof x.llm !== 'object' || x.llm === null || typeof x.llm.enabled !== 'boolean') problems.push('llm');
  else if (x.llm.enabled) {
    if (!Number.isInteger(x.llm.maxTurns) || x.llm.maxTurns < 1 || x.llm.maxTurns > 20) problems.push('llm.maxTurns');
    if (x.llm.timeoutSeconds !== undefined && (!Number.isFinite(x.llm.timeoutSeconds) || x.llm.timeoutSeconds <= 0 || x.llm.timeoutSeconds > 600)) problems.push('llm.timeoutSeconds');
  }
  if (x.uiUrl !== undefined && (typeof x.uiUrl !== 'string' || x.uiUrl.length > 512)) problems.push('uiUrl');
  if (problems.length > 0) {
    throw ApplicationFailure.nonRetryable(`invalid incident input: ${problems.join(', ')}`, FAILURE_TYPES.invalidIncident);
  }
}
