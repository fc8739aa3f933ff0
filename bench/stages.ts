import type { temporal } from '@temporalio/proto';
import { percentile, round3 } from './stats';

/**
 * Where an incident's first action spends its time (issue 11): named instants from Docker, the
 * watcher's log, Temporal's own history event times and the gateway's audit, in the order they
 * happen, and the stages between consecutive ones.
 */
export interface Checkpoint {
  name: string;
  ms: number;
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = {
  WORKFLOW_EXECUTION_STARTED: 1,
  WORKFLOW_TASK_SCHEDULED: 5,
  WORKFLOW_TASK_STARTED: 6,
  WORKFLOW_TASK_COMPLETED: 7,
  ACTIVITY_TASK_SCHEDULED: 10,
  ACTIVITY_TASK_STARTED: 11,
  ACTIVITY_TASK_COMPLETED: 12,
} as const;

function eventMs(e: HistoryEvent): number {
  const t = e.eventTime;
  return Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
}

/**
 * The history's instants up to the start of `untilActivity` (the mutation): workflow start,
 * each workflow task's schedule/start/completion, each activity's schedule/start/completion.
 * Local activities leave no scheduled/started events: they show as a longer workflow task.
 */
export function historyCheckpoints(events: readonly HistoryEvent[], untilActivity: string): Checkpoint[] {
  const out: Checkpoint[] = [];
  const activityBySchedule = new Map<string, string>();
  let wft = 0;
  for (const e of events) {
    const ms = eventMs(e);
    const type = Number(e.eventType);
    if (type === EventType.WORKFLOW_EXECUTION_STARTED) out.push({ name: 'workflow.started', ms });
    else if (type === EventType.WORKFLOW_TASK_SCHEDULED) out.push({ name: `wft${wft + 1}.scheduled`, ms });
    else if (type === EventType.WORKFLOW_TASK_STARTED) out.push({ name: `wft${++wft}.started`, ms });
    else if (type === EventType.WORKFLOW_TASK_COMPLETED) out.push({ name: `wft${wft}.completed`, ms });
    else if (type === EventType.ACTIVITY_TASK_SCHEDULED) {
      const name = e.activityTaskScheduledEventAttributes?.activityType?.name ?? 'activity';
      activityBySchedule.set(String(e.eventId), name);
      out.push({ name: `${name}.scheduled`, ms });
    } else if (type === EventType.ACTIVITY_TASK_STARTED || type === EventType.ACTIVITY_TASK_COMPLETED) {
      const id = String(type === EventType.ACTIVITY_TASK_STARTED ? e.activityTaskStartedEventAttributes?.scheduledEventId : e.activityTaskCompletedEventAttributes?.scheduledEventId);
      const name = activityBySchedule.get(id) ?? 'activity';
      out.push({ name: `${name}.${type === EventType.ACTIVITY_TASK_STARTED ? 'started' : 'completed'}`, ms });
      if (name === untilActivity && type === EventType.ACTIVITY_TASK_STARTED) break;
    }
  }
  // Started events are written when the attempt ends, so history order is not time order; what
  // happened after the mutation started (signals, timers) is not on the way to the action.
  const sorted = out.sort((a, b) => a.ms - b.ms);
  const end = sorted.findIndex((c) => c.name === `${untilActivity}.started`);
  return end < 0 ? sorted : sorted.slice(0, end + 1);
}

/** Stages between consecutive checkpoints, e.g. `inspectContainer.completed→wft2.scheduled`. */
export function stagesOf(checkpoints: readonly Checkpoint[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 1; i < checkpoints.length; i++) {
    const a = checkpoints[i - 1];
    const b = checkpoints[i];
    if (a && b) out[`${a.name}→${b.name}`] = b.ms - a.ms;
  }
  return out;
}

export type StageSummary = Record<string, { p50_ms: number; p99_ms: number }>;

/** p50/p99 of each stage seen in at least half of the samples, in the order of the first sample that has them all. */
export function summarizeStages(samples: readonly Record<string, number>[]): StageSummary {
  const counts = new Map<string, number[]>();
  for (const s of samples) for (const [k, v] of Object.entries(s)) counts.set(k, [...(counts.get(k) ?? []), v]);
  const out: StageSummary = {};
  for (const [k, values] of counts) {
    if (values.length < samples.length / 2) continue;
    const sorted = [...values].sort((a, b) => a - b);
    out[k] = { p50_ms: round3(percentile(sorted, 50)), p99_ms: round3(percentile(sorted, 99)) };
  }
  return out;
}
