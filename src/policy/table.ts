import type { Action, ExpectedOutcome, Facts, FailureKind, PolicyConfig } from '../contract/policy';

/** One row of docs/architecture.md §2. Rows are checked top to bottom; the first whose `when` holds decides. */
export interface PolicyRow {
  id: string;
  failure: FailureKind;
  action: Action;
  expected: ExpectedOutcome;
  reason: string;
  when: (facts: Facts, config: PolicyConfig) => boolean;
}

/** The memory limit an OOM would be raised to, or null when it cannot be raised within bounds. */
export function raisedMemory(facts: Facts, config: PolicyConfig): number | null {
  if (facts.memoryBytes <= 0) return null;
  const proposed = Math.floor(facts.memoryBytes * config.memoryFactor);
  const cap = Math.min(Math.floor(facts.memoryBytes * config.memoryMaxFactor), config.memoryCeilingBytes);
  return proposed > facts.memoryBytes && proposed <= cap ? proposed : null;
}

const isCrashLoop = (f: Facts, c: PolicyConfig): boolean => f.restarting || f.deathsInWindow >= c.crashLoopDeaths;

export const POLICY_TABLE: readonly PolicyRow[] = [
  {
    id: 'out-of-scope',
    failure: 'out_of_scope',
    action: 'ignore',
    expected: 'ignored',
    reason: 'container is not opted in (dockmedic.enable=true) or belongs to the dockmedic stack',
    when: (f) => !f.optedIn || f.stackMember,
  },
  {
    id: 'operator-stop',
    failure: 'operator_stop',
    action: 'ignore',
    expected: 'ignored',
    reason: 'stopped or killed by an operator',
    when: (f) => f.operatorStop && !f.oomKilled,
  },
  {
    id: 'oom-recurrence',
    failure: 'oom',
    action: 'escalate',
    expected: 'escalated',
    reason: 'OOM recurs: suspected leak; a permanent limit change is recommended',
    when: (f, c) => f.oomKilled && (f.recurrenceAfterAction || f.priorOomIncidents >= c.oomRecurrenceCount),
  },
  {
    id: 'oom-cap',
    failure: 'oom',
    action: 'escalate',
    expected: 'escalated',
    reason: 'OOM and the memory limit cannot be raised within the factor and ceiling (or is unlimited)',
    when: (f, c) => f.oomKilled && raisedMemory(f, c) === null,
  },
  {
    id: 'oom-raise',
    failure: 'oom',
    action: 'raise_memory',
    expected: 'auto_resolved',
    reason: 'OOM killed: raise the memory limit, keep the swap policy, start and verify',
    when: (f) => f.oomKilled,
  },
  {
    id: 'clean-exit',
    failure: 'clean_exit',
    action: 'ignore',
    expected: 'ignored',
    reason: 'exited 0: not a failure',
    // Also when a restart policy is already bringing it back (Restarting, or running again):
    // docs/architecture.md §2 says an exit 0 under a restart policy is not an incident, not a crash loop.
    when: (f) => f.exitCode === 0 && f.health !== 'unhealthy',
  },
  {
    id: 'crashloop',
    failure: 'crashloop',
    action: 'escalate',
    expected: 'escalated',
    reason: 'crash loop: restarting again would not help; a person must look',
    when: isCrashLoop,
  },
  {
    id: 'exit-recurrence',
    failure: 'exit',
    action: 'escalate',
    expected: 'escalated',
    reason: 'non-zero exit again inside the stabilisation window after our restart: no second restart',
    when: (f) => f.exitCode !== null && f.exitCode !== 0 && !f.running && f.recurrenceAfterAction,
  },
  {
    id: 'exit-restart',
    failure: 'exit',
    action: 'restart',
    expected: 'auto_resolved',
    reason: 'non-zero exit, first in window: restart once and verify',
    when: (f) => f.exitCode !== null && f.exitCode !== 0 && !f.running,
  },
  {
    id: 'unhealthy-recurrence',
    failure: 'unhealthy',
    action: 'escalate',
    expected: 'escalated',
    reason: 'unhealthy again after our restart',
    when: (f) => f.health === 'unhealthy' && f.recurrenceAfterAction,
  },
  {
    id: 'unhealthy-restart',
    failure: 'unhealthy',
    action: 'restart',
    expected: 'auto_resolved',
    reason: 'health check unhealthy, first in window: restart and verify healthy',
    when: (f) => f.health === 'unhealthy',
  },
  {
    id: 'uncertain',
    failure: 'unknown',
    action: 'escalate',
    expected: 'escalated',
    reason: 'facts match no rule: escalate rather than guess',
    when: () => true,
  },
];
