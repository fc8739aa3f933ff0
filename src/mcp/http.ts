import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Log } from '../runtime/log';
import type { McpDeps } from './server';
import { createMcpServer } from './server';
import { bearerRefusal } from './token';

/** Bodies above this are answered 413 by the transport before anything is parsed (tool arguments are small). */
const MAX_BODY_BYTES = 1024 * 1024;
export const MCP_PATH = '/mcp';

export interface RunningMcpHttp {
  url: string;
  allowedHosts: string[];
  close: () => Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/**
 * The Host header values a request may carry (DNS-rebinding protection, docs/architecture.md §4):
 * the loopback names with the port, and the bound address itself unless it is a wildcard.
 */
export function allowedHostsFor(bindHost: string, port: number): string[] {
  const names = ['127.0.0.1', 'localhost', '[::1]'];
  if (!['0.0.0.0', '::', '[::]'].includes(bindHost)) names.push(bindHost.includes(':') && !bindHost.startsWith('[') ? `[${bindHost}]` : bindHost);
  return [...new Set(names)].map((n) => `${n}:${port}`);
}

/**
 * Streamable HTTP at `POST /mcp`, stateless: each request gets its own server and transport, so
 * sessions hold nothing between calls. Order: path → bearer token (401) → the SDK transport,
 * which checks the Host header (403) and the body size (413) before it parses anything.
 */
export async function startMcpHttp(deps: McpDeps, opts: { host: string; port: number; token: string; log: Log }): Promise<RunningMcpHttp> {
  const allowedHosts: string[] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== MCP_PATH) return sendJson(res, 404, { error: { code: 'not_found', message: `the MCP endpoint is ${MCP_PATH}` } });
    const refusal = bearerRefusal(req, opts.token);
    if (refusal) {
      opts.log({ level: 'warn', msg: 'refused', code: refusal.code, remote: req.socket.remoteAddress ?? null });
      return sendJson(res, 401, { error: refusal }, { 'www-authenticate': 'Bearer' });
    }
    if (req.method !== 'POST') return sendJson(res, 405, { error: { code: 'method_not_allowed', message: 'stateless server: POST JSON-RPC messages to /mcp' } }, { allow: 'POST' });
    const server = createMcpServer(deps);
    // The transport's own Host check (docs/architecture.md §4). The SDK now points to its express
    // middleware instead; this server is plain node:http, and the check is the same.
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
      enableDnsRebindingProtection: true,
      allowedHosts,
      maxRequestBodySize: MAX_BODY_BYTES,
    });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  };
  const http: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.log({ level: 'error', msg: 'request failed', error: (err as Error).message });
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal_error', message: 'the MCP request failed' } });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, opts.host, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  // Filled in place: the transports read this same array, and the port is known only now (0 = any free port).
  allowedHosts.push(...allowedHostsFor(opts.host, port));
  const shown = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${shown}:${port}${MCP_PATH}`,
    allowedHosts,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
