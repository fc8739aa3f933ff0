import { bareName } from './container';
import type { DiagnosisToolCall, Proposal } from './diagnosis';
import type { Action, Decision, Facts, PolicyConfig } from './policy';

/**
 * An incident as every part sees it: what starts it, what it is told, what it answers. The
 * workflow, the watcher, the CLI and the tests share these types (docs/architecture.md §3).
 */

export const INCIDENT_WORKFLOW_TYPE = 'incidentWorkflow';

/** One open incident per container: `incident-<host>-<container-name>`. */
export function incidentWorkflowId(host: string, containerName: string): string {
  return `incident-${host}-${bareName(containerName)}`;
}

export const OBSERVATION_KINDS = ['die', 'oom', 'health_status', 'kill', 'stop', 'restart', 'start', 'reconcile', 'crashloop', 'destroy'] as const;

/** A Docker event about the incident's container, as seen by the watcher. */
export interface Observation {
  kind: (typeof OBSERVATION_KINDS)[number];
  /** Event time from Docker, ISO-8601. */
  time: string;
  exitCode?: number;
  health?: 'healthy' | 'unhealthy' | 'starting';
  /** Deaths the watcher counted inside the crash-loop window, including this one. */
  deathsInWindow?: number;
  /** A kill/stop by an operator preceded this death. */
  operatorStop?: boolean;
  /**
   * The container the event was about. Names are reused (`docker compose up` recreates a
   * container under its name): an event about another id means the incident's container is gone.
   */
  containerId?: string;
}

export const RESPONSE_ACTIONS = ['approve', 'reject', 'acknowledge', 'resolve'] as const;
export type ResponseAction = (typeof RESPONSE_ACTIONS)[number];

/** A person's answer to an escalation. */
export interface Response {
  action: ResponseAction;
  by: string;
  comment?: string;
  /** Set by the sender, ISO-8601. */
  at: string;
}

export interface EscalationLevel {
  name: string;
  timeoutSeconds: number;
}

export interface EscalationSettings {
  ladder: EscalationLevel[];
  resolveTimeoutSeconds: number;
  /**
   * Quiet period (docs/architecture.md §3): within this many seconds after an incident of the
   * same container closed unacknowledged, rejected or resolved by a person, an incident of the
   * same failure neither pages nor acts. Absent (incidents started before it existed) or 0: off.
   */
  repageQuietSeconds?: number;
}

/** Start arguments of an incident; the policy in force is recorded with it in history. */
export interface IncidentInput {
  host: string;
  container: string;
  containerId: string;
  trigger: Observation;
  policy: PolicyConfig;
  escalation: EscalationSettings;
  /**
   * Whether a model advises (policy mode when false), its turn budget, and the per-call timeout
   * the worker's client uses (sizes the diagnosis activity's timeouts; default 30 s).
   */
  llm: { enabled: boolean; maxTurns: number; timeoutSeconds?: number };
  uiUrl?: string;
  /**
   * The drill id, when the container is a drill's (docs/architecture.md §6): its mutations go on
   * the drill budget and its pages never reach DOCKMEDIC_WEBHOOK_URL.
   */
  drill?: string;
  /**
   * The watcher's DOCKMEDIC_WATCH_SELECTOR (besides dockmedic.enable=true): a dependent restarted
   * after this container must be opted in by the same rule (docs/architecture.md §3).
   */
  watchSelector?: string[];
  /** `shadow` (DOCKMEDIC_MODE): decide and record what would be done, never do it. Absent: act. */
  mode?: 'shadow';
}

export type Phase = 'triage' | 'diagnose' | 'decide' | 'act' | 'verify' | 'escalated' | 'resolved' | 'closed';

export type Outcome = 'auto_resolved' | 'escalated' | 'resolved_by_human' | 'rejected' | 'approved' | 'unacknowledged' | 'ignored' | 'failed' | 'container_gone' | 'suppressed' | 'shadow';

/** One tool call made for the incident, for the decision chain. */
export interface ToolCallRecord {
  tool: string;
  args: Record<string, unknown>;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
  at: string;
  approvedBy?: string;
}

/** The model's diagnosis as kept in the incident's state (no model text but the proposal itself). */
export interface DiagnosisSummary {
  model: string;
  ok: boolean;
  /** Why there is no proposal (malformed, timeout, rate_limited, turn_limit, …). */
  reason?: string;
  detail?: string;
  turns: number;
  tokens: number;
  toolCalls: DiagnosisToolCall[];
  /** Whether the gate weighed the proposal; false with `disregarded` when it was not. */
  weighed: boolean;
  disregarded?: string;
}

/** What `state` returns and `incidents show` displays. */
export interface IncidentState {
  incidentId: string;
  host: string;
  container: string;
  containerId: string;
  phase: Phase;
  startedAt: string;
  closedAt?: string;
  facts?: Facts;
  decision?: Decision;
  /** Earlier decisions of this incident, oldest first (e.g. `exit-restart` before `exit-recurrence`). */
  decisionHistory?: Decision[];
  /**
   * The facts each entry of `decisionHistory` was made from, in the same order (null where none
   * had been taken), so `replay --what-if` can re-decide an incident's first decision too.
   */
  decisionHistoryFacts?: (Facts | null)[];
  proposal?: Proposal;
  /** Set when the model's proposal differs from the policy. */
  disagreement?: { policy: Action; model: Action; final: Action };
  /** How the model's diagnosis went (advisor mode only): budgets used, tool calls, and whether the gate weighed it. */
  diagnosis?: DiagnosisSummary;
  finalAction?: Action;
  outcome?: Outcome;
  observations: Observation[];
  decisionChain: ToolCallRecord[];
  /** The escalation now waiting for a person, if any. */
  pendingEscalation?: { level: number; levelName: string; since: string; waitingFor: ResponseAction[]; proposedAction: Action; reason: string };
  responses: Response[];
  notes: string[];
  /** Shadow mode (docs/architecture.md §3): what dockmedic would have done, instead of doing it. */
  wouldDo?: WouldDo;
  /** Set when the quiet period held this incident back: the earlier run a person (or nobody) already had. */
  quietAfter?: EarlierIncident;
  /** The host storm this incident belongs to (docs/architecture.md §3): it pages through the storm. */
  stormId?: string;
}

/** What a shadow incident would have done: the action, the gateway calls it takes, or the page. */
export interface WouldDo {
  action: Action;
  calls: { tool: string; args: Record<string, unknown> }[];
  /** For an escalation: the first level that would have been paged, and why. */
  page?: { levelName: string; reason: string };
}

/** A closed incident of the same container, as Temporal visibility lists it. */
export interface EarlierIncident {
  workflowId: string;
  runId: string;
  failure: string;
  outcome: string;
  closedAt: string;
}

/** The outcomes after which the same failure is not paged again within the quiet period. */
export const QUIET_AFTER_OUTCOMES = ['unacknowledged', 'rejected', 'resolved_by_human'] as const;
