import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { GatewayClient } from '../gateway-client';
import type { AgentCredentials } from '../signing';
import { connectTemporal } from '../runtime/temporal';
import { registerGatewayTools } from './gateway-tools';
import { registerIncidentTools } from './incident-tools';

/** What every MCP session shares: the gateway client signing as the MCP agent, and one Temporal connection. */
export interface McpDeps {
  config: Config;
  gateway: GatewayClient;
  allowMutating: boolean;
  temporal: () => Promise<Client>;
  close: () => Promise<void>;
}

export function createMcpDeps(config: Config, credentials: AgentCredentials): McpDeps {
  let temporal: Promise<Client> | null = null;
  return {
    config,
    gateway: new GatewayClient({ baseUrl: config.gateway.url, credentials, timeoutMs: 30_000 }),
    allowMutating: config.mcp.allowMutating,
    // Connected on first use and kept; a failed connection is tried again by the next call.
    temporal: () => {
      temporal ??= connectTemporal(config).catch((err: unknown) => {
        temporal = null;
        throw err;
      });
      return temporal;
    },
    close: async () => {
      if (temporal) await (await temporal.catch(() => null))?.connection.close();
    },
  };
}

/** One MCP server with dockmedic's tools (docs/architecture.md §4). */
export function createMcpServer(deps: McpDeps): McpServer {
  const server = new McpServer({ name: 'dockmedic', version: process.env.npm_package_version ?? '0.1.0' }, { capabilities: { tools: {} } });
  registerGatewayTools(server, deps.gateway, { allowMutating: deps.allowMutating });
  registerIncidentTools(server, { config: deps.config, temporal: deps.temporal }, { allowMutating: deps.allowMutating });
  return server;
}
