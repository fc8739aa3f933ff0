import type { DiagnosisResult, Proposal } from '../contract/diagnosis';

/** Whether a proposal may go through the gate, and if not, why. */
export type Advice = { use: true; proposal: Proposal } | { use: false; proposal?: Proposal; why: string };

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
