import { ApplicationFailure } from '@temporalio/common';
import type { RefusalCode, ToolName } from '../src/contract/gateway';
import { GatewayRefusal, GatewayUnavailable } from '../src/gateway-client';
import type { GatewayFailureDetails } from '../src/contract/failures';
import { FAILURE_TYPES } from '../src/contract/failures';

/**
 * Activity failures, created as the SDK advises: `ApplicationFailure.create` with a `type` from
 * src/contract/failures.ts (never a subclass). The workflow's `nonRetryableErrorTypes` and its
 * error handling match on the type; `details[0]` carries the gateway's refusal code for the
 * escalation message.
 */

/** Refused for a reason a retry cannot change (auth, validation, scope, bounds). Never retried. */
export function gatewayRefused(message: string, details: GatewayFailureDetails): ApplicationFailure {
  return ApplicationFailure.create({ message, type: FAILURE_TYPES.refused, nonRetryable: true, details: [details] });
}

/** Rate limited, or the gateway's store is down (fails closed). Not retried: the incident escalates. */
export function gatewayThrottled(message: string, details: GatewayFailureDetails): ApplicationFailure {
  return ApplicationFailure.create({ message, type: FAILURE_TYPES.throttled, nonRetryable: true, details: [details] });
}

/** A transient gateway or engine error; retried by the activity's retry policy. */
export function gatewayTransient(message: string, details: GatewayFailureDetails): ApplicationFailure {
  return ApplicationFailure.create({ message, type: FAILURE_TYPES.transient, nonRetryable: false, details: [details] });
}

/** Arguments refused before any I/O. Never retried. */
export function invalidActivityInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: FAILURE_TYPES.invalidInput, nonRetryable: true });
}

/** The webhook did not take the notification; retried with backoff. */
export function webhookDeliveryFailed(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: FAILURE_TYPES.webhook, nonRetryable: false });
}

const THROTTLED: ReadonlySet<RefusalCode> = new Set<RefusalCode>(['rate_limited', 'store_unavailable']);
/**
 * Refusals a retry can cure: the same idempotency key still executing, a one-off engine error,
 * a nonce collision (every attempt signs with a fresh nonce), Slack not taking a page.
 */
const TRANSIENT: ReadonlySet<RefusalCode> = new Set<RefusalCode>(['idempotency_in_progress', 'docker_error', 'internal_error', 'replayed_nonce', 'slack_delivery_failed']);

/** Map what the gateway client threw onto the typed failures above. */
export function toActivityFailure(err: unknown, tool: ToolName): unknown {
  if (err instanceof GatewayRefusal) {
    const details: GatewayFailureDetails = {
      code: err.code,
      status: err.status,
      tool,
      ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}),
    };
    if (THROTTLED.has(err.code)) return gatewayThrottled(err.message, details);
    if (TRANSIENT.has(err.code)) return gatewayTransient(err.message, details);
    return gatewayRefused(err.message, details);
  }
  if (err instanceof GatewayUnavailable) {
    return gatewayTransient(err.message, { code: 'unavailable', tool });
  }
  return err;
}
