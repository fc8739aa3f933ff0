/**
 * A container that goes away, and the quiet period (docs/architecture.md §3): a removed or
 * replaced container ends its incident as container_gone without a page; the same failure soon
 * after a person (or nobody) had it is recorded but neither pages nor acts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CONTAINER_ID, HOST, LADDER, STATES, incidentInput, obs, runIncident, searchAttributes, startEnv, waitForPhase } from './harness';
import type { EarlierIncident } from '../../src/contract/incident';
import { observeSignal } from '../../src/contract/signals';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startEnv();
});
after(async () => {
  await env?.teardown();
});

const later = (s: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + s * 1000).toISOString();
const NEW_ID = 'f'.repeat(64);
const QUIET = 3600;
const earlier = (failure: string, outcome = 'unacknowledged'): EarlierIncident => ({
  workflowId: `incident-${HOST}-web`,
  runId: '0b7c6a2e-0000-4000-8000-000000000001',
  failure,
  outcome,
  closedAt: '2026-01-01T00:00:00.000Z',
});
const quietInput = (trigger = obs.die(1)) => incidentInput(trigger, { escalation: { ladder: [{ name: 'oncall', timeoutSeconds: 300 }], resolveTimeoutSeconds: 3600, repageQuietSeconds: QUIET } });

void describe('incident workflow: the container goes away', () => {
  void it('removed during the stabilisation window (its death, then destroy) → container_gone, no page, one restart', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1)),
      // The inspect after the death finds the container already gone.
      script: { inspect: [STATES.exited1, { refuse: 'container_not_found' }] },
      during: async (h) => {
        await waitForPhase(h, 'verify');
        await h.signal(observeSignal, obs.die(137, { time: later(5), deathsInWindow: 2, containerId: CONTAINER_ID }));
        await h.signal(observeSignal, { kind: 'destroy', time: later(5), containerId: CONTAINER_ID });
      },
    });
    assert.equal(state.outcome, 'container_gone');
    assert.equal(acts.named('notifyEscalation').length, 0, 'nobody is paged about a container that is gone');
    assert.equal(acts.named('restartContainer').length, 1);
  });

  void it('removed while a person is paged → container_gone at once, no further level paged', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1)),
      script: { inspect: [STATES.exited1, STATES.exited1] },
      during: async (h) => {
        await waitForPhase(h, 'verify');
        await h.signal(observeSignal, obs.die(1, { time: later(20), deathsInWindow: 2, containerId: CONTAINER_ID }));
        await waitForPhase(h, 'escalated', (s) => s.pendingEscalation !== undefined);
        await h.signal(observeSignal, { kind: 'destroy', time: later(40), containerId: CONTAINER_ID });
      },
    });
    assert.equal(state.outcome, 'container_gone');
    assert.equal(acts.named('notifyEscalation').length, 1, 'the first level was paged before the removal, the second never');
  });

  void it('an event from a new container under the same name ends the old incident; the foreign event is not a recurrence', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1)),
      script: { inspect: [STATES.exited1, STATES.running] },
      during: async (h) => {
        await waitForPhase(h, 'verify');
        await h.signal(observeSignal, obs.die(1, { time: later(10), deathsInWindow: 1, containerId: NEW_ID }));
      },
    });
    assert.equal(state.outcome, 'container_gone');
    assert.equal(acts.named('notifyEscalation').length, 0);
    assert.ok(state.notes.some((n) => n.includes(NEW_ID.slice(0, 12))), JSON.stringify(state.notes));
  });

  void it('a container that dies and is not removed still escalates (after the short removal grace)', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1)),
      script: { inspect: [STATES.exited1, STATES.exited1] },
      during: async (h) => {
        await waitForPhase(h, 'verify');
        await h.signal(observeSignal, obs.die(1, { time: later(20), deathsInWindow: 2, containerId: CONTAINER_ID }));
      },
    });
    assert.equal(state.outcome, 'unacknowledged');
    assert.equal(acts.named('notifyEscalation').length, 2);
  });
});

void describe('incident workflow: the quiet period', () => {
  void it('the same failure within the quiet period → recorded, linked, suppressed: no action, no page', async () => {
    const { state, acts, handle } = await runIncident(env, {
      input: quietInput(),
      script: { inspect: [STATES.exited1, STATES.running], earlierIncidents: [earlier('exit')] },
    });
    assert.equal(state.outcome, 'suppressed');
    assert.equal(acts.mutatingCalls().length, 0, 'nothing is done');
    assert.equal(acts.named('notifyEscalation').length, 0, 'nobody is paged');
    assert.deepEqual(state.quietAfter, earlier('exit'));
    assert.equal(state.decision?.action, 'restart', "the policy's decision is still recorded");
    assert.deepEqual(acts.named('listQuietPeriodIncidents').map((c) => c.args.slice(0, 3)), [[HOST, 'web', QUIET]]);
    const sa = await searchAttributes(handle);
    assert.equal(sa.failure, 'exit');
    assert.equal(sa.outcome, 'suppressed');
  });

  void it('a different failure within the quiet period is acted on as usual', async () => {
    const { state, acts } = await runIncident(env, {
      input: quietInput(),
      script: { inspect: [STATES.exited1, STATES.running], earlierIncidents: [earlier('oom'), earlier('unhealthy', 'rejected')] },
    });
    assert.equal(state.outcome, 'auto_resolved');
    assert.equal(acts.named('restartContainer').length, 1);
    assert.equal(state.quietAfter, undefined);
  });

  void it('a lookup that fails pages and acts as usual', async () => {
    const { state, acts } = await runIncident(env, {
      input: quietInput(),
      script: { inspect: [STATES.exited1, STATES.running], earlierIncidents: { refuse: 'temporal_unavailable', kind: 'refused' } },
    });
    assert.equal(state.outcome, 'auto_resolved');
    assert.equal(acts.named('restartContainer').length, 1);
  });

  void it('without the setting (older incidents, drills) nothing is looked up', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1)),
      script: { inspect: [STATES.exited1, STATES.running], earlierIncidents: [earlier('exit')] },
    });
    assert.equal(state.outcome, 'auto_resolved');
    assert.equal(acts.named('listQuietPeriodIncidents').length, 0);
  });
});

void describe('incident workflow: shadow mode', () => {
  void it('decides as always and records the restart it would make; no mutating call, no page', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1), { mode: 'shadow' }),
      script: { inspect: [STATES.exited1] },
    });
    assert.equal(state.outcome, 'shadow');
    assert.equal(state.decision?.action, 'restart');
    assert.deepEqual(state.wouldDo, { action: 'restart', calls: [{ tool: 'restart_container', args: { container: CONTAINER_ID } }] });
    assert.equal(acts.mutatingCalls().length, 0);
    assert.equal(acts.named('notifyEscalation').length, 0);
  });

  void it('an escalation is recorded as the page it would send, and nobody is paged', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.crashloop(), { mode: 'shadow' }),
      script: { inspect: [STATES.restarting] },
    });
    assert.equal(state.outcome, 'shadow');
    assert.equal(state.wouldDo?.action, 'escalate');
    assert.equal(state.wouldDo?.page?.levelName, 'oncall-primary');
    assert.deepEqual(state.wouldDo?.calls, []);
    assert.equal(acts.mutatingCalls().length, 0);
    assert.equal(acts.named('notifyEscalation').length, 0);
  });
});

void describe('incident workflow: the store blinks while a fix is verified', () => {
  void it('a verifying inspect refused with store_unavailable is tried again; the fix that held resolves, nobody is paged', async () => {
    const down = { refuse: 'store_unavailable', kind: 'throttled' } as const;
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1)),
      script: { inspect: [STATES.exited1, down, down, down, STATES.running] },
    });
    assert.equal(state.outcome, 'auto_resolved', JSON.stringify(state.notes));
    assert.equal(acts.named('inspectContainer').length, 5);
    assert.equal(acts.named('notifyEscalation').length, 0);
  });

  void it('still refused after two minutes → escalates naming the cause', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1)),
      script: { inspect: [STATES.exited1, { refuse: 'store_unavailable', kind: 'throttled' }] },
    });
    assert.equal(state.outcome, 'unacknowledged');
    assert.ok(acts.named('inspectContainer').length > 3, 'tried more than once');
    assert.ok(acts.named('inspectContainer').length < 20, 'within its bound');
    assert.equal(acts.named('restartContainer').length, 1, 'no mutation is retried');
    const inspects = state.decisionChain.filter((c) => c.tool === 'inspect_container');
    assert.equal(inspects.at(-1)?.error?.code, 'store_unavailable', 'the cause is on record');
    assert.equal(acts.notices.length, LADDER.length, 'paged at every level');
  });
});
