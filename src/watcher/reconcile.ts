import type Docker from 'dockerode';
import { isOptedIn, watchedLabels } from './classify';
import type { Observation } from '../contract/incident';
import { bareName } from '../contract/container';
import { mapBounded } from '../runtime/bounded';

/** A container that failed while nobody was watching, and what to tell its incident. */
export interface Missed {
  id: string;
  name: string;
  labels: Record<string, string>;
  observation: Observation;
}

/** SIGTERM's exit code: what `docker stop` leaves behind, so not a failure. */
const STOPPED_BY_SIGTERM = 143;

/**
 * Opted-in containers that are unhealthy now, or exited non-zero (or OOM-killed) inside
 * `windowSeconds`. Exits 0 and SIGTERM stops are an operator's doing and are left alone.
 */
export async function findMissedFailures(docker: Docker, windowSeconds: number, selector: readonly string[] = [], now = Date.now()): Promise<Missed[]> {
  const list = await docker.listContainers({ all: true, filters: { label: watchedLabels(selector) } });
  // Inspected a few at a time: a host may have hundreds of opted-in containers.
  const found = await mapBounded(
    list.filter((summary) => isOptedIn(summary.Labels ?? {})),
    INSPECT_CONCURRENCY,
    async (summary): Promise<Missed | null> => {
      let info: Docker.ContainerInspectInfo;
      try {
        info = await docker.getContainer(summary.Id).inspect();
      } catch {
        return null; // removed meanwhile
      }
      const name = bareName(info.Name);
      const state = info.State;
      if (state.Health?.Status === 'unhealthy') {
        return { id: info.Id, name, labels: info.Config.Labels ?? {}, observation: { kind: 'reconcile', time: new Date(now).toISOString(), health: 'unhealthy' } };
      }
      if (state.Running || state.Restarting) return null;
      const finished = Date.parse(state.FinishedAt);
      if (!Number.isFinite(finished) || now - finished > windowSeconds * 1000) return null;
      if (!state.OOMKilled && (state.ExitCode === 0 || state.ExitCode === STOPPED_BY_SIGTERM)) return null;
      return { id: info.Id, name, labels: info.Config.Labels ?? {}, observation: { kind: 'reconcile', time: new Date(finished).toISOString(), exitCode: state.ExitCode } };
    },
  );
  return found.filter((m): m is Missed => m !== null);
}

const INSPECT_CONCURRENCY = 16;
