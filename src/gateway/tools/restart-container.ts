import { timedDocker } from '../context';
import { dockerRefusal } from '../docker/docker-errors';
import { mutationResult, mutationSummary, startedSince, stateAfter } from './after-state';
import { defineTool } from './tool';
import { RestartContainerArgs } from '../../contract/gateway';

/** Mutating: restart the container scope resolved (by id, so a renamed container cannot be swapped in). */
export const restartContainer = defineTool({
  name: 'restart_container',
  description: 'Restart an opted-in container (stop with a timeout, then start).',
  schema: RestartContainerArgs,
  mutating: true,
  execute: async (args, target, _plan, env) => {
    try {
      await timedDocker(env.ctx, () => env.docker.getContainer(target.Id).restart({ t: args.timeoutSeconds }));
    } catch (err) {
      throw dockerRefusal(err, 'restart');
    }
    const result = mutationResult('restart', await stateAfter(env, target.Id));
    return { result, summary: mutationSummary(result) };
  },
  // The stop timeout, then the start: a dead gateway's restart has finished (or never began) by then.
  recover: { afterMs: (args) => (args.timeoutSeconds + 20) * 1000, tookEffect: (_args, target, at) => startedSince('restart', target, at) },
});
