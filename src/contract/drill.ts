import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';
import { ContainerRef } from './container';

/**
 * Drills (docs/architecture.md §6): real failing containers built by the gateway from the
 * catalogue only, their incidents answered by the drill responder, checked by effect. Shared by
 * the gateway's drill tools, the watcher, the drill workflow, the CLI and the tests.
 */

/** On every drill container; the value is the drill id. */
export const DRILL_LABEL = 'dockmedic.drill';
/** The gateway host that made the container: a sweep only ever touches its own host's drills. */
export const DRILL_HOST_LABEL = 'dockmedic.drill.host';
/** The catalogue scenario the container was built from. */
export const DRILL_SCENARIO_LABEL = 'dockmedic.drill.scenario';
/** `by` of every answer a drill gives its incidents' escalations: a drill never pages a person. */
export const DRILL_RESPONDER = 'dockmedic-drill';

/** The catalogue's scenario names; src/drills/scenarios.ts must define exactly these (checked at load). */
export const SCENARIO_NAMES = [
  'oom',
  'crashloop',
  'exit-transient',
  'exit-persistent',
  'unhealthy',
  'unhealthy-persistent',
  'oom-recurring',
  'not-opted-in',
  'operator-stop',
  'log-injection',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];
export const ScenarioNameSchema = z.enum(SCENARIO_NAMES);

/** Lower-case, digits and dashes: it goes into container names and label values. */
export const DRILL_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,47}$/;
export const DrillId = z.string().regex(DRILL_ID_PATTERN, 'expected a drill id: a-z, 0-9 and -, at most 48 characters');

/** The drill container's name: deterministic, so a retried create finds its own container. */
export function drillContainerName(drillId: string, scenario: ScenarioName): string {
  return `drill-${drillId}-${scenario}`;
}

/** Gateway tool arguments. A create names a scenario, never an image, command, mount, capability or network. */
export const CreateDrillContainerArgs = z.object({ scenario: ScenarioNameSchema, drillId: DrillId }).strict();
/** remove_drill_container, stop_drill_container (what a person's `docker stop` does, for operator-stop) and drill_audit. */
export const DrillContainerArgs = z.object({ container: ContainerRef }).strict();
export const RemoveDrillContainerArgs = DrillContainerArgs;
export const ListDrillContainersArgs = z.object({}).strict();
export const DrillContainerEventsArgs = z.object({ container: ContainerRef, since: z.string().datetime({ offset: true }) }).strict();

/** At most this many events per drill_container_events answer: a drill container lives minutes. */
export const DRILL_EVENTS_MAX = 500;

/** What create_drill_container returns. */
export interface DrillContainer {
  id: string;
  name: string;
  scenario: ScenarioName;
  drillId: string;
  createdAt: string;
}

/** One line of list_drill_containers: what a sweep needs to decide. */
export interface DrillContainerInfo {
  id: string;
  name: string;
  drillId: string;
  scenario: string;
  state: string;
  createdAt: string;
}

/** A Docker event of a drill container, with Docker's own time (MTTR is measured from these). */
export interface DrillEvent {
  action: string;
  /** Docker's `timeNano`, as a decimal string (beyond a double's precision). */
  timeNano: string;
  time: string;
  exitCode?: number;
}

/** One gateway audit record about a drill container, as drill_audit returns it. */
export interface DrillAuditEntry {
  time: string;
  tool: string | null;
  agent: string | null;
  verdict: 'allowed' | 'refused';
  code: string | null;
  replayed: boolean;
  workflowId: string | null;
}

export const DRILL_WORKFLOW_TYPE = 'drillWorkflow';

export function drillWorkflowId(host: string, drillId: string): string {
  return `drill-${host}-${drillId}`;
}

export interface DrillInput {
  host: string;
  /** Absent for a scheduled run (a Schedule's arguments are fixed): the workflow derives one from its run id. */
  drillId?: string;
  scenarios: ScenarioName[];
  /** Started by a Temporal Schedule: a failed scheduled drill pages like an incident about dockmedic itself. */
  scheduled: boolean;
}

/** One scenario's scorecard line. */
export interface ScenarioCard {
  scenario: ScenarioName;
  status: 'pending' | 'running' | 'passed' | 'failed' | 'skipped';
  expected: string;
  observed?: string;
  pass?: boolean;
  /** One line: why it passed or failed. */
  why?: string;
  /** Docker's failure event → running/healthy again, from Docker's own event times. */
  mttrMs?: number;
  incidentId?: string;
  /** The run the drill judged: a container's incidents share a workflow id, and a crash-looping container may open another before it is removed. */
  incidentRunId?: string;
  container?: string;
}

export interface DrillResult {
  drillId: string;
  host: string;
  startedAt: string;
  finishedAt?: string;
  /** Set when the drill did not run (e.g. real incidents open on the host). */
  skipped?: string;
  cards: ScenarioCard[];
  passed: boolean;
}

/** Prefix of the Schedules `drill schedule create` makes; `schedule list` shows only these. */
export const DRILL_SCHEDULE_PREFIX = 'dockmedic-drill-';

/** The drill's scorecard so far; `drill run` prints a live line per scenario from it. */
export const drillProgressQuery = defineQuery<DrillResult>('drillProgress');
