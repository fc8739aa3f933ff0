import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { restartEvents, snapshot } from './helpers/containers';
import { GatewayFixture } from './helpers/fixture';
import type { RawOptions, RawResponse } from './helpers/raw-request';
import { rawCall, toolBody } from './helpers/raw-request';
import type { ToolName } from '../../src/contract/gateway';

/**
 * Redis is the gateway's memory of nonces, limits and idempotency keys. Without it the gateway
 * fails closed: 503 store_unavailable, audited, and nothing executed. When Redis is back, calls
 * succeed again without restarting the gateway — and a request signed before the store lost
 * its memory cannot be replayed into the new one.
 */
let f: GatewayFixture;
let id = '';

const call = (tool: ToolName, args: object, extra: Partial<RawOptions> = {}) => rawCall(f.url, f.cred(), { path: `/v1/tools/${tool}`, body: toolBody(args), ...extra });

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} within ${timeoutMs} ms`);
}

before(async () => {
  f = await GatewayFixture.start({ suite: 'redisdown' });
  id = await f.containers.run('target', { memory: 32 * 1024 * 1024 });
});

after(() => f?.close());

void it('Redis stopped: every call is refused with 503 store_unavailable, audited, and nothing is executed', async () => {
  const container = f.containers.name('target');
  assert.equal((await call('inspect_container', { container })).status, 200, 'works while Redis is up');
  const before0 = await snapshot(id);
  const t0 = Date.now();
  await f.redis.stop();

  const attempts: RawResponse[] = [
    await call('restart_container', { container, timeoutSeconds: 0 }),
    await call('restart_container', { container, timeoutSeconds: 0 }, { idempotencyKey: 'wf-down/restart-1' }),
    await call('update_container_resources', { container, memoryBytes: 64 * 1024 * 1024 }),
    await call('start_container', { container }),
    await call('inspect_container', { container }),
  ];
  for (const res of attempts) {
    assert.equal(res.status, 503, JSON.stringify(res.json));
    assert.equal(res.code, 'store_unavailable');
    const record = f.auditFor(res.requestId!);
    assert.equal(record?.verdict, 'refused');
    assert.equal(record?.code, 'store_unavailable');
  }
  assert.deepEqual(await snapshot(id), before0, 'no restart, no update');
  assert.equal(await restartEvents(id, t0, Date.now()), 0);
  const health = await fetch(`${f.url}/healthz`);
  assert.equal(health.status, 503, 'a readiness probe sees the gateway cannot serve');
  assert.deepEqual(await health.json(), { ok: false, redis: false, docker: true, llm: 'not_configured' });
});

void it('Redis started again: calls succeed without restarting the gateway; a request signed before the store restarted is refused', async () => {
  const container = f.containers.name('target');
  // Signed (captured) while the store is down and never sent: its nonce is in no store.
  const stale = { path: '/v1/tools/restart_container', body: toolBody({ container, timeoutSeconds: 0 }), timestamp: Math.floor(Date.now() / 1000) - 2 };
  await new Promise((r) => setTimeout(r, 1100));
  await f.redis.start();
  await until('the gateway reconnects to Redis', async () => (await call('inspect_container', { container })).status === 200);
  assert.equal((await fetch(`${f.url}/healthz`)).status, 200);

  const before0 = await snapshot(id);
  const replay = await rawCall(f.url, f.cred(), stale);
  assert.equal(replay.code, 'timestamp_stale', 'signed before the store’s nonce memory began');
  assert.deepEqual(await snapshot(id), before0);

  const t0 = Date.now();
  const ok = await call('restart_container', { container, timeoutSeconds: 0 }, { idempotencyKey: 'wf-down/restart-1' });
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assert.notEqual((await snapshot(id)).startedAt, before0.startedAt);
  assert.equal(await restartEvents(id, t0, Date.now()), 1);
  const up = await call('update_container_resources', { container, memoryBytes: 64 * 1024 * 1024 });
  assert.equal(up.status, 200, JSON.stringify(up.json));
  assert.equal((await snapshot(id)).memory, 64 * 1024 * 1024);
});

void it('Redis hung (SIGSTOP): calls fail closed within seconds, then succeed once it answers again', async () => {
  const container = f.containers.name('target');
  const before0 = await snapshot(id);
  f.redis.pause();
  try {
    const t0 = Date.now();
    const res = await call('restart_container', { container, timeoutSeconds: 0 });
    assert.equal(res.code, 'store_unavailable');
    assert.ok(Date.now() - t0 < 5000, `answered in ${Date.now() - t0} ms`);
    assert.deepEqual(await snapshot(id), before0);
  } finally {
    f.redis.resume();
  }
  await until('calls succeed after the store resumes', async () => (await call('inspect_container', { container })).status === 200);
});
