/**
 * `dockmedic keys init` is the one way key pairs are made (setup and the compose file's
 * keys-init run it): interrupted runs are completed, loosened modes tightened, and a half pair
 * it cannot complete is refused without writing anything.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initKeys } from '../../src/gateway/key-files';
import { readAgentFile, readGatewayKeysFile } from '../../src/signing';
import { repoRoot } from '../helpers/paths';

const CLI = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function paths(): { keysFile: string; agentFile: string; state: string } {
  const state = mkdtempSync(join(tmpdir(), 'dockmedic-keys-init-'));
  dirs.push(state);
  return { state, keysFile: join(state, 'keys', 'gateway-keys.json'), agentFile: join(state, 'keys', 'agent.json') };
}

const mode = (f: string) => statSync(f).mode & 0o777;

void describe('keys init', () => {
  void it('--json says whether it created the pair, and a second run changes nothing', () => {
    const p = paths();
    const run = () => spawnSync(process.execPath, [CLI, 'keys', 'init', '--json'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', DOCKMEDIC_STATE_DIR: p.state } });
    const first = run();
    assert.equal(first.status, 0, first.stderr);
    const a = JSON.parse(first.stdout) as { created: boolean; agentId: string; keyId: string };
    assert.equal(a.created, true);
    assert.equal(a.agentId, 'dockmedic-worker');
    assert.equal(readAgentFile(p.agentFile).keyId, a.keyId);
    const second = run();
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(JSON.parse(second.stdout), { ...a, created: false });
    assert.deepEqual(readdirSync(join(p.state, 'keys')).sort(), ['agent.json', 'gateway-keys.json']);
  });

  void it('tightens files someone loosened to 0600, content untouched', () => {
    const p = paths();
    const made = initKeys(p);
    chmodSync(p.keysFile, 0o644);
    chmodSync(p.agentFile, 0o664);
    const again = initKeys(p);
    assert.equal(again.created, false);
    assert.equal(again.keyId, made.keyId);
    assert.equal(mode(p.keysFile), 0o600);
    assert.equal(mode(p.agentFile), 0o600);
  });

  void it('completes a run interrupted between its two renames (agent file written, keys file still pending)', () => {
    const p = paths();
    const made = initKeys(p);
    // What an interruption right after the agent file's rename leaves behind.
    renameSync(p.keysFile, `${p.keysFile}.tmp`);
    const again = initKeys(p);
    assert.equal(again.created, false);
    assert.equal(again.keyId, made.keyId);
    const agent = readAgentFile(p.agentFile);
    const keys = readGatewayKeysFile(p.keysFile);
    assert.equal(keys.agents[agent.agentId]?.[0]?.secret, agent.secret, 'both halves hold the same key');
    assert.equal(existsSync(`${p.keysFile}.tmp`), false);
  });

  void it('a half pair it cannot complete is refused and nothing is written', () => {
    const p = paths();
    mkdirSync(join(p.state, 'keys'));
    writeFileSync(p.agentFile, JSON.stringify({ agentId: 'w', keyId: 'k1', secret: 'a'.repeat(64) }));
    // A pending file holding another key does not complete this agent file.
    writeFileSync(`${p.keysFile}.tmp`, JSON.stringify({ agents: { w: [{ keyId: 'k2', secret: 'b'.repeat(64) }] } }));
    assert.throws(() => initKeys(p), /only one of/);
    assert.deepEqual(readdirSync(join(p.state, 'keys')).sort(), ['agent.json', 'gateway-keys.json.tmp']);
  });
});
