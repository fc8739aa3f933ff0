import { truncate } from '../contract/text';
import type Redis from 'ioredis';
import { z } from 'zod';
import type { LlmProxy, LlmProxyInput, LlmProxyResponse } from './llm-proxy';
import { Refusal } from './refusal';
import { TokenWindow } from './token-window';

/**
 * The LLM proxy (docs/architecture.md §4 "LLM proxy", issue 4): after the shared pipeline (HMAC, replay, the
 * per-agent request window), `POST /llm/v1/chat/completions` is checked against the per-agent
 * token window and forwarded to the configured OpenAI-compatible upstream with the API key only
 * this process holds. Whatever the caller sent as Authorization is never forwarded: the
 * upstream request is built from scratch.
 *
 * Nothing of the prompt is audited or logged (it carries container logs): the audit record gets
 * the model, message and tool counts, token usage and the upstream status.
 */

export interface UpstreamLlmProxyOptions {
  /** `OPENAI_BASE_URL`, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`. */
  baseUrl: string;
  /** `OPENAI_API_KEY`; local servers (Ollama, llama.cpp) may need none. */
  apiKey?: string | undefined;
  /** Per upstream call. */
  timeoutMs: number;
  /** Largest upstream answer read (default 4 MiB); a larger one is an upstream error. */
  maxResponseBytes?: number;
  /** Injected in tests only. */
  fetch?: typeof fetch;
}

/** The parts of a chat completion request the gateway checks; everything else is forwarded as sent. */
const ChatRequest = z
  .object({
    model: z.string().min(1).max(256),
    messages: z.array(z.unknown()).min(1).max(256),
    tools: z.array(z.unknown()).max(64).optional(),
    stream: z.literal(false).optional(),
    n: z.literal(1).optional(),
  })
  .loose();

/** Token usage of an upstream answer, as far as the gateway reads it. */
const Usage = z.object({
  prompt_tokens: z.number().nonnegative().optional(),
  completion_tokens: z.number().nonnegative().optional(),
  total_tokens: z.number().nonnegative(),
});


/** Removes the key (and anything that looks like a bearer credential) from text that came back from upstream. */
function scrub(text: string, apiKey: string | undefined): string {
  let out = apiKey ? text.split(apiKey).join('[redacted]') : text;
  out = out.replace(/\b(sk|rk|pk)-[A-Za-z0-9_*-]{8,}/g, '[redacted]').replace(/Bearer\s+\S+/gi, 'Bearer [redacted]');
  return out;
}

function retryAfterSeconds(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.max(1, Math.ceil(seconds));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(1, Math.ceil((at - Date.now()) / 1000));
}

/** Reads at most `max` bytes of a response body; null when it is larger. */
async function readCapped(res: Response, max: number): Promise<string | null> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The upstream's own error message, if its body is an OpenAI-style error. */
function upstreamMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string };
    if (typeof body.error === 'string') return body.error;
    if (typeof body.error?.message === 'string') return body.error.message;
  } catch {
    /* not JSON */
  }
  return '';
}

/** The URL of the upstream's chat completions endpoint (credentials in the URL are not allowed). */
export function upstreamCompletionsUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  if (url.username || url.password) throw new Error('OPENAI_BASE_URL must not carry credentials; put the key in OPENAI_API_KEY');
  return `${url.href.replace(/\/+$/, '')}/chat/completions`;
}

export function createUpstreamLlmProxy(options: UpstreamLlmProxyOptions): LlmProxy {
  const endpoint = upstreamCompletionsUrl(options.baseUrl);
  // One token window per Redis connection (the script is registered once per connection).
  const windows = new WeakMap<Redis, TokenWindow>();
  const tokenWindowOf = (store: Redis): TokenWindow => {
    let w = windows.get(store);
    if (!w) windows.set(store, (w = new TokenWindow(store)));
    return w;
  };
  const doFetch = options.fetch ?? fetch;
  const maxResponseBytes = options.maxResponseBytes ?? 4 * 1024 * 1024;
  const apiKey = options.apiKey;

  return {
    async handle(input: LlmProxyInput): Promise<LlmProxyResponse> {
      const { ctx, body, req, tokenWindow } = input;
      const tokens = tokenWindowOf(input.store);

      // Validate: a JSON chat completion request, non-streaming (the proxy answers in one piece).
      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        throw new Refusal('malformed_json', 'the body is not valid JSON');
      }
      const parsed = ChatRequest.safeParse(json);
      if (!parsed.success) {
        throw new Refusal('invalid_arguments', truncate(parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '), 500));
      }
      const request = parsed.data;
      const maxCompletion = typeof request.max_completion_tokens === 'number' ? request.max_completion_tokens : typeof request.max_tokens === 'number' ? request.max_tokens : null;
      // What the audit keeps of the request: its shape, never its text.
      ctx.args = { model: truncate(request.model, 128), messages: request.messages.length, tools: request.tools?.length ?? 0, maxCompletionTokens: maxCompletion };
      const summary: Record<string, unknown> = { model: truncate(request.model, 128), messages: request.messages.length };
      ctx.resultSummary = summary;

      // Token window: refuse while the agent's tokens for the window are spent.
      summary.tokenWindowUsedBefore = await tokens.admit(tokenWindow);

      // Forward. A caller that goes away (its own timeout) aborts the upstream call too.
      const aborter = new AbortController();
      const onClose = () => aborter.abort(new Error('caller disconnected'));
      req.socket.once('close', onClose);
      const timeout = AbortSignal.timeout(options.timeoutMs);
      const started = Date.now();
      let res: Response;
      let text: string | null;
      try {
        const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'dockmedic-gateway' };
        if (apiKey) headers.authorization = `Bearer ${apiKey}`;
        // What was validated is what is sent: the raw bytes could hold duplicate keys that an
        // upstream reads differently (first one wins) from JSON.parse (last one wins).
        res = await doFetch(endpoint, { method: 'POST', headers, body: JSON.stringify(json), signal: AbortSignal.any([timeout, aborter.signal]) });
        text = await readCapped(res, maxResponseBytes);
      } catch (err) {
        summary.upstreamMs = Date.now() - started;
        if (timeout.aborted) {
          summary.upstreamStatus = 'timeout';
          throw new Refusal('llm_upstream_timeout', `the LLM upstream did not answer within ${Math.round(options.timeoutMs / 1000)} s`);
        }
        if (aborter.signal.aborted) {
          summary.upstreamStatus = 'caller_gone';
          throw new Refusal('llm_upstream_error', 'the caller disconnected before the LLM upstream answered');
        }
        summary.upstreamStatus = 'unreachable';
        const cause = (err as { cause?: { code?: unknown } }).cause;
        const why = typeof cause?.code === 'string' ? cause.code : (err as Error).name;
        throw new Refusal('llm_upstream_error', `the LLM upstream is unreachable (${truncate(scrub(String(why), apiKey), 80)})`);
      } finally {
        req.socket.off('close', onClose);
      }
      summary.upstreamMs = Date.now() - started;
      summary.upstreamStatus = res.status;

      if (text === null) throw new Refusal('llm_upstream_error', `the LLM upstream's answer exceeds ${maxResponseBytes} bytes`);
      if (!res.ok) {
        const message = truncate(scrub(upstreamMessage(text), apiKey), 300);
        const said = message ? `: ${message}` : '';
        if (res.status === 429) {
          throw new Refusal('llm_upstream_rate_limited', `the LLM upstream is rate limiting (429)${said}`, retryAfterSeconds(res.headers.get('retry-after')) ?? 1);
        }
        if (res.status === 408 || res.status === 504) throw new Refusal('llm_upstream_timeout', `the LLM upstream timed out (${res.status})${said}`);
        if (res.status >= 500) throw new Refusal('llm_upstream_error', `the LLM upstream failed (${res.status})${said}`);
        // 400/401/403/404/422…: the same request cannot succeed by retrying it.
        throw new Refusal('llm_upstream_rejected', `the LLM upstream rejected the request (${res.status})${said}`);
      }

      let answer: unknown;
      try {
        answer = JSON.parse(text);
      } catch {
        throw new Refusal('llm_upstream_error', 'the LLM upstream answered 200 with a body that is not JSON');
      }
      if (typeof answer !== 'object' || answer === null) throw new Refusal('llm_upstream_error', 'the LLM upstream answered 200 with a body that is not an object');

      // Charge the window with what the call used: the upstream's count, else an estimate (4 bytes a token).
      const usage = Usage.safeParse((answer as { usage?: unknown }).usage);
      const used = usage.success ? usage.data.total_tokens : Math.ceil((body.length + text.length) / 4);
      summary.tokens = usage.success
        ? { prompt: usage.data.prompt_tokens ?? null, completion: usage.data.completion_tokens ?? null, total: usage.data.total_tokens }
        : { total: used, estimated: true };
      const choice = (answer as { choices?: Array<{ finish_reason?: unknown; message?: { tool_calls?: unknown[] } }> }).choices?.[0];
      if (typeof choice?.finish_reason === 'string') summary.finishReason = truncate(choice.finish_reason, 32);
      summary.toolCalls = Array.isArray(choice?.message?.tool_calls) ? choice.message.tool_calls.length : 0;
      try {
        summary.tokenWindowUsed = await tokens.charge(tokenWindow, ctx.requestId, used);
      } catch {
        // The call has happened; refusing its answer now would waste it without undoing anything.
        summary.tokenWindowCharged = false;
      }
      return { status: 200, body: answer };
    },
  };
}
