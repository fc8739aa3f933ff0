import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { requireStack, TEMPORAL_ADDRESS } from '../helpers/stack';
import { runCli } from './harness';
import { INCIDENT_WORKFLOW_TYPE } from '../../src/contract/incident';
import { SA } from '../../src/contract/search-attributes';

/**
 * The CLI against the real Temporal server when no worker serves the incidents' task queue
 * (the worker is down, or on another queue): `incidents list` answers at once with the phase
 * unknown, `incidents show` of an open incident fails quickly, `respond` sends nothing, and a
 * terminated incident still shows its summary. A state query is answered by a worker, so
 * without one it would otherwise wait for the RPC's own 30 s deadline.
 */
const run = randomBytes(4).toString('hex');
const container = `nowkr-${run}`;
const env = { TEMPORAL_ADDRESS };
let connection: Connection;
let client: Client;
const ids = { open: `incident-nowkr-${run}-open`, terminated: `incident-nowkr-${run}-terminated` };

before(async () => {
  await requireStack();
  connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  client = new Client({ connection });
  for (const id of Object.values(ids)) {
    await client.workflow.start(INCIDENT_WORKFLOW_TYPE, {
      workflowId: id,
      // A queue no worker polls: the incidents stay open and nothing answers their queries.
      taskQueue: `nowkr-${run}`,
      args: [{}],
      typedSearchAttributes: [{ key: SA.container, value: container }],
    });
  }
  await client.workflow.getHandle(ids.terminated).terminate('test: a terminated incident');
  // Visibility is eventually consistent: wait until both are listed.
  const deadline = Date.now() + 15_000;
  for (;;) {
    let n = 0;
    for await (const _ of client.workflow.list({ query: `DockmedicContainer = '${container}'` })) n++;
    if (n === 2) break;
    if (Date.now() > deadline) throw new Error('the test incidents never appeared in Temporal visibility');
    await new Promise((r) => setTimeout(r, 200));
  }
});

after(async () => {
  await client?.workflow
    .getHandle(ids.open)
    .terminate('test done')
    .catch(() => {});
  await connection?.close();
});

function timed(args: string[]): { code: number; stdout: string; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = runCli({ env }, args);
  return { ...r, ms: Date.now() - t0 };
}

void it('incidents list answers within seconds; the open incident shows phase unknown', () => {
  const r = timed(['incidents', 'list', '--json', '--container', container]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
  const rows = JSON.parse(r.stdout) as { id: string; phase: string; status: string }[];
  assert.deepEqual(
    rows.map((x) => [x.id, x.status, x.phase]).sort(),
    [
      [ids.open, 'RUNNING', 'unknown'],
      [ids.terminated, 'TERMINATED', 'closed'],
    ].sort(),
  );
});

void it('incidents show of an open incident fails within seconds instead of hanging', () => {
  const r = timed(['incidents', 'show', ids.open, '--json']);
  assert.equal(r.code, 3, 'nothing could be shown: unavailable');
  assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'no_worker', 'the uniform --json error, no report');
  assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
});

void it('respond sends nothing when no worker can say whether the incident is waiting', async () => {
  const r = timed(['respond', ids.open, 'ack', '--by', 'tester']);
  assert.notEqual(r.code, 0);
  assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
  const history = await client.workflow.getHandle(ids.open).fetchHistory();
  assert.equal(history.events?.filter((e) => e.workflowExecutionSignaledEventAttributes).length, 0, 'no signal was sent');
});

void it('incidents show of a terminated incident prints its summary (state unknown without a worker)', () => {
  const r = timed(['incidents', 'show', ids.terminated, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const shown = JSON.parse(r.stdout) as { id: string; status: string; container: string; state: unknown };
  assert.deepEqual([shown.id, shown.status, shown.container, shown.state], [ids.terminated, 'TERMINATED', container, null]);
});
