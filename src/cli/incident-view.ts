import type { Client, WorkflowExecutionInfo, WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { CliError } from './errors';
import type { IncidentState } from '../../workflows/messages';
import { INCIDENT_WORKFLOW_TYPE, SA, stateQuery } from '../../workflows/messages';

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
    phase,
    status: info.status.name,
    startedAt: info.startTime.toISOString(),
    closedAt: info.closeTime ? info.closeTime.toISOString() : null,
  };
}

/** describe(), with "no such incident" as a user-facing error. */
export async function describeIncident(handle: WorkflowHandle, id: string): ReturnType<WorkflowHandle['describe']> {
  try {
    return await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no incident with id ${id} (see \`dockmedic incidents list\`)`);
    throw err;
  }
}

/** Incidents from Temporal visibility, newest first. */
export async function listIncidents(client: Client, opts: { open?: boolean; container?: string; limit?: number } = {}): Promise<IncidentSummary[]> {
  const clauses = [`WorkflowType = '${INCIDENT_WORKFLOW_TYPE}'`];
  if (opts.open) clauses.push(`ExecutionStatus = 'Running'`);
  if (opts.container) clauses.push(`${SA.container.name} = '${opts.container.replace(/'/g, '')}'`);
  const out: IncidentSummary[] = [];
  for await (const info of client.workflow.list({ query: clauses.join(' AND ') })) {
    let phase = info.status.name === 'RUNNING' ? 'unknown' : 'closed';
    if (info.status.name === 'RUNNING') {
      try {
        phase = (await client.workflow.getHandle(info.workflowId, info.runId).query(stateQuery)).phase;
      } catch {
        // No worker answering queries right now: the list still shows what visibility knows.
      }
    }
    out.push(summarize(info, phase));
    if (opts.limit && out.length >= opts.limit) break;
  }
  return out;
}

/**
 * The full state of an incident: the live `state` query while it runs, the workflow's result
 * (the final state) once it has closed.
 */
export async function getIncidentState(client: Client, id: string): Promise<{ summary: IncidentSummary; state: IncidentState }> {
  const handle = client.workflow.getHandle(id);
  const info = await describeIncident(handle, id);
  let state: IncidentState;
  if (info.status.name === 'RUNNING') {
    state = await handle.query(stateQuery);
  } else if (info.status.name === 'COMPLETED') {
    state = (await handle.result()) as IncidentState;
  } else {
    state = await handle.query(stateQuery);
  }
  return { summary: summarize(info, state.phase), state };
}
