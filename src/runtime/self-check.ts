import type { Client } from '@temporalio/client';
import type { Config } from '../config';

/** One thing the healer needs to be working (docs/architecture.md §1, "a healer that watches itself"). */
export interface Check {
  ok: boolean;
  detail: string;
}

export interface SelfCheckResult {
  ok: boolean;
  checks: { docker_events: Check; worker: Check };
}

export interface SelfCheckDeps {
  /** The watcher's view of its own Docker event stream. */
  watcher: { readonly eventStreamLive: boolean };
  client: Client;
  config: Config;
}

// Temporal's enum values (temporal.api.enums.v1): TASK_QUEUE_KIND_NORMAL, TASK_QUEUE_TYPE_WORKFLOW / _ACTIVITY.
const KIND_NORMAL = 1;
const TYPES = [
  { type: 1, name: 'workflow' },
  { type: 2, name: 'activity' },
] as const;

function timestampMs(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!t) return Number.NaN;
  return Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;
}

/**
 * A worker answers when it polled the task queue recently, for workflow and for activity tasks.
 * The server records a poll when it starts, and an idle long poll lasts about a minute, so
 * "recent" is `pollerMaxAgeSeconds` (75 by default): a stopped worker shows within that.
 */
async function workerCheck(deps: SelfCheckDeps): Promise<Check> {
  const { config, client } = deps;
  const maxAgeMs = config.heartbeat.pollerMaxAgeSeconds * 1000;
  const ages: string[] = [];
  try {
    for (const { type, name } of TYPES) {
      const res = await client.workflowService.describeTaskQueue({
        namespace: config.temporal.namespace,
        taskQueue: { name: config.temporal.taskQueue, kind: KIND_NORMAL },
        taskQueueType: type,
      });
      const now = Date.now();
      const newest = Math.max(...(res.pollers ?? []).map((p) => timestampMs(p.lastAccessTime)).filter(Number.isFinite), Number.NEGATIVE_INFINITY);
      if (!Number.isFinite(newest)) return { ok: false, detail: `no worker polls task queue ${config.temporal.taskQueue} (${name} tasks)` };
      const ageS = Math.max(0, Math.round((now - newest) / 1000));
      if (now - newest > maxAgeMs) return { ok: false, detail: `no worker polled task queue ${config.temporal.taskQueue} (${name} tasks) for ${ageS} s` };
      ages.push(`${name} ${ageS} s ago`);
    }
  } catch (err) {
    return { ok: false, detail: `Temporal could not be asked about task queue ${config.temporal.taskQueue}: ${(err as Error).message.slice(0, 200)}` };
  }
  return { ok: true, detail: `a worker polls task queue ${config.temporal.taskQueue} (${ages.join(', ')})` };
}

/** Both checks; ok only when the event stream is live and a worker answers. */
export async function selfCheck(deps: SelfCheckDeps): Promise<SelfCheckResult> {
  const events: Check = deps.watcher.eventStreamLive ? { ok: true, detail: 'subscribed to Docker events' } : { ok: false, detail: 'not subscribed to Docker events (reconnecting)' };
  const worker = await workerCheck(deps);
  return { ok: events.ok && worker.ok, checks: { docker_events: events, worker } };
}
