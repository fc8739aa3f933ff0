import type { Command } from 'commander';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { loadConfig } from '../../config';
import { ensureAgentKey, readAgentFile } from '../../gateway/key-files';
import { startMcpHttp } from '../../mcp/http';
import { createMcpDeps, createMcpServer } from '../../mcp/server';
import { ensureMcpToken } from '../../mcp/token';
import { createLog, onShutdownSignal } from '../../runtime/log';
import { nonNegativeInt } from '../options';

/**
 * `dockmedic mcp [--http [--port N] [--host H]]`: dockmedic's tools for MCP clients
 * (docs/architecture.md §4). Every gateway call is signed as the MCP server's own agent.
 * stdout is the stdio transport's channel, so everything else goes to stderr.
 */
export function registerMcp(program: Command): void {
  program
    .command('mcp')
    .description('Serve dockmedic tools over MCP (stdio by default; --http for Streamable HTTP with a bearer token)')
    .option('--http', 'serve Streamable HTTP at /mcp instead of stdio')
    .option('--port <n>', 'HTTP port (default DOCKMEDIC_MCP_PORT or 7803; 0 = a free port)', nonNegativeInt('--port'))
    .option('--host <host>', 'HTTP listen address (default DOCKMEDIC_MCP_HOST or 127.0.0.1)')
    .addHelpText(
      'after',
      `
Tools: inspect_container, check_container_logs, list_incidents, show_incident; with
DOCKMEDIC_MCP_ALLOW_MUTATING=true also restart_container, start_container,
update_container_resources and respond_incident. Gateway calls are signed as the agent
DOCKMEDIC_MCP_AGENT_ID (default mcp) with its own key, DOCKMEDIC_MCP_AGENT_KEY_FILE
(default <state>/keys/mcp-agent.json), added to the gateway's keys file on first start.
HTTP clients send Authorization: Bearer <token>, the token in DOCKMEDIC_MCP_TOKEN_FILE
(default <state>/keys/mcp-token, created 0600 on first use). See README: Connect an MCP client.`,
    )
    .action(async (opts: { http?: boolean; port?: number; host?: string }) => {
      const config = loadConfig();
      const log = createLog('mcp');
      const key = ensureAgentKey({ keysFile: config.gateway.keysFile, agentFile: config.mcp.agentKeyFile }, config.mcp.agentId);
      if (key.created) log({ msg: 'agent key created', agentId: key.agentId, keyId: key.keyId, agentFile: config.mcp.agentKeyFile });
      const deps = createMcpDeps(config, readAgentFile(config.mcp.agentKeyFile));
      const started = { agentId: key.agentId, keyId: key.keyId, gateway: config.gateway.url, mutating: deps.allowMutating };
      if (opts.http) {
        const token = ensureMcpToken(config.mcp.tokenFile);
        const http = await startMcpHttp(deps, { host: opts.host ?? config.mcp.host, port: opts.port ?? config.mcp.port, token: token.token, log });
        log({ msg: 'mcp listening', url: http.url, allowedHosts: http.allowedHosts, tokenFile: config.mcp.tokenFile, tokenCreated: token.created, ...started });
        onShutdownSignal(async () => {
          await http.close();
          await deps.close();
        });
        return;
      }
      const server = createMcpServer(deps);
      await server.connect(new StdioServerTransport());
      log({ msg: 'mcp serving on stdio', ...started });
      const stop = async () => {
        await server.close();
        await deps.close();
      };
      // The client closing our stdin ends the session; nothing else would end the process.
      process.stdin.once('end', () => void stop().finally(() => process.exit(0)));
      onShutdownSignal(stop);
    });
}
