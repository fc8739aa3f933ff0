import type { Action, FailureKind } from '../src/policy/types';
import type { ResponseAction } from './messages';

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
}
