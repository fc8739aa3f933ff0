import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AuditLog } from './audit/audit-log';
import type { AuditEntry, AuditRecord } from './audit/record';
import type { RequestContext } from './context';
import { elapsedMs, newContext } from './context';
import { LLM_PATH } from './llm-proxy';
import type { PipelineDeps, PipelineResponse } from './pipeline';
import { runLlmCall, runToolCall } from './pipeline';
import { Refusal } from './refusal';
import { runSlackInteractivity, SLACK_INTERACTIVITY_PATH } from './slack/interactivity';
import type { RefusalBody } from '../contract/gateway';

const TOOL_PREFIX = '/v1/tools/';

/** Per-request timings, for the overhead benchmark: total server time and the part spent waiting on Docker. */
export interface RequestTiming {
  requestId: string;
  tool: string | null;
  verdict: 'allowed' | 'refused';
  code: string | null;
  totalMs: number;
  dockerMs: number;
  /** totalMs − dockerMs: what the gateway itself costs (parse, HMAC, Redis steps, validation, scope logic, audit). */
  overheadMs: number;
  /** Milliseconds since the request arrived at which each completed stage ended. */
  stages: Partial<Record<string, number>>;
}

export interface ServerHooks {
  /** One call per audited request, after the response is sent (the CLI logs it as a JSON line). */
  onRecord?: (record: AuditRecord) => void;
  onTiming?: (timing: RequestTiming) => void;
  /** Something went wrong that is not a refusal (a bug, a full disk). */
  onError?: (err: unknown, requestId: string) => void;
  health?: () => Promise<Record<string, unknown>>;
  /** `GET /metrics` in the Prometheus text format (docs/architecture.md §9); absent = not served on this port. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | number>): void {
  if (body === null) {
    res.writeHead(status, { 'content-length': 0, ...headers });
    res.end();
    return;
  }
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json), ...headers });
  res.end(json);
}

/** Paths in the audit are bounded; a hostile 10,000-character path is recorded by its start. */
function boundedPath(url: string): string {
  return url.length > 512 ? `${url.slice(0, 512)}…` : url;
}

function entryOf(ctx: RequestContext, status: number, refusal: Refusal | null): AuditEntry {
  return {
    time: ctx.time,
    requestId: ctx.requestId,
    agent: ctx.agent,
    keyId: ctx.keyId,
    method: ctx.method,
    path: boundedPath(ctx.path),
    tool: ctx.tool,
    args: ctx.args,
    target: ctx.target,
    verdict: refusal ? 'refused' : 'allowed',
    code: refusal ? refusal.code : null,
    status,
    result: ctx.resultSummary,
    replayed: ctx.replayed,
    durationMs: Math.round(elapsedMs(ctx) * 1000) / 1000,
    idempotencyKey: ctx.idempotencyKey,
    workflowId: ctx.workflowId,
  };
}

/**
 * The gateway's HTTP server (node:http, no framework: the pipeline is the whole job).
 * Routes: `GET /healthz` and `GET /metrics` (unauthenticated, not audited: they call nothing),
 * `POST /v1/tools/<tool>`, `POST /llm/v1/chat/completions`, `POST /slack/interactivity` (signed
 * by Slack, not by an agent).
 * Every other request, and every refusal, is answered with a RefusalBody and audited.
 */
export function createGatewayServer(deps: PipelineDeps, audit: AuditLog, hooks: ServerHooks = {}): Server {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    const method = (req.method ?? 'GET').toUpperCase();

    if (pathname === '/healthz' && (method === 'GET' || method === 'HEAD')) {
      const checks = hooks.health ? await hooks.health() : {};
      // Ready only when every dependency answers: without Redis every call is refused, so a probe must see 503.
      const ok = Object.values(checks).every((v) => v !== false);
      send(res, ok ? 200 : 503, { ok, ...checks }, {});
      return;
    }
    if (pathname === '/metrics' && hooks.metrics && (method === 'GET' || method === 'HEAD')) {
      const { contentType, body } = await hooks.metrics();
      res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }

    const ctx = newContext(method, url);
    let response: PipelineResponse;
    let refusal: Refusal | null = null;
    try {
      if (pathname.startsWith(TOOL_PREFIX)) response = await runToolCall(deps, ctx, req, pathname.slice(TOOL_PREFIX.length));
      else if (pathname === LLM_PATH) response = await runLlmCall(deps, ctx, req);
      else if (pathname === SLACK_INTERACTIVITY_PATH) response = await runSlackInteractivity(deps, ctx, req);
      else throw new Refusal('not_found', 'no such endpoint');
    } catch (err) {
      if (err instanceof Refusal) refusal = err;
      else {
        hooks.onError?.(err, ctx.requestId);
        refusal = new Refusal('internal_error', 'the gateway failed to handle this request; nothing more was executed');
      }
      const body: RefusalBody = {
        error: { code: refusal.code, message: refusal.message, ...(refusal.retryAfterSeconds !== undefined ? { retryAfterSeconds: refusal.retryAfterSeconds } : {}) },
        requestId: ctx.requestId,
      };
      const headers: Record<string, string> = {};
      if (refusal.retryAfterSeconds !== undefined) headers['retry-after'] = String(refusal.retryAfterSeconds);
      // The rest of an oversized body is not read: close the connection after answering.
      if (refusal.code === 'body_too_large') headers.connection = 'close';
      response = { status: refusal.status, body, headers };
    }

    // Audit before answering: a caller never sees an outcome the audit does not hold.
    let record: AuditRecord;
    try {
      record = audit.append(entryOf(ctx, response.status, refusal));
    } catch (err) {
      hooks.onError?.(err, ctx.requestId);
      send(res, 500, { error: { code: 'internal_error', message: 'the audit log cannot be written' }, requestId: ctx.requestId } satisfies RefusalBody, {
        'x-request-id': ctx.requestId,
      });
      return;
    }
    send(res, response.status, response.body, { 'x-request-id': ctx.requestId, ...response.headers });

    if (hooks.onTiming) {
      const totalMs = elapsedMs(ctx);
      const dockerMs = Number(ctx.dockerNs) / 1e6;
      const stages: Partial<Record<string, number>> = {};
      for (const [k, v] of Object.entries(ctx.marks)) stages[k] = v / 1e6;
      hooks.onTiming({ requestId: ctx.requestId, tool: ctx.tool, verdict: record.verdict, code: record.code, totalMs, dockerMs, overheadMs: totalMs - dockerMs, stages });
    }
    hooks.onRecord?.(record);

    // Work the caller must not wait for (a Slack click's signal and message update) runs now, and audits its own outcome.
    if (response.after) {
      await response.after((entry) => {
        try {
          hooks.onRecord?.(audit.append(entry));
        } catch (err) {
          hooks.onError?.(err, ctx.requestId);
        }
      });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      hooks.onError?.(err, '-');
      if (!res.headersSent) send(res, 500, { error: { code: 'internal_error', message: 'internal error' }, requestId: '-' }, {});
      else res.destroy();
    });
  });
  // Slow clients do not hold a connection forever.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return server;
}
