import { timedDocker } from '../context';
import { dockerRefusal } from '../docker/docker-errors';
import { defineHostTool } from './tool';
import type { DrillContainerInfo } from '../../contract/drill';
import { DRILL_HOST_LABEL, DRILL_LABEL, DRILL_SCENARIO_LABEL, ListDrillContainersArgs } from '../../contract/drill';

/** Read-only: this host's drill containers, for the sweep of what an earlier drill left behind. */
export const listDrillContainers = defineHostTool({
  name: 'list_drill_containers',
  description: "This host's drill containers (any drill, any state).",
  schema: ListDrillContainersArgs,
  mutating: false,
  target: 'none',
  execute: async (_args, env) => {
    let list;
    try {
      list = await timedDocker(env.ctx, () => env.docker.listContainers({ all: true, filters: { label: [DRILL_LABEL, `${DRILL_HOST_LABEL}=${env.drill.host}`] } }));
    } catch (err) {
      throw dockerRefusal(err, 'list');
    }
    const containers: DrillContainerInfo[] = list.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      drillId: c.Labels[DRILL_LABEL] ?? '',
      scenario: c.Labels[DRILL_SCENARIO_LABEL] ?? '',
      state: c.State,
      createdAt: new Date(c.Created * 1000).toISOString(),
    }));
    return { result: { containers }, summary: { containers: containers.length } };
  },
});
