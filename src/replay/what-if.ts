import type { Action, Decision, Facts, FailureKind, PolicyConfig } from '../contract/policy';
import { decide, recurrenceDecision } from '../policy';
import type { RecordedDecision } from './recorded';

/** The environment variable of each policy setting (src/config/schema.ts), for people reading the report. */
export const POLICY_VARIABLES = {
  memoryFactor: 'DOCKMEDIC_MEMORY_FACTOR',
  memoryMaxFactor: 'DOCKMEDIC_MEMORY_MAX_FACTOR',
  memoryCeilingBytes: 'DOCKMEDIC_MEMORY_CEILING_BYTES',
  oomRecurrenceCount: 'DOCKMEDIC_OOM_RECURRENCE_COUNT',
  oomRecurrenceWindowSeconds: 'DOCKMEDIC_OOM_RECURRENCE_WINDOW_SECONDS',
  crashLoopDeaths: 'DOCKMEDIC_CRASHLOOP_DEATHS',
  crashLoopWindowSeconds: 'DOCKMEDIC_CRASHLOOP_WINDOW_SECONDS',
  stabilizationSeconds: 'DOCKMEDIC_STABILIZATION_SECONDS',
} as const satisfies Record<keyof PolicyConfig, string>;

type Brief = Pick<Decision, 'action' | 'rule'> & { newMemoryBytes?: number };

/** One past incident re-decided under other policy settings. */
export interface WhatIfVerdict {
  workflowId: string;
  runId: string;
  container: string;
  failure: FailureKind;
  /** Which of the incident's decisions this is about: 0 for its first, more after a recurrence. */
  step: number;
  /** The decision recorded at that step, which the table gives again on its facts and settings. */
  recorded: Brief;
  /** The table's decision on the same facts under the new settings; null when not re-decided. */
  whatIf: Brief | null;
  changed: boolean;
  /** What could not be re-decided, and why. */
  note?: string;
}

function brief(d: Decision): Brief {
  return { action: d.action, rule: d.rule, ...(d.newMemoryBytes !== undefined ? { newMemoryBytes: d.newMemoryBytes } : {}) };
}

/**
 * The decision the workflow takes from the table on these facts. After a recurrence
 * (docs/architecture.md §3) a decision that would act again is never taken: the failure's own
 * `*-recurrence` row (or `uncertain`) escalates instead. An `ignore` there stands only when no
 * failure was seen in the window, which the state does not record; `seen` is what the recorded
 * decision shows (null when it cannot tell), and null comes back when the answer turns on it.
 */
function workflowDecision(facts: Facts, policy: PolicyConfig, previous: FailureKind | null, seen: boolean | null): Decision | null {
  const d = decide(facts, policy);
  if (previous === null || !facts.recurrenceAfterAction || d.action === 'escalate') return d;
  if (d.action === 'ignore') return seen === null ? null : seen ? recurrenceDecision(previous) : d;
  return recurrenceDecision(previous);
}

/**
 * Re-decide one incident: the facts of each decision it recorded, oldest first, through the same
 * pure `decide()` the workflow runs (docs/architecture.md §2), under `policy`. The first decision
 * that would change is the change: the incident would have taken another course from there, so
 * later decisions say nothing. A recorded decision must be the one the table gives on its facts
 * and settings; one the workflow made outside the table (an OOM whose past incidents could not
 * be counted), or one with no facts kept, is noted as not re-decided rather than compared with a
 * decision it never came from.
 */
export function reDecide(r: RecordedDecision, policy: PolicyConfig): WhatIfVerdict {
  const steps = [...r.earlier, { facts: r.facts, decision: r.decision }];
  const notes: string[] = [];
  const verdict = (step: number, recorded: Decision, whatIf: Decision | null, changed: boolean): WhatIfVerdict => ({
    workflowId: r.workflowId,
    runId: r.runId,
    container: r.container,
    failure: recorded.failure,
    step,
    recorded: brief(recorded),
    whatIf: whatIf ? brief(whatIf) : null,
    changed,
    ...(notes.length ? { note: notes.join('; ') } : {}),
  });
  for (const [i, { facts, decision }] of steps.entries()) {
    const last = i === steps.length - 1;
    const previous = i > 0 ? (steps[i - 1]?.decision.failure ?? null) : null;
    const table = facts ? decide(facts, r.policy) : null;
    // An escalation where the table ignores means a failure was seen; a recorded ignore, that none was.
    const seen = decision.action === 'ignore' ? false : table?.action === 'ignore' ? true : null;
    const before = facts ? workflowDecision(facts, r.policy, previous, seen) : null;
    const after = facts ? workflowDecision(facts, policy, previous, seen) : null;
    const why = !facts
      ? 'kept no facts (recorded before the state held them)'
      : before?.rule !== decision.rule
        ? `was made outside the table (it gives ${table?.rule ?? '?'} on those facts)`
        : after === null
          ? 'turns on whether a failure was seen after the fix, which the state does not record'
          : null;
    if (why !== null || !before || !after) {
      notes.push(`decision ${i} (${decision.rule}) ${why ?? ''}: not re-decided`);
      if (last) return verdict(i, decision, null, false);
      continue;
    }
    const changed = after.action !== before.action || after.newMemoryBytes !== before.newMemoryBytes;
    if (changed || last) return verdict(i, decision, after, changed);
  }
  // Unreachable: the last step always returns.
  return verdict(steps.length - 1, r.decision, null, false);
}

/** The policy settings that differ between what the incidents were decided under and `policy`. */
export function changedSettings(records: RecordedDecision[], policy: PolicyConfig): { variable: string; recorded: number[]; whatIf: number }[] {
  return (Object.keys(POLICY_VARIABLES) as (keyof PolicyConfig)[]).flatMap((key) => {
    const recorded = [...new Set(records.map((r) => r.policy[key]))].sort((a, b) => a - b);
    return recorded.some((v) => v !== policy[key]) ? [{ variable: POLICY_VARIABLES[key], recorded, whatIf: policy[key] }] : [];
  });
}

const FAILURE_WORDS: Record<FailureKind, string> = {
  oom: 'OOM',
  crashloop: 'crash-loop',
  exit: 'exit',
  unhealthy: 'unhealthy',
  clean_exit: 'clean-exit',
  operator_stop: 'operator-stop',
  out_of_scope: 'out-of-scope',
  unknown: 'unclassified',
};
const DONE: Record<Action, string> = { ignore: 'been ignored', restart: 'restarted', raise_memory: 'raised memory', escalate: 'escalated' };
const DOING: Record<Action, string> = { ignore: 'being ignored', restart: 'restarting', raise_memory: 'raising memory', escalate: 'escalating' };

/** Changed decisions grouped by failure and change, with a sentence for each group. */
export interface WhatIfGroup {
  failure: FailureKind;
  from: Action;
  to: Action;
  count: number;
  sentence: string;
  incidents: string[];
}

/** "3 OOM incidents would have escalated instead of raising memory", one group per (failure, from, to). */
export function groupChanges(verdicts: WhatIfVerdict[]): WhatIfGroup[] {
  const groups = new Map<string, WhatIfGroup>();
  for (const v of verdicts) {
    if (!v.changed || !v.whatIf) continue;
    const key = `${v.failure}|${v.recorded.action}|${v.whatIf.action}`;
    const g = groups.get(key) ?? { failure: v.failure, from: v.recorded.action, to: v.whatIf.action, count: 0, sentence: '', incidents: [] };
    g.count++;
    g.incidents.push(`${v.workflowId}/${v.runId}`);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => {
    const noun = `${g.count} ${FAILURE_WORDS[g.failure]} incident${g.count === 1 ? '' : 's'}`;
    const change = g.from === g.to ? `${DONE[g.to]} to a different limit` : `${DONE[g.to]} instead of ${DOING[g.from]}`;
    return { ...g, sentence: `${noun} would have ${change}` };
  });
}
