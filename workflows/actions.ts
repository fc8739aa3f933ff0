import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities, MutateOptions, MutationOutcome } from '../activities';
import type { ContainerSummary } from '../src/contract/gateway';
import type { Action } from '../src/contract/policy';
import { formatBytes } from '../src/contract/text';
import { ACTIVITY_OPTIONS } from './activity-options';
import type { ToolResult } from './decision-chain';
import { compactLogs, compactMutation, compactSummary } from './decision-chain';
import type { IncidentRecord } from './record';

const read = proxyActivities<Activities>(ACTIVITY_OPTIONS.dockerRead);
const mutating = proxyActivities<Activities>(ACTIVITY_OPTIONS.dockerMutate);
const visibility = proxyActivities<Activities>(ACTIVITY_OPTIONS.visibility);

/** Log lines fetched as evidence when an incident escalates (the activity truncates them further). */
const EVIDENCE_LOG_TAIL = 20;
/** Log lines quoted in a notification. */
const NOTICE_LOG_LINES = 8;

/**
 * The only place mutating tools are called: after the gate (or a person's approval), with
 * arguments from facts only — the incident's container id and the limit the policy computed.
 */
export async function act(rec: IncidentRecord, action: Action, memoryBytes: number | undefined, approvedBy?: string): Promise<ToolResult<MutationOutcome>> {
  const id = rec.input.containerId;
  const name = rec.input.container;
  // A drill's mutations go on the drill budget (docs/architecture.md §6); a real incident's
  // arguments stay exactly as they were, so its history is unchanged.
  const onBudget: [] | [MutateOptions] = rec.input.drill ? [{ budget: 'drill' }] : [];
  rec.tracker.arm();
  if (action === 'restart') {
    return rec.call(
      'restart_container',
      { container: id },
      () => mutating.restartContainer.executeWithOptions({ ...ACTIVITY_OPTIONS.dockerMutate, summary: `restart ${name}` }, [id, ...onBudget]),
      compactMutation,
      approvedBy,
    );
  }
  if (action === 'raise_memory' && memoryBytes !== undefined) {
    const raised = await rec.call(
      'update_container_resources',
      { container: id, memoryBytes },
      () => mutating.raiseMemory.executeWithOptions({ ...ACTIVITY_OPTIONS.dockerMutate, summary: `raise memory of ${name} to ${formatBytes(memoryBytes)}` }, [id, memoryBytes, ...onBudget]),
      compactMutation,
      approvedBy,
    );
    if (raised.ok && rec.summary) rec.summary = { ...rec.summary, memoryBytes: raised.value.after.memoryBytes, memorySwapBytes: raised.value.after.memorySwapBytes };
    if (!raised.ok || raised.value.after.running) return raised;
    return rec.call(
      'start_container',
      { container: id },
      () => mutating.startContainer.executeWithOptions({ ...ACTIVITY_OPTIONS.dockerMutate, summary: `start ${name}` }, [id, ...onBudget]),
      compactMutation,
      approvedBy,
    );
  }
  return { ok: false, error: { code: 'no_action', message: `nothing to run for ${action}` } };
}

export function describeAction(action: Action): string {
  return action === 'raise_memory' ? 'raising the memory limit' : action === 'restart' ? 'the restart' : action;
}

/** Docker's view of the incident's container now. */
export function inspect(rec: IncidentRecord): Promise<ToolResult<ContainerSummary>> {
  const id = rec.input.containerId;
  return rec.call('inspect_container', { container: id }, () => read.inspectContainer(id), compactSummary);
}

/** Past OOM incidents of this container, from Temporal visibility (this run excluded). */
export function countRecentOomIncidents(rec: IncidentRecord): Promise<ToolResult<number>> {
  const { host, container, policy } = rec.input;
  const runId = workflowInfo().runId;
  return rec.call(
    'count_recent_oom_incidents',
    { host, container, windowSeconds: policy.oomRecurrenceWindowSeconds },
    () => visibility.countRecentOomIncidents(host, container, policy.oomRecurrenceWindowSeconds, runId),
    (n) => n,
  );
}

/** The last log lines, as evidence for the person paged. */
export async function logEvidence(rec: IncidentRecord): Promise<string[]> {
  if (!rec.summary) return [];
  const id = rec.input.containerId;
  const logs = await rec.call('check_container_logs', { container: id, tail: EVIDENCE_LOG_TAIL }, () => read.fetchLogs(id, EVIDENCE_LOG_TAIL), compactLogs);
  if (!logs.ok) return [`logs unavailable (${logs.error.code})`];
  return logs.value.lines.slice(-NOTICE_LOG_LINES).map((l) => `log: ${l.slice(0, 200)}`);
}
