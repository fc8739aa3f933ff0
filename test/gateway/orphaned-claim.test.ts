import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import Redis from 'ioredis';
import { docker, restartEvents, snapshot } from './helpers/containers';
import { GatewayFixture } from './helpers/fixture';
import { outcomeOf } from './helpers/outcome';
import { callFingerprint, IdempotencyStore } from '../../src/gateway/idempotency';
import type { MutationResult } from '../../src/contract/gateway';

/**
 * A gateway process killed after Docker acted and before it stored the outcome leaves its
 * idempotency claim pending (docs/architecture.md §4). Once that process is no longer alive and
 * the call could no longer be running, a retry is answered from Docker's state: started since
 * the claim → that is the outcome (replayed, recoveredFrom), nothing runs again; not started →
 * the retry takes the claim over and runs once. A live holder, or a claim younger than the call
 * could take, is still in progress.
 */
let f: GatewayFixture;
let redis: Redis;
/** Started first, so that by its test it last started well before a claim old enough to be judged. */
let neverId: string;
const AGENT = 'worker';

before(async () => {
  f = await GatewayFixture.start({ suite: 'orphan', env: { DOCKMEDIC_RL_CONTAINER_MUTATING: '100' } });
  redis = new Redis(f.redis.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  neverId = await f.containers.run('never');
});

after(async () => {
  redis?.disconnect();
  await f?.close();
});

/** What a killed gateway process left: its pending claim, made `agoMs` ago, and (if `alive`) its alive key. */
async function leaveClaim(key: string, container: string, agoMs: number, alive = false): Promise<string> {
  const store = new IdempotencyStore(redis, 60);
  const instance = 'deadbeefdeadbeef';
  const entry = { state: 'pending', fingerprint: callFingerprint('restart_container', { container, timeoutSeconds: 0 }), requestId: 'req-of-the-killed-gateway', instance, at: Date.now() - agoMs };
  await writeClaim(store, key, entry, alive);
  return entry.requestId;
}

async function writeClaim(store: IdempotencyStore, key: string, entry: { instance: string }, alive: boolean): Promise<void> {
  await redis.set(store.storeKey(AGENT, key), JSON.stringify(entry), 'EX', 900);
  if (alive) await redis.set(`idem:alive:${entry.instance}`, '1', 'EX', 15);
}

const restart = (container: string, key: string) => f.client().call<'restart_container', MutationResult>('restart_container', { container, timeoutSeconds: 0 }, { idempotencyKey: key });

void it('the dead gateway’s restart took effect (the container started since its claim): answered from Docker, no second restart', async () => {
  const id = await f.containers.run('took');
  const container = f.containers.name('took');
  const requestId = await leaveClaim('wf-took/act-1', container, 30_000);
  // What the killed gateway's restart did at Docker, after its claim.
  await docker().getContainer(id).restart({ t: 0 });
  const started = await snapshot(id);
  const t0 = Date.now();
  const r = await restart(container, 'wf-took/act-1');
  assert.equal(r.replayed, true);
  assert.equal(r.result.after.running, true);
  assert.equal(await restartEvents(id, t0, Date.now()), 0, 'nothing restarted again');
  assert.deepEqual(await snapshot(id), started);
  const rec = f.auditFor(r.requestId);
  assert.deepEqual([rec?.verdict, rec?.replayed, rec?.result?.recoveredFrom], ['allowed', true, requestId]);
  // The outcome is stored now: the next retry is a plain replay.
  const again = await restart(container, 'wf-took/act-1');
  assert.equal(again.replayed, true);
  assert.equal(await restartEvents(id, t0, Date.now()), 0);
});

void it('the dead gateway’s restart never happened (not started since its claim): the retry takes the claim over and restarts once', async () => {
  const id = neverId;
  const container = f.containers.name('never');
  // Claimed a second after the container last started, and old enough (the bound is the stop timeout + 20 s) to be judged.
  const at = Date.parse((await docker().getContainer(id).inspect()).State.StartedAt) + 1000;
  await new Promise((r) => setTimeout(r, Math.max(0, at + 21_000 - Date.now())));
  await leaveClaim('wf-never/act-1', container, Date.now() - at);
  const t0 = Date.now();
  const r = await restart(container, 'wf-never/act-1');
  assert.equal(r.replayed, false);
  assert.equal(await restartEvents(id, t0, Date.now()), 1, 'restarted exactly once');
  const again = await restart(container, 'wf-never/act-1');
  assert.equal(again.replayed, true, 'and its outcome is stored under the key');
  assert.equal(await restartEvents(id, t0, Date.now()), 1);
});

void it('a holder still alive, or a claim younger than the call could take, stays in progress and nothing runs', async () => {
  const id = await f.containers.run('held');
  const container = f.containers.name('held');
  const t0 = Date.now();
  await leaveClaim('wf-held/alive', container, 30_000, true);
  assert.equal(await outcomeOf(restart(container, 'wf-held/alive')), 'idempotency_in_progress');
  await leaveClaim('wf-held/young', container, 2_000);
  assert.equal(await outcomeOf(restart(container, 'wf-held/young')), 'idempotency_in_progress');
  assert.equal(await restartEvents(id, t0, Date.now()), 0);
});
