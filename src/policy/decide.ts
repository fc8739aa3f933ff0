import { POLICY_TABLE, raisedMemory } from './table';
import type { Action, Decision, Facts, PolicyConfig } from './types';

/** Pure: the first matching row of the policy table decides. */
export function decide(facts: Facts, config: PolicyConfig): Decision {
  const row = POLICY_TABLE.find((r) => r.when(facts, config));
  // The table ends with a catch-all row, so this only guards against an edited table.
  if (!row) return { action: 'escalate', failure: 'unknown', rule: 'uncertain', expected: 'escalated', reason: 'no rule matched' };
  const decision: Decision = { action: row.action, failure: row.failure, rule: row.id, expected: row.expected, reason: row.reason };
  if (row.action === 'raise_memory') {
    const next = raisedMemory(facts, config);
    if (next !== null) decision.newMemoryBytes = next;
  }
  return decision;
}

/** Result of passing a policy decision and a model proposal through the gate. */
export interface GateResult {
  action: Action;
  /** True when the model proposed something other than the policy. */
  disagreement: boolean;
  /** Which side the final action came from. */
  source: 'policy' | 'model';
}

/**
 * The LLM can only make a decision more conservative: the same action is followed, and any
 * different proposal turns the decision into `escalate` (the most conservative action).
 * An `ignore` decision never reaches the model, and the model can never turn an escalation
 * into an action.
 */
export function gate(policyAction: Action, proposed: Action | null | undefined): GateResult {
  if (proposed === null || proposed === undefined || proposed === policyAction) {
    return { action: policyAction, disagreement: false, source: 'policy' };
  }
  if (policyAction === 'ignore') return { action: 'ignore', disagreement: true, source: 'policy' };
  return { action: 'escalate', disagreement: true, source: policyAction === 'escalate' ? 'policy' : 'model' };
}
