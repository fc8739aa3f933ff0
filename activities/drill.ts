import { Context, sleep } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { ActivityDeps } from './deps';
import { callGateway } from './docker';
import { invalidActivityInput } from './errors';
import type { DrillAuditEntry, DrillContainer, DrillContainerInfo, DrillEvent, DrillResult, ScenarioName } from '../src/contract/drill';
import { DRILL_WORKFLOW_TYPE, ScenarioNameSchema, DrillId } from '../src/contract/drill';
import { isContainerRef } from '../src/contract/container';
import type { IncidentState } from '../src/contract/incident';
import { INCIDENT_WORKFLOW_TYPE } from '../src/contract/incident';
import { SA } from '../src/contract/search-attributes';
import { stateQuery } from '../src/contract/signals';

/** Where a drill's incident is: not opened (yet), waiting for an answer, or closed. */
export type IncidentWait = { status: 'none' } | { status: 'escalated' | 'closed'; state: IncidentState; runId: string };

const HOST = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

function ref(container: unknown): string {
  if (!isContainerRef(container)) throw invalidActivityInput(`not a container name or id: ${String(JSON.stringify(container)).slice(0, 80)}`);
  return container;
}

function host(h: unknown): string {
  if (typeof h !== 'string' || !HOST.test(h)) throw invalidActivityInput(`not a host name: ${String(JSON.stringify(h)).slice(0, 80)}`);
  return h;
}

/**
 * The drill workflow's activities (docs/architecture.md §6): the drill tools through the signed
 * gateway (the worker still never touches Docker), and what Temporal knows about the drill's
 * incidents and about the host's real ones.
 */
export function createDrillActivities(deps: ActivityDeps) {
  return {
    async createDrillContainer(drillId: string, scenario: ScenarioName): Promise<DrillContainer> {
      const args = { drillId: DrillId.parse(drillId), scenario: ScenarioNameSchema.parse(scenario) };
      return (await callGateway<'create_drill_container', DrillContainer>(deps, 'create_drill_container', args, true)).result;
    },

    async stopDrillContainer(container: string): Promise<void> {
      await callGateway(deps, 'stop_drill_container', { container: ref(container) }, true);
    },

    /** Gone already is what was asked: a cleanup retried after its first attempt removed the container succeeds. */
    async removeDrillContainer(container: string): Promise<boolean> {
      try {
        await callGateway(deps, 'remove_drill_container', { container: ref(container) }, true);
        return true;
      } catch (err) {
        const code = (err as { details?: { code?: string }[] }).details?.[0]?.code;
        if (code === 'container_not_found') return false;
        throw err;
      }
    },

    async listDrillContainers(): Promise<DrillContainerInfo[]> {
      return (await callGateway<'list_drill_containers', { containers: DrillContainerInfo[] }>(deps, 'list_drill_containers', {}, false)).result.containers;
    },

    async drillContainerEvents(container: string, since: string): Promise<DrillEvent[]> {
      return (await callGateway<'drill_container_events', { events: DrillEvent[] }>(deps, 'drill_container_events', { container: ref(container), since }, false)).result.events;
    },

    async drillAudit(container: string): Promise<DrillAuditEntry[]> {
      return (await callGateway<'drill_audit', { records: DrillAuditEntry[] }>(deps, 'drill_audit', { container: ref(container) }, false)).result.records;
    },

    /** Real (not drill) incidents open on the host: a drill does not run beside them. */
    async openRealIncidents(hostName: string): Promise<number> {
      const q = `WorkflowType = '${INCIDENT_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND ${SA.host.name} = '${host(hostName)}' AND ${SA.drill.name} IS NULL`;
      return (await deps.temporal.workflow.count(q)).count;
    },

    /** Other drills running on the host (one drill at a time: the sweep would remove another's containers). */
    async otherRunningDrills(hostName: string, selfWorkflowId: string): Promise<string[]> {
      const q = `WorkflowType = '${DRILL_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND ${SA.host.name} = '${host(hostName)}'`;
      const ids: string[] = [];
      for await (const w of deps.temporal.workflow.list({ query: q })) if (w.workflowId !== selfWorkflowId) ids.push(w.workflowId);
      return ids;
    },

    /**
     * Wait (heartbeating) until the incident is closed or (unless `untilClosed`) waits for an
     * answer, at most `timeoutSeconds`. Polls its state query: a drill's incidents last seconds.
     */
    async awaitIncident(workflowId: string, timeoutSeconds: number, untilClosed = false): Promise<IncidentWait> {
      if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > 3600) throw invalidActivityInput(`timeoutSeconds must be in (0, 3600], got ${timeoutSeconds}`);
      const deadline = Date.now() + timeoutSeconds * 1000;
      // At the deadline: the incident as last seen (still open), or none when it never opened.
      let last: IncidentWait = { status: 'none' };
      for (;;) {
        Context.current().heartbeat();
        try {
          const handle = deps.temporal.workflow.getHandle(workflowId);
          const desc = await handle.describe();
          if (desc.type === INCIDENT_WORKFLOW_TYPE) {
            const state = await handle.query(stateQuery);
            if (desc.status.name !== 'RUNNING' || state.outcome !== undefined) return { status: 'closed', state, runId: desc.runId };
            // Once answered, only the close matters: an escalation still shown is the answer in flight.
            if (state.pendingEscalation && !untilClosed) return { status: 'escalated', state, runId: desc.runId };
            last = { status: 'escalated', state, runId: desc.runId };
          }
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError) && !/not.?found|query/i.test((err as Error).message)) throw err;
        }
        if (Date.now() >= deadline) return last;
        await sleep(250);
      }
    },

    /** Activities scheduled in the incident's history, by type: the history's side of "which calls happened". */
    async incidentActivityCounts(workflowId: string, runId: string): Promise<Record<string, number>> {
      const history = await deps.temporal.workflow.getHandle(workflowId, runId).fetchHistory();
      const counts: Record<string, number> = {};
      for (const e of history.events ?? []) {
        const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
        if (name) counts[name] = (counts[name] ?? 0) + 1;
      }
      return counts;
    },

    /** A scheduled drill that failed pages like an incident about dockmedic itself: through the real notifier. */
    async notifyDrillFailed(result: DrillResult, drillWorkflowId: string, uiUrl?: string): Promise<void> {
      const failed = result.cards.filter((c) => c.pass === false);
      await deps.notifier.send({
        notice: {
          incidentId: drillWorkflowId,
          host: result.host,
          container: 'dockmedic',
          containerId: 'dockmedic',
          failure: 'unknown',
          rule: 'drill-failed',
          reason: `scheduled drill ${result.drillId} failed ${failed.length} of ${result.cards.length} scenarios: dockmedic may not remediate as it should on ${result.host}`,
          level: 1,
          levels: 1,
          levelName: 'dockmedic-owner',
          timeoutSeconds: 0,
          evidence: failed.map((c) => `${c.scenario}: ${c.why ?? 'failed'}`),
          recommendedAction: 'escalate',
          recommendation: `run \`dockmedic drill history\` and \`dockmedic drill run ${failed.map((c) => c.scenario).join(' ')}\` to see what dockmedic does now`,
          waitingFor: [],
          ...(uiUrl ? { uiUrl } : {}),
        },
        commands: ['dockmedic drill history', `dockmedic drill run ${failed.map((c) => c.scenario).join(' ')}`],
        attempt: Context.current().info.attempt,
      });
    },
  };
}

