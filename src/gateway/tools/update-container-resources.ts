import type { MemoryUpdatePlan } from '../bounds';
import { planMemoryUpdate } from '../bounds';
import { timedDocker } from '../context';
import { dockerRefusal } from '../docker/docker-errors';
import { mutationResult, mutationSummary, stateAfter } from './after-state';
import { defineTool } from './tool';
import { UpdateContainerResourcesArgs } from '../../contract/gateway';

/**
 * Mutating: raise the memory limit within bounds. Memory and swap are sent together — this
 * engine refuses a memory update alone when a swap limit (including unlimited, -1) is set.
 */
export const updateContainerResources = defineTool({
  name: 'update_container_resources',
  description: 'Raise the memory limit of an opted-in container (only upward, at most ×maxFactor, at most the ceiling); swap policy kept.',
  schema: UpdateContainerResourcesArgs,
  mutating: true,
  plan: (args, target, env): MemoryUpdatePlan =>
    planMemoryUpdate({ memoryBytes: target.HostConfig.Memory ?? 0, memorySwapBytes: target.HostConfig.MemorySwap ?? 0 }, args.memoryBytes, env.bounds),
  execute: async (_args, target, plan: MemoryUpdatePlan, env) => {
    const body: { Memory: number; MemorySwap?: number } = { Memory: plan.memoryBytes };
    if (plan.memorySwapBytes !== undefined) body.MemorySwap = plan.memorySwapBytes;
    try {
      await timedDocker(env.ctx, () => env.docker.getContainer(target.Id).update(body));
    } catch (err) {
      throw dockerRefusal(err, 'update');
    }
    const result = mutationResult('update_resources', await stateAfter(env, target.Id), plan.before);
    return { result, summary: mutationSummary(result) };
  },
});
