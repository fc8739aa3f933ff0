/**
 * ensureAgentKey gives a second agent (the MCP server, docs/architecture.md §4) its own key next
 * to the worker's: idempotent, an interrupted run completed, and every inconsistent case refused
 * without touching the keys file.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureAgentKey, initKeys } from '../../src/gateway/key-files';
import { Keyring } from '../../src/gateway/keyring';
import { KeyFileError, readAgentFile, readGatewayKeysFile } from '../../src/signing';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const state = mkdtempSync(join(tmpdir(), 'dockmedic-agent-key-'));
  dirs.push(state);
  const keysFile = join(state, 'keys', 'gateway-keys.json');
  const worker = { keysFile, agentFile: join(state, 'keys', 'agent.json') };
  const mcp = { keysFile, agentFile: join(state, 'keys', 'mcp-agent.json') };
  return { state, keysFile, worker, mcp };
}

void describe('ensureAgentKey', () => {
  void it('adds the agent with its own key file (0600) beside the worker, once', () => {
    const s = setup();
    const w = initKeys(s.worker);
    const first = ensureAgentKey(s.mcp, 'mcp');
    assert.equal(first.created, true);
    const agent = readAgentFile(s.mcp.agentFile);
    assert.deepEqual([agent.agentId, agent.keyId], ['mcp', first.keyId]);
    assert.equal(statSync(s.mcp.agentFile).mode & 0o777, 0o600);
    const keys = readGatewayKeysFile(s.keysFile);
    assert.equal(keys.agents.mcp?.[0]?.secret, agent.secret);
    assert.equal(keys.agents['dockmedic-worker']?.[0]?.keyId, w.keyId, 'the worker keeps its key');
    const before = readFileSync(s.keysFile, 'utf8');
    assert.deepEqual(ensureAgentKey(s.mcp, 'mcp'), { created: false, agentId: 'mcp', keyId: first.keyId });
    assert.equal(readFileSync(s.keysFile, 'utf8'), before, 'a second run changes nothing');
    assert.ok(!existsSync(`${s.keysFile}.lock`));
  });

  void it('completes a run interrupted after its agent file was written', () => {
    const s = setup();
    initKeys(s.worker);
    const keysBefore = readFileSync(s.keysFile, 'utf8');
    ensureAgentKey(s.mcp, 'mcp');
    writeFileSync(s.keysFile, keysBefore); // as if it stopped before the keys file was written
    assert.equal(ensureAgentKey(s.mcp, 'mcp').created, true);
    assert.equal(readGatewayKeysFile(s.keysFile).agents.mcp?.[0]?.keyId, readAgentFile(s.mcp.agentFile).keyId);
  });

  void it('refuses without a keys file, with another agent’s file, or with keys but no agent file; nothing written', () => {
    const s = setup();
    assert.throws(() => ensureAgentKey(s.mcp, 'mcp'), (e: unknown) => e instanceof KeyFileError && /keys init/.test(e.message));
    assert.ok(!existsSync(s.mcp.agentFile));
    initKeys(s.worker);
    assert.throws(() => ensureAgentKey({ keysFile: s.keysFile, agentFile: s.worker.agentFile }, 'mcp'), /belongs to agent dockmedic-worker/);
    ensureAgentKey(s.mcp, 'mcp');
    rmSync(s.mcp.agentFile);
    const before = readFileSync(s.keysFile, 'utf8');
    assert.throws(() => ensureAgentKey(s.mcp, 'mcp'), /agent file .* is missing/);
    assert.equal(readFileSync(s.keysFile, 'utf8'), before);
    assert.ok(!existsSync(s.mcp.agentFile));
  });
});

void describe('a running gateway and a new agent', () => {
  void it('verifies the new agent’s first call at once, even inside the keyring’s reload interval', () => {
    const s = setup();
    const w = initKeys(s.worker);
    const ring = new Keyring(s.keysFile, 60_000);
    assert.equal(ring.get(w.keyId)?.agentId, 'dockmedic-worker');
    const added = ensureAgentKey(s.mcp, 'mcp');
    assert.equal(ring.get(added.keyId)?.agentId, 'mcp');
    assert.equal(ring.get('k-unknown'), undefined);
  });
});
