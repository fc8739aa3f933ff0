import type Docker from 'dockerode';
import type { Scenario } from './scenarios';

/**
 * How a failing container is described to Docker, in one place: the gateway's
 * create_drill_container builds drills with it, the tests build their scenario containers with
 * it, so a drill fails the way the tested scenario does (docs/architecture.md §6).
 */
export interface ContainerSpec {
  name: string;
  image: string;
  /** A shell script (run by `sh -c`) or an argv. */
  cmd: string | readonly string[];
  memoryBytes?: number;
  /** -1 for unlimited swap. */
  memorySwapBytes?: number;
  /** As on `docker run --restart`: `no`, `always`, `unless-stopped`, `on-failure[:N]`. */
  restart?: string;
  health?: { cmd: string; intervalMs?: number; timeoutMs?: number; retries?: number; startPeriodMs?: number };
  labels: Record<string, string>;
}

const MiB = 1024 * 1024;
/** A drill container never gets more memory than this, whatever the catalogue says. */
export const DRILL_MEMORY_MAX_BYTES = 256 * MiB;

const nanos = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms * 1_000_000);

function restartPolicy(restart: string | undefined): Docker.HostRestartPolicy | undefined {
  if (restart === undefined) return undefined;
  const [name, count] = restart.split(':');
  return { Name: name ?? 'no', MaximumRetryCount: count === undefined ? undefined : Number(count) };
}

/** Always `--network none`: a failing container built here never reaches anything. */
export function containerCreateOptions(spec: ContainerSpec): Docker.ContainerCreateOptions {
  const h = spec.health;
  return {
    name: spec.name,
    Image: spec.image,
    Cmd: typeof spec.cmd === 'string' ? ['/bin/sh', '-c', spec.cmd] : [...spec.cmd],
    Labels: spec.labels,
    Healthcheck: h && {
      Test: ['CMD-SHELL', h.cmd],
      Interval: nanos(h.intervalMs ?? 1_000),
      Timeout: nanos(h.timeoutMs ?? 1_000),
      Retries: h.retries ?? 2,
      StartPeriod: nanos(h.startPeriodMs),
    },
    HostConfig: {
      NetworkMode: 'none',
      Memory: spec.memoryBytes,
      MemorySwap: spec.memorySwapBytes,
      RestartPolicy: restartPolicy(spec.restart),
    },
  };
}

/** A catalogue scenario as a container: its script, limits and health check; the caller adds name, image and labels. */
export function scenarioSpec(s: Scenario, name: string, image: string, labels: Record<string, string>): ContainerSpec {
  const c = s.container;
  return {
    name,
    image,
    cmd: c.cmd,
    memoryBytes: Math.min(c.memoryBytes ?? DRILL_MEMORY_MAX_BYTES, DRILL_MEMORY_MAX_BYTES),
    ...(c.memorySwapBytes !== undefined ? { memorySwapBytes: c.memorySwapBytes } : {}),
    ...(c.restart ? { restart: c.restart } : {}),
    ...(c.health ? { health: c.health } : {}),
    labels,
  };
}
