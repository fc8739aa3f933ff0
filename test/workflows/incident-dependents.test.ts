/**
 * Dependent containers (docs/architecture.md §3): after dockmedic restarts or starts a
 * container, its opted-in dependents are restarted once each, in the order the gateway listed
 * them (by name), on the incident's budget; a refusal escalates; a not-opted-in one is noted.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CONTAINER_ID, MiB, STATES, container, incidentInput, obs, runIncident, startEnv } from './harness';
import type { Dependent } from '../../src/contract/gateway';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startEnv();
});
after(async () => {
  await env?.teardown();
});

const hex = (n: number) => `d${String(n).padStart(63, '0')}`;
const DEPS: Dependent[] = [
  { id: hex(1), name: 'web-proxy', via: ['network'], optedIn: true },
  { id: hex(2), name: 'web-shell', via: ['label'], optedIn: false },
  { id: hex(3), name: 'web-worker', via: ['label', 'network'], optedIn: true },
];

void describe('incident workflow: dependent containers', () => {
  void it('restart → the opted-in dependents are restarted after it, once each, in order; the other is only noted', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1), { watchSelector: ['team=web'] }),
      script: { inspect: [STATES.exited1, STATES.running], dependents: DEPS },
    });
    assert.equal(state.outcome, 'auto_resolved');
    // The selector the watcher used is the one the gateway is asked to apply.
    assert.deepEqual(acts.named('listDependents').map((c) => c.args), [[CONTAINER_ID, ['team=web']]]);
    assert.deepEqual(acts.named('restartContainer').map((c) => c.args[0]), [CONTAINER_ID, hex(1), hex(3)]);
    // The listing came after the main restart, the dependents' restarts after the listing.
    const order = acts.calls.map((c) => c.name).filter((n) => n === 'restartContainer' || n === 'listDependents');
    assert.deepEqual(order, ['restartContainer', 'listDependents', 'restartContainer', 'restartContainer']);
    // Recorded in the incident: each call in the decision chain, the untouched one in the notes.
    assert.deepEqual(state.decisionChain.filter((r) => r.tool === 'restart_container').map((r) => [(r.args as { container: string }).container, r.ok]), [
      [CONTAINER_ID, true],
      [hex(1), true],
      [hex(3), true],
    ]);
    assert.ok(state.notes.some((n) => n.includes('web-shell') && n.includes('not opted in')));
    assert.ok(!acts.named('restartContainer').some((c) => c.args[0] === hex(2)));
  });

  void it('an OOM fix (raise, then start) restarts the dependents after the start', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.oom()),
      script: { inspect: [STATES.oomKilled, container({ memoryBytes: 64 * MiB })], dependents: DEPS.slice(0, 1) },
    });
    assert.equal(state.outcome, 'auto_resolved');
    assert.deepEqual(acts.mutatingCalls().map((c) => [c.name, c.args[0]]), [
      ['raiseMemory', CONTAINER_ID],
      ['startContainer', CONTAINER_ID],
      ['restartContainer', hex(1)],
    ]);
  });

  void it('a dependent refused by its budget is recorded, the rest still run, and the incident escalates', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1)),
      script: { inspect: [STATES.exited1, STATES.running], dependents: DEPS, dependentRestart: { [hex(1)]: { refuse: 'rate_limited', kind: 'throttled' } } },
    });
    assert.deepEqual(acts.named('restartContainer').map((c) => c.args[0]), [CONTAINER_ID, hex(1), hex(3)]);
    const refused = state.decisionChain.find((r) => r.tool === 'restart_container' && (r.args as { container: string }).container === hex(1));
    assert.equal(refused?.ok, false);
    assert.equal(refused?.error?.code, 'rate_limited');
    assert.equal(state.finalAction, 'escalate');
    assert.equal(state.outcome, 'unacknowledged');
    assert.ok(acts.notices.length > 0, 'a person was paged');
    assert.match(acts.notices[0]?.reason ?? '', /web-proxy/);
  });

  void it('a drill incident restarts its dependents on the drill budget', async () => {
    const { acts } = await runIncident(env, {
      input: incidentInput(obs.die(1), { drill: 'd1' }),
      script: { inspect: [STATES.exited1, STATES.running], dependents: DEPS.slice(0, 1) },
    });
    assert.deepEqual(acts.named('restartContainer').map((c) => c.args), [
      [CONTAINER_ID, { budget: 'drill' }],
      [hex(1), { budget: 'drill' }],
    ]);
  });

  void it('no restart, no dependents: an escalation without action never lists them', async () => {
    const { acts } = await runIncident(env, {
      input: incidentInput(obs.crashloop()),
      script: { inspect: [STATES.restarting], dependents: DEPS },
    });
    assert.equal(acts.named('listDependents').length, 0);
    assert.equal(acts.mutatingCalls().length, 0);
  });
});
