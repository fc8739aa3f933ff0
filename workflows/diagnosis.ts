import type { Facts } from '../src/policy/types';
import type { ModelProposal } from './messages';

/**
 * The model's diagnosis as the incident workflow sees it: what it asks the `diagnoseIncident`
 * activity, what comes back (small: it is recorded in history), and the one rule that says
 * whether a proposal may be weighed by the gate at all. Plain types and a pure function, so
 * workflows and activities share them.
 */

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

export interface DiagnosisResult {
  ok: boolean;
  model: string;
  proposal?: ModelProposal;
  reason?: DiagnosisFailureReason;
  detail?: string;
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
  /** Activity attempt that produced this result. */
  attempt: number;
}

/** Whether a proposal may go through the gate, and if not, why. */
export type Advice = { use: true; proposal: ModelProposal } | { use: false; proposal?: ModelProposal; why: string };

/**
 * A model that asked for a tool it was never offered (restart_container, update_container_resources, an
 * exec…) was trying to act, not to advise: it is following instructions from somewhere other than
 * dockmedic, typically text planted in the container's logs. Its proposal is recorded and shown
 * to people but not weighed: whoever writes a container's logs must not be able to steer the
 * incident, in either direction. The policy decides as if no model were configured.
 *
 * Anything else the model proposes is weighed by the gate, which can only make the decision
 * more conservative (an escalation at most).
 */
export function adviceFrom(result: DiagnosisResult): Advice | null {
  if (!result.ok || !result.proposal) return null;
  if (result.attemptedTools.length > 0) {
    return {
      use: false,
      proposal: result.proposal,
      why: `the model asked for ${result.attemptedTools.join(', ')}, tools it was never offered (it was trying to act, probably on instructions in the container's logs); its proposal is not weighed`,
    };
  }
  return { use: true, proposal: result.proposal };
}
