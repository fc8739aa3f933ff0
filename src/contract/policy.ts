/** What failed, as established from Docker facts (never from model text). */
export const FAILURE_KINDS = ['oom', 'crashloop', 'exit', 'unhealthy', 'clean_exit', 'operator_stop', 'out_of_scope', 'unknown'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** What dockmedic may do about an incident. `escalate` is the most conservative. */
export const ACTIONS = ['ignore', 'restart', 'raise_memory', 'escalate'] as const;
export type Action = (typeof ACTIONS)[number];

export type ExpectedOutcome = 'auto_resolved' | 'escalated' | 'ignored';

/**
 * The facts a decision is made from. Every field comes from Docker (inspect, events) or from
 * Temporal visibility (past incidents); none comes from an LLM.
 */
export interface Facts {
  /** Container carries `dockmedic.enable=true`. */
  optedIn: boolean;
  /** Container belongs to the dockmedic stack itself (label `dockmedic.stack`). */
  stackMember: boolean;
  /** `State.OOMKilled` or an `oom` event. */
  oomKilled: boolean;
  /** Last exit code, or null when the container has not exited. */
  exitCode: number | null;
  /** Container is `Restarting` under a restart policy. */
  restarting: boolean;
  /** Deaths of this container observed inside the crash-loop window. */
  deathsInWindow: number;
  /** Docker health status, when the container has a health check. */
  health: 'healthy' | 'unhealthy' | 'starting' | null;
  /** A `kill` or `stop` event issued by an operator preceded the death. */
  operatorStop: boolean;
  /** Container is running right now. */
  running: boolean;
  /** HostConfig.Memory in bytes (0 = unlimited). */
  memoryBytes: number;
  /** OOM incidents of this container closed inside the recurrence window (from visibility). */
  priorOomIncidents: number;
  /** This failure happened inside the stabilisation window after dockmedic's own action. */
  recurrenceAfterAction: boolean;
}

/** Tunables of the policy; production defaults live in the config schema. */
export interface PolicyConfig {
  /** Multiply the memory limit by this on OOM. */
  memoryFactor: number;
  /** The gateway never lets memory grow by more than this factor in one call. */
  memoryMaxFactor: number;
  /** Absolute memory ceiling in bytes. */
  memoryCeilingBytes: number;
  /** K: OOM incidents in the recurrence window that mean "suspected leak". */
  oomRecurrenceCount: number;
  oomRecurrenceWindowSeconds: number;
  /** N deaths inside this window make a crash loop. */
  crashLoopDeaths: number;
  crashLoopWindowSeconds: number;
  /** How long a fix must hold before the incident resolves. */
  stabilizationSeconds: number;
}

export interface Decision {
  action: Action;
  failure: FailureKind;
  /** Id of the table row that matched, e.g. `oom-raise`. */
  rule: string;
  expected: ExpectedOutcome;
  /** Why, for people: shown in notifications and `incidents show`. */
  reason: string;
  /** For `raise_memory`: the new limit, computed from facts. */
  newMemoryBytes?: number;
}
