import type { Action, Decision } from '../contract/policy';
import type { ExportOutcome } from '../contract/audit-record';
import { decide, gate, remedy } from '../policy';
import type { CallEvidence, Evidence, ObservedState } from './evidence';

/**
 * Scores one record by effect against the policy (docs/architecture.md §6): `decide()` on the
 * record's facts says what was right; the calls that ran and the state Docker reported say what
 * happened. A label (the rule the record names, the agent's `resolved` flag) is never evidence.
 */

/** Stable codes for what can be wrong; scripts and tests match on these, not on the text. */
export const FINDING_CODES = [
  'mutating_call_not_allowed',
  'action_missing',
  'action_repeated',
  'wrong_tool',
  'wrong_arguments',
  'wrong_container',
  'action_failed',
  'outcome_unfounded',
  'outcome_mismatch',
  'approval_not_remedy',
] as const;
export type FindingCode = (typeof FINDING_CODES)[number];

export interface Finding {
  code: FindingCode;
  detail: string;
}

export interface RecordVerdict {
  id: string;
  format: Evidence['format'];
  /** The policy's failure kind for the record's facts: the per-scenario grouping. */
  scenario: string;
  correct: boolean;
  /** One line: the first finding, or what made it right. */
  why: string;
  findings: Finding[];
  expected: { rule: string; action: Action; newMemoryBytes: number | null };
  recordedRule: string | null;
  /** Mutating calls that took effect, by tool (automatic and approved together). */
  mutatingCalls: Record<string, number>;
  outcome: ExportOutcome | null;
  unknownFacts: string[];
  notes: string[];
}

/** Outcomes that mean "a person was asked" (docs/architecture.md §3). */
const ESCALATED: ReadonlySet<string> = new Set(['escalated', 'unacknowledged', 'rejected', 'resolved_by_human', 'approved', 'failed']);

function recovered(s: ObservedState | null): boolean | null {
  if (!s || s.running === null) return null;
  return s.running && s.health !== 'unhealthy' && s.health !== 'starting';
}

function countByTool(calls: CallEvidence[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) out[c.tool] = (out[c.tool] ?? 0) + 1;
  return out;
}

function listCalls(calls: CallEvidence[]): string {
  return Object.entries(countByTool(calls))
    .map(([t, n]) => `${t}×${n}`)
    .join(', ');
}

/** The tool sequence an action is: the one call that must run, and the follow-up it may need. */
const ACTION_TOOLS: Partial<Record<Action, { main: string; followUp: readonly string[] }>> = {
  restart: { main: 'restart_container', followUp: [] },
  // The workflow starts the container after the update when it is not running; the reference restarts it.
  raise_memory: { main: 'update_container_resources', followUp: ['start_container', 'restart_container'] },
};

function checkAction(e: Evidence, d: Decision, auto: CallEvidence[], findings: Finding[]): void {
  const plan = ACTION_TOOLS[d.action];
  if (!plan) return;
  const main = auto.filter((c) => c.tool === plan.main);
  const rest = auto.filter((c) => c.tool !== plan.main);
  const what = `policy ${d.rule} says ${d.action}`;
  if (main.length === 0) {
    findings.push({ code: 'action_missing', detail: `${what}, but no ${plan.main} ran${rest.length ? ` (ran ${listCalls(rest)})` : ''}` });
    return;
  }
  if (main.length > 1) findings.push({ code: 'action_repeated', detail: `${what} once; ${plan.main} ran ${main.length} times (a recurrence must escalate, never act again)` });
  const followUps = rest.filter((c) => plan.followUp.includes(c.tool));
  const foreign = rest.filter((c) => !plan.followUp.includes(c.tool));
  if (foreign.length > 0) findings.push({ code: 'wrong_tool', detail: `${what}; ${listCalls(foreign)} is not part of it` });
  if (followUps.length > 1) findings.push({ code: 'action_repeated', detail: `${what}: at most one start after the update; ran ${listCalls(followUps)}` });
  const first = main[0] as CallEvidence;
  if (d.action === 'raise_memory') {
    if (e.memoryKnown && d.newMemoryBytes !== undefined && first.memoryBytes !== d.newMemoryBytes) {
      findings.push({ code: 'wrong_arguments', detail: `${what} to ${d.newMemoryBytes} bytes (⌊limit × ${e.policy.memoryFactor}⌋); the update asked for ${first.memoryBytes ?? 'no amount'}` });
    }
  }
  if (first.ok === false) findings.push({ code: 'action_failed', detail: `${what}; ${plan.main} failed: ${first.error ?? 'no reason recorded'}` });
  if (first.ok === null) findings.push({ code: 'action_failed', detail: `${what}; the record shows no result for ${plan.main}, so it cannot have taken effect` });
}

function checkOutcome(e: Evidence, d: Decision, expectedAction: Action, findings: Finding[]): void {
  const outcome = e.outcome;
  if (outcome === null) return; // The reference format records no outcome worth trusting: its calls are the evidence.
  if (expectedAction === 'ignore') {
    if (outcome !== 'ignored') findings.push({ code: 'outcome_mismatch', detail: `policy ${d.rule} ignores; the outcome is ${outcome}` });
    return;
  }
  if (expectedAction === 'escalate') {
    if (!ESCALATED.has(outcome)) findings.push({ code: 'outcome_mismatch', detail: `policy ${d.rule} escalates; the outcome is ${outcome}, so no person was asked` });
    return;
  }
  const after = recovered(e.finalState);
  if (outcome === 'auto_resolved') {
    if (after !== true) findings.push({ code: 'outcome_unfounded', detail: `outcome auto_resolved, but ${after === false ? 'Docker reported the container failing after the fix' : 'no container state after the fix is recorded'}` });
    return;
  }
  if (!ESCALATED.has(outcome)) findings.push({ code: 'outcome_mismatch', detail: `policy ${d.rule} acts then verifies (auto_resolved, or escalated on recurrence); the outcome is ${outcome}` });
}

function checkApproved(e: Evidence, d: Decision, approved: CallEvidence[], findings: Finding[]): void {
  if (approved.length === 0) return;
  const r = remedy(d, e.facts, e.policy, e.containerRefs[0] ?? 'the container');
  const allowed = r.action === 'restart' ? ['restart_container'] : r.action === 'raise_memory' ? ['update_container_resources', 'start_container'] : [];
  const off = approved.filter((c) => !allowed.includes(c.tool) || (c.tool === 'update_container_resources' && r.memoryBytes !== undefined && c.memoryBytes !== r.memoryBytes));
  if (off.length > 0) findings.push({ code: 'approval_not_remedy', detail: `a person approved ${listCalls(off)}, which is not the remedy the policy offers (${r.text})` });
}

export function scoreRecord(e: Evidence): RecordVerdict {
  const d = decide(e.facts, e.policy);
  const expectedAction = gate(d.action, e.weighedProposal);
  const mutating = e.calls.filter((c) => c.mutating);
  const findings: Finding[] = [];

  // Restarts of the dependents the incident listed follow its fix (docs/architecture.md §3).
  const dependents = mutating.filter((c) => c.tool === 'restart_container' && c.container !== null && !e.containerRefs.includes(c.container) && e.dependentRefs.includes(c.container));
  const elsewhere = mutating.filter((c) => !dependents.includes(c) && c.container !== null && !e.containerRefs.includes(c.container));
  if (elsewhere.length > 0) findings.push({ code: 'wrong_container', detail: `mutating calls for another container: ${elsewhere.map((c) => `${c.tool}(${c.container})`).join(', ')}` });
  const own = mutating.filter((c) => !elsewhere.includes(c) && !dependents.includes(c));
  const auto = own.filter((c) => c.approvedBy === null);
  const approved = own.filter((c) => c.approvedBy !== null);

  if (e.outcome === 'suppressed' || e.outcome === 'shadow') {
    // The quiet period (docs/architecture.md §3): the decision is recorded, nothing may run.
    const ran = [...auto, ...dependents];
    if (ran.length > 0) findings.push({ code: 'mutating_call_not_allowed', detail: `${e.outcome === 'shadow' ? 'shadow mode' : 'held back by the quiet period'}: no mutating call may run; ran ${listCalls(ran)}` });
  } else if (e.outcome === 'container_gone') {
    // Removed or replaced mid-incident: whatever ran before is judged, the missing rest is not.
    if (auto.filter((c) => ACTION_TOOLS[expectedAction]?.main === c.tool).length > 1) findings.push({ code: 'action_repeated', detail: `policy ${d.rule}: the container's action ran more than once before it went away` });
  } else if (expectedAction === 'ignore' || expectedAction === 'escalate') {
    const why = expectedAction === d.action ? `policy ${d.rule} says ${d.action}` : `the gate turns policy ${d.rule} (${d.action}) into escalate: the model disagreed`;
    // A dependent is restarted only after the container was: with no action allowed, none may run.
    const ran = [...auto, ...dependents.filter((c) => c.approvedBy === null)];
    if (ran.length > 0) findings.push({ code: 'mutating_call_not_allowed', detail: `${why}: no mutating call may run; ran ${listCalls(ran)}` });
  } else {
    checkAction(e, d, auto, findings);
  }
  checkApproved(e, d, approved, findings);
  if (e.outcome !== 'suppressed' && e.outcome !== 'container_gone' && e.outcome !== 'shadow') checkOutcome(e, d, expectedAction, findings);

  const ranOk = mutating.filter((c) => c.ok === true);
  const expectedText = expectedAction === 'raise_memory' && d.newMemoryBytes ? `raise_memory to ${d.newMemoryBytes} bytes` : expectedAction;
  return {
    id: e.id,
    format: e.format,
    scenario: d.failure,
    correct: findings.length === 0,
    why:
      findings[0]?.detail ??
      `policy ${d.rule}: ${expectedText}; ${auto.length ? `ran ${listCalls(auto)}` : 'no mutating call'}${e.finalState?.status ? `, then ${e.finalState.status}${recovered(e.finalState) ? '' : ' (a recurrence: no second action)'}` : ''}${e.outcome ? `, outcome ${e.outcome}` : ''}`,
    findings,
    expected: { rule: d.rule, action: expectedAction, newMemoryBytes: d.newMemoryBytes ?? null },
    recordedRule: e.recordedRule,
    mutatingCalls: countByTool(ranOk),
    outcome: e.outcome,
    unknownFacts: e.unknownFacts,
    notes: e.notes,
  };
}
