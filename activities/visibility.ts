import type { ActivityDeps } from './deps';
import { invalidActivityInput } from './errors';
import { INCIDENT_WORKFLOW_TYPE } from '../src/contract/incident';
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
  };
}
