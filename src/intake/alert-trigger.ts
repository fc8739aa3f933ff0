import type Docker from 'dockerode';
import type { Config } from '../config';
import { bareName, isContainerRef } from '../contract/container';
import type { IncidentStarter } from '../watcher/incident-starter';
import { isWatched } from '../watcher/classify';
import type { AlertmanagerAlert } from './alertmanager-payload';
import { dockerState } from './docker-state';

/**
 * - `started`: Docker shows a failure, and signalWithStart opened the container's incident (or
 *   signalled the one already open);
 * - `observed`: Docker's state went to the open incident as an `observe` signal;
 * - `ignored`: nothing was started or signalled, `reason` says why;
 * - `error`: Docker or Temporal could not be asked; Alertmanager retries the group (5xx).
 */
export type AlertOutcomeKind = 'started' | 'observed' | 'ignored' | 'error';

export interface AlertOutcome {
  index: number;
  fingerprint?: string;
  status: 'firing' | 'resolved';
  container?: string;
  outcome: AlertOutcomeKind;
  reason: string;
  workflowId?: string;
}

export interface AlertTriggerDeps {
  docker: Docker;
  starter: IncidentStarter;
  config: Config;
}

/** The host an alert is about: `host`, else the host part of `instance` (`web-1:9100` → `web-1`); undefined when it names none. */
export function alertHost(labels: Record<string, string>): string | undefined {
  if (labels.host) return labels.host;
  const instance = labels.instance;
  if (!instance) return undefined;
  const bracketed = /^\[([^\]]+)\]/.exec(instance);
  return bracketed ? bracketed[1] : instance.replace(/:\d+$/, '');
}

function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 404;
}

/**
 * One alert → at most one trigger (docs/architecture.md §1). The container is found through
 * Docker by the label's name or id and must be one this watcher watches (opt-in plus selector);
 * firing with a failure Docker confirms starts or signals the incident; anything else only
 * observes an incident that is already open. Nothing from the alert but the container's name
 * reaches the incident.
 */
export async function triggerFromAlert(deps: AlertTriggerDeps, alert: AlertmanagerAlert, index: number): Promise<AlertOutcome> {
  const { config } = deps;
  const base = { index, status: alert.status, ...(alert.fingerprint ? { fingerprint: alert.fingerprint } : {}) };
  const label = config.intake.containerLabel;
  const raw = alert.labels[label];
  if (raw === undefined || raw === '') return { ...base, outcome: 'ignored', reason: `no "${label}" label` };
  const host = alertHost(alert.labels);
  if (host !== undefined && host !== config.host) return { ...base, outcome: 'ignored', reason: `for host ${host.slice(0, 64)}, not this host (${config.host})` };
  const ref = bareName(raw);
  if (!isContainerRef(ref)) return { ...base, outcome: 'ignored', reason: `"${label}" is not a container name or id` };

  let info: Docker.ContainerInspectInfo;
  try {
    info = await deps.docker.getContainer(ref).inspect();
  } catch (err) {
    if (isNotFound(err)) return { ...base, container: ref, outcome: 'ignored', reason: 'no such container' };
    return { ...base, container: ref, outcome: 'error', reason: 'Docker could not be asked' };
  }
  const name = bareName(info.Name);
  const withName = { ...base, container: name };
  if (!isWatched(info.Config.Labels ?? {}, config.watch.selector)) {
    return { ...withName, outcome: 'ignored', reason: 'not opted in: the container lacks dockmedic.enable=true (or the watch selector), or belongs to the dockmedic stack' };
  }
  const container = { id: info.Id, name, labels: info.Config.Labels ?? {} };
  const state = dockerState(info);
  const workflowId = deps.starter.workflowId(name);
  try {
    if (alert.status === 'firing' && state.failing) {
      if (await deps.starter.forward(container, state.observation)) return { ...withName, outcome: 'observed', reason: `Docker: ${state.summary}; told the open incident`, workflowId };
      // Like reconciliation: an exit that already had an incident (closed since) is not a new failure.
      if (state.observation.health === undefined && (await deps.starter.hasIncidentSince(name, state.observation.time))) {
        return { ...withName, outcome: 'ignored', reason: `Docker: ${state.summary}; this failure already had an incident`, workflowId };
      }
      await deps.starter.open(container, state.observation);
      return { ...withName, outcome: 'started', reason: `Docker: ${state.summary}`, workflowId };
    }
    if (await deps.starter.forward(container, state.observation)) return { ...withName, outcome: 'observed', reason: `Docker: ${state.summary}; told the open incident`, workflowId };
    return {
      ...withName,
      outcome: 'ignored',
      reason: alert.status === 'firing' ? `Docker shows no failure (${state.summary}) and no incident is open` : `resolved, and no incident is open (Docker: ${state.summary})`,
    };
  } catch {
    return { ...withName, outcome: 'error', reason: 'Temporal could not be asked', workflowId };
  }
}
