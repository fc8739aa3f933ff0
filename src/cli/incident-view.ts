import type { Client, WorkflowExecutionInfo, WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { CliError } from './errors';
import type { IncidentState } from '../contract/incident';
import { INCIDENT_WORKFLOW_TYPE } from '../contract/incident';
import { STORM_WORKFLOW_TYPE } from '../contract/storm';
import { SA } from '../contract/search-attributes';
import { stateQuery } from '../contract/signals';
import { EXIT } from './exit-codes';

/** One row of `incidents list --json`. */
export interface IncidentSummary {
  id: string;
  runId: string;
  container: string | null;
  host: string | null;
  failure: string | null;
  decision: string | null;
  outcome: string | null;
  phase: string;
  status: string;
  startedAt: string;
  closedAt: string | null;
  /** The drill id of a drill's incident. */
  drill: string | null;
}

function summarize(info: Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'typedSearchAttributes' | 'status' | 'startTime' | 'closeTime'>, phase: string): IncidentSummary {
  const sa = info.typedSearchAttributes;
  return {
    id: info.workflowId,
    runId: info.runId,
    container: sa.get(SA.container) ?? null,
    host: sa.get(SA.host) ?? null,
    failure: sa.get(SA.failure) ?? null,
    decision: sa.get(SA.decision) ?? null,
    outcome: sa.get(SA.outcome) ?? null,
    drill: sa.get(SA.drill) ?? null,
    phase,
    status: info.status.name,
    startedAt: info.startTime.toISOString(),
    closedAt: info.closeTime ? info.closeTime.toISOString() : null,
  };
}

/** No incident has this id (the MCP tools report the code). */
export class IncidentNotFoundError extends CliError {
  override name = 'IncidentNotFoundError';
  constructor(message: string) {
    super(message, EXIT.badInput, 'incident_not_found');
  }
}

/** describe(), with "no such incident" as a user-facing error. */
export async function describeIncident(handle: WorkflowHandle, id: string): ReturnType<WorkflowHandle['describe']> {
  try {
    return await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new IncidentNotFoundError(`no incident with id ${id} (see \`dockmedic incidents list\`)`);
    throw err;
  }
}

/** No worker answered the state query, so the incident's state is unknown (nothing was sent or shown). */
export class NoWorkerError extends CliError {
  override name = 'NoWorkerError';
  constructor(message: string) {
    super(message, EXIT.unavailable, 'no_worker');
  }
}

/** How long a state query may wait: queries are answered by a worker, and with none polling they would wait for the RPC's own 30 s. */
export const QUERY_TIMEOUT_MS = 5_000;

/** What to tell a person when no worker answered. */
export const NO_WORKER = 'no worker answered the state query (is `dockmedic worker` or `dockmedic up` running on this task queue?)';

/** The `state` query, bounded; null when no worker answered in time. */
export async function queryState(client: Client, id: string, runId?: string): Promise<IncidentState | null> {
  try {
    return await client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => client.workflow.getHandle(id, runId).query(stateQuery));
  } catch {
    return null;
  }
}

/**
 * Incidents from Temporal visibility in its order (open incidents first, then the most recently
 * closed). The phase of open ones comes from their state query, all asked at once; an incident
 * no worker answers for shows phase `unknown`, and `unanswered` counts them.
 */
export async function listIncidents(client: Client, opts: { open?: boolean; container?: string; limit?: number; drills?: boolean } = {}): Promise<{ rows: IncidentSummary[]; unanswered: number }> {
  // A host storm is listed with its incidents: it is what pages for them (docs/architecture.md §3).
  const clauses = [`WorkflowType IN ('${INCIDENT_WORKFLOW_TYPE}', '${STORM_WORKFLOW_TYPE}')`];
  if (opts.open) clauses.push(`ExecutionStatus = 'Running'`);
  if (opts.container) clauses.push(`${SA.container.name} = '${opts.container.replace(/'/g, '')}'`);
  // Drill incidents are dockmedic testing itself: shown only when asked for (docs/architecture.md §6).
  if (!opts.drills) clauses.push(`${SA.drill.name} IS NULL`);
  const infos: WorkflowExecutionInfo[] = [];
  for await (const info of client.workflow.list({ query: clauses.join(' AND ') })) {
    infos.push(info);
    if (opts.limit && infos.length >= opts.limit) break;
  }
  let unanswered = 0;
  const rows = await Promise.all(
    infos.map(async (info) => {
      if (info.status.name !== 'RUNNING') return summarize(info, 'closed');
      const state = await queryState(client, info.workflowId, info.runId);
      if (!state) unanswered++;
      return summarize(info, state?.phase ?? 'unknown');
    }),
  );
  return { rows, unanswered };
}

/**
 * The full state of an incident: the live `state` query while it runs, the workflow's result
 * (the final state) once it has completed. A terminated, failed or timed-out incident has no
 * result; its state comes from a query a worker answers by replaying it, and without a worker
 * only its summary is known (`state` null, `note` says why).
 */
export async function getIncidentState(client: Client, id: string): Promise<{ summary: IncidentSummary; state: IncidentState | null; note: string | null }> {
  const handle = client.workflow.getHandle(id);
  const info = await describeIncident(handle, id);
  const status = info.status.name;
  const state = status === 'COMPLETED' ? ((await handle.result()) as IncidentState) : await queryState(client, id);
  if (state) return { summary: summarize(info, state.phase), state, note: null };
  if (status === 'RUNNING') throw new NoWorkerError(`incident ${id} is open, but ${NO_WORKER}; \`dockmedic incidents list\` shows what Temporal visibility holds`);
  return { summary: summarize(info, 'closed'), state: null, note: `closed as ${status.toLowerCase()}: its last state needs a worker to replay it, and ${NO_WORKER}` };
}
