import { z } from 'zod';
import type { Facts } from './policy';
import { ACTIONS, FAILURE_KINDS } from './policy';

/**
 * The model's diagnosis: the proposal it must answer with, what the incident asks the
 * `diagnoseIncident` activity, and what comes back (small: it is recorded in history).
 * docs/architecture.md §5.
 */

/** Upper bounds of a proposal: it ends up in workflow history and in notifications. */
export const PROPOSAL_LIMITS = { rationaleChars: 2000, evidenceItems: 10, evidenceChars: 500 } as const;

/**
 * The model's final answer. Every action is allowed in the enum, `ignore` included: the gate
 * decides what a proposal may change, so the schema only checks shape. Unknown keys are
 * stripped, so nothing the model adds (a container name, a memory size) can travel further.
 */
export const Proposal = z.object({
  failureType: z.enum(FAILURE_KINDS),
  proposedAction: z.enum(ACTIONS),
  rationale: z.string().min(1).max(PROPOSAL_LIMITS.rationaleChars),
  confidence: z.number().min(0).max(1),
  evidence: z.array(z.string().max(PROPOSAL_LIMITS.evidenceChars)).max(PROPOSAL_LIMITS.evidenceItems),
});
export type Proposal = z.output<typeof Proposal>;

export interface DiagnosisRequest {
  /** The incident's container: the only one the model may look at. */
  container: string;
  containerId: string;
  /** Docker facts, the same the policy decided from. */
  facts: Facts;
  /** Model calls allowed, the answer included. */
  maxTurns: number;
  /**
   * Attempts the workflow's retry policy allows. On the last one a transport failure (timeout,
   * 429, 5xx) becomes a result instead of an error, so the workflow records why there is no
   * advice and the policy decides alone.
   */
  maxAttempts: number;
}

export type DiagnosisFailureReason = 'malformed' | 'turn_limit' | 'token_budget' | 'upstream_error' | 'timeout' | 'rate_limited' | 'not_configured';

/** One tool call the model asked for, without its arguments (model text), only what it targeted. */
export interface DiagnosisToolCall {
  tool: string;
  executed: boolean;
  /** Why it was not executed (`unknown_tool`, `out_of_scope`, `turn_limit`, …). */
  refusal?: string;
  /** The read ran and failed, e.g. a gateway refusal. */
  error?: string;
  /** The container the model named, when it named one. */
  container?: string;
}

/** What one conversation with the model found: a proposal, or why there is none. */
export type DiagnosisFindings = DiagnosisConversation &
  ({ ok: true; proposal: Proposal; reason?: undefined; detail?: undefined } | { ok: false; proposal?: undefined; reason: DiagnosisFailureReason; detail: string });

interface DiagnosisConversation {
  /** Model calls made and tokens used (summed over calls). */
  turns: number;
  tokens: number;
  toolCalls: DiagnosisToolCall[];
  /** Tools the model asked for that it was never offered (e.g. `restart_container`). */
  attemptedTools: string[];
  /** Containers other than the incident's that the model tried to look at (refused before any call). */
  otherContainers: string[];
  /** True when the model still wanted tools at its last allowed turn. */
  stoppedAtTurnLimit: boolean;
}

/** The diagnosis as the activity returns it and history records it: the findings, which model, which attempt. */
export type DiagnosisResult = DiagnosisFindings & {
  model: string;
  /** Activity attempt that produced this result. */
  attempt: number;
};
