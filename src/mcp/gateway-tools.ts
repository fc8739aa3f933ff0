import { randomUUID } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { ToolArgs, ToolName } from '../contract/gateway';
import { MUTATING_TOOLS, TOOL_ARGS } from '../contract/gateway';
import type { GatewayClient } from '../gateway-client';
import { GatewayRefusal, GatewayUnavailable } from '../gateway-client';
import { toolError, toolResult } from './tool-result';

/**
 * The gateway's container tools as MCP tools (docs/architecture.md §4). Each is the gateway's own
 * tool: its name, its zod schema (TOOL_ARGS) and whether it mutates (MUTATING_TOOLS) come from
 * src/contract/gateway.ts; only what MCP adds is here: a title, a description for MCP clients,
 * and the hints MCP clients show people before a call. The drill tools are never served.
 */
interface McpGatewayTool {
  title: string;
  description: string;
  /** `readOnlyHint` is not set here: it is the contract's `!MUTATING_TOOLS.has(name)`. */
  hints: Pick<ToolAnnotations, 'destructiveHint' | 'idempotentHint'>;
}

const SCOPE = 'Only containers labelled dockmedic.enable=true and not part of the dockmedic stack; any other is refused by the gateway with a stable code.';

export const MCP_GATEWAY_TOOLS = {
  inspect_container: {
    title: 'Inspect a container',
    description: `Read-only. Docker state of a container: status, exit code, OOM flag, health, restart count, restart policy, memory limits, labels. ${SCOPE}`,
    hints: { destructiveHint: false, idempotentHint: true },
  },
  check_container_logs: {
    title: 'Read container logs',
    description: `Read-only. The last \`tail\` log lines of a container (capped by the gateway, control characters stripped, secrets redacted). ${SCOPE}`,
    hints: { destructiveHint: false, idempotentHint: true },
  },
  restart_container: {
    title: 'Restart a container',
    description: `Mutating. Restart a container (stop with a timeout, then start). Counted against this agent's and the container's mutating windows. ${SCOPE}`,
    hints: { destructiveHint: true, idempotentHint: false },
  },
  start_container: {
    title: 'Start a container',
    description: `Mutating. Start a stopped container; a running one is left as it is. ${SCOPE}`,
    hints: { destructiveHint: false, idempotentHint: true },
  },
  update_container_resources: {
    title: 'Raise a memory limit',
    description: `Mutating. Raise a container's memory limit: only upward, at most ×DOCKMEDIC_MEMORY_MAX_FACTOR and within the ceiling; swap keeps its policy. ${SCOPE}`,
    hints: { destructiveHint: false, idempotentHint: true },
  },
} as const satisfies Partial<Record<ToolName, McpGatewayTool>>;
export type McpGatewayToolName = keyof typeof MCP_GATEWAY_TOOLS;

/** The hints as MCP clients see them; the gateway's tools act on the local engine only (a closed world). */
export function gatewayToolAnnotations(name: McpGatewayToolName): ToolAnnotations {
  return { readOnlyHint: !MUTATING_TOOLS.has(name), ...MCP_GATEWAY_TOOLS[name].hints, openWorldHint: false };
}

/** A gateway call's outcome as an MCP result: a refusal is an error result carrying its stable code; nothing ran. */
export async function callGatewayTool<T extends McpGatewayToolName>(gateway: GatewayClient, name: T, args: ToolArgs<T>): Promise<ReturnType<typeof toolResult>> {
  try {
    // A fresh key per MCP call: the MCP server never retries, but the audit then records the call as one logical action.
    const res = await gateway.call(name, args, MUTATING_TOOLS.has(name) ? { idempotencyKey: `mcp/${randomUUID()}` } : {});
    return toolResult({ result: res.result, requestId: res.requestId, replayed: res.replayed });
  } catch (err) {
    if (err instanceof GatewayRefusal) {
      const message = err.message.startsWith(`${err.code}: `) ? err.message.slice(err.code.length + 2) : err.message;
      return toolError({ error: { code: err.code, message, ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}) }, ...(err.requestId ? { requestId: err.requestId } : {}) });
    }
    if (err instanceof GatewayUnavailable) return toolError({ error: { code: 'gateway_unavailable', message: err.message } });
    throw err;
  }
}

/**
 * Register the gateway tools: the read-only ones always, the mutating ones only when
 * `allowMutating` (DOCKMEDIC_MCP_ALLOW_MUTATING=true). A tool that is not registered is not listed
 * and cannot be called.
 */
export function registerGatewayTools(server: McpServer, gateway: GatewayClient, opts: { allowMutating: boolean }): void {
  for (const name of Object.keys(MCP_GATEWAY_TOOLS) as McpGatewayToolName[]) {
    if (MUTATING_TOOLS.has(name) && !opts.allowMutating) continue;
    const tool = MCP_GATEWAY_TOOLS[name];
    server.registerTool(
      name,
      { title: tool.title, description: tool.description, inputSchema: TOOL_ARGS[name], annotations: gatewayToolAnnotations(name) },
      (args: unknown) => callGatewayTool(gateway, name, args as ToolArgs<typeof name>),
    );
  }
}
