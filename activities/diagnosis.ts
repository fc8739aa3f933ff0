import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { ContainerSummary, LogsResult } from '../src/gateway/protocol';
import type { DiagnoseResult, DiagnoseToolCall } from '../src/llm';
import { LlmRateLimited, LlmTimeout, LlmUnavailable, diagnose, failureFromError, isModelTool } from '../src/llm';
import type { DiagnosisFailureReason, DiagnosisRequest, DiagnosisResult, DiagnosisToolCall } from '../workflows/diagnosis';
import type { ActivityDeps } from './deps';
import { workflowOf } from './docker';
import { InvalidActivityInput } from './errors';

/** Tool calls kept in the result (history stays small whatever the model does). */
const MAX_RECORDED_CALLS = 16;
/** A 429 asking to wait longer than this ends the diagnosis now: the incident does not wait for a model. */
const MAX_RATE_LIMIT_WAIT_SECONDS = 30;

const CONTAINER_REF = /^(?:[a-f0-9]{12,64}|[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127})$/;
const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n)}…` : s);

function checkRequest(req: DiagnosisRequest): void {
  const ok =
    typeof req === 'object' &&
    req !== null &&
    typeof req.container === 'string' &&
    CONTAINER_REF.test(req.container.replace(/^\//, '')) &&
    typeof req.containerId === 'string' &&
    CONTAINER_REF.test(req.containerId) &&
    typeof req.facts === 'object' &&
    req.facts !== null &&
    Number.isInteger(req.maxTurns) &&
    req.maxTurns >= 1 &&
    req.maxTurns <= 20;
  if (!ok) throw new InvalidActivityInput('diagnoseIncident: invalid request (container, containerId, facts, maxTurns 1..20)');
}

/** The container a tool call named, if it named one (never its other arguments: model text stays out of history). */
function namedContainer(args: unknown): string | undefined {
  const c = args && typeof args === 'object' ? (args as { container?: unknown }).container : undefined;
  return typeof c === 'string' ? cut(c, 128) : undefined;
}

function isIncidentContainer(ref: string, req: DiagnosisRequest): boolean {
  const r = ref.replace(/^\//, '');
  if (r === req.container.replace(/^\//, '')) return true;
  return r.length >= 12 && req.containerId.toLowerCase().startsWith(r.toLowerCase());
}

function compactCalls(calls: readonly DiagnoseToolCall[], req: DiagnosisRequest): Pick<DiagnosisResult, 'toolCalls' | 'attemptedTools' | 'otherContainers'> {
  const attempted = new Set<string>();
  const others = new Set<string>();
  for (const c of calls) {
    if (!isModelTool(c.tool)) attempted.add(cut(c.tool, 64));
    const container = namedContainer(c.args);
    if (container !== undefined && !isIncidentContainer(container, req)) others.add(container);
  }
  const toolCalls = calls.slice(0, MAX_RECORDED_CALLS).map((c): DiagnosisToolCall => {
    const container = namedContainer(c.args);
    return {
      tool: cut(c.tool, 64),
      executed: c.executed,
      ...(c.refusal ? { refusal: c.refusal } : {}),
      ...(c.error ? { error: cut(c.error, 200) } : {}),
      ...(container !== undefined ? { container } : {}),
    };
  });
  return { toolCalls, attemptedTools: [...attempted].slice(0, 8), otherContainers: [...others].slice(0, 8) };
}

function toResult(r: DiagnoseResult, model: string, req: DiagnosisRequest, attempt: number): DiagnosisResult {
  const base = { model, turns: r.turns, tokens: r.tokens, attempt, ...compactCalls(r.toolCalls, req) };
  if (r.ok) return { ok: true, proposal: r.proposal, stoppedAtTurnLimit: false, ...base };
  return { ok: false, reason: r.reason, detail: cut(r.detail, 500), stoppedAtTurnLimit: r.stoppedAtTurnLimit, ...base };
}

function failed(model: string, reason: DiagnosisFailureReason, detail: string, attempt: number): DiagnosisResult {
  return { ok: false, model, reason, detail: cut(detail, 500), turns: 0, tokens: 0, toolCalls: [], attemptedTools: [], otherContainers: [], stoppedAtTurnLimit: false, attempt };
}

/** The model's diagnosis (DESIGN §5): advice only; the workflow's gate decides what it may change. */
export function createDiagnosisActivities(deps: ActivityDeps) {
  return {
    /**
     * Ask the model for a proposal about the incident. Its read-only tools are signed gateway
     * calls for the incident's container only (by id, whatever name the model used). Model
     * misbehaviour (malformed reply, tool spam, budgets) is a result; transport failures
     * (timeout, 429, 5xx) are retried by Temporal and become a result on the last attempt, so the
     * policy decides alone instead of the incident failing.
     */
    async diagnoseIncident(req: DiagnosisRequest): Promise<DiagnosisResult> {
      checkRequest(req);
      const info = Context.current().info;
      const attempt = info.attempt;
      const llm = deps.llm;
      if (!llm) return failed('-', 'not_configured', 'this worker has no model configured (DOCKMEDIC_MODEL is unset): the policy decides alone', attempt);
      const maxAttempts = info.retryPolicy?.maximumAttempts || req.maxAttempts || 1;
      const { workflowId } = workflowOf();
      const signal = Context.current().cancellationSignal;
      const id = req.containerId;
      try {
        const result = await diagnose({
          openai: llm.openai,
          model: llm.model,
          facts: req.facts,
          container: req.container.replace(/^\//, ''),
          containerId: id,
          maxTurns: Math.min(req.maxTurns, llm.maxTurns),
          maxTokens: llm.maxTokens,
          signal,
          ...(llm.toolResultBytes !== undefined ? { toolResultBytes: llm.toolResultBytes } : {}),
          tools: {
            inspect: async () => (await deps.gateway.call<'inspect_container', ContainerSummary>('inspect_container', { container: id }, { workflowId, signal })).result,
            logs: async (_container, tail) => (await deps.gateway.call<'check_container_logs', LogsResult>('check_container_logs', { container: id, tail }, { workflowId, signal })).result,
          },
        });
        return toResult(result, llm.model, req, attempt);
      } catch (err) {
        if (!(err instanceof LlmRateLimited || err instanceof LlmTimeout || err instanceof LlmUnavailable)) throw err;
        const giveUpNow = err instanceof LlmRateLimited && (err.retryAfterSeconds ?? 0) > MAX_RATE_LIMIT_WAIT_SECONDS;
        if (attempt >= maxAttempts || giveUpNow) {
          const final = failureFromError(err);
          // A gateway timeout (504) is a timeout, whoever noticed it first.
          const reason: DiagnosisFailureReason = err instanceof LlmUnavailable && err.status === 504 ? 'timeout' : (final?.reason ?? 'upstream_error');
          const detail = `${giveUpNow ? `rate limited for ${err instanceof LlmRateLimited ? err.retryAfterSeconds : '?'} s` : `attempt ${attempt} of ${maxAttempts}`}: ${final?.detail ?? err.message}`;
          return failed(llm.model, reason, detail, attempt);
        }
        // Retried by the activity's retry policy; a 429 waits as long as the server asked.
        const retryAfter = err instanceof LlmRateLimited ? err.retryAfterSeconds : undefined;
        throw ApplicationFailure.create({
          message: cut(err.message, 500),
          type: err.name,
          nonRetryable: false,
          ...(retryAfter !== undefined ? { nextRetryDelay: `${Math.max(1, retryAfter)}s` } : {}),
        });
      }
    },
  };
}
