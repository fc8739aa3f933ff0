import type { Action, Decision, Facts, FailureKind, PolicyConfig } from '../contract/policy';
import { POLICY_TABLE, raisedMemory } from './table';

/**
 * The catch-all decision: escalate rather than guess. `failure` keeps what the facts did
 * establish (an OOM whose past incidents could not be counted is still an OOM).
 */
export function uncertain(reason: string, failure: FailureKind = 'unknown'): Decision {
  return { action: 'escalate', failure, rule: 'uncertain', expected: 'escalated', reason };
}

/** Pure: the first matching row of the policy table decides. */
export function decide(facts: Facts, config: PolicyConfig): Decision {
  const row = POLICY_TABLE.find((r) => r.when(facts, config));
  // The table ends with a catch-all row, so this only guards against an edited table.
  if (!row) return uncertain('no rule matched');
  const decision: Decision = { action: row.action, failure: row.failure, rule: row.id, expected: row.expected, reason: row.reason };
  if (row.action === 'raise_memory') {
    const next = raisedMemory(facts, config);
    if (next !== null) decision.newMemoryBytes = next;
  }
  return decision;
}

/** The container was removed before the incident could look at it: nothing to fix, nobody to page. */
export function containerGone(): Decision {
  return { action: 'ignore', failure: 'unknown', rule: 'container-gone', expected: 'ignored', reason: 'the container no longer exists' };
}

/** The decision a table row states, by its id (for outcomes decided before any facts, e.g. out of scope). */
export function decisionFromRow(id: string): Decision {
  const row = POLICY_TABLE.find((r) => r.id === id);
  if (!row) return uncertain('facts match no rule: escalate rather than guess');
  return { action: row.action, failure: row.failure, rule: row.id, expected: row.expected, reason: row.reason };
}

/**
 * A failure after dockmedic acted never gets a second action: the table's own recurrence row
 * for the failure (oom / exit / unhealthy), else the catch-all.
 */
export function recurrenceDecision(failure: FailureKind): Decision {
  const d = decisionFromRow(`${failure}-recurrence`);
  return d.action === 'escalate' ? d : decisionFromRow('uncertain');
}

/**
 * The LLM can only make a decision more conservative: the same action is followed, and any
 * different proposal turns the decision into `escalate` (the most conservative action).
 * An `ignore` decision never reaches the model, and the model can never turn an escalation
 * into an action.
 */
export function gate(policyAction: Action, proposed: Action | null | undefined): Action {
  if (proposed === null || proposed === undefined || proposed === policyAction) return policyAction;
  if (policyAction === 'ignore') return 'ignore';
  return 'escalate';
}
