import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import type { MutationOutcome } from '../activities';
import type { DiagnosisResult } from '../src/contract/diagnosis';
import type { GatewayFailureDetails } from '../src/contract/failures';
import type { ContainerSummary, LogsResult } from '../src/contract/gateway';

/**
 * How a tool call is written into the incident's decision chain: what came back, cut to what a
 * person needs (history stays small), or why it failed, in the gateway's words.
 */

export type ToolResult<R> = { ok: true; value: R } | { ok: false; error: { code: string; message: string; retryAfterSeconds?: number } };

/** Why an activity failed, in the gateway's words when it was the gateway. */
export function failureOf(err: unknown): { code: string; message: string; retryAfterSeconds?: number } {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) {
      const details = cause.details?.[0] as Partial<GatewayFailureDetails> | undefined;
      const retry = typeof details?.retryAfterSeconds === 'number' ? { retryAfterSeconds: details.retryAfterSeconds } : {};
      return { code: details?.code ?? cause.type ?? 'activity_failed', message: cause.message, ...retry };
    }
    if (cause instanceof TimeoutFailure) return { code: 'timeout', message: `activity timed out (${cause.timeoutType})` };
    return { code: 'activity_failed', message: cause?.message ?? err.message };
  }
  return { code: 'error', message: err instanceof Error ? err.message : String(err) };
}

export function compactSummary(s: ContainerSummary): Record<string, unknown> {
  return {
    status: s.status,
    running: s.running,
    restarting: s.restarting,
    oomKilled: s.oomKilled,
    exitCode: s.exitCode,
    health: s.health,
    restartCount: s.restartCount,
    memoryBytes: s.memoryBytes,
    memorySwapBytes: s.memorySwapBytes,
  };
}

export function compactDiagnosis(d: DiagnosisResult): Record<string, unknown> {
  return {
    model: d.model,
    ok: d.ok,
    ...(d.proposal ? { proposedAction: d.proposal.proposedAction, failureType: d.proposal.failureType, confidence: d.proposal.confidence } : { reason: d.reason }),
    turns: d.turns,
    tokens: d.tokens,
    toolCalls: d.toolCalls.length,
    attempt: d.attempt,
  };
}

export function compactLogs(l: LogsResult): Record<string, unknown> {
  return { lines: l.lines, truncated: l.truncated, redactions: l.redactions };
}

export function compactMutation(m: MutationOutcome): Record<string, unknown> {
  return { action: m.action, after: m.after, ...(m.before ? { before: m.before } : {}), requestId: m.requestId, replayed: m.replayed };
}
