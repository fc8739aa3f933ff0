import type Docker from 'dockerode';
import type { ScenarioOptions } from '../../helpers/scenario';
import { runScenarioContainer } from '../../helpers/scenario';
import { docker, OWNER_PID_LABEL, SCENARIO_IMAGE } from '../../helpers/stack';
import { processAlive } from '../../helpers/processes';
import { LABELS } from '../../../src/contract/container';

export { docker };

/** Marks which gateway test file made a container, so a file only ever cleans up its own (files may run in parallel). */
export const SUITE_LABEL = 'dockmedic.test.suite';

/** Fail (never skip) when the Docker engine or the scenario image is missing. */
export async function requireDocker(): Promise<void> {
  try {
    await docker().ping();
  } catch (err) {
    throw new Error(`the Docker engine does not answer (${(err as Error).message}); the gateway tests need a real engine: run \`make setup\``);
  }
  try {
    await docker().getImage(SCENARIO_IMAGE).inspect();
  } catch {
    throw new Error(`the image ${SCENARIO_IMAGE} is missing; \`make setup\` builds it (scripts/build-image.sh)`);
  }
}

/** The facts a refusal must leave untouched. StartedAt moves on every (re)start, even a manual restart that RestartCount does not count. */
export interface ContainerState {
  status: string;
  restartCount: number;
  memory: number;
  memorySwap: number;
  startedAt: string;
}

export async function snapshot(id: string): Promise<ContainerState> {
  const info = await docker().getContainer(id).inspect();
  return {
    status: info.State.Status,
    restartCount: info.RestartCount,
    memory: info.HostConfig.Memory ?? 0,
    memorySwap: info.HostConfig.MemorySwap ?? 0,
    startedAt: info.State.StartedAt,
  };
}

/** A test file's containers: created with `dockmedic.test=true` and the suite label; removed at start and in teardown. */
export class SuiteContainers {
  constructor(readonly suite: string) {}

  /** Remove this suite's containers made by this process or by one that is gone (an interrupted run). */
  async cleanup(): Promise<void> {
    const list = await docker().listContainers({ all: true, filters: { label: [`${LABELS.test}=true`, `${SUITE_LABEL}=${this.suite}`] } });
    const removable = list.filter((c) => {
      const owner = Number(c.Labels?.[OWNER_PID_LABEL]);
      return !Number.isInteger(owner) || owner === process.pid || !processAlive(owner);
    });
    await Promise.all(
      removable.map((c) =>
        docker()
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch((err: { statusCode?: number }) => {
            if (err.statusCode !== 404) throw err;
          }),
      ),
    );
  }

  /** Names are suite-prefixed so files never collide. A long-running `sleep` unless `cmd` says otherwise. */
  name(short: string): string {
    // The pid keeps two runs of the same file (two checkouts) from replacing each other's containers.
    return `dmgw-${this.suite}-${process.pid}-${short}`;
  }

  async run(short: string, opts: Partial<ScenarioOptions> & { optIn?: boolean } = {}): Promise<string> {
    const { optIn = true, labels, ...rest } = opts;
    return runScenarioContainer({
      name: this.name(short),
      // PID 1 ignores SIGTERM by default; trap it so restarts are quick.
      cmd: "trap 'exit 0' TERM; while true; do sleep 1; done",
      ...rest,
      labels: { ...(optIn ? { [LABELS.enable]: 'true' } : {}), ...labels, [SUITE_LABEL]: this.suite },
    });
  }

  /** Created but never started (for start_container and failing-start cases). */
  async create(short: string, spec: Partial<Docker.ContainerCreateOptions> = {}): Promise<string> {
    const c = await docker().createContainer({
      name: this.name(short),
      Image: SCENARIO_IMAGE,
      Cmd: ['/bin/sh', '-c', "trap 'exit 0' TERM; while true; do sleep 1; done"],
      ...spec,
      Labels: { [LABELS.enable]: 'true', ...spec.Labels, [LABELS.test]: 'true', [SUITE_LABEL]: this.suite, [OWNER_PID_LABEL]: String(process.pid) },
      HostConfig: { NetworkMode: 'none', ...spec.HostConfig },
    });
    return c.id;
  }
}

/** Count Docker `restart` events for a container between two instants (RestartCount ignores manual restarts). */
export async function restartEvents(id: string, sinceMs: number, untilMs: number): Promise<number> {
  const stream = (await docker().getEvents({
    since: Math.floor(sinceMs / 1000),
    until: Math.ceil(untilMs / 1000) + 1,
    filters: { container: [id], event: ['restart'] },
  })) as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString();
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { timeNano: number })
    .filter((e) => e.timeNano / 1e6 >= sinceMs - 1).length;
}
