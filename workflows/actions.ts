import { condition, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities, MutateOptions, MutationOutcome } from '../activities';
import type { ContainerSummary, DependentsResult } from '../src/contract/gateway';
import type { EarlierIncident } from '../src/contract/incident';
import type { Action } from '../src/contract/policy';
import { formatBytes } from '../src/contract/text';
import { ACTIVITY_OPTIONS } from './activity-options';
import type { ToolResult } from './decision-chain';
import { compactLogs, compactMutation, compactSummary } from './decision-chain';
import { PATCHES } from './patches';
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
    const restarted = await rec.call(
      'restart_container',
      { container: id },
      () => mutating.restartContainer.executeWithOptions({ ...ACTIVITY_OPTIONS.dockerMutate, summary: `restart ${name}` }, [id, ...onBudget]),
      compactMutation,
      approvedBy,
    );
    return restarted.ok ? withDependents(rec, restarted, 'restarted', onBudget, approvedBy) : restarted;
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
    const started = await rec.call(
      'start_container',
      { container: id },
      () => mutating.startContainer.executeWithOptions({ ...ACTIVITY_OPTIONS.dockerMutate, summary: `start ${name}` }, [id, ...onBudget]),
      compactMutation,
      approvedBy,
    );
    return started.ok ? withDependents(rec, started, 'started', onBudget, approvedBy) : started;
  }
  return { ok: false, error: { code: 'no_action', message: `nothing to run for ${action}` } };
}

/** The code of an act() whose own call ran but a dependent's restart did not: the incident escalates with the message. */
export const DEPENDENT_NOT_RESTARTED = 'dependent_not_restarted';

/**
 * After dockmedic restarted or started a container, its opted-in dependents are restarted, once
 * each, by name (docs/architecture.md §3): a container sharing the network namespace is left on
 * a dead one until it restarts. Each restart is its own gateway call, charged like any mutation
 * (the drill budget in a drill). Incidents started before this change replay without it.
 */
async function withDependents(rec: IncidentRecord, done: ToolResult<MutationOutcome>, verb: string, onBudget: [] | [MutateOptions], approvedBy?: string): Promise<ToolResult<MutationOutcome>> {
  if (!patched(PATCHES.restartDependents)) return done;
  const id = rec.input.containerId;
  const name = rec.input.container;
  const selector = rec.input.watchSelector ?? [];
  const listed = await rec.call('list_dependents', { container: id, selector }, () => read.listDependents(id, selector), compactDependents);
  if (!listed.ok) {
    // Not knowing whether there are dependents is no reason to undo or page about the fix itself.
    rec.note(`dependents of ${name} could not be listed (${listed.error.code}): ${listed.error.message}`);
    return done;
  }
  const failed: string[] = [];
  let firstCode = '';
  for (const d of listed.value.dependents) {
    const why = d.via.map((v) => (v === 'network' ? 'shares its network namespace' : 'labelled dockmedic.depends-on')).join(', ');
    if (!d.optedIn) {
      rec.note(`dependent ${d.name} (${why}) is not opted in: not restarted`);
      continue;
    }
    const r = await rec.call(
      'restart_container',
      { container: d.id },
      () => mutating.restartContainer.executeWithOptions({ ...ACTIVITY_OPTIONS.dockerMutate, summary: `restart ${d.name} (dependent of ${name})` }, [d.id, ...onBudget]),
      compactMutation,
      approvedBy,
    );
    if (r.ok) {
      rec.note(`restarted dependent ${d.name} (${why}) after ${name}`);
      continue;
    }
    rec.note(`dependent ${d.name} (${why}) was not restarted (${r.error.code}): ${r.error.message}`);
    failed.push(`${d.name} (${r.error.code})`);
    firstCode ||= r.error.code;
  }
  if (listed.value.truncated) rec.note(`${name} has more dependents than were listed; only the first ${listed.value.dependents.length} were considered`);
  if (failed.length === 0) return done;
  return { ok: false, error: { code: DEPENDENT_NOT_RESTARTED, message: `${name} was ${verb}, but its dependent${failed.length > 1 ? 's' : ''} ${failed.join(', ')} ${failed.length > 1 ? 'were' : 'was'} not restarted (first refusal: ${firstCode})` } };
}

function compactDependents(r: DependentsResult): Record<string, unknown> {
  return { dependents: r.dependents.map((d) => ({ name: d.name, id: d.id, via: d.via, optedIn: d.optedIn })), truncated: r.truncated };
}

export function describeAction(action: Action): string {
  return action === 'raise_memory' ? 'raising the memory limit' : action === 'restart' ? 'the restart' : action;
}

/** Docker's view of the incident's container now. */
export function inspect(rec: IncidentRecord): Promise<ToolResult<ContainerSummary>> {
  const id = rec.input.containerId;
  return rec.call('inspect_container', { container: id }, () => read.inspectContainer(id), compactSummary);
}

/** Refusals that say "not now" rather than "no": the gateway's store or the gateway itself was away, or a window was full. */
const NOT_NOW: ReadonlySet<string> = new Set(['store_unavailable', 'rate_limited', 'unavailable']);
/** How long an inspect that judges a fix keeps trying before the incident escalates. */
const VERIFY_READ_BOUND_MS = 120_000;

/**
 * The inspect that judges a fix (docs/architecture.md §3): a store that blinks for a few seconds
 * must not turn a fix that held into a page, so a "not now" refusal is tried again, with durable
 * timers, for up to two minutes. Mutating calls get no such patience: they stay fail-closed.
 * Wakes at once when the container goes away meanwhile.
 */
export async function inspectVerifying(rec: IncidentRecord): Promise<ToolResult<ContainerSummary>> {
  if (!patched(PATCHES.verifyReadRetry)) return inspect(rec);
  const deadline = Date.now() + VERIFY_READ_BOUND_MS;
  let delayMs = 1000;
  for (;;) {
    const inspected = await inspect(rec);
    if (inspected.ok || !NOT_NOW.has(inspected.error.code) || Date.now() + delayMs > deadline) return inspected;
    rec.note(`inspect refused (${inspected.error.code}) while verifying the fix; trying again in ${delayMs / 1000}s (for up to ${VERIFY_READ_BOUND_MS / 1000}s)`);
    if (await condition(() => rec.tracker.gone !== null, delayMs, { summary: `gateway ${inspected.error.code}: retry` })) return inspected;
    delayMs = Math.min(delayMs * 2, 10_000);
  }
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

/** This container's incidents a person (or nobody) closed within the quiet period, latest first (this run excluded). */
export function listQuietPeriodIncidents(rec: IncidentRecord, windowSeconds: number): Promise<ToolResult<EarlierIncident[]>> {
  const { host, container } = rec.input;
  const runId = workflowInfo().runId;
  return rec.call(
    'list_quiet_period_incidents',
    { host, container, windowSeconds },
    () => visibility.listQuietPeriodIncidents(host, container, windowSeconds, runId),
    compactEarlier,
  );
}

/** An earlier incident as the decision chain keeps it: run, failure and outcome. */
export function compactEarlier(list: EarlierIncident[]): string[] {
  return list.map((e) => `${e.runId}:${e.failure}:${e.outcome}`);
}

/** The last log lines, as evidence for the person paged. */
export async function logEvidence(rec: IncidentRecord): Promise<string[]> {
  if (!rec.summary) return [];
  const id = rec.input.containerId;
  const logs = await rec.call('check_container_logs', { container: id, tail: EVIDENCE_LOG_TAIL }, () => read.fetchLogs(id, EVIDENCE_LOG_TAIL), compactLogs);
  if (!logs.ok) return [`logs unavailable (${logs.error.code})`];
  return logs.value.lines.slice(-NOTICE_LOG_LINES).map((l) => `log: ${l.slice(0, 200)}`);
}
