import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { IncidentInput, IncidentState } from '../contract/incident';
import { INCIDENT_WORKFLOW_TYPE } from '../contract/incident';
import { IncidentInputSchema } from '../contract/incident-input';
import { SA } from '../contract/search-attributes';
import type { RunInfo } from '../audit/export-record';
import { queryState } from './incident-view';

/**
 * Closed incident runs from Temporal, one per run (a container's incidents share a workflow id,
 * so the run id tells them apart): visibility lists them, the history's first event holds the
 * input (the policy settings in force), and the result holds the final state.
 */

export interface ClosedRun {
  run: RunInfo;
  status: string;
  drill: boolean;
}

export async function listClosedRuns(client: Client, filter: { since?: Date; host?: string }): Promise<ClosedRun[]> {
  const clauses = [`WorkflowType = '${INCIDENT_WORKFLOW_TYPE}'`, `ExecutionStatus != 'Running'`];
  if (filter.since) clauses.push(`CloseTime >= '${filter.since.toISOString()}'`);
  if (filter.host) clauses.push(`${SA.host.name} = '${filter.host}'`);
  const out: ClosedRun[] = [];
  for await (const info of client.workflow.list({ query: clauses.join(' AND ') })) {
    out.push({
      run: { workflowId: info.workflowId, runId: info.runId, startTime: info.startTime.toISOString(), closeTime: info.closeTime?.toISOString() ?? null },
      status: info.status.name,
      // The watcher sets DockmedicDrill on a drill's incidents only (docs/architecture.md §6).
      drill: info.typedSearchAttributes.get(SA.drill) !== undefined,
    });
  }
  // Oldest first: an export reads as the incidents happened.
  return out.sort((a, b) => a.run.startTime.localeCompare(b.run.startTime));
}

/** The run's start argument, checked by the workflow's own schema. */
export async function runInput(client: Client, run: RunInfo): Promise<IncidentInput | null> {
  const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) return null;
  const parsed = IncidentInputSchema.safeParse(defaultPayloadConverter.fromPayload(payload));
  return parsed.success ? (parsed.data as IncidentInput) : null;
}

/**
 * The final state: the result of a completed run; for a failed, terminated or timed-out run
 * only a worker replaying it can answer the `state` query (null when none does).
 */
export async function runState(client: Client, closed: ClosedRun): Promise<IncidentState | null> {
  const handle = client.workflow.getHandle(closed.run.workflowId, closed.run.runId, { followRuns: false });
  if (closed.status === 'COMPLETED') return (await handle.result()) as IncidentState;
  return queryState(client, closed.run.workflowId, closed.run.runId);
}
