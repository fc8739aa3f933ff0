import OpenAI from 'openai';
import type { GatewayClient } from '../gateway-client/client';

/** The `fetch` shape the `openai` client accepts. */
export type OpenAiFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * The placeholder API key the worker's client sends. The real key lives only in the gateway,
 * which drops this header and sets its own when it forwards upstream.
 */
export const PLACEHOLDER_API_KEY = 'unused-by-gateway';

export interface OpenAiClientOptions {
  /** The gateway's LLM proxy, e.g. `http://127.0.0.1:7801/llm/v1` (tests: the scripted server). */
  baseURL: string;
  /** Signs each request (see `gatewaySignedFetch`); plain `fetch` in tests without a gateway. */
  signedFetch: OpenAiFetch;
  /** Per model call; a timeout surfaces as `LlmTimeout`. */
  timeoutMs: number;
}

/**
 * Builds the worker's `openai` client. `maxRetries: 0` because Temporal owns retries (docs/architecture.md §7
 * rule 7): a retrying client inside a retrying activity multiplies attempts past every budget.
 */
export function createOpenAiClient(options: OpenAiClientOptions): OpenAI {
  return new OpenAI({
    apiKey: PLACEHOLDER_API_KEY,
    baseURL: options.baseURL,
    maxRetries: 0,
    fetch: options.signedFetch,
    timeout: options.timeoutMs,
  });
}

/** Request headers worth forwarding; the placeholder Authorization and SDK telemetry are not. */
const FORWARDED_HEADERS = ['accept', 'content-type'];

/**
 * Adapts `GatewayClient.fetch` (HMAC-signed) to the `fetch` the `openai` client calls, so every
 * model request is signed over its exact method, path and body. The placeholder Authorization
 * header is dropped here so it never even reaches the gateway.
 */
export function gatewaySignedFetch(gateway: Pick<GatewayClient, 'fetch'>): OpenAiFetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const body = init?.body;
    if (body !== undefined && body !== null && typeof body !== 'string') {
      // The signature covers the raw body, so only bodies we can hash as a string are sent.
      throw new TypeError('gatewaySignedFetch: only string request bodies can be signed');
    }
    const source = new Headers(init?.headers);
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_HEADERS) {
      const value = source.get(name);
      if (value !== null) headers[name] = value;
    }
    const signal = init?.signal ?? undefined;
    try {
      return await gateway.fetch(url, { method: init?.method ?? 'GET', body: body ?? undefined, signal, headers });
    } catch (err) {
      // GatewayClient wraps every failure; when it was the openai client's own timeout (or the
      // caller's cancellation) that aborted, say so, or it is misreported as a connection error.
      if (signal?.aborted) throw new DOMException('request aborted', 'AbortError');
      throw err;
    }
  };
}
