import type { Action, Facts, PolicyConfig } from '../contract/policy';
import type { ExportOutcome } from '../contract/audit-record';

/**
 * What the analyzer scores, whichever format a record came in (docs/architecture.md §6): the
 * facts the policy decides from, the calls that ran, and what Docker said afterwards. Nothing
 * here is the agent's own word about how it went (the reference's `resolved` flag, a role label).
 */

/** A container state as a tool result reported it. */
export interface ObservedState {
  running: boolean | null;
  health: 'healthy' | 'unhealthy' | 'starting' | null;
  status: string | null;
}

export interface CallEvidence {
  tool: string;
  mutating: boolean;
  /** The container the call named, or null when the record does not say. */
  container: string | null;
  args: Record<string, unknown>;
  /** Whether it took effect: true ran, false refused or failed, null the record shows no result. */
  ok: boolean | null;
  /** Set when a person approved it (an escalation's remedy), so it is not the automatic action. */
  approvedBy: string | null;
  /** For a memory update: the limit asked for, in bytes (null when the record does not say). */
  memoryBytes: number | null;
  /** The container's state the result reported, when it did. */
  after: ObservedState | null;
  error: string | null;
}

export interface Evidence {
  id: string;
  format: 'dockmedic' | 'reference';
  /** Names and ids the incident's container goes by (a call naming anything else is out of scope). */
  containerRefs: string[];
  /**
   * Names and ids of the opted-in dependents the incident's own list_dependents named: their one
   * restart each follows the container's fix (docs/architecture.md §3) and is not a wrong container.
   */
  dependentRefs: string[];
  /** The facts the first decision is made from. */
  facts: Facts;
  /** Facts the record does not hold (e.g. the reference's memory limit), with what was assumed. */
  unknownFacts: string[];
  memoryKnown: boolean;
  policy: PolicyConfig;
  /** The model's proposal, when the gate weighed it (it may only make the decision more conservative). */
  weighedProposal: Action | null;
  calls: CallEvidence[];
  /** The container's last state reported after the first mutating call (null: none recorded, or nothing mutated). */
  finalState: ObservedState | null;
  /** The recorded outcome (dockmedic only; the reference format has none worth trusting). */
  outcome: ExportOutcome | null;
  /** Rule the record says decided first (reported beside the policy's, never scored). */
  recordedRule: string | null;
  /** Read-only calls for other containers: no effect, reported only. */
  notes: string[];
}

/** The last container state any call reported, from the first mutating call on. */
export function stateAfterFirstMutation(calls: CallEvidence[]): ObservedState | null {
  const first = calls.findIndex((c) => c.mutating);
  if (first < 0) return null;
  let last: ObservedState | null = null;
  for (const c of calls.slice(first)) if (c.after && c.after.running !== null) last = c.after;
  return last;
}

/** Facts with nothing established: what a record that holds few facts starts from. */
export function blankFacts(known: Partial<Facts>): Facts {
  return {
    optedIn: true,
    stackMember: false,
    oomKilled: false,
    exitCode: null,
    restarting: false,
    deathsInWindow: 0,
    health: null,
    operatorStop: false,
    running: false,
    memoryBytes: 0,
    priorOomIncidents: 0,
    recurrenceAfterAction: false,
    ...known,
  };
}
