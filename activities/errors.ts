import { ApplicationFailure } from '@temporalio/common';
import type { RefusalCode, ToolName } from '../src/gateway/protocol';
import { GatewayRefusal, GatewayUnavailable } from '../src/gateway-client';
import type { GatewayFailureDetails } from '../workflows/failures';
import { FAILURE_TYPES } from '../workflows/failures';

/**
 * Typed activity failures. Each is an ApplicationFailure whose `type` is its class name, so the
 * workflow's `nonRetryableErrorTypes` (workflows/failures.ts) and its error handling match on it,
 * and whose `details[0]` carries the gateway's refusal code for the escalation message.
 */

/** Refused for a reason a retry cannot change (auth, validation, scope, bounds). Never retried. */
export class GatewayRefusedError extends ApplicationFailure {
  constructor(message: string, details: GatewayFailureDetails) {
    super(message, FAILURE_TYPES.refused, true, [details]);
  }
}

/** Rate limited, or the gateway's store is down (fails closed). Not retried: the incident escalates. */
export class GatewayThrottledError extends ApplicationFailure {
  constructor(message: string, details: GatewayFailureDetails) {
    super(message, FAILURE_TYPES.throttled, true, [details]);
  }
}

/** A transient gateway or engine error; retried by the activity's retry policy. */
export class GatewayTransientError extends ApplicationFailure {
  constructor(message: string, details: GatewayFailureDetails) {
    super(message, FAILURE_TYPES.transient, false, [details]);
  }
}

/** Arguments refused before any I/O. Never retried. */
export class InvalidActivityInput extends ApplicationFailure {
  constructor(message: string) {
    super(message, FAILURE_TYPES.invalidInput, true);
  }
}

/** The webhook did not take the notification; retried with backoff. */
export class WebhookDeliveryError extends ApplicationFailure {
  constructor(message: string) {
    super(message, FAILURE_TYPES.webhook, false);
  }
}

/** The class names to list in `nonRetryableErrorTypes` (the same strings as workflows/failures.ts). */
export const NON_RETRYABLE_ERROR_CLASSES = [GatewayRefusedError.name, GatewayThrottledError.name, InvalidActivityInput.name] as const;

const THROTTLED: ReadonlySet<RefusalCode> = new Set<RefusalCode>(['rate_limited', 'store_unavailable']);
/**
 * Refusals a retry can cure: the same idempotency key still executing, a one-off engine error,
 * a nonce collision (every attempt signs with a fresh nonce).
 */
const TRANSIENT: ReadonlySet<RefusalCode> = new Set<RefusalCode>(['idempotency_in_progress', 'docker_error', 'internal_error', 'replayed_nonce']);

/** Map what the gateway client threw onto the typed failures above. */
export function toActivityFailure(err: unknown, tool: ToolName): unknown {
  if (err instanceof GatewayRefusal) {
    const details: GatewayFailureDetails = {
      code: err.code,
      status: err.status,
      tool,
      ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}),
    };
    if (THROTTLED.has(err.code)) return new GatewayThrottledError(err.message, details);
    if (TRANSIENT.has(err.code)) return new GatewayTransientError(err.message, details);
    return new GatewayRefusedError(err.message, details);
  }
  if (err instanceof GatewayUnavailable) {
    return new GatewayTransientError(err.message, { code: 'unavailable', tool });
  }
  return err;
}
