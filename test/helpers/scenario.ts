import type Docker from 'dockerode';
import { containerCreateOptions } from '../../src/drills/container-spec';
import type { Scenario } from '../../src/drills/scenarios';
import { docker, OWNER_PID_LABEL, SCENARIO_IMAGE, TEST_LABEL } from './stack';

/** Docker's restart policies, written as on the `docker run --restart` command line. */
export type RestartPolicy = 'no' | 'always' | 'unless-stopped' | 'on-failure' | `on-failure:${number}`;

/** A health check run by the engine inside the container, through `/bin/sh -c`. */
export interface HealthCheck {
  cmd: string;
  intervalMs?: number;
  timeoutMs?: number;
  retries?: number;
  startPeriodMs?: number;
}

export interface ScenarioOptions {
  /** Container name; an earlier test container of the same name is replaced. */
  name: string;
  /** A shell script (run by `sh -c`) or an argv. */
  cmd: string | string[];
  /** Memory limit in bytes (`--memory`). */
  memory?: number;
  /** Memory + swap in bytes (`--memory-swap`); -1 for unlimited swap. */
  memorySwap?: number;
  restart?: RestartPolicy;
  health?: HealthCheck;
  /** Share this container's network namespace (`--network container:<name or id>`) instead of `--network none`. */
  networkOf?: string;
  /** Extra labels, e.g. `{ 'dockmedic.enable': 'true' }`; `dockmedic.test=true` is always added. */
  labels?: Record<string, string>;
}

async function removeEarlierTestContainer(name: string): Promise<void> {
  const container = docker().getContainer(name);
  let info: Docker.ContainerInspectInfo;
  try {
    info = await container.inspect();
  } catch {
    return; // no such container
  }
  // Only ever replace a container a test made; a name clash with anything else is an error.
  if (info.Config.Labels?.[TEST_LABEL] === undefined) {
    throw new Error(`a container named ${name} exists and is not a test container; refusing to remove it`);
  }
  await container.remove({ force: true, v: true });
}

/**
 * A script that fails once (exit 3) at `atSeconds` (epoch) and, restarted, keeps running: the
 * marker survives a restart in the container's own layer. Many of these fail at the same moment.
 */
export function failOnceAt(atSeconds: number): string {
  return `if [ -f /failed ]; then exec sleep 3600; fi; while [ "$(date +%s)" -lt ${atSeconds} ]; do sleep 0.05; done; touch /failed; exit 3`;
}

/** Label tying containers to the end-to-end run whose watcher selects them. */
export const RUN_LABEL = 'dockmedic.test.run';

/**
 * While an end-to-end stack is up in this process (it sets DOCKMEDIC_TEST_RUN), its containers
 * carry the run label, so only that stack's watcher acts on them.
 */
function runLabel(): Record<string, string> {
  const run = process.env.DOCKMEDIC_TEST_RUN;
  return run ? { [RUN_LABEL]: run } : {};
}

/**
 * Create and start a container from the scenario image with `--network none` (or another test
 * container's namespace, `networkOf`), labelled
 * `dockmedic.test=true` (removed by cleanupTestContainers). Returns the container id.
 */
export async function runScenarioContainer(opts: ScenarioOptions): Promise<string> {
  await removeEarlierTestContainer(opts.name);
  const options = containerCreateOptions({
    name: opts.name,
    image: SCENARIO_IMAGE,
    cmd: opts.cmd,
    ...(opts.memory !== undefined ? { memoryBytes: opts.memory } : {}),
    ...(opts.memorySwap !== undefined ? { memorySwapBytes: opts.memorySwap } : {}),
    ...(opts.restart !== undefined ? { restart: opts.restart } : {}),
    ...(opts.health ? { health: opts.health } : {}),
    labels: { ...opts.labels, [TEST_LABEL]: 'true', [OWNER_PID_LABEL]: String(process.pid), ...runLabel() },
  });
  if (opts.networkOf !== undefined) options.HostConfig = { ...options.HostConfig, NetworkMode: `container:${opts.networkOf}` };
  const container = await docker().createContainer(options);
  await container.start();
  return container.id;
}

/** A catalogue scenario's container (its script, limits, restart policy and health check), opted in unless the scenario says not. */
export async function runCatalogueScenario(s: Scenario, name: string): Promise<string> {
  const c = s.container;
  return runScenarioContainer({
    name,
    cmd: c.cmd,
    ...(c.memoryBytes ? { memory: c.memoryBytes } : {}),
    ...(c.memorySwapBytes ? { memorySwap: c.memorySwapBytes } : {}),
    ...(c.restart ? { restart: c.restart } : {}),
    ...(c.health ? { health: c.health } : {}),
    labels: c.optedIn ? { 'dockmedic.enable': 'true' } : {},
  });
}
