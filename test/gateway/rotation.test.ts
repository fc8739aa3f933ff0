import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { readAgentFile, retireKey, rotateKey } from '../../src/gateway/key-files';
import { GatewayClient, GatewayRefusal } from '../../src/gateway-client';
import type { AgentCredentials, GatewayKeys } from '../../src/signing';
import { repoRoot } from '../helpers/paths';
import { GatewayFixture } from './helpers/fixture';

/**
 * Key rotation: two live keys of one agent both verify; `keys rotate` adds a live key the
 * gateway accepts without a restart while the old one still works; a retired key is refused
 * with key_retired. The CLI never prints a secret.
 */
let f: GatewayFixture;

const inspect = (cred: AgentCredentials) =>
  new GatewayClient({ baseUrl: f.url, credentials: cred }).call('inspect_container', { container: f.containers.name('target') });

async function refusalCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (err) {
    if (err instanceof GatewayRefusal) return err.code;
    throw err;
  }
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), ...args, '--keys-file', f.keysFile, '--agent-file', f.agentFile], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  f = await GatewayFixture.start({ suite: 'rotation', agents: { worker: 2 } });
  await f.containers.run('target');
});

after(() => f?.close());

void it('two live keys of one agent both verify, and the audit names the key used', async () => {
  const a = await inspect(f.cred('worker-k1'));
  const b = await inspect(f.cred('worker-k2'));
  assert.equal(f.auditFor(a.requestId)?.keyId, 'worker-k1');
  assert.equal(f.auditFor(b.requestId)?.keyId, 'worker-k2');
  assert.equal(f.auditFor(b.requestId)?.agent, 'worker');
});

void it('rotate: refused while two keys are live; after retiring one, the new key and the old live key both verify', async () => {
  assert.throws(() => rotateKey({ keysFile: f.keysFile, agentFile: f.agentFile }), /two live keys/);
  retireKey({ keysFile: f.keysFile, agentFile: f.agentFile }, 'worker-k2');
  const r = cli(['keys', 'rotate']);
  assert.equal(r.status, 0, r.stderr);
  const agent = readAgentFile(f.agentFile);
  assert.notEqual(agent.keyId, 'worker-k1');
  assert.equal((statSync(f.agentFile).mode & 0o777).toString(8), '600');
  assert.equal((statSync(f.keysFile).mode & 0o777).toString(8), '600');
  // The running gateway picks up the new key without a restart; the previous key still verifies.
  assert.equal(await refusalCode(inspect(agent)), 'accepted');
  assert.equal(await refusalCode(inspect(f.cred('worker-k1'))), 'accepted');
});

void it('a retired key is refused with key_retired; retiring the key the agent signs with needs --force', async () => {
  assert.equal(await refusalCode(inspect(f.cred('worker-k2'))), 'key_retired');
  const current = readAgentFile(f.agentFile);
  const refused = cli(['keys', 'retire', current.keyId]);
  assert.equal(refused.status, 2, 'refused as bad input: nothing retired');
  assert.match(refused.stderr, /^error: /);
  assert.ok(!refused.stderr.includes('    at '), 'no stack trace for an expected error');
  const ok = cli(['keys', 'retire', 'worker-k1']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(await refusalCode(inspect(f.cred('worker-k1'))), 'key_retired');
  assert.equal(await refusalCode(inspect(current)), 'accepted');
  const record = f.audit().at(-2);
  assert.equal(record?.code, 'key_retired');
  assert.equal(record?.keyId, 'worker-k1');
});

void it('keys list shows ids and status, never a secret', () => {
  const out = cli(['keys', 'list', '--json']);
  assert.equal(out.status, 0, out.stderr);
  const rows = JSON.parse(out.stdout) as { keyId: string; status: string; inUse: boolean }[];
  assert.equal(rows.filter((r) => r.status === 'live').length, 1);
  assert.equal(rows.filter((r) => r.inUse).length, 1);
  const keys = JSON.parse(readFileSync(f.keysFile, 'utf8')) as GatewayKeys;
  const table = cli(['keys', 'list']).stdout;
  for (const k of keys.agents.worker ?? []) {
    assert.ok(!out.stdout.includes(k.secret) && !table.includes(k.secret), 'no secret printed');
    assert.ok(table.includes(k.keyId));
  }
});

void it('rotate after the current key was force-retired: the previous key is reported as retired, not live', () => {
  const current = readAgentFile(f.agentFile);
  retireKey({ keysFile: f.keysFile, agentFile: f.agentFile }, current.keyId, { force: true });
  const r = rotateKey({ keysFile: f.keysFile, agentFile: f.agentFile });
  assert.equal(r.previousKeyId, current.keyId);
  assert.equal(r.previousLive, false);
  assert.equal(readAgentFile(f.agentFile).keyId, r.keyId);
});
