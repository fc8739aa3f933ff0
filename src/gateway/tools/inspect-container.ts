import { toContainerSummary } from '../docker/container-summary';
import { defineTool } from './tool';
import { InspectContainerArgs } from '../../contract/gateway';

/** Read-only: the container's facts. Scope already inspected it, so this costs no second Docker call. */
export const inspectContainer = defineTool({
  name: 'inspect_container',
  description: 'State, restart count, OOM flag, health, labels and memory limits of an opted-in container.',
  schema: InspectContainerArgs,
  mutating: false,
  execute: (_args, target) => {
    const summary = toContainerSummary(target);
    return Promise.resolve({
      result: summary,
      summary: { status: summary.status, restartCount: summary.restartCount, oomKilled: summary.oomKilled, memoryBytes: summary.memoryBytes },
    });
  },
});
