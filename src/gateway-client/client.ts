import type { AgentCredentials } from '../signing';
import { signRequest } from '../signing';
import { GatewayRefusal, GatewayUnavailable } from './errors';
import type { Budget, RefusalBody, ToolArgs, ToolName, ToolResponseBody } from '../contract/gateway';

export interface CallOptions {
  /** Stable across retries of one logical call, e.g. `<workflowId>/<activityId>`. */
  idempotencyKey?: string;
  /** Recorded in the gateway's audit. */
  workflowId?: string;
  /** The drill budget, for calls about drill containers (docs/architecture.md §6). */
  budget?: Budget;
  signal?: AbortSignal;
}

export interface GatewayClientOptions {
  baseUrl: string;
  credentials: AgentCredentials;
  /** Per-request timeout; Temporal owns retries, so the client never retries. */
  timeoutMs?: number;
}

/** What `fetch` accepts: a request to sign, plus the headers and abort signal of the caller. */
export interface SignedFetchInit {
  method?: string;
  body?: string;
  idempotencyKey?: string | undefined;
  signal?: AbortSignal | undefined;
  headers?: Record<string, string>;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** A typed client of the gateway that signs every request (docs/architecture.md §4). */
export class GatewayClient {
  private readonly secret: Buffer;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly opts: GatewayClientOptions) {
    this.secret = Buffer.from(opts.credentials.secret, 'hex');
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  get agentId(): string {
    return this.opts.credentials.agentId;
  }

  /** Call a tool; resolves with the result or throws GatewayRefusal / GatewayUnavailable. */
  async call<T extends ToolName, R = unknown>(tool: T, args: ToolArgs<T>, options: CallOptions = {}): Promise<ToolResponseBody<R>> {
    const body = JSON.stringify({ args, ...(options.workflowId ? { workflowId: options.workflowId } : {}), ...(options.budget ? { budget: options.budget } : {}) });
    // The whole call (answer and body) is bounded by a timer that ends with it: an activity makes
    // many calls, and a timeout signal left armed per call would keep each one alive for timeoutMs.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new DOMException('gateway call timed out', 'TimeoutError')), this.timeoutMs);
    let text: string;
    let res: Response;
    try {
      const signal = options.signal ? AbortSignal.any([deadline.signal, options.signal]) : deadline.signal;
      res = await this.send(`/v1/tools/${tool}`, { method: 'POST', body, idempotencyKey: options.idempotencyKey, signal });
      try {
        text = await res.text();
      } catch (err) {
        throw new GatewayUnavailable(`gateway at ${this.baseUrl} broke off its answer: ${(err as Error).message}`);
      }
    } finally {
      clearTimeout(timer);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new GatewayUnavailable(`gateway answered ${res.status} with a body that is not JSON`);
    }
    if (!res.ok) {
      const refusal = parsed as Partial<RefusalBody>;
      if (!refusal.error?.code) throw new GatewayUnavailable(`gateway answered ${res.status} without a refusal code`);
      throw new GatewayRefusal(refusal.error.code, res.status, refusal.error.message ?? '', refusal.error.retryAfterSeconds, refusal.requestId);
    }
    return parsed as ToolResponseBody<R>;
  }

  /**
   * A signed `fetch` for any gateway path (the LLM proxy uses it as the `openai` client's fetch).
   * `path` may be absolute (`http://gateway/llm/v1/...`) or a path.
   */
  async fetch(pathOrUrl: string, init: SignedFetchInit = {}): Promise<Response> {
    // The caller reads the body after this returns, so the timeout must outlive this call.
    const timeout = AbortSignal.timeout(this.timeoutMs);
    return this.send(pathOrUrl, { ...init, signal: init.signal ? AbortSignal.any([timeout, init.signal]) : timeout });
  }

  private async send(pathOrUrl: string, init: SignedFetchInit): Promise<Response> {
    const url = new URL(pathOrUrl, `${this.baseUrl}/`);
    const method = (init.method ?? 'GET').toUpperCase();
    const body = init.body ?? '';
    const headers = signRequest(this.secret, {
      method,
      path: url.pathname + url.search,
      keyId: this.opts.credentials.keyId,
      idempotencyKey: init.idempotencyKey,
      body,
    });
    try {
      return await fetch(url, {
        method,
        headers: { ...init.headers, ...headers, 'content-type': 'application/json' },
        body: method === 'GET' || method === 'HEAD' ? undefined : body,
        signal: init.signal,
      });
    } catch (err) {
      throw new GatewayUnavailable(`gateway at ${this.baseUrl} unreachable: ${(err as Error).message}`);
    }
  }
}
