import type { ContainerInspectInfo } from 'dockerode';
import { mutationResult, mutationSummary, stateAfter } from './after-state';
import { timedDocker } from '../context';
import { dockerRefusal, dockerStatus } from '../docker/docker-errors';
import type { ToolOutcome, ToolEnv, ToolDefinition } from './tool';
import { defineTool } from './tool';
import { bareName } from '../../contract/container';
import { DrillContainerArgs } from '../../contract/drill';
import type { ToolName } from '../../contract/gateway';

/** A mutation of one of this host's drill containers, on the drill budget; scope refuses any other container. */
function drillMutation(name: ToolName, description: string, run: (target: ContainerInspectInfo, env: ToolEnv) => Promise<ToolOutcome>): ToolDefinition {
  return defineTool({ name, description, schema: DrillContainerArgs, mutating: true, budget: 'drill', target: 'drill', execute: (_args, target, _plan, env) => run(target, env) });
}

/** Remove (force, with its volumes): the end of every drill scenario, and the sweep of earlier runs. */
export const removeDrillContainer = drillMutation('remove_drill_container', "Remove one of this host's drill containers (only containers carrying the drill label).", async (target, env) => {
  try {
    await timedDocker(env.ctx, () => env.docker.getContainer(target.Id).remove({ force: true, v: true }));
  } catch (err) {
    throw dockerRefusal(err, 'remove');
  }
  env.ctx.effected = true;
  return { result: { removed: bareName(target.Name), id: target.Id }, summary: { removed: true } };
});

/** What a person's `docker stop` does, for the operator-stop scenario. */
export const stopDrillContainer = drillMutation('stop_drill_container', "Stop one of this host's drill containers, as an operator's docker stop would.", async (target, env) => {
  try {
    await timedDocker(env.ctx, () => env.docker.getContainer(target.Id).stop({ t: 2 }));
  } catch (err) {
    // 304: already stopped, which is what was asked.
    if (dockerStatus(err) !== 304) throw dockerRefusal(err, 'stop');
  }
  const result = mutationResult('stop', await stateAfter(env, target.Id));
  return { result, summary: mutationSummary(result) };
});
