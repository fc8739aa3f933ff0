import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuditChainError, AuditLog, readAuditKey, verifyAuditFile } from '../../src/gateway/audit';
import { canonicalJson } from '../../src/gateway/audit';
import type { AuditEntry, AuditKey } from '../../src/gateway/audit';
import { GatewayRefusal } from '../../src/gateway-client';
import { repoRoot } from '../helpers/paths';
import { GatewayFixture } from './helpers/fixture';

/**
 * The gateway's audit log is a hash chain with a head sidecar. `verifyAuditFile` (and
 * `dockmedic audit verify`) pass on an untouched log and find a changed byte, a deleted line
 * (middle or end) and a truncated tail. The gateway continues the chain across restarts and
 * will not start on a log whose tail was cut. The chain is keyed (an HMAC under the gateway's
 * own audit key): a file rewritten without the key fails, old unkeyed logs verify as unkeyed.
 */
let f: GatewayFixture;
let work: string;

function copyLog(name: string): string {
  const dest = join(work, `${name}.jsonl`);
  copyFileSync(f.auditFile, dest);
  copyFileSync(`${f.auditFile}.head`, `${dest}.head`);
  return dest;
}

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').slice(0, -1);
}

/** The gateway's audit key (made by the gateway on its first start). */
const auditKey = (): AuditKey => readAuditKey(f.config.gateway.auditKeyFile);

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const key = args[1] === 'verify' ? ['--key', f.config.gateway.auditKeyFile] : [];
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), ...args, ...key], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  f = await GatewayFixture.start({ suite: 'audit' });
  work = mkdtempSync(join(tmpdir(), 'dmgw-audit-copies-'));
  await f.containers.run('target');
  const client = f.client();
  // A mix of allowed and refused requests.
  for (let i = 0; i < 6; i++) await client.call('inspect_container', { container: f.containers.name('target') });
  for (let i = 0; i < 3; i++) await client.call('inspect_container', { container: f.containers.name('ghost') }).catch((e: unknown) => assert.ok(e instanceof GatewayRefusal));
  await fetch(`${f.url}/v1/tools/restart_container`, { method: 'POST', body: '{}' });
  await client.call('check_container_logs', { container: f.containers.name('target'), tail: 5 });
});

after(async () => {
  await f?.close();
  rmSync(work, { recursive: true, force: true });
});

void describe('verifyAuditFile', () => {
  void it('passes on the untouched log, every record chained to the one before', async () => {
    const result = await verifyAuditFile(f.auditFile, auditKey());
    assert.equal(result.ok, true, JSON.stringify(result.error));
    assert.equal(result.records, 11);
    const recs = lines(f.auditFile).map((l) => JSON.parse(l) as { prev: string; hash: string; seq: number });
    recs.forEach((r, i) => {
      assert.equal(r.seq, i);
      if (i > 0) assert.equal(r.prev, recs[i - 1]!.hash);
    });
  });

  void it('detects one changed byte (JSON still valid) at its line', async () => {
    const file = copyLog('byte');
    const text = readFileSync(file, 'utf8');
    const ls = text.split('\n');
    ls[4] = ls[4]!.replace('"verdict":"allowed"', '"verdict":"allowes"');
    writeFileSync(file, ls.join('\n'));
    const r = await verifyAuditFile(file, auditKey());
    assert.equal(r.ok, false);
    assert.equal(r.error?.line, 5);
    assert.equal(r.records, 4);
  });

  void it('detects one changed byte that breaks the JSON', async () => {
    const file = copyLog('byte-json');
    const buf = readFileSync(file);
    const at = buf.indexOf('\n') + 1; // first byte of line 2
    buf[at] = 0x5b; // '{' → '['
    writeFileSync(file, buf);
    const r = await verifyAuditFile(file, auditKey());
    assert.equal(r.ok, false);
    assert.equal(r.error?.line, 2);
  });

  void it('detects a deleted line in the middle', async () => {
    const file = copyLog('middle');
    const ls = lines(file);
    ls.splice(6, 1);
    writeFileSync(file, ls.join('\n') + '\n');
    const r = await verifyAuditFile(file, auditKey());
    assert.equal(r.ok, false);
    assert.equal(r.error?.line, 7);
  });

  void it('detects whole trailing lines deleted (through the head sidecar)', async () => {
    const file = copyLog('tail-lines');
    const ls = lines(file);
    writeFileSync(file, ls.slice(0, -2).join('\n') + '\n');
    const r = await verifyAuditFile(file, auditKey());
    assert.equal(r.ok, false);
    assert.equal(r.records, 9, 'what is there still verifies');
    assert.equal(r.error?.line, 10);
  });

  void it('detects a truncated tail (cut inside the last line)', async () => {
    const file = copyLog('truncated');
    const size = readFileSync(file).length;
    truncateSync(file, size - 40);
    const r = await verifyAuditFile(file, auditKey());
    assert.equal(r.ok, false);
    assert.equal(r.error?.line, 11);
  });

  void it('detects a missing head sidecar', async () => {
    const file = copyLog('no-head');
    rmSync(`${file}.head`);
    assert.equal((await verifyAuditFile(file, auditKey())).ok, false);
  });
});

void describe('dockmedic audit verify', () => {
  void it('exit 0 on an intact log, 1 on a broken one with the line; --json', () => {
    const ok = cli(['audit', 'verify', f.auditFile]);
    assert.equal(ok.status, 0, ok.stderr);
    const broken = copyLog('cli-broken');
    const ls = lines(broken);
    ls.splice(2, 1);
    writeFileSync(broken, ls.join('\n') + '\n');
    const bad = cli(['audit', 'verify', broken]);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /line 3/);
    const json = cli(['audit', 'verify', broken, '--json']);
    assert.equal(json.status, 1);
    assert.deepEqual((JSON.parse(json.stdout) as { ok: boolean; error: { line: number } }).error.line, 3);
  });

  void it('exit 2 (not 1) when the file is missing or not a file, with JSON under --json: a script can tell it from a broken chain', () => {
    const missing = cli(['audit', 'verify', join(work, 'nope.jsonl')]);
    assert.equal(missing.status, 2);
    const dir = cli(['audit', 'verify', work, '--json']);
    assert.equal(dir.status, 2);
    assert.equal((JSON.parse(dir.stdout) as { error: { code: string } }).error.code, 'unreadable');
  });
});

void describe('the chain across gateway restarts', () => {
  void it('a restarted gateway continues the chain from the last record', async () => {
    const before0 = await verifyAuditFile(f.auditFile, auditKey());
    await f.restartGateway();
    const res = await f.client().call('inspect_container', { container: f.containers.name('target') });
    const after0 = await verifyAuditFile(f.auditFile, auditKey());
    assert.equal(after0.ok, true, JSON.stringify(after0.error));
    assert.equal(after0.records, before0.records + 1);
    assert.equal(f.auditFor(res.requestId)?.prev, before0.lastHash);
  });

  void it('a log whose tail was cut is not continued: opening it fails with AuditChainError', () => {
    const file = copyLog('refuse');
    const ls = lines(file);
    writeFileSync(file, ls.slice(0, -1).join('\n') + '\n');
    assert.throws(() => AuditLog.open(file), AuditChainError);
    truncateSync(file, readFileSync(file).length - 10);
    assert.throws(() => AuditLog.open(file), AuditChainError);
  });

  void it('a crash between the line and its head update is repaired on open', async () => {
    const file = copyLog('crash');
    const ls = lines(file);
    const last = JSON.parse(ls.at(-1)!) as { seq: number; prev: string };
    // The head as it was before the last append.
    writeFileSync(`${file}.head`, JSON.stringify({ count: last.seq, hash: last.prev }).padEnd(127) + '\n');
    const log = AuditLog.open(file, auditKey().key);
    log.close();
    assert.equal((await verifyAuditFile(file, auditKey())).ok, true);
  });
});

/** What someone who can write the file but lacks the key can do: re-link every record with plain sha256. */
function rewriteWithoutKey(file: string, change: (rec: Record<string, unknown>, i: number) => void): void {
  let prev = '0'.repeat(64);
  const out = lines(file).map((line, i) => {
    const rec = JSON.parse(line) as Record<string, unknown>;
    change(rec, i);
    delete rec.hash;
    rec.prev = prev;
    const hash = createHash('sha256').update(prev).update('\n').update(canonicalJson(rec)).digest('hex');
    prev = hash;
    return JSON.stringify({ ...rec, hash });
  });
  writeFileSync(file, out.join('\n') + '\n');
  writeFileSync(`${file}.head`, JSON.stringify({ count: out.length, hash: prev }).padEnd(255) + '\n');
}

const entry = (time: string, i: number): AuditEntry => ({
  time, requestId: `r${i}`, agent: 'worker', keyId: 'k1', method: 'POST', path: '/v1/tools/inspect_container', tool: 'inspect_container',
  args: { container: 'web' }, target: null, verdict: 'allowed', code: null, status: 200, result: null, replayed: false, durationMs: 1, idempotencyKey: null, workflowId: null,
});

void describe('the keyed chain (an HMAC under the gateway\'s own audit key)', () => {
  void it('the gateway makes its key once (0600) and keys every record and the head', async () => {
    assert.equal(statSync(f.config.gateway.auditKeyFile).mode & 0o777, 0o600);
    const r = await verifyAuditFile(f.auditFile, auditKey());
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.equal(r.keyed, r.records);
    assert.equal(r.unkeyed, 0);
    assert.ok(r.records >= 10);
  });

  void it('a file rewritten without the key fails: an edited record re-linked, or the whole chain downgraded to unkeyed', async () => {
    const edited = copyLog('rewrite-edit');
    rewriteWithoutKey(edited, (rec, i) => {
      if (i === 3) rec.status = 418;
    });
    const a = await verifyAuditFile(edited, auditKey());
    assert.equal(a.ok, false);
    assert.equal(a.error?.line, 1, 'the first re-linked record does not verify under the key');
    const downgraded = copyLog('rewrite-downgrade');
    rewriteWithoutKey(downgraded, (rec) => delete rec.chain);
    const b = await verifyAuditFile(downgraded, auditKey());
    assert.equal(b.ok, false, 'unkeyed records dated after the key was made');
    assert.equal(cli(['audit', 'verify', downgraded, '--json']).status, 1);
    const c = await verifyAuditFile(downgraded);
    assert.equal(c.ok, true, 'without the key the same file only verifies as unkeyed');
    assert.equal(c.unkeyed, c.records);
  });

  void it('a keyed log with a wrong key fails; without a key it cannot be checked (exit 2, audit_key_missing)', () => {
    const otherKey = join(work, 'other-audit-key');
    writeFileSync(otherKey, JSON.stringify({ key: 'ab'.repeat(32), created: '2026-01-01T00:00:00.000Z' }), { mode: 0o600 });
    const wrong = spawnSync(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'audit', 'verify', f.auditFile, '--key', otherKey, '--json'], { encoding: 'utf8' });
    assert.equal(wrong.status, 1, wrong.stderr);
    const none = spawnSync(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'audit', 'verify', f.auditFile, '--json'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', DOCKMEDIC_STATE_DIR: join(work, 'no-state') },
    });
    assert.equal(none.status, 2, none.stderr);
    assert.equal((JSON.parse(none.stdout) as { error: { code: string } }).error.code, 'audit_key_missing');
  });

  void it('an old unkeyed log still verifies, as unkeyed; a keyed gateway continues it with keyed records', async () => {
    const file = join(work, 'old.jsonl');
    const old = AuditLog.open(file);
    for (let i = 0; i < 3; i++) old.append(entry('2025-06-01T00:00:00.000Z', i));
    old.close();
    const before = cli(['audit', 'verify', file, '--json']);
    assert.equal(before.status, 0, before.stdout);
    const shown = JSON.parse(before.stdout) as { ok: boolean; keyed: number; unkeyed: number };
    assert.deepEqual([shown.ok, shown.keyed, shown.unkeyed], [true, 0, 3]);
    const continued = AuditLog.open(file, auditKey().key);
    for (let i = 3; i < 5; i++) continued.append(entry(new Date().toISOString(), i));
    continued.close();
    const after = await verifyAuditFile(file, auditKey());
    assert.deepEqual([after.ok, after.keyed, after.unkeyed], [true, 2, 3], JSON.stringify(after.error));
  });
});
