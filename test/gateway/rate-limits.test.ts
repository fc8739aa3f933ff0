import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GatewayRefusal } from '../../src/gateway-client';
import { snapshot } from './helpers/containers';
import { GatewayFixture } from './helpers/fixture';
import { rawCall, toolBody } from './helpers/raw-request';
import type { ToolArgs, ToolName } from '../../src/contract/gateway';

/**
 * Atomic sliding-window limits in Redis: exactly N calls pass and call N+1 is refused with 429,
 * Retry-After and retryAfterSeconds; 50 concurrent calls never let more than N through; a call
 * refused by one window is not charged to the others.
 */
const AGENT_CALLS = 8;
const CONTAINER_MUTATING = 3;
let f: GatewayFixture;

async function outcome<T extends ToolName>(agent: string, tool: T, args: ToolArgs<T>): Promise<string> {
  try {
    await f.client(`${agent}-k1`).call(tool, args);
    return 'ok';
  } catch (err) {
    if (err instanceof GatewayRefusal) return err.code;
    throw err;
  }
}

const count = (xs: string[], v: string) => xs.filter((x) => x === v).length;

before(async () => {
  f = await GatewayFixture.start({
    suite: 'limits',
    agents: { seq: 1, burst: 1, mut: 1, mutburst: 1, mixed: 1 },
    env: {
      DOCKMEDIC_RL_AGENT_CALLS: String(AGENT_CALLS),
      DOCKMEDIC_RL_AGENT_WINDOW_SECONDS: '600',
      DOCKMEDIC_RL_AGENT_MUTATING: '100',
      DOCKMEDIC_RL_CONTAINER_MUTATING: String(CONTAINER_MUTATING),
      DOCKMEDIC_RL_CONTAINER_WINDOW_SECONDS: '600',
    },
  });
  await f.containers.run('reads');
  await f.containers.run('restarts');
  await f.containers.run('starts');
  await f.containers.run('mixed');
});

after(() => f?.close());

void describe('per agent, all calls', () => {
  void it(`exactly ${AGENT_CALLS} allowed, call ${AGENT_CALLS + 1} refused with 429 and Retry-After`, async () => {
    const results: string[] = [];
    for (let i = 0; i < AGENT_CALLS; i++) results.push(await outcome('seq', 'inspect_container', { container: f.containers.name('reads') }));
    assert.deepEqual(results, Array(AGENT_CALLS).fill('ok'));
    const res = await rawCall(f.url, f.cred('seq-k1'), { path: '/v1/tools/inspect_container', body: toolBody({ container: f.containers.name('reads') }) });
    assert.equal(res.status, 429);
    assert.equal(res.code, 'rate_limited');
    const retryAfter = Number(res.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 600, `Retry-After ${retryAfter}`);
    assert.equal((res.json as { error: { retryAfterSeconds: number } }).error.retryAfterSeconds, retryAfter);
    assert.equal(f.auditFor(res.requestId!)?.code, 'rate_limited');
  });

  void it(`50 concurrent calls never let more than ${AGENT_CALLS} through`, async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => outcome('burst', 'inspect_container', { container: f.containers.name('reads') })));
    assert.equal(count(results, 'ok'), AGENT_CALLS);
    assert.equal(count(results, 'rate_limited'), 50 - AGENT_CALLS);
  });
});

void describe('per container, mutating calls', () => {
  void it(`exactly ${CONTAINER_MUTATING} restarts allowed, the next refused with 429; the container restarted exactly ${CONTAINER_MUTATING} times`, async () => {
    const id = f.containers.name('restarts');
    const starts = new Set([(await snapshot(id)).startedAt]);
    for (let i = 0; i < CONTAINER_MUTATING; i++) {
      assert.equal(await outcome('mut', 'restart_container', { container: id, timeoutSeconds: 0 }), 'ok');
      starts.add((await snapshot(id)).startedAt);
    }
    assert.equal(starts.size, CONTAINER_MUTATING + 1);
    const before = await snapshot(id);
    assert.equal(await outcome('mut', 'restart_container', { container: id, timeoutSeconds: 0 }), 'rate_limited');
    assert.deepEqual(await snapshot(id), before, 'the refused restart did nothing');
  });

  void it(`addressing the same container by its id shares the window`, async () => {
    const info = await snapshot(f.containers.name('restarts'));
    const { docker } = await import('./helpers/containers');
    const fullId = (await docker().getContainer(f.containers.name('restarts')).inspect()).Id;
    assert.equal(await outcome('mut', 'restart_container', { container: fullId.slice(0, 12), timeoutSeconds: 0 }), 'rate_limited');
    assert.equal(await outcome('mut', 'restart_container', { container: fullId, timeoutSeconds: 0 }), 'rate_limited');
    assert.deepEqual(await snapshot(f.containers.name('restarts')), info);
  });

  void it(`50 concurrent mutating calls on one container: exactly ${CONTAINER_MUTATING} through; refused calls are not charged to the agent`, async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => outcome('mutburst', 'start_container', { container: f.containers.name('starts') })));
    assert.equal(count(results, 'ok'), CONTAINER_MUTATING, JSON.stringify(results));
    assert.equal(count(results, 'rate_limited'), 50 - CONTAINER_MUTATING);
    // All windows are checked before any is charged: the agent spent only the 3 that passed.
    const reads: string[] = [];
    for (let i = 0; i < AGENT_CALLS - CONTAINER_MUTATING; i++) reads.push(await outcome('mutburst', 'inspect_container', { container: f.containers.name('reads') }));
    assert.deepEqual(reads, Array(AGENT_CALLS - CONTAINER_MUTATING).fill('ok'));
    assert.equal(await outcome('mutburst', 'inspect_container', { container: f.containers.name('reads') }), 'rate_limited');
  });

  void it(`50 concurrent mutating calls naming one container by name, short id and full id: exactly ${CONTAINER_MUTATING} through`, async () => {
    const { docker } = await import('./helpers/containers');
    const fullId = (await docker().getContainer(f.containers.name('mixed')).inspect()).Id;
    const refs = [f.containers.name('mixed'), fullId.slice(0, 12), fullId];
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => outcome('mixed', 'start_container', { container: refs[i % refs.length]! })));
    assert.equal(count(results, 'ok'), CONTAINER_MUTATING, JSON.stringify(results));
    assert.equal(count(results, 'rate_limited'), 50 - CONTAINER_MUTATING);
    const reads: string[] = [];
    for (let i = 0; i < AGENT_CALLS - CONTAINER_MUTATING; i++) reads.push(await outcome('mixed', 'inspect_container', { container: f.containers.name('reads') }));
    assert.deepEqual(reads, Array(AGENT_CALLS - CONTAINER_MUTATING).fill('ok'), 'calls refused after the rebind are not charged to the agent either');
  });
});
