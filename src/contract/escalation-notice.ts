import type { ResponseAction } from './incident';
import type { Action, FailureKind } from './policy';

/**
 * What the workflow hands the notification activity at each escalation level. Small on purpose:
 * it is recorded in history. The activity adds the CLI commands and the Temporal UI link.
 */
export interface EscalationNotice {
  incidentId: string;
  host: string;
  container: string;
  containerId: string;
  failure: FailureKind;
  rule: string;
  /** Why this escalates, for people. */
  reason: string;
  /** 1-based level of the ladder and how many there are. */
  level: number;
  levels: number;
  levelName: string;
  /** How long this level waits before paging the next one. */
  timeoutSeconds: number;
  /** Short evidence lines: facts from Docker and the last log lines. */
  evidence: string[];
  /** What `approve` would run; `escalate` when there is nothing to approve. */
  recommendedAction: Action;
  /** The recommendation in words, e.g. "raise the memory limit to 64 MiB and start it". */
  recommendation: string;
  waitingFor: ResponseAction[];
  uiUrl?: string;
  /** Set for a drill's incident: the page goes to the log or DOCKMEDIC_DRILL_WEBHOOK_URL only, never to a person. */
  drill?: string;
  /** What the advising model said, when one is configured (advice only: untrusted text, never run). */
  advice?: EscalationAdvice;
}

/** The model's view for the person paged: its proposal, rationale and quoted evidence, and what the gate made of it. */
export interface EscalationAdvice {
  model: string;
  /**
   * agrees: same action as the policy; disagrees: a different one (the gate escalated, or the
   * policy already did); disregarded: not weighed (the model tried to act); failed: no usable answer.
   */
  verdict: 'agrees' | 'disagrees' | 'disregarded' | 'failed';
  proposedAction?: Action;
  failureType?: FailureKind;
  confidence?: number;
  rationale?: string;
  evidence?: string[];
  /** One line on what happened to the advice. */
  note: string;
}
