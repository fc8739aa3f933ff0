import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker } from '../helpers/stack';
import { runScenarioContainer } from '../helpers/scenario';
import type { E2eStack } from './harness';
import { closedIncident, mutatingCallsFor, runCli, startE2eStack } from './harness';
import { GatewayClient, GatewayRefusal } from '../../src/gateway-client';
import { readAgentFile } from '../../src/signing';
import type { IncidentDetail } from '../../src/cli/incident-detail';
import { ExportRecordSchema } from '../../src/contract/audit-record';

/**
 * Shadow mode on the real stack (docs/architecture.md §3, §4): with DOCKMEDIC_MODE=shadow the
 * incident decides and records what it would do, and the container is left exactly as it was;
 * the gateway refuses the worker's own mutating calls too (the second lock), audited.
 */
let stack: E2eStack;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dockmedic-shadow-'));
  stack = await startE2eStack({ DOCKMEDIC_MODE: 'shadow' });
});

after(async () => {
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

void describe('shadow mode', () => {
  void it('a failing container: the incident records the restart it would make; the container is untouched', async () => {
    const since = new Date().toISOString();
    const name = `${stack.runId}-shadowed`;
    const id = await runScenarioContainer({ name, cmd: 'exit 7', labels: { 'dockmedic.enable': 'true' } });
    const state = await closedIncident(stack.client, stack.incidentId(name), 60_000);
    assert.equal(state.outcome, 'shadow', JSON.stringify(state.notes));
    assert.equal(state.decision?.action, 'restart', 'the policy decided as always');
    assert.deepEqual(state.wouldDo?.calls, [{ tool: 'restart_container', args: { container: id } }]);

    const info = await docker().getContainer(id).inspect();
    assert.equal(info.State.Status, 'exited', 'still exited');
    assert.equal(info.RestartCount, 0);
    assert.deepEqual(mutatingCallsFor(stack.audit(), name), { restart_container: 0, start_container: 0, update_container_resources: 0 });
    assert.equal(stack.audit().filter((r) => r.tool === 'restart_container').length, 0, 'not even asked for');

    const shown = runCli(stack, ['incidents', 'show', stack.incidentId(name), '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.deepEqual((JSON.parse(shown.stdout) as IncidentDetail).wouldDo?.calls, [{ tool: 'restart_container', args: { container: id } }]);

    const out = join(dir, 'export/');
    const exported = runCli(stack, ['audit', 'export', '--since', since, '--host', stack.host, '--out', out]);
    assert.equal(exported.code, 0, exported.stderr);
    const records = readdirSync(out).map((f) => ExportRecordSchema.parse(JSON.parse(readFileSync(join(out, f), 'utf8'))));
    const record = records.find((r) => r.container === name);
    assert.equal(record?.outcome, 'shadow');
    assert.deepEqual(record?.would_do?.calls, [{ tool: 'restart_container', args: { container: id } }]);
  });

  void it("the gateway refuses the worker's own mutating call in shadow mode, audited, and nothing runs", async () => {
    const name = `${stack.runId}-direct`;
    // Not opted in, so no incident: only the direct call below could touch it.
    const id = await runScenarioContainer({ name, cmd: 'sleep 300' });
    const before = (await docker().getContainer(id).inspect()).State.StartedAt;
    const client = new GatewayClient({ baseUrl: `http://127.0.0.1:${stack.env.DOCKMEDIC_GATEWAY_PORT}`, credentials: readAgentFile(join(stack.stateDir, 'keys', 'agent.json')), timeoutMs: 10_000 });
    await assert.rejects(client.call('restart_container', { container: id }), (err: unknown) => err instanceof GatewayRefusal && err.code === 'agent_in_shadow_mode');
    const refused = stack.audit().filter((r) => r.tool === 'restart_container');
    assert.equal(refused.length, 1);
    assert.equal(refused[0]?.verdict, 'refused');
    assert.equal(refused[0]?.code, 'agent_in_shadow_mode');
    assert.equal((await docker().getContainer(id).inspect()).State.StartedAt, before, 'not restarted');
    // Reads are not refused: shadow mode still takes the facts.
    const read = await client.call('inspect_container', { container: `${stack.runId}-shadowed` });
    assert.ok(read.result);
  });
});
