/**
 * Issue 12.1, the worker's part of the fault suite: the worker SIGKILLed at random moments
 * while 50 incidents of mixed scenarios run on the real stack. Every incident must complete
 * with the policy's outcome, the gateway's audit must show each mutation executed exactly once
 * (a retried activity gets the stored outcome, audited as replayed), and no incident is lost.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { scenario } from '../../src/drills/scenarios';
import type { Scenario } from '../../src/drills/scenarios';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { runCatalogueScenario, runScenarioContainer } from '../helpers/scenario';
import { docker } from '../helpers/stack';
import type { E2eStack } from './harness';
import { auditRecordsFor, closedIncident, mutatingCallsFor, startE2eStack, waitUntil } from './harness';

const INCIDENTS = 50;
const MIX: Scenario[] = [scenario('exit-transient'), scenario('oom'), scenario('unhealthy')];
/** Worker kills while the incidents run; each is followed by a restart after a short outage. */
const KILLS = 5;

/** A deterministic pseudo-random sequence, so a failing run can be told apart from another by its seed. */
function random(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) % 10_000) / 10_000;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let stack: E2eStack;
before(async () => {
  stack = await startE2eStack({
    // Budgets large enough for 50 fixes: the budgets are not what this test is about.
    DOCKMEDIC_RL_AGENT_MUTATING: '100000',
    DOCKMEDIC_RL_AGENT_CALLS: '100000',
    DOCKMEDIC_STABILIZATION_SECONDS: '4',
  });
});
after(async () => {
  await stack?.close();
});

void describe('fault suite: the worker SIGKILLed across 50 incidents', { timeout: 600_000 }, () => {
  void it('every incident completes with its outcome, no mutation runs twice, none is lost', async (t) => {
    const seed = Date.now() % 100_000;
    const rnd = random(seed);
    const cases = Array.from({ length: INCIDENTS }, (_, i) => ({ name: `${stack.runId}-wk${i}`, s: MIX[i % MIX.length] as Scenario }));

    // Containers start in waves while a killer takes the worker down at random moments.
    const killer = (async () => {
      let kills = 0;
      while (kills < KILLS) {
        await sleep(1_000 + rnd() * 2_500);
        await stack.stopWorker();
        kills++;
        await sleep(200 + rnd() * 1_500);
        await stack.startWorker();
      }
      return kills;
    })();
    for (let i = 0; i < cases.length; i += 10) {
      await Promise.all(cases.slice(i, i + 10).map((c) => runCatalogueScenario(c.s, c.name)));
      await sleep(rnd() * 3_000);
    }
    const kills = await killer;

    const closed = await Promise.all(cases.map(async (c) => ({ c, state: await closedIncident(stack.client, stack.incidentId(c.name), 300_000).catch(() => undefined) })));
    const lost = closed.filter((x) => !x.state).map((x) => x.c.name);
    assert.deepEqual(lost, [], `seed ${seed}: incidents that never closed`);

    const audit = stack.audit();
    const wrong: string[] = [];
    const duplicates: string[] = [];
    for (const { c, state } of closed) {
      if (state?.outcome !== c.s.expect.outcome) wrong.push(`${c.name} (${c.s.name}): ${state?.outcome ?? 'none'}, expected ${c.s.expect.outcome}`);
      const calls = mutatingCallsFor(audit, c.name);
      for (const [tool, n] of Object.entries(c.s.expect.mutatingCalls ?? {})) {
        if ((calls[tool] ?? 0) !== n) duplicates.push(`${c.name} (${c.s.name}): ${tool} executed ${calls[tool] ?? 0}×, expected ${n}×`);
      }
      const info = await docker().getContainer(c.name).inspect();
      if (!info.State.Running) wrong.push(`${c.name} (${c.s.name}): not running at the end`);
    }
    // The figures of bench/results/faults.json (issue 12): a replayed call is a retried activity that got the stored outcome.
    const replayed = audit.filter((r) => r.replayed && cases.some((c) => (r.args as { container?: string } | null)?.container === c.name || r.target?.name === c.name)).length;
    const figures = { runs: kills, incidents: INCIDENTS, completed: closed.length - lost.length, duplicate_actions: duplicates.length, lost: lost.length, replayed_calls: replayed, seed };
    t.diagnostic(JSON.stringify({ worker_sigkill: figures }));
    assert.ok(kills >= KILLS, `the worker was killed ${kills} times`);
    assert.deepEqual(duplicates, [], `seed ${seed}: mutations executed other than once`);
    assert.deepEqual(wrong, [], `seed ${seed}: incidents without the policy's outcome`);
  });

  void it('the worker killed while its restart runs at Docker: the retried activity gets the stored outcome, one restart', async () => {
    const name = `${stack.runId}-wk-slow`;
    // Unhealthy on its first run; ignores SIGTERM, so Docker's restart waits out the stop timeout.
    const events = (await docker().getEvents({ filters: { type: ['container'], container: [name] } })) as unknown as Readable;
    const lines = createInterface({ input: events });
    let killSeen = false;
    lines.on('line', (line) => {
      if ((JSON.parse(line) as { Action?: string }).Action === 'kill') killSeen = true;
    });
    try {
      const id = await runScenarioContainer({
        name,
        cmd: 'if [ -f /tmp/ran ]; then touch /tmp/healthy; else touch /tmp/ran; fi; trap "" TERM; while true; do sleep 1; done',
        health: { cmd: 'test -f /tmp/healthy', intervalMs: 1000, retries: 2 },
        labels: { 'dockmedic.enable': 'true' },
      });
      await waitUntil('Docker to start the restart (its first kill)', async () => killSeen, 60_000, 20);
      await stack.stopWorker();
      await sleep(1_000);
      await stack.startWorker();
      const state = await closedIncident(stack.client, stack.incidentId(name), 180_000);
      assert.equal(state.outcome, 'auto_resolved');
      const audit = stack.audit();
      assert.equal(mutatingCallsFor(audit, name).restart_container, 1, 'exactly one restart executed');
      // The workflow names the container by id once triage has seen it, so the retry is matched by id.
      const replays = audit.filter((r) => r.tool === 'restart_container' && r.replayed && [name, id].includes((r.args as { container?: string } | null)?.container ?? '')).length;
      assert.ok(replays >= 1, `the retried activity was answered from the stored outcome: ${JSON.stringify(auditRecordsFor(audit, name).map((r) => [r.time, r.tool, r.verdict, r.code, r.replayed]))}`);
    } finally {
      lines.close();
      events.destroy();
    }
  });
});
