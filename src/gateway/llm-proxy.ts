import type { IncomingMessage } from 'node:http';
import type { RequestContext } from './context';
import type Redis from 'ioredis';
import type { WindowLimit } from './rate-limit';

/**
 * ───────────────────────────── EXTENSION POINT: LLM proxy ─────────────────────────────
 * `POST /llm/v1/chat/completions` runs the shared pipeline first — parse, HMAC, replay, and
 * the per-agent LLM request limit — and then hands over to this interface. Without an
 * implementation the gateway refuses with `llm_not_configured`.
 *
 * An implementation (another issue) forwards to the OpenAI-compatible upstream with the
 * server-side API key, enforces the per-agent token budget `tokenWindow` in `store` (a sum of
 * tokens per window, atomically, failing closed like every Redis step), and returns the
 * upstream answer. It must not log or audit prompts (they carry container logs); it sets
 * `ctx.resultSummary` to something small (model, token counts) for the audit record.
 * ─────────────────────────────────────────────────────────────────────────────────────
 */
export interface LlmProxy {
  handle(input: LlmProxyInput): Promise<LlmProxyResponse>;
}

export interface LlmProxyInput {
  ctx: RequestContext;
  agentId: string;
  /** The raw request body, already authenticated and within the size limit. */
  body: Buffer;
  req: IncomingMessage;
  /** The gateway's Redis connection (no offline queue: fails fast when Redis is down). */
  store: Redis;
  /** The per-agent token window from config (`limits.llmTokens`). */
  tokenWindow: WindowLimit;
}

export interface LlmProxyResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export const LLM_PATH = '/llm/v1/chat/completions';
