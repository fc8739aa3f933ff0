import { defaultPayloadConverter } from '@temporalio/common';
import type { Decision, Facts, PolicyConfig } from '../contract/policy';
import { RecordedInputSchema, RecordedStateSchema } from '../contract/recorded-decision';
import type { IncidentHistory } from './incident-histories';

/** The decision a closed incident recorded, the facts it was made from and the policy in force. */
export interface RecordedDecision {
  workflowId: string;
  runId: string;
  container: string;
  closedAt: string | null;
  outcome: string | null;
  policy: PolicyConfig;
  facts: Facts;
  decision: Decision;
  /** Decisions made earlier in the same incident (before a recurrence), oldest first, with their facts where the state kept them. */
  earlier: { facts: Facts | null; decision: Decision }[];
}

/** A closed incident that cannot be re-decided, and why. */
export interface NotRedecidable {
  workflowId: string;
  runId: string;
  why: string;
}

type Payloads = { payloads?: unknown[] | null } | null | undefined;

function firstPayload(p: Payloads): unknown {
  const payload = p?.payloads?.[0];
  return payload === undefined ? undefined : defaultPayloadConverter.fromPayload(payload as Parameters<typeof defaultPayloadConverter.fromPayload>[0]);
}

/**
 * Read back what the incident's history recorded: the policy from its input (docs/architecture.md
 * §3: the input carries the policy settings in force) and the facts and decision from its final
 * state, which the workflow returns as its result. Only a completed run has that result.
 */
export function recordedDecision(h: IncidentHistory): RecordedDecision | NotRedecidable {
  const events = h.history.events ?? [];
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  const completed = events.at(-1)?.workflowExecutionCompletedEventAttributes;
  const skip = (why: string): NotRedecidable => ({ workflowId: h.workflowId, runId: h.runId, why });
  if (!started) return skip('the history has no start event');
  if (!completed) return skip(`closed as ${h.status.toLowerCase()}: no final state was recorded`);
  const input = RecordedInputSchema.safeParse(firstPayload(started.input as Payloads));
  if (!input.success) return skip(`its input holds no valid policy settings (${input.error.issues[0]?.path.join('.') ?? '?'})`);
  const state = RecordedStateSchema.safeParse(firstPayload(completed.result as Payloads));
  if (!state.success) return skip(`its final state is not an incident state (${state.error.issues[0]?.path.join('.') ?? '?'})`);
  const { facts, decision } = state.data;
  if (!facts || !decision) return skip(`decided before any facts were taken (${decision?.rule ?? 'no decision'}): nothing for the policy to re-decide`);
  return {
    workflowId: h.workflowId,
    runId: h.runId,
    container: state.data.container,
    closedAt: h.closedAt,
    outcome: state.data.outcome ?? null,
    policy: input.data.policy,
    facts,
    decision,
    earlier: (state.data.decisionHistory ?? []).map((d, i) => ({ facts: state.data.decisionHistoryFacts?.[i] ?? null, decision: d })),
  };
}

export function isRecorded(r: RecordedDecision | NotRedecidable): r is RecordedDecision {
  return 'facts' in r;
}
