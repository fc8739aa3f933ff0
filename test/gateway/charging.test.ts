import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Redis from 'ioredis';
import { HEADERS, newNonce } from '../../src/signing';
import { restartEvents, snapshot } from './helpers/containers';
import { GatewayFixture } from './helpers/fixture';
import { outcomeOf } from './helpers/outcome';
import { rawCall, toolBody } from './helpers/raw-request';
import type { ToolArgs, ToolName } from '../../src/contract/gateway';

/**
 * What the mutating windows count: calls that run. A retry answered from its stored outcome is
 * neither refused by a full window nor charged to it; a call refused after the rate-limit step
 * (validation, scope, bounds) gives its slot back — so one agent's malformed calls cannot use
 * up another's restarts. The window still lets exactly N calls run.
 * Also: `-` is not an idempotency key (it is the signature's "no key"); a nonce outlives the
 * time its timestamp stays acceptable.
 */
const CONTAINER_MUTATING = 3;
const SKEW = 300;
const MiB = 1024 * 1024;
let f: GatewayFixture;

before(async () => {
  f = await GatewayFixture.start({
    suite: 'charging',
    agents: { worker: 1, other: 1 },
    env: {
      DOCKMEDIC_RL_AGENT_MUTATING: '100',
      DOCKMEDIC_RL_CONTAINER_MUTATING: String(CONTAINER_MUTATING),
      DOCKMEDIC_RL_CONTAINER_WINDOW_SECONDS: '600',
      DOCKMEDIC_CLOCK_SKEW_SECONDS: String(SKEW),
    },
  });
});

after(() => f?.close());

/** 'executed', 'replayed', or the refusal code. */
function outcome<T extends ToolName>(keyId: string, tool: T, args: ToolArgs<T>, idempotencyKey?: string): Promise<string> {
  return outcomeOf(f.client(keyId).call(tool, args, idempotencyKey ? { idempotencyKey } : {}));
}

const restart = (container: string) => ({ container, timeoutSeconds: 0 });

void describe('stored outcomes are not charged', () => {
  void it('the window is full: a retry of a completed restart still gets its stored result, and nothing restarts', async () => {
    const id = await f.containers.run('full');
    const name = f.containers.name('full');
    const t0 = Date.now();
    const first = [];
    for (const k of ['wf/1', 'wf/2', 'wf/3']) first.push(await outcome('worker-k1', 'restart_container', restart(name), k));
    assert.deepEqual(first, ['executed', 'executed', 'executed']);
    const afterThree = await snapshot(id);
    assert.equal(await outcome('worker-k1', 'restart_container', restart(name), 'wf/3'), 'replayed', 'a lost answer must not become a 429 for a restart that happened');
    assert.equal(await outcome('worker-k1', 'restart_container', restart(name), 'wf/4'), 'rate_limited', 'a new restart is still refused');
    assert.deepEqual(await snapshot(id), afterThree);
    assert.equal(await restartEvents(id, t0, Date.now()), 3);
  });

  void it('retries do not use up the container’s budget', async () => {
    const id = await f.containers.run('retries');
    const name = f.containers.name('retries');
    const t0 = Date.now();
    const seen = [
      await outcome('worker-k1', 'restart_container', restart(name), 'r/1'),
      await outcome('worker-k1', 'restart_container', restart(name), 'r/1'),
      await outcome('worker-k1', 'restart_container', restart(name), 'r/1'),
      await outcome('worker-k1', 'restart_container', restart(name), 'r/2'),
      await outcome('worker-k1', 'restart_container', restart(name), 'r/3'),
      await outcome('worker-k1', 'restart_container', restart(name), 'r/4'),
    ];
    assert.deepEqual(seen, ['executed', 'replayed', 'replayed', 'executed', 'executed', 'rate_limited']);
    assert.equal(await restartEvents(id, t0, Date.now()), 3);
  });
});

void describe('refused calls give their slot back', () => {
  void it('another agent’s invalid and out-of-bounds calls do not use up a container’s restarts', async () => {
    const id = await f.containers.run('victim', { memory: 64 * MiB });
    const name = f.containers.name('victim');
    const refusals = [];
    for (let i = 0; i < CONTAINER_MUTATING; i++) {
      refusals.push(await outcome('other-k1', 'restart_container', { container: name, timeoutSeconds: 9999 } as never));
      refusals.push(await outcome('other-k1', 'update_container_resources', { container: name, memoryBytes: 32 * MiB }));
    }
    assert.deepEqual(new Set(refusals), new Set(['invalid_arguments', 'memory_not_raised']));
    const t0 = Date.now();
    const runs = [];
    for (let i = 0; i <= CONTAINER_MUTATING; i++) runs.push(await outcome('worker-k1', 'restart_container', restart(name)));
    assert.deepEqual(runs, ['executed', 'executed', 'executed', 'rate_limited'], 'exactly N restarts, none lost to the refusals');
    assert.equal(await restartEvents(id, t0, Date.now()), CONTAINER_MUTATING);
  });

  void it('calls naming a container before it exists do not use up its window', async () => {
    const name = f.containers.name('later');
    for (let i = 0; i < CONTAINER_MUTATING; i++) assert.equal(await outcome('other-k1', 'restart_container', restart(name)), 'container_not_found');
    await f.containers.run('later');
    assert.equal(await outcome('worker-k1', 'restart_container', restart(name)), 'executed');
  });

  void it('the all-calls window still counts refused calls', async () => {
    const redis = new Redis(f.redis.url);
    try {
      const before = await redis.zcard('rl:agent:other:calls');
      await outcome('other-k1', 'restart_container', { container: 'nope', timeoutSeconds: 9999 } as never);
      assert.equal(await redis.zcard('rl:agent:other:calls'), before + 1);
    } finally {
      redis.disconnect();
    }
  });
});

void describe('signing edges', () => {
  void it('`-` as an idempotency key is refused: it is what the signature holds for "no key"', async () => {
    const id = await f.containers.run('dash');
    const before0 = await snapshot(id);
    const r = await rawCall(f.url, f.cred('worker-k1'), { path: '/v1/tools/restart_container', body: toolBody(restart(f.containers.name('dash'))), idempotencyKey: '-' });
    assert.equal(r.status, 401);
    assert.equal(r.code, 'malformed_header');
    assert.deepEqual(await snapshot(id), before0);
    assert.equal(f.auditFor(r.requestId!)?.code, 'malformed_header');
  });

  void it('"no key" signed, `-` added in transit: refused, not taken as a key', async () => {
    const r = await rawCall(f.url, f.cred('worker-k1'), {
      path: '/v1/tools/inspect_container',
      body: toolBody({ container: f.containers.name('dash') }),
      headers: { [HEADERS.idempotencyKey]: '-' },
    });
    assert.equal(r.code, 'malformed_header');
  });

  void it('a request stamped a full skew ahead keeps its nonce until its timestamp is no longer acceptable', async () => {
    await f.containers.run('ahead');
    const nonce = newNonce();
    const now = Math.floor(Date.now() / 1000);
    const r = await rawCall(f.url, f.cred('worker-k1'), {
      path: '/v1/tools/inspect_container',
      body: toolBody({ container: f.containers.name('ahead') }),
      timestamp: now + SKEW,
      nonce,
    });
    assert.equal(r.status, 200);
    const redis = new Redis(f.redis.url);
    try {
      const ttl = await redis.ttl(`nonce:worker-k1:${nonce}`);
      // Acceptable until now + 2 × skew (gateway clock); the nonce must be remembered past that.
      assert.ok(ttl > 2 * SKEW, `nonce TTL ${ttl} s ≤ ${2 * SKEW} s: a resend in the last second would be accepted`);
    } finally {
      redis.disconnect();
    }
  });
});
