import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { generateSecret, HEADERS, signRequest } from '../../src/signing';
import type { ContainerState } from './helpers/containers';
import { snapshot } from './helpers/containers';
import { GatewayFixture } from './helpers/fixture';
import type { RawOptions, RawResponse } from './helpers/raw-request';
import { rawCall, toolBody } from './helpers/raw-request';
import type { RefusalCode } from '../../src/contract/gateway';
import { REFUSALS } from '../../src/contract/gateway';

/**
 * Every refusal of docs/architecture.md §4 / issue 2 item 5, against the real Redis and Docker engine: each
 * gets its stable code and HTTP status, is audited as refused with that code, and leaves the
 * containers' state (status, restart count, memory, swap, start time) exactly as it was.
 */
const MiB = 1024 * 1024;
let f: GatewayFixture;
const ids: Record<'target' | 'unlabelled' | 'stack', string> = { target: '', unlabelled: '', stack: '' };
let before0: Record<string, ContainerState> = {};
/** What the gateway reported as its own faults (onError): refusals must never show up here. */
const faults: unknown[] = [];

const now = () => Math.floor(Date.now() / 1000);
const restart = (container: string) => toolBody({ container, timeoutSeconds: 0 });
const send = (o: RawOptions) => rawCall(f.url, f.cred(), o);

async function states(): Promise<Record<string, ContainerState>> {
  const out: Record<string, ContainerState> = {};
  for (const [k, id] of Object.entries(ids)) out[k] = await snapshot(id);
  return out;
}

async function expectRefused(res: RawResponse, code: RefusalCode): Promise<void> {
  assert.equal(res.code, code, `expected ${code}, got ${res.status} ${JSON.stringify(res.json)}`);
  assert.equal(res.status, REFUSALS[code]);
  assert.ok(res.requestId, 'a refusal carries a requestId');
  const record = f.auditFor(res.requestId);
  assert.ok(record, 'the refusal is audited');
  assert.equal(record.verdict, 'refused');
  assert.equal(record.code, code);
  assert.equal(record.status, REFUSALS[code]);
  assert.deepEqual(await states(), before0, 'no container changed');
}

before(async () => {
  f = await GatewayFixture.start({
    suite: 'refusals',
    env: {
      DOCKMEDIC_MEMORY_MAX_FACTOR: '2',
      DOCKMEDIC_MEMORY_CEILING_BYTES: String(48 * MiB),
      DOCKMEDIC_MAX_BODY_BYTES: String(64 * 1024),
      // This suite is about the other refusals (charging is tested in charging.test.ts).
      DOCKMEDIC_RL_CONTAINER_MUTATING: '1000',
      DOCKMEDIC_RL_AGENT_MUTATING: '1000',
    },
    deps: { onError: (err) => faults.push(err) },
  });
  ids.target = await f.containers.run('target', { memory: 32 * MiB });
  ids.unlabelled = await f.containers.run('unlabelled', { memory: 32 * MiB, optIn: false });
  ids.stack = await f.containers.run('stack', { memory: 32 * MiB, labels: { 'dockmedic.stack': 'true' } });
  before0 = await states();
});

after(() => f?.close());

void describe('authentication refusals (on a mutating call to an opted-in container)', () => {
  const path = '/v1/tools/restart_container';
  const body = () => restart(f.containers.name('target'));

  void it('forged signature → bad_signature', async () => {
    await expectRefused(await send({ path, body: body(), secret: generateSecret() }), 'bad_signature');
  });
  void it('unknown key id → unknown_key', async () => {
    await expectRefused(await send({ path, body: body(), keyId: 'intruder-k1', secret: generateSecret() }), 'unknown_key');
  });
  void it('tampered body → bad_signature', async () => {
    await expectRefused(await send({ path, body: body(), sendBody: toolBody({ container: f.containers.name('target'), timeoutSeconds: 1 }) }), 'bad_signature');
  });
  void it('tampered path (signed for inspect, sent to restart) → bad_signature', async () => {
    await expectRefused(await send({ path: '/v1/tools/inspect_container', body: toolBody({ container: f.containers.name('target') }), sendPath: path }), 'bad_signature');
  });
  void it('tampered query string → bad_signature', async () => {
    await expectRefused(await send({ path, body: body(), sendPath: `${path}?dryRun=false` }), 'bad_signature');
  });
  void it('tampered method (signed PUT, sent POST) → bad_signature', async () => {
    await expectRefused(await send({ method: 'PUT', path, body: body(), sendMethod: 'POST' }), 'bad_signature');
  });
  void it('tampered idempotency key → bad_signature', async () => {
    await expectRefused(await send({ path, body: body(), idempotencyKey: 'wf-1/a-1', headers: { [HEADERS.idempotencyKey]: 'wf-1/a-2' } }), 'bad_signature');
  });
  void it('signature header without the v1= prefix → malformed_header', async () => {
    const signed = signRequest(Buffer.from(f.cred().secret, 'hex'), { method: 'POST', path, keyId: f.cred().keyId, body: body() });
    const raw = signed[HEADERS.signature]!.replace('v1=', 'v2=');
    await expectRefused(await send({ path, body: body(), headers: { [HEADERS.signature]: raw } }), 'malformed_header');
  });
  void it('stale timestamp (−301 s) → timestamp_stale', async () => {
    await expectRefused(await send({ path, body: body(), timestamp: now() - 301 }), 'timestamp_stale');
  });
  void it('future timestamp (+301 s) → timestamp_future', async () => {
    await expectRefused(await send({ path, body: body(), timestamp: now() + 301 }), 'timestamp_future');
  });
  void it('timestamp that is not Unix seconds → malformed_header', async () => {
    await expectRefused(await send({ path, body: body(), headers: { [HEADERS.timestamp]: '2026-01-01T00:00:00Z' } }), 'malformed_header');
  });
  void it('replayed nonce (same signed request twice, and the nonce reused on a new request) → replayed_nonce', async () => {
    const nonce = 'a'.repeat(32);
    const inspect = { path: '/v1/tools/inspect_container', body: toolBody({ container: f.containers.name('target') }), nonce, timestamp: now() };
    const first = await send(inspect);
    assert.equal(first.status, 200);
    await expectRefused(await send(inspect), 'replayed_nonce');
    await expectRefused(await send({ path, body: body(), nonce }), 'replayed_nonce');
  });
  for (const header of [HEADERS.keyId, HEADERS.timestamp, HEADERS.nonce, HEADERS.signature]) {
    void it(`missing ${header} → missing_header`, async () => {
      await expectRefused(await send({ path, body: body(), headers: { [header]: null } }), 'missing_header');
    });
  }
  void it('no authentication at all → missing_header', async () => {
    const res = await fetch(`${f.url}${path}`, { method: 'POST', body: body(), headers: { 'content-type': 'application/json' } });
    const json = (await res.json()) as { error: { code: string }; requestId: string };
    assert.equal(res.status, 401);
    assert.equal(json.error.code, 'missing_header');
    assert.equal(f.auditFor(json.requestId)?.code, 'missing_header');
    assert.deepEqual(await states(), before0);
  });
});

void describe('parse and validation refusals', () => {
  const path = '/v1/tools/restart_container';

  void it('oversized body (Content-Length above the limit) → body_too_large', async () => {
    const big = JSON.stringify({ args: { container: f.containers.name('target') }, workflowId: 'x'.repeat(64 * 1024) });
    await expectRefused(await send({ path, body: big }), 'body_too_large');
  });

  void it('oversized chunked body (no Content-Length) is refused while streaming → body_too_large', async () => {
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    const signed = signRequest(Buffer.from(f.cred().secret, 'hex'), { method: 'POST', path, keyId: f.cred().keyId, body: 'irrelevant' });
    const url = new URL(f.url);
    const result = await new Promise<{ status: number; body: string; sentBytes: number }>((resolve, reject) => {
      let sent = 0;
      const req = request({ host: url.hostname, port: url.port, path, method: 'POST', headers: { ...signed, 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, sentBytes: sent }));
      });
      req.on('error', (err) => (sent > 0 ? undefined : reject(err)));
      // Up to 64 MiB, but the gateway answers long before that.
      const pump = () => {
        while (sent < 64 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      req.on('response', () => (sent = Math.max(sent, 1)));
      pump();
    });
    const json = JSON.parse(result.body) as { error: { code: string }; requestId: string };
    assert.equal(result.status, 413);
    assert.equal(json.error.code, 'body_too_large');
    assert.ok(result.sentBytes < 64 * 1024 * 1024, 'answered before the whole body was sent');
    assert.equal(f.auditFor(json.requestId)?.code, 'body_too_large');
    assert.deepEqual(await states(), before0);
  });

  void it('a client that goes away mid-body → body_incomplete, audited, and not reported as a gateway fault', async () => {
    const body = toolBody({ container: f.containers.name('target') });
    const signed = signRequest(Buffer.from(f.cred().secret, 'hex'), { method: 'POST', path, keyId: f.cred().keyId, body });
    const url = new URL(f.url);
    const auditedBefore = f.audit().length;
    faults.length = 0;
    await new Promise<void>((resolve) => {
      const req = request({ host: url.hostname, port: url.port, path, method: 'POST', headers: { ...signed, 'content-length': String(body.length) } });
      req.on('error', () => resolve());
      req.write(body.slice(0, 10));
      setTimeout(() => req.destroy(), 100);
    });
    const deadline = Date.now() + 5_000;
    while (f.audit().length === auditedBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const record = f.audit().at(-1);
    assert.equal(record?.code, 'body_incomplete');
    assert.equal(record?.verdict, 'refused');
    assert.deepEqual(faults, [], 'no internal error reported');
    assert.deepEqual(await states(), before0);
  });

  void it('malformed JSON → malformed_json', async () => {
    await expectRefused(await send({ path, body: '{"args": {"container": ' }), 'malformed_json');
  });

  const hostile: [string, string][] = [
    ['path traversal', '../../../../var/run/docker.sock'],
    ['absolute path', '/etc/passwd'],
    ['URL-encoded traversal', '..%2f..%2fimages%2fjson'],
    ['shell metacharacters', 'target; rm -rf / #'],
    ['command substitution', '$(docker rm -f dockmedic)'],
    ['backticks', '`id`'],
    ['pipe', 'a|b'],
    ['newline', 'target\nrestart'],
    ['10,000 characters', 'a'.repeat(10_000)],
    ['empty', ''],
  ];
  for (const [what, ref] of hostile) {
    void it(`hostile container reference (${what}) → invalid_arguments`, async () => {
      const res = await send({ path, body: toolBody({ container: ref, timeoutSeconds: 0 }) });
      await expectRefused(res, 'invalid_arguments');
      const record = f.auditFor(res.requestId!)!;
      assert.equal(record.target, null, 'an invalid reference never becomes a target');
    });
  }

  void it('a container reference that is not a string → invalid_arguments', async () => {
    await expectRefused(await send({ path, body: toolBody({ container: { $ne: null } }) }), 'invalid_arguments');
  });
  void it('an unexpected argument → invalid_arguments', async () => {
    await expectRefused(await send({ path, body: toolBody({ container: f.containers.name('target'), force: true }) }), 'invalid_arguments');
  });
  void it('unknown tool → unknown_tool', async () => {
    await expectRefused(await send({ path: '/v1/tools/exec_in_container', body: toolBody({ container: f.containers.name('target'), cmd: 'sh' }) }), 'unknown_tool');
  });
  void it('a signed GET on a tool → method_not_allowed', async () => {
    await expectRefused(await send({ method: 'GET', path }), 'method_not_allowed');
  });
  void it('an unknown endpoint → not_found', async () => {
    await expectRefused(await send({ path: '/v1/containers/json' }), 'not_found');
  });
});

void describe('scope and bounds refusals', () => {
  const restartPath = '/v1/tools/restart_container';
  const updatePath = '/v1/tools/update_container_resources';
  const update = (memoryBytes: number, container = f.containers.name('target')) => send({ path: updatePath, body: toolBody({ container, memoryBytes }) });

  void it('unknown container → container_not_found', async () => {
    await expectRefused(await send({ path: restartPath, body: restart(f.containers.name('invented-by-the-llm')) }), 'container_not_found');
  });
  void it('container without dockmedic.enable=true → container_not_opted_in', async () => {
    await expectRefused(await send({ path: restartPath, body: restart(f.containers.name('unlabelled')) }), 'container_not_opted_in');
  });
  void it('not opted in, addressed by id → container_not_opted_in', async () => {
    await expectRefused(await send({ path: restartPath, body: restart(ids.unlabelled) }), 'container_not_opted_in');
  });
  void it('a dockmedic-stack container (even with the opt-in label) → container_protected', async () => {
    await expectRefused(await send({ path: restartPath, body: restart(f.containers.name('stack')) }), 'container_protected');
  });
  void it('reading a dockmedic-stack container is refused too → container_protected', async () => {
    await expectRefused(await send({ path: '/v1/tools/check_container_logs', body: toolBody({ container: ids.stack }) }), 'container_protected');
  });
  void it('memory lowered → memory_not_raised', async () => {
    await expectRefused(await update(16 * MiB), 'memory_not_raised');
  });
  void it('memory unchanged → memory_not_raised', async () => {
    await expectRefused(await update(32 * MiB), 'memory_not_raised');
  });
  void it('memory ×10 → memory_factor_exceeded', async () => {
    await expectRefused(await update(320 * MiB), 'memory_factor_exceeded');
  });
  void it('memory within ×2 but above the ceiling → memory_above_ceiling', async () => {
    await expectRefused(await update(64 * MiB), 'memory_above_ceiling');
  });
  void it('memory update of a container not opted in → container_not_opted_in', async () => {
    await expectRefused(await update(48 * MiB, f.containers.name('unlabelled')), 'container_not_opted_in');
  });
});

void describe('the checks above can see a change', () => {
  void it('a valid signed restart does move StartedAt, and a valid raise does change Memory', async () => {
    const r1 = await send({ path: '/v1/tools/restart_container', body: restart(f.containers.name('target')) });
    assert.equal(r1.status, 200, JSON.stringify(r1.json));
    const r2 = await send({ path: '/v1/tools/update_container_resources', body: toolBody({ container: f.containers.name('target'), memoryBytes: 48 * MiB }) });
    assert.equal(r2.status, 200, JSON.stringify(r2.json));
    const after = await snapshot(ids.target);
    assert.notEqual(after.startedAt, before0.target!.startedAt);
    assert.equal(after.memory, 48 * MiB);
    assert.equal(f.auditFor(r1.requestId!)?.verdict, 'allowed');
  });
});
