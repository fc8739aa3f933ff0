import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { failOnceAt, runScenarioContainer } from '../helpers/scenario';
import { repoRoot } from '../helpers/paths';
import { processAlive } from '../helpers/processes';
import { docker, requireStack } from '../helpers/stack';
import type { E2eStack } from './harness';
import { closedIncident, incidentPhase, mutatingCallsFor, startE2eStack, waitUntil } from './harness';

/**
 * The stack's own parts restarted under running incidents (issue 12's fault suite), with the
 * project's scripts: the Temporal dev server SIGKILLed mid-incident and started again on the
 * same database, and dockerd stopped and started again. dockmedic's processes are not touched:
 * they must reconnect by themselves, lose no failure, act once, and leave no incident open.
 */
const STACK_STATE = process.env.DOCKMEDIC_STACK_STATE_DIR ?? '/var/lib/dockmedic';
let stack: E2eStack;

before(async () => {
  stack = await startE2eStack({ DOCKMEDIC_STABILIZATION_SECONDS: '12', DOCKMEDIC_LADDER: 'level-1:4' });
});

after(async () => {
  // Whatever happened, the shared stack is left up for the tests after this one.
  stackScript('start');
  await stack?.close();
});

function stackScript(...args: string[]): void {
  const r = spawnSync(join(repoRoot, 'scripts/stack.sh'), args, { encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.status, 0, `scripts/stack.sh ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
}

function pidOf(component: string): number {
  return Number(readFileSync(join(STACK_STATE, 'run', `${component}.pid`), 'utf8').trim());
}

const dockmedicPids = () => [stack.gateway.child.pid, stack.worker.child.pid, stack.watcher.child.pid];

async function failingContainer(name: string, inSeconds: number): Promise<void> {
  await runScenarioContainer({ name, cmd: failOnceAt(Math.ceil(Date.now() / 1000) + inSeconds), labels: { 'dockmedic.enable': 'true' } });
}

/** A container that fails, and its incident restarting it and now in its stabilisation window. */
async function incidentInVerify(name: string): Promise<void> {
  await failingContainer(name, 1);
  await waitUntil(`${name}'s incident to verify its restart`, async () => (await incidentPhase(stack.client, stack.incidentId(name))) === 'verify', 60_000);
}

void describe('the stack restarted under running incidents', () => {
  void it('Temporal SIGKILLed mid-incident and started again: the open incident completes, a failure while it was down is not lost', async (t) => {
    const pids = dockmedicPids();
    const during = `${stack.runId}-tmp-during`;
    const downed = `${stack.runId}-tmp-down`;
    await incidentInVerify(during);

    const temporal = pidOf('temporal');
    process.kill(temporal, 'SIGKILL');
    await waitUntil('the Temporal dev server to be gone', async () => !processAlive(temporal), 10_000);
    // Fails while nobody can open an incident for it.
    await failingContainer(downed, 1);
    await waitUntil(`${downed} to fail`, async () => !(await docker().getContainer(downed).inspect()).State.Running, 20_000);
    // Longer than the Temporal client's own retries (about 20 s per call, and the container's start
    // and die events are two calls): the watcher must wait the outage out itself.
    await new Promise((r) => setTimeout(r, 50_000));
    stackScript('start', 'temporal');

    for (const name of [during, downed]) {
      const st = await closedIncident(stack.client, stack.incidentId(name), 120_000);
      assert.equal(st.outcome, 'auto_resolved', `${name}: ${JSON.stringify(st.notes)}`);
      assert.equal(mutatingCallsFor(stack.audit(), name).restart_container, 1, `${name}: restarted exactly once`);
    }
    assert.deepEqual(dockmedicPids(), pids, 'the same gateway, worker and watcher processes');
    for (const pid of pids) assert.ok(pid !== undefined && processAlive(pid), `dockmedic process ${pid} still runs`);
    // bench/results/faults.json's figures for this fault (asserted above).
    t.diagnostic(JSON.stringify({ temporal_restart: { runs: 1, incidents: 2, completed: 2, duplicate_actions: 0, lost: 0 } }));
  });

  void it('dockerd stopped and started mid-incident: the watcher reconnects, the open incident ends, a new failure is remediated', async (t) => {
    const pids = dockmedicPids();
    const during = `${stack.runId}-dkr-during`;
    const fresh = `${stack.runId}-dkr-after`;
    await incidentInVerify(during);

    // Stopping the engine stops its containers: the incident's container is not running at the end of its window.
    stackScript('stop', 'docker');
    stackScript('start', 'docker');
    // The test's own client held connections to the engine that stopped: the first calls may fail once.
    await waitUntil('the engine to answer this test again', async () => (await docker().ping()) !== undefined, 30_000);
    await requireStack();

    const st = await closedIncident(stack.client, stack.incidentId(during), 120_000);
    assert.notEqual(st.phase, 'verify', 'the incident did not stay open');
    assert.ok(['auto_resolved', 'unacknowledged', 'ignored'].includes(st.outcome ?? ''), `${during} closed as ${st.outcome}: ${JSON.stringify(st.notes)}`);
    // The engine stopped it (kill events, then exit 137): neither the open incident nor the
    // reconciliation after the reconnect takes that for a failure to restart again.
    await new Promise((r) => setTimeout(r, 5000));
    assert.equal(mutatingCallsFor(stack.audit(), during).restart_container, 1, 'the engine’s stop is not restarted');

    await failingContainer(fresh, 2);
    const later = await closedIncident(stack.client, stack.incidentId(fresh), 120_000);
    assert.equal(later.outcome, 'auto_resolved', JSON.stringify(later.notes));
    assert.equal(mutatingCallsFor(stack.audit(), fresh).restart_container, 1);
    assert.ok((await docker().getContainer(fresh).inspect()).State.Running, 'running again');
    assert.deepEqual(dockmedicPids(), pids, 'the same gateway, worker and watcher processes');
    t.diagnostic(JSON.stringify({ dockerd_restart: { runs: 1, incidents: 2, completed: 2, duplicate_actions: 0, lost: 0, during_outcome: st.outcome } }));
  });
});
