import type { AgentCredentials } from '../signing';
import { signRequest } from '../signing';
import type { RefusalBody, ToolArgs, ToolName, ToolResponseBody } from '../gateway/protocol';
import { GatewayRefusal, GatewayUnavailable } from './errors';

export interface CallOptions {
  /** Stable across retries of one logical call, e.g. `<workflowId>/<activityId>`. */
  idempotencyKey?: string;
  /** Recorded in the gateway's audit. */
  workflowId?: string;
  signal?: AbortSignal;
}

export interface GatewayClientOptions {
  baseUrl: string;
  credentials: AgentCredentials;
  /** Per-request timeout; Temporal owns retries, so the client never retries. */
  timeoutMs?: number;
}


/** A typed client of the gateway that signs every request (DESIGN §4). */
export class GatewayClient {
  private readonly secret: Buffer;
  private readonly baseUrl: string;

  constructor(private readonly opts: GatewayClientOptions) {
    this.secret = Buffer.from(opts.credentials.secret, 'hex');
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
  }

  get agentId(): string {
    return this.opts.credentials.agentId;
  }

  /** Call a tool; resolves with the result or throws GatewayRefusal / GatewayUnavailable. */
  async call<T extends ToolName, R = unknown>(tool: T, args: ToolArgs<T>, options: CallOptions = {}): Promise<ToolResponseBody<R>> {
    const body = JSON.stringify({ args, ...(options.workflowId ? { workflowId: options.workflowId } : {}) });
    const res = await this.fetch(`/v1/tools/${tool}`, { method: 'POST', body, idempotencyKey: options.idempotencyKey, signal: options.signal });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new GatewayUnavailable(`gateway answered ${res.status} with a body that is not JSON`);
    }
    if (!res.ok) {
      const refusal = parsed as Partial<RefusalBody>;
      if (!refusal.error?.code) throw new GatewayUnavailable(`gateway answered ${res.status} without a refusal code`);
      throw new GatewayRefusal(refusal.error.code, res.status, refusal.error.message ?? '', refusal.error.retryAfterSeconds);
    }
    return parsed as ToolResponseBody<R>;
  }

  /**
   * A signed `fetch` for any gateway path (the LLM proxy uses it as the `openai` client's fetch).
   * `path` may be absolute (`http://gateway/llm/v1/...`) or a path.
   */
  async fetch(
    pathOrUrl: string,
    init: { method?: string; body?: string; idempotencyKey?: string | undefined; signal?: AbortSignal | undefined; headers?: Record<string, string> } = {},
  ): Promise<Response> {
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
    const signals = [AbortSignal.timeout(this.opts.timeoutMs ?? 30_000), ...(init.signal ? [init.signal] : [])];
    try {
      return await fetch(url, {
        method,
        headers: { ...init.headers, ...headers, 'content-type': 'application/json' },
        body: method === 'GET' || method === 'HEAD' ? undefined : body,
        signal: AbortSignal.any(signals),
      });
    } catch (err) {
      throw new GatewayUnavailable(`gateway at ${this.baseUrl} unreachable: ${(err as Error).message}`);
    }
  }
}
