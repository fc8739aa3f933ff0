/**
 * One page per storm (docs/architecture.md §3), as workflows: the storm and its member incidents
 * on one worker with scripted activities. The storm pages once for all of them; a member the
 * budget refused waits for the storm, and the storm's approval runs the member's own remedy,
 * again after the budget's retry-after when it is still refused. A member whose storm has
 * closed pages on its own: a page is never lost to the storm.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CONTAINER_ID, HOST, LADDER, RESOLVE_TIMEOUT_SECONDS, ScriptedActivities, STATES, incidentInput, obs, scriptedWorker, startEnv } from './harness';
import type { IncidentInput, IncidentState } from '../../src/contract/incident';
import { INCIDENT_WORKFLOW_TYPE, incidentWorkflowId } from '../../src/contract/incident';
import { observeSignal, respondSignal, stateQuery } from '../../src/contract/signals';
import type { StormInput, StormState } from '../../src/contract/storm';
import { STORM_WORKFLOW_TYPE, joinStormSignal, stormMembersSignal, stormReportSignal, stormWorkflowId } from '../../src/contract/storm';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startEnv();
});
after(async () => {
  await env?.teardown();
});

const stormInput: StormInput = { host: HOST, count: 3, windowSeconds: 30, escalation: { ladder: LADDER, resolveTimeoutSeconds: RESOLVE_TIMEOUT_SECONDS } };

/** Member i: the first is the scripted container whose restarts the budget refuses; the others restart fine. */
function member(i: number): IncidentInput {
  const id = i === 0 ? CONTAINER_ID : `${String(i).padStart(2, '0')}`.repeat(32);
  return incidentInput(obs.die(1), { container: `web${i}`, containerId: id });
}

async function startMember(taskQueue: string, input: IncidentInput): Promise<WorkflowHandle> {
  return env.client.workflow.signalWithStart(INCIDENT_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: `${incidentWorkflowId(input.host, input.container)}-${taskQueue}`,
    args: [input],
    signal: observeSignal,
    signalArgs: [input.trigger],
  });
}

async function poll<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch {
      // not started yet
    }
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

void describe('storm workflow', () => {
  void it('pages once for its members; approve runs the refused member’s restart again after the retry-after', async () => {
    const others = Object.fromEntries([1, 2].map((i) => [member(i).containerId, [STATES.exited1, STATES.running]]));
    const acts = new ScriptedActivities({
      inspect: [STATES.exited1],
      inspectFor: others,
      restart: { refuse: 'rate_limited', kind: 'throttled', retryAfterSeconds: 40 },
      restartRefusals: 2,
    });
    const { worker, taskQueue } = await scriptedWorker(env, acts);
    await worker.runUntil(async () => {
      const stormId = stormWorkflowId(HOST, Date.parse('2026-01-01T00:00:00Z'));
      const storm = await env.client.workflow.start(STORM_WORKFLOW_TYPE, { taskQueue, workflowId: `${stormId}-${taskQueue}`, args: [stormInput] });
      const members = await Promise.all([0, 1, 2].map((i) => startMember(taskQueue, member(i))));
      await storm.signal(
        stormMembersSignal,
        members.map((h, i) => ({ workflowId: h.workflowId, container: `web${i}`, containerId: member(i).containerId })),
      );
      for (const h of members) await h.signal(joinStormSignal, { stormId: storm.workflowId });

      const waiting = await poll('the storm to page', async () => {
        const st = (await storm.query(stateQuery)) as StormState;
        return st.pendingEscalation ? st : null;
      });
      assert.deepEqual(
        waiting.storm.members.map((m) => m.report?.status),
        ['handed_over', 'acted', 'acted'],
        JSON.stringify(waiting.storm.members),
      );
      assert.equal(acts.named('notifyEscalation').length, 1, 'one page, the storm’s');
      const notice = acts.notices[0];
      assert.equal(notice?.incidentId, storm.workflowId);
      assert.ok(notice?.evidence.at(-1)?.startsWith('web0:'), 'the member waiting for a person is listed last, where a cut page keeps it');
      assert.deepEqual(notice?.waitingFor, ['approve', 'reject', 'acknowledge', 'resolve']);
      const handed = (await members[0]?.query(stateQuery)) as IncidentState;
      assert.equal(handed.stormId, storm.workflowId);
      assert.ok(handed.pendingEscalation, 'the refused member waits for the storm');

      await storm.signal(respondSignal, { action: 'approve', by: 'alice', at: new Date().toISOString() });
      const closed = (await storm.result()) as StormState;
      assert.equal(closed.outcome, 'approved', JSON.stringify(closed.notes));
      // The member's close reached the storm (a signal sent as a workflow completes would be dropped).
      assert.deepEqual([closed.storm.members[0]?.report?.status, closed.storm.members[0]?.report?.outcome], ['closed', 'approved']);
      const first = (await members[0]?.result()) as IncidentState;
      assert.equal(first.outcome, 'approved', JSON.stringify(first.notes));
      const restarts = first.decisionChain.filter((c) => c.tool === 'restart_container');
      assert.deepEqual(
        restarts.map((c) => [c.ok, c.approvedBy ?? null]),
        [
          [false, null],
          [false, 'alice (storm)'],
          [true, 'alice (storm)'],
        ],
        'the policy’s restart refused, the approved one refused once more, then run after the retry-after',
      );
      for (const h of members.slice(1)) assert.equal(((await h.result()) as IncidentState).outcome, 'auto_resolved');
      assert.equal(acts.named('notifyEscalation').length, 1, 'still one page');
    });
  });

  void it('a burst of incidents that all needed nothing (out of scope, gone) pages nobody', async () => {
    const acts = new ScriptedActivities({ inspect: [STATES.notOptedIn] });
    const { worker, taskQueue } = await scriptedWorker(env, acts);
    await worker.runUntil(async () => {
      const storm = await env.client.workflow.start(STORM_WORKFLOW_TYPE, { taskQueue, workflowId: `storm-${HOST}-quiet-${taskQueue}`, args: [stormInput] });
      const members = await Promise.all([0, 1, 2].map((i) => startMember(taskQueue, member(i))));
      await storm.signal(
        stormMembersSignal,
        members.map((h, i) => ({ workflowId: h.workflowId, container: `web${i}`, containerId: member(i).containerId })),
      );
      for (const h of members) await h.signal(joinStormSignal, { stormId: storm.workflowId }).catch(() => undefined);
      // Members that closed before the link are reported by the watcher; these may close either way.
      for (const [i, h] of members.entries()) {
        const st = (await h.result()) as IncidentState;
        assert.equal(st.outcome, 'ignored');
        await storm.signal(stormReportSignal, { workflowId: h.workflowId, container: `web${i}`, containerId: member(i).containerId, status: 'closed', failure: 'out_of_scope', done: 'nothing done (ignored)', outcome: 'ignored', at: new Date().toISOString() });
      }
      const closed = (await storm.result()) as StormState;
      assert.equal(closed.outcome, 'ignored', JSON.stringify(closed.notes));
      assert.equal(acts.named('notifyEscalation').length, 0, 'nobody paged');
    });
  });

  void it('a member whose storm has closed pages on its own', async () => {
    const acts = new ScriptedActivities({ inspect: [STATES.exited1], restart: { refuse: 'rate_limited', kind: 'throttled' } });
    const { worker, taskQueue } = await scriptedWorker(env, acts);
    await worker.runUntil(async () => {
      const h = await startMember(taskQueue, member(0));
      await h.signal(joinStormSignal, { stormId: `storm-${HOST}-gone` });
      await poll('a page', async () => acts.named('notifyEscalation').length > 0);
      const st = (await h.query(stateQuery)) as IncidentState;
      assert.equal(st.pendingEscalation?.levelName, LADDER[0]?.name, 'its own ladder, not the storm');
      assert.equal(acts.notices[0]?.incidentId, h.workflowId);
      await h.signal(respondSignal, { action: 'reject', by: 'bob', at: new Date().toISOString() });
      assert.equal(((await h.result()) as IncidentState).outcome, 'rejected');
    });
  });
});
