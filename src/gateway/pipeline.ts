import type { IncomingMessage } from 'node:http';
import type Docker from 'dockerode';
import type Redis from 'ioredis';
import type { Admission } from './admission';
import { AdmittedCall } from './admitted-call';
import type { AuditEntry } from './audit/record';
import type { MemoryBoundsPolicy } from './bounds';
import type { RequestContext } from './context';
import { mark } from './context';
import type { IdempotencyStore, StoredOutcome } from './idempotency';
import { callFingerprint } from './idempotency';
import type { Keyring } from './keyring';
import { llmWindows, toolWindows } from './limits';
import type { LlmProxy } from './llm-proxy';
import type { RateLimiter, WindowLimit } from './rate-limit';
import { readBody } from './read-body';
import { Refusal } from './refusal';
import { isDrillContainer, requireDrill, resolveDrillTarget, resolveInScope } from './scope';
import type { GatewaySettings } from './settings';
import type { SignedHeaders } from './signed-headers';
import type { SlackRuntime } from './slack/slack-runtime';
import { parseSignedHeaders } from './signed-headers';
import { findTool } from './tools/registry';
import type { ToolEnv } from './tools/tool';
import type { Authenticated } from './verify-signature';
import { verifySignature } from './verify-signature';
import { ContainerRef } from '../contract/container';
import type { Budget } from '../contract/gateway';
import { Budget as BudgetSchema, ToolRequestBody } from '../contract/gateway';

/** Everything the pipeline steps need, built once at start-up. */
export interface PipelineDeps {
  settings: GatewaySettings;
  bounds: MemoryBoundsPolicy;
  keyring: Keyring;
  store: Redis;
  admission: Admission;
  limiter: RateLimiter;
  idempotency: IdempotencyStore;
  docker: Docker;
  llmProxy?: LlmProxy | undefined;
  /** Slack buttons and pages (docs/architecture.md §3); undefined when nothing Slack is configured. */
  slack?: SlackRuntime | undefined;
}

/** An answer to send: a tool result, a stored (replayed) result, or what the LLM proxy returned. */
export interface PipelineResponse {
  status: number;
  /** null: an empty body (Slack's acknowledgement of a click). */
  body: unknown;
  headers?: Record<string, string>;
  /** Work that runs after the answer is sent and audited (a Slack click: docs/architecture.md §3); it audits its own outcome. */
  after?: (audit: (entry: AuditEntry) => void) => Promise<void>;
}

type JsonBody = { ok: true; value: unknown } | { ok: false };

function parseJson(body: Buffer): JsonBody {
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) as unknown };
  } catch {
    return { ok: false };
  }
}

/** The container a mutating call names, read before validation so the per-container window can be charged atomically with the others. */
function peekContainer(json: JsonBody): string | null {
  if (!json.ok) return null;
  const args = (json.value as { args?: { container?: unknown } } | null)?.args;
  const ref = args && typeof args === 'object' ? args.container : undefined;
  return ContainerRef.safeParse(ref).success ? (ref as string) : null;
}

/** The budget a call asks for, read before validation for the same reason; validation and scope then hold it to it. */
function peekBudget(json: JsonBody): Budget | null {
  if (!json.ok) return null;
  const parsed = BudgetSchema.safeParse((json.value as { budget?: unknown } | null)?.budget);
  return parsed.success ? parsed.data : null;
}

function zodMessage(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`)
    .join('; ')
    .slice(0, 500);
}

/** Steps 1–2, shared by every signed route: parse (headers, body within the limit) and HMAC. */
async function authenticate(
  deps: PipelineDeps,
  ctx: RequestContext,
  req: IncomingMessage,
  maxBodyBytes = deps.settings.maxBodyBytes,
): Promise<{ auth: Authenticated; headers: SignedHeaders; body: Buffer }> {
  // Headers are checked before the body is read: an unsigned request costs no body buffering.
  const headers = parseSignedHeaders(req.headers);
  ctx.keyId = headers.keyId;
  ctx.idempotencyKey = headers.idempotencyKey ?? null;
  const body = await readBody(req, maxBodyBytes);
  mark(ctx, 'parse');
  const auth = verifySignature(deps.keyring, headers, { method: ctx.method, path: ctx.path, body }, deps.settings.clockSkewSeconds);
  ctx.agent = auth.agentId;
  mark(ctx, 'hmac');
  return { auth, headers, body };
}

/**
 * How long a nonce is remembered: the configured TTL, and never less than until its timestamp
 * stops being acceptable (+1 s for second rounding). A request stamped a full skew ahead of the
 * gateway's clock stays acceptable for 2 × skew; with TTL = 2 × skew exactly, a byte-for-byte
 * resend in the last second would otherwise find its nonce already forgotten.
 */
export function nonceTtl(settings: { nonceTtlSeconds: number; clockSkewSeconds: number }, timestamp: number, nowSeconds = Math.floor(Date.now() / 1000)): number {
  return Math.max(settings.nonceTtlSeconds, timestamp + settings.clockSkewSeconds - nowSeconds + 2);
}

/** Steps 3–4: replay check, then every applicable rate-limit window (one Redis round trip, see admission.ts). */
async function admit(deps: PipelineDeps, ctx: RequestContext, headers: SignedHeaders, windows: readonly WindowLimit[], idempotencyStoreKey: string | null = null): Promise<string[]> {
  const charged = await deps.admission.admit({
    keyId: headers.keyId,
    nonce: headers.nonce,
    timestamp: headers.timestamp,
    nonceTtlSeconds: nonceTtl(deps.settings, headers.timestamp),
    windows,
    eventId: ctx.requestId,
    idempotencyStoreKey,
  });
  mark(ctx, 'replay');
  mark(ctx, 'rateLimit');
  return charged;
}

type Tool = NonNullable<ReturnType<typeof findTool>>;

/** A tool call as read before admission: what admission and the later steps work from. */
interface ToolRequest {
  agentId: string;
  tool: Tool | undefined;
  json: JsonBody;
  /** The caller's idempotency key when the call is mutating; other calls ignore it. */
  idempotencyKey: string | null;
}

/** Steps 3–4 for a tool call: the windows it counts against, charged; what they hold is then the AdmittedCall's to give back. */
async function admitToolCall(deps: PipelineDeps, ctx: RequestContext, headers: SignedHeaders, request: ToolRequest): Promise<AdmittedCall> {
  const mutating = request.tool?.mutating ?? false;
  const toolBudget = request.tool?.budget ?? null;
  const container = mutating && !toolBudget ? peekContainer(request.json) : null;
  const windows = toolWindows(deps.settings.limits, request.agentId, mutating, container, toolBudget ?? peekBudget(request.json));
  const idemKey = request.idempotencyKey;
  const charged = await admit(deps, ctx, headers, windows, idemKey ? deps.idempotency.storeKey(request.agentId, idemKey) : null);
  return new AdmittedCall(deps.limiter, windows, charged, ctx.requestId);
}

function replayedResponse(ctx: RequestContext, stored: StoredOutcome): PipelineResponse {
  ctx.replayed = true;
  ctx.resultSummary = stored.summary;
  return { status: 200, body: { result: stored.result, requestId: ctx.requestId, replayed: true } };
}

/**
 * `POST /v1/tools/<tool>`: parse → HMAC → replay → rate limit → validate → scope → bounds →
 * idempotency → execute. Any step refuses by throwing a Refusal; nothing after it runs.
 * The server audits the outcome either way.
 *
 * Mutating windows count calls that run: a call refused after the rate-limit step, or answered
 * from a stored outcome, is taken back out of them (another agent's malformed calls must not
 * use up a container's restarts). The agent's all-calls window keeps every call.
 */
export async function runToolCall(deps: PipelineDeps, ctx: RequestContext, req: IncomingMessage, toolName: string): Promise<PipelineResponse> {
  ctx.tool = toolName.slice(0, 64);
  const { auth, headers, body } = await authenticate(deps, ctx, req);

  // Replay, then rate limits: every applicable window checked and charged in one atomic script.
  const tool = findTool(toolName);
  const request: ToolRequest = { agentId: auth.agentId, tool, json: parseJson(body), idempotencyKey: tool?.mutating ? ctx.idempotencyKey : null };
  const admitted = await admitToolCall(deps, ctx, headers, request);
  const idemKey = request.idempotencyKey;

  let prepared: Prepared;
  try {
    const step = await prepareToolCall(deps, ctx, request, admitted);
    if ('replayed' in step) {
      await admitted.release();
      return step.replayed;
    }
    prepared = step;
  } catch (err) {
    if (err instanceof Refusal) await admitted.release();
    throw err;
  }
  const { args, target, plan, env, fingerprint } = prepared;

  let outcome;
  try {
    outcome = prepared.tool.target === 'none' ? await prepared.tool.execute(args, env) : await prepared.tool.execute(args, target!, plan, env);
  } catch (err) {
    // Freed only when nothing happened: after the action took effect (reading the state back
    // failed), a retry must not act a second time, so the claim stays until it expires.
    if (idemKey && !ctx.effected) await deps.idempotency.abandon(auth.agentId, idemKey, ctx.requestId);
    throw err;
  }
  mark(ctx, 'execute');
  ctx.resultSummary = outcome.summary;
  if (idemKey) {
    const stored = await deps.idempotency.complete(auth.agentId, idemKey, fingerprint, { result: outcome.result, summary: outcome.summary, requestId: ctx.requestId });
    if (!stored) ctx.resultSummary = { ...outcome.summary, idempotencyStored: false };
  }
  return { status: 200, body: { result: outcome.result, requestId: ctx.requestId, replayed: false } };
}

/** A call that passed every check and holds its idempotency claim: ready to execute. */
interface Prepared {
  tool: Tool;
  args: { container?: string };
  /** null for a tool about no one container. */
  target: Awaited<ReturnType<typeof resolveInScope>> | null;
  plan: unknown;
  env: ToolEnv;
  fingerprint: string;
}

/** Validate → (stored outcome?) → scope → per-container window → bounds → idempotency claim. */
async function prepareToolCall(deps: PipelineDeps, ctx: RequestContext, request: ToolRequest, admitted: AdmittedCall): Promise<Prepared | { replayed: PipelineResponse }> {
  const { tool, json, agentId, idempotencyKey: idemKey } = request;
  if (ctx.method !== 'POST') throw new Refusal('method_not_allowed', 'tools are called with POST');
  if (!tool) throw new Refusal('unknown_tool', 'no such tool');
  if (tool.mutating && deps.settings.shadowAgents.includes(agentId)) throw new Refusal('agent_in_shadow_mode', `agent ${agentId} is in shadow mode: mutating calls are recorded by the incident, never executed`);
  if (!json.ok) throw new Refusal('malformed_json', 'the body is not valid JSON');
  const envelope = ToolRequestBody.safeParse(json.value);
  if (!envelope.success) throw new Refusal('invalid_arguments', zodMessage(envelope.error.issues));
  ctx.workflowId = envelope.data.workflowId ?? null;
  const parsedArgs = tool.schema.safeParse(envelope.data.args ?? {});
  if (!parsedArgs.success) throw new Refusal('invalid_arguments', zodMessage(parsedArgs.error.issues));
  const args = parsedArgs.data as { container?: string };
  ctx.args = args;
  if (args.container !== undefined) ctx.target = { ref: args.container };
  mark(ctx, 'validate');

  // A retry whose first attempt completed gets the stored result now: by the bounds step its own
  // effect (a raised limit) would make it look like a new, refusable request.
  const fingerprint = idemKey ? callFingerprint(tool.name, args) : '';
  if (idemKey) {
    const stored = await deps.idempotency.lookup(agentId, idemKey, fingerprint);
    if (stored) return { replayed: replayedResponse(ctx, stored) };
    // Admission found a stored outcome and did not charge this call; it expired since. Charging
    // now could not be atomic with the check, so the caller retries and is charged as a new call.
    if (admitted.skippedAsStored) {
      throw new Refusal('idempotency_in_progress', 'the stored outcome of this idempotency key expired during the call; retry');
    }
  }

  const env: ToolEnv = {
    docker: deps.docker,
    ctx,
    logTailMax: deps.settings.logTailMax,
    logBytesMax: deps.settings.logBytesMax,
    bounds: deps.bounds,
    drill: deps.settings.drill,
    auditFile: deps.settings.auditFile,
    slack: deps.slack,
  };
  let target: Prepared['target'] = null;
  let plan: unknown;
  if (tool.target !== 'none') {
    const ref = args.container!;
    const drillHost = deps.settings.drill.host;
    target = tool.target === 'drill' ? await resolveDrillTarget(deps.docker, ctx, ref, drillHost) : await resolveInScope(deps.docker, ctx, ref);
    // A call charged to the drill budget must be about a drill: a real container's calls stay on the real budget.
    // And a drill's mutations are never charged to the real budget (docs/architecture.md §6).
    const budget = tool.budget ?? envelope.data.budget;
    if (budget === 'drill') requireDrill(target, drillHost);
    else if (tool.mutating && isDrillContainer(target)) throw new Refusal('drill_budget_required', 'the container is a drill: its mutating calls are charged to the drill budget (budget: "drill")');
    // Now that Docker has said which container this is, its per-container window is settled.
    await admitted.settleContainer(ref, target);
    mark(ctx, 'scope');
    plan = tool.plan ? tool.plan(args as { container: string }, target, env) : undefined;
    mark(ctx, 'bounds');
  }

  if (idemKey) {
    const recover = tool.target !== 'none' ? tool.recover : undefined;
    const claimed = await deps.idempotency.claim(agentId, idemKey, fingerprint, ctx.requestId, recover ? recover.afterMs(args) : Infinity);
    if (claimed && 'stored' in claimed) return { replayed: replayedResponse(ctx, claimed.stored) };
    if (claimed && recover && target) {
      // Its gateway died holding the claim: Docker's state (scope just inspected it) says whether
      // the call took effect. If it did, that is the outcome, stored and answered as a replay;
      // if not, this request takes the claim over and runs it (docs/architecture.md §4).
      const effect = recover.tookEffect(args, target, claimed.orphaned.at);
      if (effect) {
        const stored: StoredOutcome = { result: effect.result, summary: { ...effect.summary, recoveredFrom: claimed.orphaned.requestId }, requestId: claimed.orphaned.requestId };
        await deps.idempotency.complete(agentId, idemKey, fingerprint, stored);
        return { replayed: replayedResponse(ctx, stored) };
      }
      await deps.idempotency.takeOver(agentId, idemKey, fingerprint, ctx.requestId, claimed.orphaned);
    }
  }
  mark(ctx, 'idempotency');
  return { tool, args, target, plan, env, fingerprint };
}

/** `POST /llm/v1/chat/completions`: the shared steps, the LLM request window, then the proxy (extension point). */
export async function runLlmCall(deps: PipelineDeps, ctx: RequestContext, req: IncomingMessage): Promise<PipelineResponse> {
  ctx.tool = 'llm.chat.completions';
  // A diagnosis carries quoted logs over several turns: its own, larger body limit.
  const { auth, headers, body } = await authenticate(deps, ctx, req, deps.settings.llmMaxBodyBytes);
  const windows = llmWindows(deps.settings.limits, auth.agentId);
  await admit(deps, ctx, headers, [windows.requests]);
  if (ctx.method !== 'POST') throw new Refusal('method_not_allowed', 'chat completions are requested with POST');
  if (!deps.llmProxy) throw new Refusal('llm_not_configured', 'no LLM is configured on this gateway; the policy decides alone');
  return deps.llmProxy.handle({ ctx, agentId: auth.agentId, body, req, store: deps.store, tokenWindow: windows.tokens });
}
