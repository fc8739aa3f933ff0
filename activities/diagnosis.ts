import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { ContainerSummary, LogsResult } from '../src/contract/gateway';
import type { ActivityDeps } from './deps';
import { workflowOf } from './docker';
import { invalidActivityInput } from './errors';
import { CONTAINER_REF_PATTERN, bareName, isContainerRef } from '../src/contract/container';
import type { DiagnosisFailureReason, DiagnosisRequest, DiagnosisResult } from '../src/contract/diagnosis';
import { INCIDENT_LIMITS } from '../src/contract/incident-input';
import { truncate } from '../src/contract/text';
import { diagnose, failureFromError, LlmRateLimited, LlmTimeout, LlmUnavailable } from '../src/llm';

/** A 429 asking to wait longer than this ends the diagnosis now: the incident does not wait for a model. */
const MAX_RATE_LIMIT_WAIT_SECONDS = 30;

function checkRequest(req: DiagnosisRequest): void {
  const ok =
    typeof req === 'object' &&
    req !== null &&
    typeof req.container === 'string' &&
    // A Docker name may contain `..` (only the gateway's argument check refuses it); the id is what is called.
    CONTAINER_REF_PATTERN.test(bareName(req.container)) &&
    isContainerRef(req.containerId) &&
    typeof req.facts === 'object' &&
    req.facts !== null &&
    Number.isInteger(req.maxTurns) &&
    req.maxTurns >= INCIDENT_LIMITS.llmMaxTurns.min &&
    req.maxTurns <= INCIDENT_LIMITS.llmMaxTurns.max;
  if (!ok) throw invalidActivityInput(`diagnoseIncident: invalid request (container, containerId, facts, maxTurns ${INCIDENT_LIMITS.llmMaxTurns.min}..${INCIDENT_LIMITS.llmMaxTurns.max})`);
}

function failed(model: string, reason: DiagnosisFailureReason, detail: string, attempt: number): DiagnosisResult {
  return { ok: false, model, reason, detail: truncate(detail, 500), turns: 0, tokens: 0, toolCalls: [], attemptedTools: [], otherContainers: [], stoppedAtTurnLimit: false, attempt };
}

/** The model's diagnosis (docs/architecture.md §5): advice only; the workflow's gate decides what it may change. */
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
          container: bareName(req.container),
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
        return { ...result, model: llm.model, attempt };
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
          message: truncate(err.message, 500),
          type: err.name,
          nonRetryable: false,
          ...(retryAfter !== undefined ? { nextRetryDelay: `${Math.max(1, retryAfter)}s` } : {}),
        });
      }
    },
  };
}
