import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { History as TemporalHistory } from '@temporalio/common/lib/proto-utils';
import { INCIDENT_WORKFLOW_TYPE } from '../contract/incident';
import { SA } from '../contract/search-attributes';

export type History = TemporalHistory;

/** One closed incident run and its full event history, as Temporal holds it. */
export interface IncidentHistory {
  workflowId: string;
  runId: string;
  /** COMPLETED, FAILED, TERMINATED, TIMED_OUT, … */
  status: string;
  closedAt: string | null;
  history: History;
}

/** Which closed incidents to look at: a window, one workflow id, one host. */
export interface IncidentSelection {
  since?: Date;
  id?: string;
  host?: string;
}

/** Visibility queries take values in single quotes; the values here are ids and names, which never need one. */
function quoted(value: string): string {
  return `'${value.replace(/'/g, '')}'`;
}

/** The visibility query for closed incident runs (docs/architecture.md §3: closed incidents stay listable). */
export function closedIncidentQuery(sel: IncidentSelection): string {
  const clauses = [`WorkflowType = ${quoted(INCIDENT_WORKFLOW_TYPE)}`, `ExecutionStatus != 'Running'`];
  if (sel.id) clauses.push(`WorkflowId = ${quoted(sel.id)}`);
  if (sel.host) clauses.push(`${SA.host.name} = ${quoted(sel.host)}`);
  if (sel.since) clauses.push(`CloseTime >= ${quoted(sel.since.toISOString())}`);
  return clauses.join(' AND ');
}

/** The closed incident runs that match, newest first (visibility's order). */
export async function listClosedIncidents(client: Client, sel: IncidentSelection): Promise<WorkflowExecutionInfo[]> {
  const infos: WorkflowExecutionInfo[] = [];
  for await (const info of client.workflow.list({ query: closedIncidentQuery(sel) })) infos.push(info);
  return infos;
}

/** How many histories are downloaded at once: enough to hide round trips, few enough not to load the server. */
const FETCH_CONCURRENCY = 8;

/** Download the runs' histories (every page), in the order given; `progress` is told after each one. */
export async function fetchHistories(client: Client, infos: WorkflowExecutionInfo[], progress: (done: number) => void = () => undefined): Promise<IncidentHistory[]> {
  const out: IncidentHistory[] = new Array<IncidentHistory>(infos.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < infos.length) {
      const i = next++;
      const info = infos[i] as WorkflowExecutionInfo;
      const history = await client.workflow.getHandle(info.workflowId, info.runId).fetchHistory();
      out[i] = { workflowId: info.workflowId, runId: info.runId, status: info.status.name, closedAt: info.closeTime?.toISOString() ?? null, history };
      progress(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, infos.length) }, worker));
  return out;
}
