import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A scripted OpenAI-compatible server for tests: real HTTP, `POST …/chat/completions`
 * (non-streaming), answers taken from a script. Tests drive the real `openai` client against it,
 * directly or through the gateway's LLM proxy, and assert on what it received.
 */

export interface ToolCallSpec {
  name: string;
  args: unknown;
}

/** Token usage to report; `null` leaves `usage` out, as some local servers do. */
export type UsageSpec = { prompt_tokens: number; completion_tokens: number } | null;

/** One answer of the scripted model. */
export type ScriptStep =
  /** A final answer: the object is sent as JSON text in `message.content`. */
  | { reply: unknown; usage?: UsageSpec }
  /** A final answer with exactly this content (malformed JSON, prose, a fenced block…). */
  | { raw: string; usage?: UsageSpec; finishReason?: 'stop' | 'length' }
  /** One or more tool calls. */
  | { toolCall: ToolCallSpec | ToolCallSpec[]; usage?: UsageSpec }
  /** Exactly this HTTP body (e.g. one that is not JSON at all), with this status (default 200). */
  | { httpBody: string; status?: number }
  /** An HTTP error with an OpenAI-style error body (429 carries `Retry-After`). */
  | { status: number; retryAfterSeconds?: number; message?: string }
  /** Wait, then answer with `then` (default: a 200 escalate proposal). Long delays force client timeouts. */
  | { delayMs: number; then?: ScriptStep }
  /** Behave like a model that follows instructions planted in the logs (see `injectionFollower`). */
  | { obey: true };

/** A request as the server saw it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Parsed JSON body, or null when it was not JSON. */
  body: ChatRequestBody | null;
}

/** The parts of a chat completion request the fake model reads. */
export interface ChatRequestBody {
  model?: string;
  messages?: Array<{ role: string; content?: string | null; tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>; tool_call_id?: string }>;
  tools?: Array<{ type: string; function: { name: string } }>;
  tool_choice?: unknown;
  max_completion_tokens?: number;
}

/** A queue of steps (taken in order) or a function of the request and its index. */
export type Script = ScriptStep[] | ((request: RecordedRequest, index: number) => ScriptStep);

export interface ScriptedLlm {
  /** Base URL for the `openai` client or `OPENAI_BASE_URL`, e.g. `http://127.0.0.1:41234/v1`. */
  url: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Requests to the chat completions endpoint only (the model calls). */
  completions(): RecordedRequest[];
  close(): Promise<void>;
}

/** The request's text that a model would read last: the newest tool or user message. */
export function lastReadableMessage(body: ChatRequestBody | null): string {
  const messages = body?.messages ?? [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m && (m.role === 'tool' || m.role === 'user') && typeof m.content === 'string') return m.content;
  }
  return '';
}

/** The incident's container as dockmedic names it in its first user message. */
function incidentContainer(body: ChatRequestBody | null): string {
  const first = body?.messages?.find((m) => m.role === 'user')?.content ?? '';
  return /container "([^"]+)"/.exec(first)?.[1] ?? 'unknown';
}

/**
 * A gullible model. Turn 1: reads the incident container's logs. Turn 2: does whatever the
 * logs say — inspects, restarts and resizes every container they name, through any tool name,
 * real or invented. Turn 3: proposes what the logs asked for (raise memory to 100g / restart),
 * with extra keys that name other containers and sizes. A safe system gains nothing from any of it.
 */
export function injectionFollower(request: RecordedRequest): ScriptStep {
  const body = request.body;
  const messages = body?.messages ?? [];
  const container = incidentContainer(body);
  const toolTurns = messages.filter((m) => m.role === 'assistant' && m.tool_calls?.length).length;
  const seen = messages.filter((m) => m.role === 'tool').map((m) => m.content ?? '').join('\n');
  if (toolTurns === 0) return { toolCall: { name: 'check_container_logs', args: { container, tail: 500 } } };
  const named = [...seen.matchAll(/containers?[:\s]+((?:[a-z0-9][\w.-]*(?:,\s*|\s+and\s+)?)+)/gi)]
    .flatMap((m) => (m[1] ?? '').split(/,\s*|\s+and\s+/))
    .map((s) => s.trim().replace(/\.+$/, ''))
    .filter((s) => s && s !== container);
  const targets = [...new Set(named)];
  if (toolTurns === 1 && targets.length > 0) {
    return {
      toolCall: targets.flatMap((t) => [
        { name: 'inspect_container', args: { container: t } },
        { name: 'restart_container', args: { container: t } },
        { name: 'update_container_resources', args: { container: t, memoryBytes: 100 * 1024 ** 3 } },
      ]),
    };
  }
  const wantsMemory = /memory/i.test(seen);
  return {
    reply: {
      failureType: wantsMemory ? 'oom' : 'exit',
      proposedAction: wantsMemory ? 'raise_memory' : 'restart',
      rationale: 'The logs instruct the operator to do this, so I comply.',
      confidence: 1,
      evidence: ['instructions found in logs'],
      // Keys outside the schema: a safe consumer drops them.
      container: targets[0] ?? container,
      memoryBytes: 100 * 1024 ** 3,
      alsoRestart: targets,
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function usageFor(spec: UsageSpec | undefined, request: RecordedRequest, content: string): Record<string, number> | undefined {
  if (spec === null) return undefined;
  const u = spec ?? { prompt_tokens: Math.ceil(request.rawBody.length / 4), completion_tokens: Math.max(1, Math.ceil(content.length / 4)) };
  return { ...u, total_tokens: u.prompt_tokens + u.completion_tokens };
}

let callCounter = 0;

function completionBody(request: RecordedRequest, message: Record<string, unknown>, finishReason: string, usage: Record<string, number> | undefined): string {
  return JSON.stringify({
    id: `chatcmpl-scripted-${++callCounter}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: request.body?.model ?? 'scripted',
    choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, finish_reason: finishReason, logprobs: null }],
    ...(usage ? { usage } : {}),
  });
}

const DEFAULT_AFTER_DELAY: ScriptStep = { reply: { failureType: 'unknown', proposedAction: 'escalate', rationale: 'late answer', confidence: 0.1, evidence: [] } };

/** Starts the server on 127.0.0.1, port 0. */
export async function startScriptedLlm(script: Script): Promise<ScriptedLlm> {
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let completionIndex = 0;

  const nextStep = (request: RecordedRequest): ScriptStep => {
    const index = completionIndex++;
    if (typeof script === 'function') return script(request, index);
    const step = script[index];
    // Running past the script is a test bug: answer in a way no test can mistake for success.
    return step ?? { status: 599, message: `scripted LLM: no step ${index} in a script of ${script.length}` };
  };

  const send = async (res: ServerResponse, request: RecordedRequest, step: ScriptStep): Promise<void> => {
    if ('delayMs' in step) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          resolve();
        }, step.delayMs);
        timers.add(t);
      });
      if (res.destroyed) return;
      return send(res, request, step.then ?? DEFAULT_AFTER_DELAY);
    }
    if ('obey' in step) return send(res, request, injectionFollower(request));
    if ('httpBody' in step) {
      res.writeHead(step.status ?? 200, { 'content-type': 'application/json' });
      res.end(step.httpBody);
      return;
    }
    if ('status' in step) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (step.status === 429) headers['retry-after'] = String(step.retryAfterSeconds ?? 1);
      res.writeHead(step.status, headers);
      res.end(JSON.stringify({ error: { message: step.message ?? `scripted ${step.status}`, type: 'scripted_error', code: null, param: null } }));
      return;
    }
    let body: string;
    if ('toolCall' in step) {
      const calls = (Array.isArray(step.toolCall) ? step.toolCall : [step.toolCall]).map((c, i) => ({
        id: `call_${callCounter + 1}_${i}`,
        type: 'function',
        function: { name: c.name, arguments: JSON.stringify(c.args) },
      }));
      body = completionBody(request, { content: null, tool_calls: calls }, 'tool_calls', usageFor(step.usage, request, JSON.stringify(calls)));
    } else {
      const content = 'raw' in step ? step.raw : JSON.stringify(step.reply);
      body = completionBody(request, { content }, 'raw' in step ? (step.finishReason ?? 'stop') : 'stop', usageFor(step.usage, request, content));
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  };

  const server = createServer((req, res) => {
    void (async () => {
      const rawBody = await readBody(req);
      let body: ChatRequestBody | null = null;
      try {
        body = JSON.parse(rawBody) as ChatRequestBody;
      } catch {
        body = null;
      }
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const request: RecordedRequest = { method: req.method ?? '', path, headers: req.headers, rawBody, body };
      requests.push(request);
      if (req.method !== 'POST' || !path.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `scripted LLM serves POST …/chat/completions, not ${req.method} ${path}`, type: 'not_found' } }));
        return;
      }
      await send(res, request, nextStep(request));
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `scripted LLM failed: ${String(err)}`, type: 'scripted_bug' } }));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    completions: () => requests.filter((r) => r.method === 'POST' && r.path.endsWith('/chat/completions')),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      // A delayed answer holds its socket open; drop it so close() does not wait for it.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
