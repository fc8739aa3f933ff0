import type { ActivityDeps } from './deps';
import { invalidActivityInput } from './errors';
import type { EarlierIncident } from '../src/contract/incident';
import { INCIDENT_WORKFLOW_TYPE, QUIET_AFTER_OUTCOMES } from '../src/contract/incident';
import { SA } from '../src/contract/search-attributes';
import { bareName } from '../src/contract/container';

/** Values interpolated into a visibility query: names and ids only, never quotes. */
const SAFE_VALUE = /^[a-zA-Z0-9][a-zA-Z0-9_.:-]{0,255}$/;

function safe(name: string, value: unknown): string {
  if (typeof value !== 'string' || !SAFE_VALUE.test(value)) throw invalidActivityInput(`${name} is not a plain name: ${String(JSON.stringify(value)).slice(0, 80)}`);
  return value;
}

/** The visibility query for a container's OOM incidents started since `since`, this run excluded. */
export function recentOomQuery(host: string, container: string, since: Date, excludeRunId: string): string {
  return [
    `WorkflowType = '${INCIDENT_WORKFLOW_TYPE}'`,
    `${SA.host.name} = '${safe('host', host)}'`,
    `${SA.container.name} = '${safe('container', container)}'`,
    `${SA.failure.name} = 'oom'`,
    `StartTime >= '${since.toISOString()}'`,
    `RunId != '${safe('excludeRunId', excludeRunId)}'`,
  ].join(' AND ');
}

/** The visibility query for a container's incidents a person (or nobody) closed since `since`, this run excluded. */
export function quietPeriodQuery(host: string, container: string, since: Date, excludeRunId: string): string {
  return [
    `WorkflowType = '${INCIDENT_WORKFLOW_TYPE}'`,
    `${SA.host.name} = '${safe('host', host)}'`,
    `${SA.container.name} = '${safe('container', container)}'`,
    `${SA.outcome.name} IN (${QUIET_AFTER_OUTCOMES.map((o) => `'${o}'`).join(', ')})`,
    `CloseTime >= '${since.toISOString()}'`,
    `RunId != '${safe('excludeRunId', excludeRunId)}'`,
  ].join(' AND ');
}

/** At most this many earlier incidents are read: the workflow needs the latest of one failure kind. */
const EARLIER_INCIDENTS_MAX = 20;

/** Recurrence memory comes from Temporal visibility, not from a second database (docs/architecture.md §3). */
export function createVisibilityActivities(deps: ActivityDeps) {
  return {
    /** How many OOM incidents this container had in the last `windowSeconds` (open or closed), this one excluded. */
    async countRecentOomIncidents(host: string, container: string, windowSeconds: number, excludeWorkflowRunId: string): Promise<number> {
      if (!Number.isFinite(windowSeconds) || windowSeconds <= 0) throw invalidActivityInput(`windowSeconds must be positive, got ${windowSeconds}`);
      const since = new Date(Date.now() - windowSeconds * 1000);
      const { count } = await deps.temporal.workflow.count(recentOomQuery(host, bareName(container), since, excludeWorkflowRunId));
      return count;
    },
    /**
     * This container's incidents closed unacknowledged, rejected or resolved by a person in the
     * last `windowSeconds`, latest first: the quiet period's memory (docs/architecture.md §3).
     */
    async listQuietPeriodIncidents(host: string, container: string, windowSeconds: number, excludeWorkflowRunId: string): Promise<EarlierIncident[]> {
      if (!Number.isFinite(windowSeconds) || windowSeconds <= 0) throw invalidActivityInput(`windowSeconds must be positive, got ${windowSeconds}`);
      const since = new Date(Date.now() - windowSeconds * 1000);
      const found: EarlierIncident[] = [];
      for await (const info of deps.temporal.workflow.list({ query: quietPeriodQuery(host, bareName(container), since, excludeWorkflowRunId), pageSize: EARLIER_INCIDENTS_MAX })) {
        const failure = info.typedSearchAttributes.get(SA.failure);
        const outcome = info.typedSearchAttributes.get(SA.outcome);
        if (info.closeTime && failure !== undefined && outcome !== undefined) {
          found.push({ workflowId: info.workflowId, runId: info.runId, failure, outcome, closedAt: info.closeTime.toISOString() });
        }
        if (found.length >= EARLIER_INCIDENTS_MAX) break;
      }
      return found.sort((a, b) => b.closedAt.localeCompare(a.closedAt));
    },
  };
}
