/**
 * The `type` of every ApplicationFailure dockmedic raises. Activities create failures with these
 * types (ApplicationFailure.create, as the SDK advises, never a subclass); workflows list them in
 * `nonRetryableErrorTypes`; the CLI and tests recognise a failure by its type. The strings are
 * part of recorded histories: never rename one.
 */
export const FAILURE_TYPES = {
  /** The gateway refused for a reason a retry cannot change: auth, validation, scope, bounds. */
  refused: 'GatewayRefusedError',
  /** Rate limited or the gateway's store (Redis) is down: the incident escalates with the reason. */
  throttled: 'GatewayThrottledError',
  /** Transient gateway or Docker trouble (in-progress idempotent call, engine error): retried. */
  transient: 'GatewayTransientError',
  /** An activity was called with arguments it refuses before any I/O. */
  invalidInput: 'InvalidActivityInput',
  /** The webhook did not accept a notification: retried, never blocks the ladder. */
  webhook: 'WebhookDeliveryError',
  /** The incident workflow was started with input it cannot work with. */
  invalidIncident: 'InvalidIncidentInput',
} as const;
export type FailureType = (typeof FAILURE_TYPES)[keyof typeof FAILURE_TYPES];

/** Activity failures that must never be retried by Temporal. */
export const NON_RETRYABLE_ERROR_TYPES: readonly FailureType[] = [FAILURE_TYPES.refused, FAILURE_TYPES.throttled, FAILURE_TYPES.invalidInput];

/** `details[0]` of a gateway failure, so the workflow can say why it escalates. */
export interface GatewayFailureDetails {
  /** The gateway's stable refusal code (`rate_limited`, `container_not_found`, …) or `unavailable`. */
  code: string;
  status?: number;
  tool: string;
  retryAfterSeconds?: number;
}
