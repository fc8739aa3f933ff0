import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

/**
 * Transport failures of the LLM path. They are thrown (not returned) so the Temporal activity
 * retries them within its budget; the model's own misbehaviour is a returned result instead.
 * None of them is in `nonRetryableErrorTypes`.
 */

/** The gateway or the upstream answered 429 (per-agent request/token limit, or provider quota). */
export class LlmRateLimited extends Error {
  override name = 'LlmRateLimited';
  constructor(
    message: string,
    /** From `Retry-After`, when the server sent one; the activity may use it as the next delay. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** The gateway or the upstream failed (5xx, connection refused/reset, replayed nonce). */
export class LlmUnavailable extends Error {
  override name = 'LlmUnavailable';
  constructor(
    message: string,
    /** HTTP status when there was a response. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A model call did not answer within the client's timeout. */
export class LlmTimeout extends Error {
  override name = 'LlmTimeout';
}

/** Class names of the typed transport errors, for logs and activity retry policies. */
export const LLM_TRANSPORT_ERROR_TYPES = ['LlmRateLimited', 'LlmUnavailable', 'LlmTimeout'] as const;

function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/**
 * Classifies an error thrown by the `openai` client.
 * - a typed transport error (retryable) for 429, 408/409/5xx, timeouts and connection failures;
 * - `{ status, message }` for any other HTTP error (400/401/403/404/422…): retrying the same
 *   request cannot help, so `diagnose` returns it as `upstream_error` and the policy decides;
 * - the original error, rethrown by the caller, for a caller's abort (activity cancellation) and
 *   anything that is not an API error (a bug must stay visible).
 */
export function classifyOpenAiError(err: unknown): LlmRateLimited | LlmUnavailable | LlmTimeout | { status: number; message: string } | null {
  if (err instanceof APIUserAbortError) return null;
  // Timeout is a subclass of connection error: test it first.
  if (err instanceof APIConnectionTimeoutError) return new LlmTimeout(`model call timed out: ${err.message}`);
  if (err instanceof APIConnectionError) return new LlmUnavailable(`model endpoint unreachable: ${err.message}`);
  if (err instanceof APIError && typeof err.status === 'number') {
    const status = err.status;
    if (status === 429) return new LlmRateLimited(`rate limited (429): ${err.message}`, retryAfterSeconds(err.headers as Headers | undefined));
    // 409 is the gateway's replayed_nonce: a fresh attempt signs with a fresh nonce.
    if (status === 408 || status === 409 || status >= 500) return new LlmUnavailable(`model endpoint answered ${status}: ${err.message}`, status);
    return { status, message: err.message };
  }
  return null;
}
