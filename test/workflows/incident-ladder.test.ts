/**
 * The escalation ladder: levels and timeouts, the `respond` signal (approve | reject |
 * acknowledge | resolve), notifications that never hold up the timers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import { CONTAINER_ID, HOST, LADDER, MiB, RESOLVE_TIMEOUT_SECONDS, STATES, container, incidentInput, obs, runIncident, searchAttributes, startEnv, waitForPhase } from './harness';
import type { IncidentState, Response, ResponseAction } from '../../src/contract/incident';
import { observeSignal, respondSignal, stateQuery } from '../../src/contract/signals';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startEnv();
});
after(async () => {
  await env?.teardown();
});

const respond = (h: WorkflowHandle, action: ResponseAction, by = 'alice', comment?: string) =>
  h.signal(respondSignal, { action, by, at: new Date().toISOString(), ...(comment ? { comment } : {}) } satisfies Response);

const escalatedAt = (s: IncidentState) => Date.parse(s.decisionChain.find((r) => r.tool === 'check_container_logs')?.at ?? '');
const seconds = (from: number, to: string | undefined) => (Date.parse(to ?? '') - from) / 1000;
/** Workflow time includes the few real milliseconds activities take; timers are exact. */
const assertAbout = (actual: number, expected: number, what: string) => assert.ok(actual >= expected && actual < expected + 2, `${what}: ${actual}s, expected ${expected}s`);
const waitingAt = (level: number) => (s: IncidentState) => s.pendingEscalation?.level === level;

void describe('escalation ladder', () => {
  void it('silence: level 1, then level 2 after its timeout, then unacknowledged after the last level', async () => {
    const { state, handle, acts } = await runIncident(env, {
      input: incidentInput(obs.crashloop()),
      script: { inspect: [STATES.restarting], logs: ['boot', 'panic: config missing'] },
      during: async (h) => {
        const s1 = await waitForPhase(h, 'escalated', waitingAt(1));
        assert.equal(s1.pendingEscalation?.levelName, 'oncall-primary');
        assert.deepEqual(s1.pendingEscalation?.waitingFor, ['approve', 'reject', 'acknowledge', 'resolve']);
        assert.equal(s1.pendingEscalation?.proposedAction, 'restart');
        await env.sleep(`${LADDER[0]!.timeoutSeconds - 5}s`);
        assert.equal((await h.query(stateQuery)).pendingEscalation?.level, 1, 'still level 1 just before its timeout');
        await env.sleep('10s');
        const s2 = await waitForPhase(h, 'escalated', waitingAt(2));
        assert.equal(s2.pendingEscalation?.levelName, 'oncall-secondary');
      },
      record: 'ladder-silence-unacknowledged',
    });
    assert.equal(state.outcome, 'unacknowledged');
    assert.equal(state.phase, 'closed');
    assert.equal(state.pendingEscalation, undefined);
    assert.deepEqual(acts.notices.map((n) => [n.level, n.levelName]), [[1, 'oncall-primary'], [2, 'oncall-secondary']]);
    const total = LADDER.reduce((n, l) => n + l.timeoutSeconds, 0);
    assertAbout(seconds(escalatedAt(state), state.closedAt), total, 'closes when the last level times out');
    assert.equal(acts.mutatingCalls().length, 0);
    assert.equal((await searchAttributes(handle)).outcome, 'unacknowledged');

    // What was paged: facts, log lines, the recommendation, the incident id and the UI base.
    const n = acts.notices[0]!;
    assert.equal(n.incidentId, (await handle.describe()).workflowId);
    assert.equal(n.container, 'web');
    assert.equal(n.host, HOST);
    assert.equal(n.failure, 'crashloop');
    assert.equal(n.rule, 'crashloop');
    assert.equal(n.levels, 2);
    assert.equal(n.timeoutSeconds, LADDER[0]!.timeoutSeconds);
    assert.ok(n.evidence.some((e) => e.includes('deaths in the crash-loop window')), JSON.stringify(n.evidence));
    assert.ok(n.evidence.includes('log: panic: config missing'));
    assert.equal(n.recommendation, 'restart web');
    assert.equal(n.uiUrl, 'http://127.0.0.1:8233');
  });

  void it('acknowledge stops the paging; resolve then closes as resolved_by_human', async () => {
    const { state, handle, acts } = await runIncident(env, {
      input: incidentInput(obs.crashloop()),
      script: { inspect: [STATES.restarting] },
      during: async (h) => {
        await waitForPhase(h, 'escalated', waitingAt(1));
        await respond(h, 'acknowledge', 'bob');
        const acked = await waitForPhase(h, 'escalated', (s) => s.pendingEscalation?.waitingFor.includes('acknowledge') === false);
        assert.deepEqual(acked.pendingEscalation?.waitingFor, ['approve', 'reject', 'resolve']);
        await env.sleep(`${LADDER[0]!.timeoutSeconds + 60}s`);
        assert.equal((await h.query(stateQuery)).pendingEscalation?.level, 1, 'no level 2 after an acknowledge');
        await respond(h, 'resolve', 'bob', 'fixed the config by hand');
      },
      record: 'ladder-ack-resolve',
    });
    assert.equal(state.outcome, 'resolved_by_human');
    assert.equal(acts.notices.length, 1);
    assert.equal(acts.mutatingCalls().length, 0);
    assert.deepEqual(state.responses.map((r) => [r.action, r.by]), [['acknowledge', 'bob'], ['resolve', 'bob']]);
    assert.equal(state.responses[1]?.comment, 'fixed the config by hand');
    assert.equal((await searchAttributes(handle)).outcome, 'resolved_by_human');
  });

  void it('acknowledged but never resolved → unacknowledged after the resolve timeout', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.crashloop()),
      script: { inspect: [STATES.restarting] },
      during: async (h) => {
        await waitForPhase(h, 'escalated', waitingAt(1));
        await respond(h, 'acknowledge', 'bob');
        await waitForPhase(h, 'escalated', (s) => s.pendingEscalation?.waitingFor.includes('acknowledge') === false);
      },
    });
    assert.equal(state.outcome, 'unacknowledged');
    assert.equal(acts.notices.length, 1);
    const s = seconds(escalatedAt(state), state.closedAt);
    assert.ok(s >= RESOLVE_TIMEOUT_SECONDS && s < RESOLVE_TIMEOUT_SECONDS + LADDER[0]!.timeoutSeconds, `closed after ${s}s`);
  });

  void it('approve runs the proposed action through the gateway, recorded with approvedBy', async () => {
    const { state, handle, acts } = await runIncident(env, {
      input: incidentInput(obs.crashloop()),
      script: { inspect: [STATES.restarting] },
      during: async (h) => {
        await waitForPhase(h, 'escalated', waitingAt(1));
        await respond(h, 'approve', 'carol');
      },
      record: 'ladder-approve-restart',
    });
    assert.equal(state.outcome, 'approved');
    assert.deepEqual(acts.mutatingCalls(), [{ name: 'restartContainer', args: [CONTAINER_ID] }]);
    const rec = state.decisionChain.find((r) => r.tool === 'restart_container');
    assert.equal(rec?.approvedBy, 'carol');
    assert.equal(rec?.ok, true);
    assert.ok(state.decisionChain.filter((r) => r.tool !== 'restart_container').every((r) => r.approvedBy === undefined));
    assert.equal((await searchAttributes(handle)).outcome, 'approved');
  });

  void it('approve on an OOM escalation raises memory within bounds and starts, with approvedBy', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.oom()),
      script: { inspect: [STATES.oomKilled], priorOomIncidents: 5 },
      during: async (h) => {
        await waitForPhase(h, 'escalated', waitingAt(1));
        await env.sleep(`${LADDER[0]!.timeoutSeconds + 1}s`);
        await waitForPhase(h, 'escalated', waitingAt(2));
        await respond(h, 'approve', 'dave');
      },
    });
    assert.equal(state.decision?.rule, 'oom-recurrence');
    assert.equal(state.outcome, 'approved');
    assert.deepEqual(acts.mutatingCalls(), [
      { name: 'raiseMemory', args: [CONTAINER_ID, 64 * MiB] },
      { name: 'startContainer', args: [CONTAINER_ID] },
    ]);
    assert.deepEqual(
      state.decisionChain.filter((r) => r.approvedBy).map((r) => [r.tool, r.approvedBy]),
      [
        ['update_container_resources', 'dave'],
        ['start_container', 'dave'],
      ],
    );
  });

  void it('reject closes without any action', async () => {
    const { state, handle, acts } = await runIncident(env, {
      input: incidentInput(obs.crashloop()),
      script: { inspect: [STATES.restarting] },
      during: async (h) => {
        await waitForPhase(h, 'escalated', waitingAt(1));
        await respond(h, 'reject', 'erin', 'known issue, deploy pending');
      },
      record: 'ladder-reject',
    });
    assert.equal(state.outcome, 'rejected');
    assert.equal(acts.mutatingCalls().length, 0);
    assert.equal((await searchAttributes(handle)).outcome, 'rejected');
  });

  void it('approve when there is nothing within bounds to approve is ignored; the ladder keeps waiting', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.oom()),
      script: { inspect: [container({ ...STATES.oomKilled, memoryBytes: 6 * 1024 * MiB })] },
      during: async (h) => {
        const s = await waitForPhase(h, 'escalated', waitingAt(1));
        assert.deepEqual(s.pendingEscalation?.waitingFor, ['reject', 'acknowledge', 'resolve']);
        await respond(h, 'approve', 'mallory');
        await respond(h, 'resolve', 'frank');
      },
    });
    assert.equal(state.outcome, 'resolved_by_human');
    assert.equal(acts.mutatingCalls().length, 0);
    assert.ok(state.notes.some((n) => n.startsWith('approve by mallory ignored')), JSON.stringify(state.notes));
  });

  void it('a response while nothing is escalated is recorded and ignored', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1)),
      script: { inspect: [STATES.exited1, STATES.running] },
      during: async (h) => {
        await waitForPhase(h, 'verify');
        await respond(h, 'approve', 'grace');
        await h.signal(observeSignal, obs.health('healthy'));
      },
    });
    assert.equal(state.outcome, 'auto_resolved');
    assert.equal(acts.mutatingCalls().length, 1);
    assert.equal(state.responses.length, 1);
    assert.ok(state.notes.some((n) => n.includes('no escalation is waiting')));
  });

  void it('an approved action the gateway refuses closes as failed, with the reason', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.crashloop()),
      script: { inspect: [STATES.restarting], restart: { refuse: 'rate_limited', kind: 'throttled' } },
      during: async (h) => {
        await waitForPhase(h, 'escalated', waitingAt(1));
        await respond(h, 'approve', 'heidi');
      },
    });
    assert.equal(state.outcome, 'failed');
    assert.equal(acts.named('restartContainer').length, 1);
    assert.ok(state.notes.some((n) => n.includes('rate_limited')));
  });

  void it('a failing webhook never holds up the ladder: levels and closing keep their times', async () => {
    const { state, acts } = await runIncident(env, { input: incidentInput(obs.crashloop()), script: { inspect: [STATES.restarting], notifyFails: true } });
    assert.equal(state.outcome, 'unacknowledged');
    const total = LADDER.reduce((n, l) => n + l.timeoutSeconds, 0);
    assertAbout(seconds(escalatedAt(state), state.closedAt), total, 'the ladder kept its times');
    const attempts = acts.named('notifyEscalation').length;
    assert.ok(attempts > LADDER.length, `notifications were retried (${attempts} attempts)`);
    assert.ok(state.notes.includes('paging level 2 (oncall-secondary)'));
  });
});
