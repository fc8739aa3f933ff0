import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { restartEvents, snapshot } from './helpers/containers';
import { GatewayFixture } from './helpers/fixture';
import { outcomeOf } from './helpers/outcome';
import type { MutationResult } from '../../src/contract/gateway';

/**
 * Activities are at-least-once; their effects must be exactly-once. The same idempotency key
 * twice restarts once and returns the stored result (replayed: true); a concurrent duplicate
 * never runs twice; the key cannot be reused for a different call; a failed call frees the key.
 * Docker's RestartCount does not count manual restarts, so restarts are counted from the
 * engine's `restart` events and StartedAt.
 */
const MiB = 1024 * 1024;
let f: GatewayFixture;

before(async () => {
  f = await GatewayFixture.start({ suite: 'idem', env: { DOCKMEDIC_RL_CONTAINER_MUTATING: '100' } });
});

after(() => f?.close());

void it('same key twice: one restart, the second answer is the stored result with replayed: true', async () => {
  const id = await f.containers.run('twice');
  const container = f.containers.name('twice');
  const before0 = await snapshot(id);
  const t0 = Date.now();
  const client = f.client();
  const key = 'incident-h-twice/activity-7';
  const first = await client.call<'restart_container', MutationResult>('restart_container', { container, timeoutSeconds: 0 }, { idempotencyKey: key, workflowId: 'incident-h-twice' });
  const afterFirst = await snapshot(id);
  const second = await client.call<'restart_container', MutationResult>('restart_container', { container, timeoutSeconds: 0 }, { idempotencyKey: key, workflowId: 'incident-h-twice' });
  assert.equal(first.replayed, false);
  assert.equal(second.replayed, true);
  assert.deepEqual(second.result, first.result, 'the stored result, byte for byte');
  assert.notEqual(second.requestId, first.requestId);
  assert.notEqual(afterFirst.startedAt, before0.startedAt, 'the first call restarted it');
  assert.deepEqual(await snapshot(id), afterFirst, 'the second did not');
  assert.equal(await restartEvents(id, t0, Date.now()), 1, 'exactly one restart (Docker events)');
  const records = [f.auditFor(first.requestId), f.auditFor(second.requestId)];
  assert.deepEqual(
    records.map((r) => [r?.verdict, r?.replayed, r?.idempotencyKey, r?.workflowId]),
    [
      ['allowed', false, key, 'incident-h-twice'],
      ['allowed', true, key, 'incident-h-twice'],
    ],
  );
});

void it('concurrent duplicates: exactly one executes; the others are in progress or replayed', async () => {
  const id = await f.containers.run('concurrent');
  const container = f.containers.name('concurrent');
  const t0 = Date.now();
  const client = f.client();
  const outcomes = await Promise.all(
    Array.from({ length: 8 }, () => outcomeOf(client.call('restart_container', { container, timeoutSeconds: 0 }, { idempotencyKey: 'wf-c/act-1' }))),
  );
  assert.equal(outcomes.filter((o) => o === 'executed').length, 1, outcomes.join(','));
  assert.ok(outcomes.every((o) => ['executed', 'replayed', 'idempotency_in_progress'].includes(o)), outcomes.join(','));
  assert.equal(await restartEvents(id, t0, Date.now()), 1);
  assert.equal(await outcomeOf(client.call('restart_container', { container, timeoutSeconds: 0 }, { idempotencyKey: 'wf-c/act-1' })), 'replayed');
});

void it('a retried memory raise returns the stored result instead of being refused by bounds; memory doubled once', async () => {
  const id = await f.containers.run('memory', { memory: 32 * MiB });
  const container = f.containers.name('memory');
  const client = f.client();
  const first = await client.call<'update_container_resources', MutationResult>('update_container_resources', { container, memoryBytes: 64 * MiB }, { idempotencyKey: 'wf-m/raise' });
  const retry = await client.call<'update_container_resources', MutationResult>('update_container_resources', { container, memoryBytes: 64 * MiB }, { idempotencyKey: 'wf-m/raise' });
  assert.equal(retry.replayed, true);
  assert.deepEqual(retry.result, first.result);
  assert.equal((await snapshot(id)).memory, 64 * MiB);
  // Without the key, the same request is a new one, and bounds see the raised limit.
  assert.equal(await outcomeOf(client.call('update_container_resources', { container, memoryBytes: 64 * MiB })), 'memory_not_raised');
});

void it('the same key for a different call → idempotency_conflict, nothing executed', async () => {
  const id = await f.containers.run('conflict');
  const container = f.containers.name('conflict');
  const client = f.client();
  assert.equal(await outcomeOf(client.call('restart_container', { container, timeoutSeconds: 0 }, { idempotencyKey: 'wf-x/1' })), 'executed');
  const s = await snapshot(id);
  assert.equal(await outcomeOf(client.call('restart_container', { container, timeoutSeconds: 5 }, { idempotencyKey: 'wf-x/1' })), 'idempotency_conflict');
  assert.equal(await outcomeOf(client.call('start_container', { container }, { idempotencyKey: 'wf-x/1' })), 'idempotency_conflict');
  assert.deepEqual(await snapshot(id), s);
});

void it('a call that fails in Docker frees its key: the retry runs again instead of hanging in progress', async () => {
  // Created, never started; its command does not exist, so every start fails in the engine.
  await f.containers.create('broken', { Cmd: ['/does/not/exist'] });
  const container = f.containers.name('broken');
  const client = f.client();
  assert.equal(await outcomeOf(client.call('start_container', { container }, { idempotencyKey: 'wf-b/start' })), 'docker_error');
  assert.equal(await outcomeOf(client.call('start_container', { container }, { idempotencyKey: 'wf-b/start' })), 'docker_error');
  const attempts = f.audit().filter((r) => r.idempotencyKey === 'wf-b/start');
  assert.deepEqual(
    attempts.map((r) => r.code),
    ['docker_error', 'docker_error'],
  );
});
