import type Docker from 'dockerode';
import type { Observation } from '../contract/incident';

/** SIGTERM's exit code: what `docker stop` leaves behind, so not a failure (as in reconciliation). */
const STOPPED_BY_SIGTERM = 143;

/** What Docker says about a container when an alert names it. */
export interface DockerState {
  /** Docker itself shows a failure: unhealthy, restarting, or exited non-zero / OOM-killed. */
  failing: boolean;
  /** The observation an incident is told: Docker's state, never the alert's text. */
  observation: Observation;
  /** How the state reads, for the answer to Alertmanager. */
  summary: string;
}

/**
 * An alert is a trigger, never a fact (docs/architecture.md §1): what reaches the incident is
 * Docker's own state, read now, as a `reconcile` observation (a state read outside the event
 * stream). An exit keeps Docker's FinishedAt, so the same exit reported again is one observation.
 */
export function dockerState(info: Docker.ContainerInspectInfo, now = Date.now()): DockerState {
  const state = info.State;
  const nowIso = new Date(now).toISOString();
  if (state.Health?.Status === 'unhealthy') {
    return { failing: true, observation: { kind: 'reconcile', time: nowIso, health: 'unhealthy' }, summary: 'unhealthy' };
  }
  if (state.Restarting) {
    return { failing: true, observation: { kind: 'reconcile', time: nowIso, exitCode: state.ExitCode }, summary: `restarting (last exit ${state.ExitCode})` };
  }
  if (!state.Running) {
    const finished = Date.parse(state.FinishedAt);
    const time = Number.isFinite(finished) && finished > 0 ? new Date(finished).toISOString() : nowIso;
    if (state.OOMKilled || (state.ExitCode !== 0 && state.ExitCode !== STOPPED_BY_SIGTERM)) {
      return { failing: true, observation: { kind: 'reconcile', time, exitCode: state.ExitCode }, summary: `${state.Status}, exit ${state.ExitCode}${state.OOMKilled ? ', OOM-killed' : ''}` };
    }
    // A clean exit or a stop: nothing failed, and the observation says no more than that.
    return { failing: false, observation: { kind: 'reconcile', time }, summary: `${state.Status}, exit ${state.ExitCode}` };
  }
  const health = state.Health?.Status;
  const known = health === 'healthy' || health === 'starting' ? health : undefined;
  return { failing: false, observation: { kind: 'reconcile', time: nowIso, ...(known ? { health: known } : {}) }, summary: `running${health ? `, ${health}` : ''}` };
}
