import { getExternalWorkflowHandle, isCancellation } from '@temporalio/workflow';
import { MUTATING_TOOLS } from '../src/contract/gateway';
import type { ToolName } from '../src/contract/gateway';
import type { StormMemberStatus, StormReport } from '../src/contract/storm';
import { stormReportSignal } from '../src/contract/storm';
import { failureOf } from './decision-chain';
import type { IncidentRecord } from './record';
import { now } from './record';

/**
 * A container incident's side of a storm (docs/architecture.md §3): it is linked by the watcher,
 * tells the storm where it stands, and hands its escalation over instead of paging.
 */

const STORM_ID = /^storm-[\w.-]{1,200}$/;

const DONE: Partial<Record<ToolName, string>> = {
  restart_container: 'restarted',
  start_container: 'started',
  update_container_resources: 'memory limit raised',
};

/** The watcher's `joinStorm`: drills and shadow incidents page nobody, so they never join. */
export function joinStorm(rec: IncidentRecord, stormId: unknown): void {
  if (rec.st.stormId !== undefined || rec.input.drill || rec.input.mode === 'shadow') return;
  if (typeof stormId !== 'string' || !STORM_ID.test(stormId)) return rec.note('dropped a malformed storm link');
  rec.st.stormId = stormId;
  rec.note(`linked to storm ${stormId}: many incidents opened on ${rec.input.host} at once, and the storm pages for them`);
  rec.onClose = (st) => {
    rec.closing = reportToStorm(rec, 'closed', st.outcome ? { outcome: st.outcome } : {});
  };
  // An incident that already paged keeps its own ladder: the person paged is not left hanging.
  const status: StormMemberStatus = rec.st.pendingEscalation ? 'paged_alone' : hasActed(rec) ? 'acted' : 'deciding';
  void reportToStorm(rec, status);
}

/** Tells the storm where this incident stands; false when there is no storm to tell (it has closed). */
export async function reportToStorm(rec: IncidentRecord, status: StormMemberStatus, extra: Partial<StormReport> = {}): Promise<boolean> {
  const stormId = rec.st.stormId;
  if (stormId === undefined) return false;
  const report: StormReport = {
    workflowId: rec.st.incidentId,
    container: rec.input.container,
    containerId: rec.input.containerId,
    status,
    failure: rec.decision?.failure ?? 'unknown',
    done: whatWasDone(rec),
    at: now(),
    ...extra,
  };
  try {
    await getExternalWorkflowHandle(stormId).signal(stormReportSignal, report);
    return true;
  } catch (err) {
    if (isCancellation(err)) throw err;
    rec.note(`storm ${stormId} could not be told (${failureOf(err).message})`);
    return false;
  }
}

function hasActed(rec: IncidentRecord): boolean {
  return rec.st.decisionChain.some((c) => c.ok && MUTATING_TOOLS.has(c.tool as ToolName));
}

/** The incident's mutating calls in words, for the storm's page. */
function whatWasDone(rec: IncidentRecord): string {
  const calls = rec.st.decisionChain.filter((c) => MUTATING_TOOLS.has(c.tool as ToolName));
  const parts = calls.map((c) => (c.ok ? (DONE[c.tool as ToolName] ?? c.tool) : `${c.tool} refused (${c.error?.code ?? 'error'})`));
  if (parts.length > 0) return [...new Set(parts)].join(', ');
  return rec.st.outcome ? `nothing done (${rec.st.outcome})` : `nothing done yet (${rec.st.finalAction ?? 'deciding'})`;
}
