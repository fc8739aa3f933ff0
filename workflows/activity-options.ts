import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../src/contract/failures';

const nonRetryableErrorTypes: string[] = [...NON_RETRYABLE_ERROR_TYPES];
/** Quick calls (Temporal visibility, the drill's gateway calls): a few short retries. */
const quickRetry = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 4, nonRetryableErrorTypes } as const;

/**
 * Named activity option sets (docs/architecture.md §7 rule 4). Docker calls through the gateway are fast and
 * few retries are enough (mutating ones are idempotent by key); notifications are slow, retried
 * longer, and never awaited by the ladder's timers; the LLM set comes with the diagnose activity.
 */
export const ACTIVITY_OPTIONS = {
  /** inspect, logs: read-only, fast. */
  dockerRead: {
    startToCloseTimeout: '15s',
    scheduleToCloseTimeout: '1m',
    retry: { initialInterval: '250ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 5, nonRetryableErrorTypes },
  },
  /**
   * restart, start, update resources: a restart may wait for the stop timeout (10 s) first.
   * Retried for about 45 s: long enough for a gateway killed mid-call to be restarted and to
   * tell its orphaned claim from Docker's state (docs/architecture.md §4); never twice, by key.
   */
  dockerMutate: {
    startToCloseTimeout: '45s',
    scheduleToCloseTimeout: '3m',
    retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 9, nonRetryableErrorTypes },
  },
  /** Temporal visibility (past incidents). */
  visibility: { startToCloseTimeout: '10s', scheduleToCloseTimeout: '1m', retry: quickRetry },
  /**
   * The model's diagnosis through the gateway's LLM proxy: slow, and retried only a few times
   * (each attempt is a whole diagnosis of several model calls). On the last attempt the activity
   * turns a timeout/429/5xx into a result, so the policy decides alone; timeouts are scaled to
   * the turn budget by `llmActivityOptions`.
   */
  llm: {
    startToCloseTimeout: '150s',
    scheduleToCloseTimeout: '10m',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3, nonRetryableErrorTypes },
  },
  /** Webhook + log. Retried for up to 10 minutes; the ladder does not wait for it. */
  notify: {
    startToCloseTimeout: '20s',
    scheduleToCloseTimeout: '10m',
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10, nonRetryableErrorTypes },
  },
  /** The drill's gateway calls (create, stop, remove, events, audit) and its Temporal reads. */
  drill: { startToCloseTimeout: '30s', scheduleToCloseTimeout: '2m', retry: quickRetry },
  /** Waiting for a drill's incident: long, heartbeating (a lost worker is noticed in 15 s). */
  drillWait: { startToCloseTimeout: '4m', heartbeatTimeout: '15s', retry: quickRetry },
} as const satisfies Record<string, ActivityOptions>;

/**
 * The `llm` set with timeouts sized to one incident's budget: each attempt may make `maxTurns`
 * model calls of up to `timeoutSeconds` each, plus the read-only tool calls in between.
 */
export function llmActivityOptions(maxTurns: number, timeoutSeconds = 30): ActivityOptions {
  const base = ACTIVITY_OPTIONS.llm;
  const perAttempt = Math.ceil(maxTurns * (timeoutSeconds + 10) + 30);
  return { ...base, startToCloseTimeout: `${perAttempt}s`, scheduleToCloseTimeout: `${perAttempt * base.retry.maximumAttempts + 60}s` };
}
