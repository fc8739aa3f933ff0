import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { TOOL_ARGS } from '../../src/contract/gateway';
import type { ContainerSummary, LogsResult, MutationResult } from '../../src/contract/gateway';
import type { IncidentState } from '../../src/contract/incident';
import type { IncidentDetail } from '../../src/cli/incident-detail';
import type { McpToolError } from '../../src/mcp/tool-result';
import { repoRoot } from '../helpers/paths';
import type { Spawned } from '../helpers/processes';
import { spawnDockmedic } from '../helpers/processes';
import { runScenarioContainer } from '../helpers/scenario';
import { docker } from '../helpers/stack';
import type { E2eStack } from './harness';
import { closedIncident, runCli, startE2eStack, waitUntil } from './harness';

/**
 * `dockmedic mcp` (docs/architecture.md §4) on the real stack, driven by the MCP SDK's own
 * client over both transports: what is listed, reads of real containers, refusals with the
 * gateway's codes under the MCP server's own agent, the respond signal, and the HTTP
 * transport's token and Host checks.
 */

const IDLE = 'echo mcp-hello; trap "exit 0" TERM; sleep 100000 & wait';
const READ_TOOLS = ['check_container_logs', 'inspect_container', 'list_incidents', 'show_incident'];
const MUTATING_TOOLS = ['respond_incident', 'restart_container', 'start_container', 'update_container_resources'];

let stack: E2eStack;
let mcpAgent: string;
let web: { name: string; id: string };
let outside: { name: string; id: string };
const clients: Client[] = [];
const servers: Spawned[] = [];

function mcpEnv(extra: NodeJS.ProcessEnv = {}): Record<string, string> {
  const env = { ...process.env, ...stack.env, DOCKMEDIC_MCP_AGENT_ID: mcpAgent, ...extra };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** `dockmedic mcp` over stdio, spawned by the SDK's own client transport. */
async function stdioClient(extra: NodeJS.ProcessEnv = {}): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [join(repoRoot, 'dist/src/cli/main.js'), 'mcp'], env: mcpEnv(extra), stderr: 'pipe' });
  const client = new Client({ name: 'dockmedic-e2e', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function structured<T>(r: CallToolResult): T {
  assert.ok(r.structuredContent, `structured content in ${JSON.stringify(r)}`);
  return r.structuredContent as T;
}

function mcpRecords() {
  return stack.audit().filter((r) => r.agent === mcpAgent);
}

describe('dockmedic mcp', { timeout: 300_000 }, () => {
  before(async () => {
    // A long first level: the escalated incident below waits for the MCP answer.
    stack = await startE2eStack({ DOCKMEDIC_LADDER: 'level-1:120' });
    mcpAgent = `mcp-${stack.runId}`;
    web = { name: `${stack.runId}-mcp-web`, id: '' };
    outside = { name: `${stack.runId}-mcp-outside`, id: '' };
    web.id = await runScenarioContainer({ name: web.name, cmd: IDLE, memory: 64 * 1024 * 1024, labels: { 'dockmedic.enable': 'true' } });
    outside.id = await runScenarioContainer({ name: outside.name, cmd: IDLE });
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const s of servers) await s.stop();
    await stack?.close();
  });

  it('stdio: read-only tools by default, with the gateway schemas; a read returns the container’s real state, signed as the MCP agent', async () => {
    const client = await stdioClient();
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), READ_TOOLS);
    const inspect = tools.find((t) => t.name === 'inspect_container')!;
    assert.deepEqual(inspect.annotations, { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false });
    // The gateway's own zod schema, as JSON Schema: nothing copied by hand.
    const { $schema: _a, ...fromContract } = z.toJSONSchema(TOOL_ARGS.check_container_logs, { io: 'input' }) as Record<string, unknown>;
    const { $schema: _b, ...listed } = tools.find((t) => t.name === 'check_container_logs')!.inputSchema as Record<string, unknown>;
    assert.deepEqual(listed, fromContract);

    const r = await call(client, 'inspect_container', { container: web.name });
    assert.ok(!r.isError, JSON.stringify(r));
    const { result, requestId } = structured<{ result: ContainerSummary; requestId: string }>(r);
    const real = await docker().getContainer(web.id).inspect();
    assert.equal(result.id, real.Id);
    assert.equal(result.running, true);
    assert.equal(result.memoryBytes, real.HostConfig.Memory);
    assert.equal(result.restartCount, real.RestartCount);
    assert.equal(result.startedAt, real.State.StartedAt);
    const logs = structured<{ result: LogsResult }>(await call(client, 'check_container_logs', { container: web.name, tail: 5 }));
    assert.ok(logs.result.lines.some((l) => l.includes('mcp-hello')), JSON.stringify(logs.result));

    // Its own agent: its own key file, its key in the gateway's keys file, its own audit records.
    const agentFile = join(stack.stateDir, 'keys', 'mcp-agent.json');
    assert.equal(statSync(agentFile).mode & 0o777, 0o600);
    const agent = JSON.parse(readFileSync(agentFile, 'utf8')) as { agentId: string; keyId: string };
    assert.equal(agent.agentId, mcpAgent);
    const keys = JSON.parse(readFileSync(join(stack.stateDir, 'keys', 'gateway-keys.json'), 'utf8')) as { agents: Record<string, { keyId: string }[]> };
    assert.ok(keys.agents[mcpAgent]?.some((k) => k.keyId === agent.keyId), 'its key is in the gateway keys file');
    assert.ok(Object.keys(keys.agents).length >= 2, 'the worker keeps its own agent');
    const rec = stack.audit().find((x) => x.requestId === requestId);
    assert.equal(rec?.agent, mcpAgent);
    assert.equal(rec?.keyId, agent.keyId);
    assert.equal(rec?.verdict, 'allowed');

    // A second server finds its key and keeps it (idempotent).
    const again = await stdioClient();
    assert.ok(!(await call(again, 'inspect_container', { container: web.name })).isError);
    assert.equal((JSON.parse(readFileSync(agentFile, 'utf8')) as { keyId: string }).keyId, agent.keyId);
  });

  it('stdio: a container out of scope or unknown → an error result with the gateway code, audited under the MCP agent; mutating tools cannot be called', async () => {
    const client = await stdioClient();
    const refused = await call(client, 'inspect_container', { container: outside.name });
    assert.equal(refused.isError, true);
    const err = structured<McpToolError>(refused);
    assert.equal(err.error.code, 'container_not_opted_in');
    const rec = stack.audit().find((x) => x.requestId === err.requestId);
    assert.equal(rec?.agent, mcpAgent);
    assert.equal(rec?.verdict, 'refused');
    assert.equal(rec?.code, 'container_not_opted_in');

    const unknown = await call(client, 'inspect_container', { container: `${stack.runId}-no-such-container` });
    assert.equal(unknown.isError, true);
    assert.equal(structured<McpToolError>(unknown).error.code, 'container_not_found');

    // Not listed, so not callable: nothing reaches the gateway.
    const before = mcpRecords().length;
    const restart = await call(client, 'restart_container', { container: web.name });
    assert.equal(restart.isError, true);
    assert.equal(mcpRecords().length, before, 'no gateway call');
    assert.equal((await docker().getContainer(web.id).inspect()).RestartCount, 0);

    // Arguments outside the gateway's schema are refused by the SDK before any call.
    const invalid = await call(client, 'inspect_container', { container: '../etc', extra: 1 });
    assert.equal(invalid.isError, true);
    assert.equal(mcpRecords().length, before, 'no gateway call');

    // No gateway: a stable code, not a crash.
    const offline = await stdioClient({ DOCKMEDIC_GATEWAY_URL: 'http://127.0.0.1:1' });
    const down = await call(offline, 'inspect_container', { container: web.name });
    assert.equal(structured<McpToolError>(down).error.code, 'gateway_unavailable');
  });

  it('stdio with DOCKMEDIC_MCP_ALLOW_MUTATING=true: mutating tools listed; out of scope refused, nothing executed; in scope restarted on the MCP agent’s budget', async () => {
    const client = await stdioClient({ DOCKMEDIC_MCP_ALLOW_MUTATING: 'true' });
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [...READ_TOOLS, ...MUTATING_TOOLS].sort());
    assert.deepEqual(tools.find((t) => t.name === 'restart_container')!.annotations, { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false });

    const startedAt = (await docker().getContainer(outside.id).inspect()).State.StartedAt;
    const refused = await call(client, 'restart_container', { container: outside.name });
    assert.equal(refused.isError, true);
    const err = structured<McpToolError>(refused);
    assert.equal(err.error.code, 'container_not_opted_in');
    const info = await docker().getContainer(outside.id).inspect();
    assert.equal(info.State.StartedAt, startedAt, 'not restarted');
    const rec = stack.audit().find((x) => x.requestId === err.requestId);
    assert.equal(rec?.agent, mcpAgent);
    assert.equal(rec?.tool, 'restart_container');
    assert.equal(rec?.verdict, 'refused');

    const target = await runScenarioContainer({ name: `${stack.runId}-mcp-restart`, cmd: IDLE, labels: { 'dockmedic.enable': 'true' } });
    const before = (await docker().getContainer(target).inspect()).State.StartedAt;
    const ok = await call(client, 'restart_container', { container: `${stack.runId}-mcp-restart`, timeoutSeconds: 1 });
    assert.ok(!ok.isError, JSON.stringify(ok));
    const { result, requestId } = structured<{ result: MutationResult; requestId: string }>(ok);
    assert.equal(result.after.running, true);
    assert.notEqual((await docker().getContainer(target).inspect()).State.StartedAt, before, 'restarted');
    const allowed = stack.audit().find((x) => x.requestId === requestId);
    assert.equal(allowed?.agent, mcpAgent);
    assert.equal(allowed?.verdict, 'allowed');
    assert.ok(allowed?.idempotencyKey?.startsWith('mcp/'));
  });

  it('incident tools: show_incident and list_incidents as the CLI shows them; respond_incident sends respond as mcp:<by>, only when the incident waits', async () => {
    const client = await stdioClient({ DOCKMEDIC_MCP_ALLOW_MUTATING: 'true' });
    const name = `${stack.runId}-mcp-loop`;
    await runScenarioContainer({ name, cmd: 'exit 1', restart: 'always', labels: { 'dockmedic.enable': 'true' } });
    const id = stack.incidentId(name);
    const waiting = await waitUntil(
      'the crash loop to escalate',
      async () => {
        const r = await call(client, 'show_incident', { id });
        if (r.isError) return null;
        const d = structured<IncidentDetail>(r);
        return d.pendingEscalation ? d : null;
      },
      90_000,
      500,
    );
    assert.equal(waiting.decisionDetail?.rule, 'crashloop');
    assert.ok(waiting.pendingEscalation?.waitingFor.includes('reject'));
    const cli = JSON.parse(runCli(stack, ['incidents', 'show', id, '--json']).stdout) as IncidentDetail;
    assert.deepEqual({ id: waiting.id, runId: waiting.runId, container: waiting.container, rule: waiting.rule, uiUrl: waiting.uiUrl }, { id: cli.id, runId: cli.runId, container: cli.container, rule: cli.rule, uiUrl: cli.uiUrl });
    const listed = structured<{ incidents: { id: string; runId: string }[] }>(await call(client, 'list_incidents', { container: name }));
    assert.deepEqual(listed.incidents.map((i) => i.runId), [waiting.runId]);

    const sent = await call(client, 'respond_incident', { id, action: 'reject', by: 'alice', comment: 'via mcp' });
    assert.ok(!sent.isError, JSON.stringify(sent));
    assert.equal(structured<{ sent: { by: string } }>(sent).sent.by, 'mcp:alice');
    const state: IncidentState = await closedIncident(stack.client, id, 60_000);
    assert.equal(state.outcome, 'rejected');
    assert.deepEqual(state.responses.map((r) => [r.action, r.by, r.comment]), [['reject', 'mcp:alice', 'via mcp']]);

    const closed = await call(client, 'respond_incident', { id, action: 'reject', by: 'alice' });
    assert.equal(structured<McpToolError>(closed).error.code, 'not_waiting');
    const unknown = await call(client, 'show_incident', { id: `incident-${stack.runId}-nothing-here` });
    assert.equal(structured<McpToolError>(unknown).error.code, 'incident_not_found', JSON.stringify(unknown));
  });

  it('Streamable HTTP: bearer token from the state dir (401 without or wrong), Host header checked, same tools and reads', async () => {
    const server = spawnDockmedic(`mcp-http-${stack.runId}`, ['mcp', '--http', '--port', '0'], mcpEnv());
    servers.push(server);
    await server.waitFor(/mcp listening/);
    const line = server.output().split('\n').find((l) => l.includes('mcp listening'))!;
    const { url } = JSON.parse(line) as { url: string };
    const tokenFile = join(stack.stateDir, 'keys', 'mcp-token');
    assert.ok(existsSync(tokenFile));
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();
    assert.ok(!server.output().includes(token), 'the token is never logged');

    const client = new Client({ name: 'dockmedic-e2e-http', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    clients.push(client);
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), READ_TOOLS);
    const r = await call(client, 'inspect_container', { container: web.name });
    assert.equal(structured<{ result: ContainerSummary }>(r).result.id, web.id);
    const refused = await call(client, 'inspect_container', { container: outside.name });
    assert.equal(structured<McpToolError>(refused).error.code, 'container_not_opted_in');

    // The SDK's client with a wrong token cannot connect.
    const wrong = new Client({ name: 'dockmedic-e2e-wrong', version: '1.0.0' });
    await assert.rejects(wrong.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: 'Bearer not-the-token-0123456789abcdef0123' } } })));

    const u = new URL(url);
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'inspect_container', arguments: { container: web.name } } });
    const post = (headers: Record<string, string>) =>
      new Promise<{ status: number; json: { error?: { code?: string } } }>((resolve, reject) => {
        const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as { error?: { code?: string } } }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const before = mcpRecords().length;
    const none = await post({});
    assert.deepEqual([none.status, none.json.error?.code], [401, 'missing_token']);
    const bad = await post({ authorization: `Bearer ${token.slice(0, -1)}x` });
    assert.deepEqual([bad.status, bad.json.error?.code], [401, 'bad_token']);
    // DNS rebinding: the right token but a Host this server does not answer to.
    const rebound = await post({ authorization: `Bearer ${token}`, host: `attacker.example:${u.port}` });
    assert.equal(rebound.status, 403);
    assert.equal(mcpRecords().length, before, 'none of them reached the gateway');
    const good = await post({ authorization: `Bearer ${token}`, host: `localhost:${u.port}` });
    assert.equal(good.status, 200);
    assert.equal(mcpRecords().length, before + 1);
  });
});
