import { checkContainerLogs } from './check-container-logs';
import { createDrillContainer } from './create-drill-container';
import { drillAudit } from './drill-audit';
import { drillContainerEvents } from './drill-container-events';
import { removeDrillContainer, stopDrillContainer } from './drill-container-mutations';
import { inspectContainer } from './inspect-container';
import { listDependents } from './list-dependents';
import { listDrillContainers } from './list-drill-containers';
import { postSlackPage } from './post-slack-page';
import { restartContainer } from './restart-container';
import { startContainer } from './start-container';
import type { ToolDefinition } from './tool';
import { updateContainerResources } from './update-container-resources';
import type { ToolName } from '../../contract/gateway';
import { MUTATING_TOOLS, TOOL_ARGS } from '../../contract/gateway';

/** Every tool the gateway serves, by name. Adding a tool: its schema in src/contract/gateway.ts, a file here, one line below. */
export const TOOLS: Readonly<Record<ToolName, ToolDefinition>> = {
  inspect_container: inspectContainer,
  check_container_logs: checkContainerLogs,
  restart_container: restartContainer,
  start_container: startContainer,
  update_container_resources: updateContainerResources,
  list_dependents: listDependents,
  create_drill_container: createDrillContainer,
  remove_drill_container: removeDrillContainer,
  stop_drill_container: stopDrillContainer,
  list_drill_containers: listDrillContainers,
  drill_container_events: drillContainerEvents,
  drill_audit: drillAudit,
  post_slack_page: postSlackPage,
};

export function findTool(name: string): ToolDefinition | undefined {
  return Object.prototype.hasOwnProperty.call(TOOLS, name) ? TOOLS[name as ToolName] : undefined;
}

// The registry and the wire contract must agree; a mismatch is a programming error caught at load.
for (const [name, tool] of Object.entries(TOOLS)) {
  if (tool.name !== name || tool.schema !== TOOL_ARGS[name as ToolName] || tool.mutating !== MUTATING_TOOLS.has(name as ToolName)) {
    throw new Error(`tool registry disagrees with src/contract/gateway.ts for ${name}`);
  }
}
