import type { ContainerInspectInfo } from 'dockerode';
import { timedDocker } from '../context';
import { dockerRefusal, dockerStatus } from '../docker/docker-errors';
import { Refusal } from '../refusal';
import { drillContainerOf, drillLabels, isOwnDrillContainer } from './drill-labels';
import { defineHostTool } from './tool';
import type { ToolEnv } from './tool';
import { CreateDrillContainerArgs, drillContainerName } from '../../contract/drill';
import { containerCreateOptions, scenarioSpec } from '../../drills/container-spec';
import { scenario as catalogueScenario } from '../../drills/scenarios';

async function existing(env: ToolEnv, name: string): Promise<ContainerInspectInfo | null> {
  try {
    return await timedDocker(env.ctx, () => env.docker.getContainer(name).inspect());
  } catch (err) {
    if (dockerStatus(err) === 404) return null;
    throw dockerRefusal(err, 'inspect');
  }
}

/**
 * Mutating, on the drill budget: build and start one catalogue scenario's container
 * (docs/architecture.md §6). The request names a scenario and a drill id, nothing else: image,
 * command, limits (≤ 256 MiB), `--network none` and labels all come from here. A retry finds
 * the container its first attempt made and returns it; any other container of that name is a conflict.
 */
export const createDrillContainer = defineHostTool({
  name: 'create_drill_container',
  description: 'Create and start a drill container for one catalogue scenario (fixed image, --network none, memory ≤ 256 MiB).',
  schema: CreateDrillContainerArgs,
  mutating: true,
  budget: 'drill',
  target: 'none',
  execute: async (args, env) => {
    const s = catalogueScenario(args.scenario);
    const name = drillContainerName(args.drillId, args.scenario);
    env.ctx.target = { ref: name };
    const found = await existing(env, name);
    if (found) {
      if (!isOwnDrillContainer(found, env, args.drillId, args.scenario)) {
        throw new Refusal('drill_container_conflict', `a container named ${name} exists and is not this drill's`);
      }
      env.ctx.target = { ref: name, id: found.Id, name };
      const result = drillContainerOf(found, args.drillId, args.scenario);
      return { result, summary: { id: found.Id, existed: true } };
    }
    const spec = scenarioSpec(s, name, env.drill.image, drillLabels(env, args.drillId, args.scenario, s.container.optedIn));
    let id: string;
    try {
      const container = await timedDocker(env.ctx, () => env.docker.createContainer(containerCreateOptions(spec)));
      id = container.id;
    } catch (err) {
      if (dockerStatus(err) === 404) throw new Refusal('drill_image_missing', `the drill image ${env.drill.image} is not on this engine (scripts/build-image.sh builds it)`);
      if (dockerStatus(err) === 409) throw new Refusal('drill_container_conflict', `a container named ${name} was created meanwhile`);
      throw dockerRefusal(err, 'create');
    }
    env.ctx.target = { ref: name, id, name };
    env.ctx.effected = true;
    try {
      await timedDocker(env.ctx, () => env.docker.getContainer(id).start());
    } catch (err) {
      throw dockerRefusal(err, 'start');
    }
    const info = await existing(env, id);
    if (!info) throw new Refusal('container_not_found', `the drill container ${name} went away right after it started`);
    return { result: drillContainerOf(info, args.drillId, args.scenario), summary: { id, existed: false, scenario: args.scenario } };
  },
});
