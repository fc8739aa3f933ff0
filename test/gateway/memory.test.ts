import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { docker, snapshot } from './helpers/containers';
import { GatewayFixture } from './helpers/fixture';
import type { MutationResult } from '../../src/contract/gateway';

/**
 * Raising memory keeps the swap policy and works on this engine whatever the swap setting:
 * Docker refuses a memory update alone when a swap limit is set (`--memory-swap=-1` included),
 * so the gateway sends memory and swap together.
 */
const MiB = 1024 * 1024;
let f: GatewayFixture;

before(async () => {
  f = await GatewayFixture.start({ suite: 'memory' });
});

after(() => f?.close());

async function raise(short: string, memoryBytes: number): Promise<MutationResult> {
  const res = await f.client().call<'update_container_resources', MutationResult>('update_container_resources', { container: f.containers.name(short), memoryBytes });
  return res.result;
}

void it('the engine itself refuses a plain memory update on a --memory-swap=-1 container (why the gateway sends both)', async () => {
  const id = await f.containers.run('plain', { memory: 32 * MiB, memorySwap: -1 });
  await assert.rejects(docker().getContainer(id).update({ Memory: 64 * MiB }), /memoryswap|swap/i);
  assert.equal((await snapshot(id)).memory, 32 * MiB);
});

void it('--memory-swap=-1: Memory doubled, swap stays unlimited', async () => {
  const id = await f.containers.run('unlimited-swap', { memory: 32 * MiB, memorySwap: -1 });
  const r = await raise('unlimited-swap', 64 * MiB);
  const s = await snapshot(id);
  assert.equal(s.memory, 64 * MiB);
  assert.equal(s.memorySwap, -1);
  assert.equal(s.status, 'running');
  assert.deepEqual(r.before, { memoryBytes: 32 * MiB, memorySwapBytes: -1 });
  assert.equal(r.after.memoryBytes, 64 * MiB);
});

void it('explicit swap (--memory 32m --memory-swap 96m): Memory doubled, the 64 MiB of swap kept on top', async () => {
  const id = await f.containers.run('explicit-swap', { memory: 32 * MiB, memorySwap: 96 * MiB });
  await raise('explicit-swap', 64 * MiB);
  const s = await snapshot(id);
  assert.equal(s.memory, 64 * MiB);
  assert.equal(s.memorySwap, 128 * MiB);
});

void it('default swap (--memory 32m; the engine sets swap = 2 × memory): Memory doubled, swap amount kept', async () => {
  const id = await f.containers.run('default-swap', { memory: 32 * MiB });
  const before0 = await snapshot(id);
  await raise('default-swap', 64 * MiB);
  const s = await snapshot(id);
  assert.equal(s.memory, 64 * MiB);
  assert.equal(s.memorySwap - s.memory, before0.memorySwap - before0.memory);
});

void it('an OOM-killed container gets its memory raised and starts and stays up', async () => {
  // `tail` holds ~40 MB (no newline in /dev/zero) and then it sleeps: killed under 32 MiB, fits under 64 MiB.
  const id = await f.containers.run('oom', {
    memory: 32 * MiB,
    memorySwap: 32 * MiB,
    cmd: "head -c 40000000 /dev/zero | tail > /dev/null || exit 137; trap 'exit 0' TERM; while true; do sleep 1; done",
  });
  const deadline = Date.now() + 20_000;
  let info = await docker().getContainer(id).inspect();
  while (info.State.Running && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    info = await docker().getContainer(id).inspect();
  }
  assert.equal(info.State.OOMKilled, true, 'the scenario OOMs under 32 MiB');
  await raise('oom', 64 * MiB);
  const started = await f.client().call<'start_container', MutationResult>('start_container', { container: f.containers.name('oom') });
  assert.equal(started.result.after.running, true);
  await new Promise((r) => setTimeout(r, 2000));
  const s = await docker().getContainer(id).inspect();
  assert.equal(s.State.Running, true, 'still running with the raised limit');
  assert.equal(s.HostConfig.Memory, 64 * MiB);
});
