import { patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities, TriageResult } from '../activities';
import type { ContainerSummary } from '../src/contract/gateway';
import type { EarlierIncident } from '../src/contract/incident';
import { compactEarlier, countRecentOomIncidents, inspect, listQuietPeriodIncidents } from './actions';
import { ACTIVITY_OPTIONS } from './activity-options';
import type { ToolResult } from './decision-chain';
import { compactSummary } from './decision-chain';
import { PATCHES } from './patches';
import { now } from './record';
import type { IncidentRecord } from './record';

const read = proxyActivities<Activities>(ACTIVITY_OPTIONS.dockerRead);

/**
 * Triage's reads, each awaited where the workflow needs it: Docker's inspect first; the count of
 * earlier OOM incidents only when the facts say OOM (null = not read with the inspect); the
 * quiet period's memory only before an action (null = no quiet period).
 */
export interface TriageReads {
  inspected: Promise<ToolResult<ContainerSummary>>;
  oomCount: Promise<ToolResult<number>> | null;
  earlier: Promise<ToolResult<EarlierIncident[]>> | null;
}

/**
 * Start triage's reads (docs/architecture.md §3). New incidents read everything in one `triage`
 * activity, so the workflow wakes once when all of it is in: one workflow task fewer before the
 * first action than separate activities, which complete one after another. The decision chain
 * records the same three tool calls either way. Incidents started before this change read with
 * separate activities and replay that way.
 */
export function startTriage(rec: IncidentRecord, quietSeconds: number): TriageReads {
  const oom = rec.tracker.oomSeen;
  if (patched(PATCHES.triageInOne)) return triageInOne(rec, oom, quietSeconds);
  // The OOM count (for an OOM trigger) and the quiet period's memory ran beside the inspect.
  const oomCount = oom && patched(PATCHES.oomCountBesideInspect) ? countRecentOomIncidents(rec) : null;
  const earlier = quietSeconds > 0 && patched(PATCHES.quietPeriod) ? listQuietPeriodIncidents(rec, quietSeconds) : null;
  return { inspected: inspect(rec), oomCount, earlier };
}

function triageInOne(rec: IncidentRecord, oom: boolean, quietSeconds: number): TriageReads {
  const { host, container, containerId, policy } = rec.input;
  const excludeRunId = workflowInfo().runId;
  const oomWindowSeconds = policy.oomRecurrenceWindowSeconds;
  const at = now();
  const done = rec.call(
    'inspect_container',
    { container: containerId },
    () =>
      read.triage.executeWithOptions({ ...ACTIVITY_OPTIONS.dockerRead, summary: `triage ${container}` }, [
        { host, container, containerId, excludeRunId, ...(oom ? { oomWindowSeconds } : {}), ...(quietSeconds > 0 ? { quietSeconds } : {}) },
      ]),
    (r: TriageResult) => compactSummary(r.summary),
  );
  const part = <T>(pick: (r: TriageResult) => ToolResult<T> | undefined, tool: string, args: Record<string, unknown>, compact: (v: T) => unknown): Promise<ToolResult<T>> =>
    done.then((r) => {
      // A failed inspect ends triage: the incident never asks for the lookups' answers.
      if (!r.ok) return { ok: false, error: { code: 'not_read', message: 'the inspect failed, so triage returned no lookups' } };
      return rec.recordResult(tool, args, pick(r.value) ?? { ok: false, error: { code: 'not_read', message: 'triage did not answer this lookup' } }, compact, at);
    });
  return {
    inspected: done.then((r) => (r.ok ? { ok: true, value: r.value.summary } : r)),
    oomCount: oom ? part((r) => r.oomCount, 'count_recent_oom_incidents', { host, container, windowSeconds: oomWindowSeconds }, (n) => n) : null,
    earlier:
      quietSeconds > 0
        ? part((r) => r.earlier, 'list_quiet_period_incidents', { host, container, windowSeconds: quietSeconds }, compactEarlier)
        : null,
  };
}
