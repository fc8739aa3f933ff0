import { timedDocker } from '../context';
import { dockerRefusal, dockerStatus } from '../docker/docker-errors';
import { mutationResult, mutationSummary, startedSince, stateAfter } from './after-state';
import { defineTool } from './tool';
import { StartContainerArgs } from '../../contract/gateway';

/** Mutating: start a stopped container. Already running (Docker's 304) is success: the goal state holds. */
export const startContainer = defineTool({
  name: 'start_container',
  description: 'Start a stopped opted-in container.',
  schema: StartContainerArgs,
  mutating: true,
  execute: async (_args, target, _plan, env) => {
    try {
      await timedDocker(env.ctx, () => env.docker.getContainer(target.Id).start());
    } catch (err) {
      if (dockerStatus(err) !== 304) throw dockerRefusal(err, 'start');
    }
    const result = mutationResult('start', await stateAfter(env, target.Id));
    return { result, summary: mutationSummary(result) };
  },
  recover: { afterMs: () => 20_000, tookEffect: (_args, target, at) => startedSince('start', target, at) },
});
