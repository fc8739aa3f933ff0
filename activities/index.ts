import type { ActivityDeps } from './deps';
import { createDiagnosisActivities } from './diagnosis';
import { createDockerActivities } from './docker';
import { createDrillActivities } from './drill';
import { createNotifyActivities } from './notify';
import { createTriageActivities } from './triage';
import { createVisibilityActivities } from './visibility';

export type { ActivityDeps, ActivitySettings, LlmDeps } from './deps';
export type { MutateOptions, MutationOutcome } from './docker';
export type { IncidentWait } from './drill';
export type { LookupOutcome, TriageParts, TriageRequest, TriageResult } from './triage';
export { createTriageActivities } from './triage';
export { truncateLogs, idempotencyKey } from './docker';
export * from './errors';
export * from './notifier';
export { withGatewaySlack } from './slack-notifier';
export { recentOomQuery } from './visibility';

/**
 * All activities of the incident workflow, built from their clients (docs/architecture.md §7 rule 3).
 * Workflows proxy `Activities`; the worker registers the returned object.
 */
export function createActivities(deps: ActivityDeps) {
  const docker = createDockerActivities(deps);
  const visibility = createVisibilityActivities(deps);
  return {
    ...docker,
    ...visibility,
    ...createTriageActivities({ ...docker, ...visibility }),
    ...createNotifyActivities(deps),
    ...createDiagnosisActivities(deps),
    ...createDrillActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
/** The drill workflow's own activities; the incident workflow never calls them. */
export type DrillActivities = ReturnType<typeof createDrillActivities>;
export type IncidentActivities = Omit<Activities, keyof DrillActivities>;
