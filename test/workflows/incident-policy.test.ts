/**
 * Every row of the policy table end-to-end through the incident workflow, asserted by effect:
 * which activities ran with which arguments, the outcome, the phase, the search attributes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  CONTAINER_ID,
  GiB,
  HOST,
  LADDER,
  MiB,
  STABILIZATION_SECONDS,
  STATES,
  container,
  incidentInput,
  obs,
  runIncident,
  searchAttributes,
  startEnv,
  waitForPhase,
  T0,
} from './harness';
import { observeSignal } from '../../src/contract/signals';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startEnv();
});
after(async () => {
  await env?.teardown();
});

const later = (s: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + s * 1000).toISOString();

void describe('incident workflow: OOM', () => {
  void it('oom → raise memory to 2× the limit, start, hold for the window → auto_resolved', async () => {
    const { state, handle, acts } = await runIncident(env, {
      input: incidentInput(obs.oom()),
      script: { inspect: [STATES.oomKilled, container({ memoryBytes: 64 * MiB })] },
      record: 'oom-raise',
    });
    assert.equal(state.outcome, 'auto_resolved');
    assert.equal(state.phase, 'closed');
    assert.equal(state.decision?.rule, 'oom-raise');
    assert.deepEqual(acts.named('raiseMemory').map((c) => c.args), [[CONTAINER_ID, 64 * MiB]]);
    assert.deepEqual(acts.named('startContainer').map((c) => c.args), [[CONTAINER_ID]]);
    assert.equal(acts.named('restartContainer').length, 0);
    // Order: raise first, then start.
    const order = acts.mutatingCalls().map((c) => c.name);
    assert.deepEqual(order, ['raiseMemory', 'startContainer']);
    // Recurrence memory was asked of visibility for this container, this run excluded.
    const [count] = acts.named('countRecentOomIncidents');
    assert.deepEqual(count?.args.slice(0, 3), [HOST, 'web', 7 * 86_400]);
    assert.equal(count?.args[3], (await handle.describe()).runId);
    assert.equal(acts.named('inspectContainer').length, 2, 'triage + final check');
    assert.deepEqual(await searchAttributes(handle), { container: 'web', host: HOST, failure: 'oom', decision: 'raise_memory', outcome: 'auto_resolved' });
    const raise = state.decisionChain.find((r) => r.tool === 'update_container_resources');
    assert.deepEqual(raise?.args, { container: CONTAINER_ID, memoryBytes: 64 * MiB });
    assert.equal(raise?.ok, true);
  });

  void it('oom at the cap (limit ×2 above the ceiling) → escalate, zero mutating calls', async () => {
    const { state, handle, acts } = await runIncident(env, {
      input: incidentInput(obs.oom()),
      script: { inspect: [container({ ...STATES.oomKilled, memoryBytes: 6 * GiB })] },
    });
    assert.equal(state.decision?.rule, 'oom-cap');
    assert.equal(state.outcome, 'unacknowledged');
    assert.equal(acts.mutatingCalls().length, 0);
    assert.equal(acts.notices[0]?.recommendedAction, 'escalate', 'nothing within bounds to approve');
    assert.ok(!acts.notices[0]?.waitingFor.includes('approve'));
    assert.deepEqual(await searchAttributes(handle), { container: 'web', host: HOST, failure: 'oom', decision: 'escalate', outcome: 'unacknowledged' });
  });

  void it('a drill incident: its mutations are asked on the drill budget, its page is marked a drill, its search attributes unchanged', async () => {
    const raised = await runIncident(env, {
      input: incidentInput(obs.oom(), { drill: 'd1' }),
      script: { inspect: [STATES.oomKilled, container({ memoryBytes: 64 * MiB })] },
    });
    assert.equal(raised.state.outcome, 'auto_resolved');
    assert.deepEqual(raised.acts.named('raiseMemory').map((c) => c.args), [[CONTAINER_ID, 64 * MiB, { budget: 'drill' }]]);
    assert.deepEqual(raised.acts.named('startContainer').map((c) => c.args), [[CONTAINER_ID, { budget: 'drill' }]]);
    const capped = await runIncident(env, {
      input: incidentInput(obs.oom(), { drill: 'd1' }),
      script: { inspect: [container({ ...STATES.oomKilled, memoryBytes: 6 * GiB })] },
    });
    assert.ok(capped.acts.notices.length > 0);
    assert.ok(capped.acts.notices.every((n) => n.drill === 'd1'), 'every page of a drill incident says so (the notifier routes it away from people)');
  });

  void it('oom with unlimited memory → escalate, zero mutating calls', async () => {
    const { state, acts } = await runIncident(env, { input: incidentInput(obs.oom()), script: { inspect: [container({ ...STATES.oomKilled, memoryBytes: 0 })] } });
    assert.equal(state.decision?.rule, 'oom-cap');
    assert.equal(acts.mutatingCalls().length, 0);
  });

  void it('oom for the K-th time in the recurrence window (from visibility) → escalate, zero mutating calls', async () => {
    const { state, acts } = await runIncident(env, { input: incidentInput(obs.oom()), script: { inspect: [STATES.oomKilled], priorOomIncidents: 3 } });
    assert.equal(state.decision?.rule, 'oom-recurrence');
    assert.equal(state.facts?.priorOomIncidents, 3);
    assert.equal(acts.mutatingCalls().length, 0);
    assert.equal(acts.notices[0]?.recommendedAction, 'raise_memory', 'a person may still approve a raise within bounds');
  });

  void it('K-1 earlier OOM incidents still raise', async () => {
    const { state, acts } = await runIncident(env, { input: incidentInput(obs.oom()), script: { inspect: [STATES.oomKilled, container()], priorOomIncidents: 2 } });
    assert.equal(state.outcome, 'auto_resolved');
    assert.equal(acts.named('raiseMemory').length, 1);
  });

  void it('visibility unavailable → escalate rather than raise blindly', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.oom()),
      script: { inspect: [STATES.oomKilled], priorOomIncidents: { refuse: 'unavailable', kind: 'refused' } },
    });
    assert.equal(state.decision?.action, 'escalate');
    assert.match(state.decision?.reason ?? '', /could not be counted/);
    assert.equal(acts.mutatingCalls().length, 0);
  });

  void it('OOM again inside the window after the raise → escalate, exactly one raise and one start', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.oom()),
      script: { inspect: [STATES.oomKilled, container({ ...STATES.oomKilled, memoryBytes: 64 * MiB })] },
      during: async (h) => {
        await waitForPhase(h, 'verify');
        await env.sleep('30s');
        await h.signal(observeSignal, obs.oom({ time: later(30) }));
      },
      record: 'oom-recurrence-in-window',
    });
    assert.equal(state.decision?.rule, 'oom-recurrence');
    assert.equal(state.decisionHistory?.[0]?.rule, 'oom-raise');
    assert.equal(state.facts?.memoryBytes, 64 * MiB, 'facts re-read from Docker after the recurrence');
    assert.equal(acts.named('raiseMemory').length, 1);
    assert.equal(acts.named('startContainer').length, 1);
    assert.equal(state.outcome, 'unacknowledged');
    // The recommendation for a person is computed from the new limit (64 MiB → 128 MiB).
    assert.equal(acts.notices[0]?.recommendedAction, 'raise_memory');
    assert.match(acts.notices[0]?.recommendation ?? '', /64 MiB to 128 MiB/);
  });

  void it('an OOM container already running again (restart policy) is raised but not started', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.oom()),
      script: { inspect: [container({ oomKilled: true, restartPolicy: 'always' }), container({ memoryBytes: 64 * MiB })], raiseLeavesRunning: true },
    });
    assert.equal(state.decision?.rule, 'oom-raise');
    assert.deepEqual(acts.mutatingCalls().map((c) => c.name), ['raiseMemory']);
    assert.equal(state.outcome, 'auto_resolved');
  });
});

void describe('incident workflow: crash loop, exits, health', () => {
  void it('crash loop → escalate, never restart or update', async () => {
    const { state, handle, acts } = await runIncident(env, { input: incidentInput(obs.crashloop()), script: { inspect: [STATES.restarting] } });
    assert.equal(state.decision?.rule, 'crashloop');
    assert.equal(acts.mutatingCalls().length, 0);
    assert.equal(state.outcome, 'unacknowledged');
    assert.equal((await searchAttributes(handle)).failure, 'crashloop');
  });

  void it('non-zero exit → one restart, held for the window → auto_resolved', async () => {
    const { state, handle, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1)),
      script: { inspect: [STATES.exited1, STATES.running] },
      record: 'exit-restart-resolved',
    });
    assert.equal(state.decision?.rule, 'exit-restart');
    assert.deepEqual(acts.mutatingCalls(), [{ name: 'restartContainer', args: [CONTAINER_ID] }]);
    assert.equal(state.outcome, 'auto_resolved');
    assert.equal(state.phase, 'closed');
    const started = Date.parse(state.startedAt);
    const closed = Date.parse(state.closedAt ?? '');
    assert.ok(closed - started >= STABILIZATION_SECONDS * 1000, 'resolved only after the stabilisation window');
    assert.deepEqual(await searchAttributes(handle), { container: 'web', host: HOST, failure: 'exit', decision: 'restart', outcome: 'auto_resolved' });
  });

  void it('non-zero exit again inside the window → escalate, exactly one restart', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1)),
      script: { inspect: [STATES.exited1, STATES.exited1] },
      during: async (h) => {
        await waitForPhase(h, 'verify');
        await env.sleep('20s');
        await h.signal(observeSignal, obs.die(1, { time: later(20), deathsInWindow: 2 }));
      },
      record: 'exit-recurrence',
    });
    assert.equal(acts.named('restartContainer').length, 1);
    assert.equal(acts.mutatingCalls().length, 1);
    assert.equal(state.decision?.rule, 'exit-recurrence');
    assert.equal(state.decisionHistory?.[0]?.rule, 'exit-restart');
    assert.equal(state.finalAction, 'escalate');
    assert.ok(state.notes.some((n) => n.startsWith('recurrence after dockmedic acted: observed die')), JSON.stringify(state.notes));
    // Escalated at the recurrence, well before the window would have ended.
    const logsAt = state.decisionChain.find((r) => r.tool === 'check_container_logs')?.at ?? '';
    assert.ok(Date.parse(logsAt) - Date.parse(state.startedAt) < STABILIZATION_SECONDS * 1000, `escalated at ${logsAt}`);
    assert.equal(acts.notices.length, LADDER.length);
  });

  void it('the failure being handled, delivered again after our restart (a watcher restart replays it), is not a recurrence', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1)),
      script: { inspect: [STATES.exited1, STATES.running] },
      during: async (h) => {
        await waitForPhase(h, 'verify');
        // The same death as reconciliation saw it, and an earlier one delivered late.
        await h.signal(observeSignal, { kind: 'reconcile', time: T0, exitCode: 1 });
        await h.signal(observeSignal, obs.die(1, { time: later(-1) }));
      },
    });
    assert.equal(acts.named('restartContainer').length, 1);
    assert.equal(state.outcome, 'auto_resolved');
    assert.equal(state.decision?.rule, 'exit-restart');
  });

  void it('a die from our own restart (kill → die, marked as a stop) is not a recurrence', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.health('unhealthy')),
      script: { inspect: [STATES.unhealthy, STATES.runningHealthy] },
      during: async (h) => {
        await waitForPhase(h, 'verify');
        await h.signal(observeSignal, { kind: 'kill', time: later(1) });
        await h.signal(observeSignal, obs.die(143, { time: later(1), operatorStop: true }));
        await h.signal(observeSignal, { kind: 'start', time: later(2) });
        await h.signal(observeSignal, obs.health('healthy', later(10)));
      },
    });
    assert.equal(state.outcome, 'auto_resolved');
    assert.equal(acts.mutatingCalls().length, 1);
  });

  void it('the container is not running at the end of the window → escalate, no second restart', async () => {
    const { state, acts } = await runIncident(env, { input: incidentInput(obs.die(2)), script: { inspect: [STATES.exited1, STATES.exited1] } });
    assert.equal(state.decision?.rule, 'exit-recurrence');
    assert.equal(acts.named('restartContainer').length, 1);
    assert.equal(state.outcome, 'unacknowledged');
  });

  void it('unhealthy → restart → healthy within the window → auto_resolved', async () => {
    const { state, handle, acts } = await runIncident(env, {
      input: incidentInput(obs.health('unhealthy')),
      script: { inspect: [STATES.unhealthy, STATES.runningHealthy] },
      during: async (h) => {
        await waitForPhase(h, 'verify');
        await env.sleep('15s');
        await h.signal(observeSignal, obs.health('healthy', later(15)));
      },
      record: 'unhealthy-restart-resolved',
    });
    assert.equal(state.decision?.rule, 'unhealthy-restart');
    assert.deepEqual(acts.mutatingCalls(), [{ name: 'restartContainer', args: [CONTAINER_ID] }]);
    assert.equal(state.outcome, 'auto_resolved');
    assert.deepEqual(await searchAttributes(handle), { container: 'web', host: HOST, failure: 'unhealthy', decision: 'restart', outcome: 'auto_resolved' });
  });

  void it('unhealthy again after the restart → escalate, exactly one restart', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.health('unhealthy')),
      script: { inspect: [STATES.unhealthy, STATES.unhealthy] },
      during: async (h) => {
        await waitForPhase(h, 'verify');
        await env.sleep('40s');
        await h.signal(observeSignal, obs.health('unhealthy', later(40)));
      },
    });
    assert.equal(state.decision?.rule, 'unhealthy-recurrence');
    assert.equal(acts.named('restartContainer').length, 1);
    assert.equal(acts.mutatingCalls().length, 1);
  });

  void it('never healthy within the window (still starting) → escalate, no second restart', async () => {
    const { state, acts } = await runIncident(env, { input: incidentInput(obs.health('unhealthy')), script: { inspect: [STATES.unhealthy, container({ health: 'starting' })] } });
    assert.equal(state.finalAction, 'escalate');
    assert.ok(state.notes.some((n) => /did not report healthy/.test(n)));
    assert.equal(acts.mutatingCalls().length, 1);
  });
});

void describe('incident workflow: not incidents', () => {
  const cases = [
    { name: 'exit 0', trigger: obs.die(0), state: STATES.exited0, rule: 'clean-exit' },
    { name: 'operator stop', trigger: obs.die(143, { operatorStop: true }), state: STATES.stopped143, rule: 'operator-stop' },
    { name: 'not opted in', trigger: obs.die(1), state: STATES.notOptedIn, rule: 'out-of-scope' },
    { name: 'dockmedic stack member', trigger: obs.die(1), state: container({ ...STATES.exited1, labels: { 'dockmedic.enable': 'true', 'dockmedic.stack': 'gateway' } }), rule: 'out-of-scope' },
  ];
  for (const c of cases) {
    void it(`${c.name} → ignored at once, no tool call beyond the one inspect`, async () => {
      const { state, handle, acts } = await runIncident(env, { input: incidentInput(c.trigger), script: { inspect: [c.state] } });
      assert.equal(state.outcome, 'ignored');
      assert.equal(state.phase, 'closed');
      assert.equal(state.decision?.rule, c.rule);
      assert.deepEqual(acts.calls.map((x) => x.name), ['inspectContainer']);
      assert.equal(acts.notices.length, 0);
      assert.ok(Date.parse(state.closedAt ?? '') - Date.parse(state.startedAt) < 5_000, 'closed without waiting for any timer');
      assert.equal((await searchAttributes(handle)).outcome, 'ignored');
    });
  }

  void it('the gateway refuses the container as out of scope → ignored, nothing else called', async () => {
    const { state, acts } = await runIncident(env, { input: incidentInput(obs.die(1)), script: { inspect: [{ refuse: 'container_not_opted_in' }] } });
    assert.equal(state.outcome, 'ignored');
    assert.equal(state.decision?.rule, 'out-of-scope');
    assert.deepEqual(acts.calls.map((x) => x.name), ['inspectContainer']);
  });

  void it('the container no longer exists → ignored', async () => {
    const { state, acts } = await runIncident(env, { input: incidentInput(obs.die(1)), script: { inspect: [{ refuse: 'container_not_found' }] } });
    assert.equal(state.outcome, 'ignored');
    assert.equal(state.decision?.rule, 'container-gone');
    assert.equal(acts.mutatingCalls().length, 0);
  });
});

void describe('incident workflow: refusals, input, buffering', () => {
  void it('restart refused by the rate limit → escalate with the reason, the refusal is not retried', async () => {
    const { state, acts } = await runIncident(env, { input: incidentInput(obs.die(1)), script: { inspect: [STATES.exited1], restart: { refuse: 'rate_limited', kind: 'throttled' } } });
    assert.equal(acts.named('restartContainer').length, 1, 'non-retryable: exactly one attempt');
    assert.equal(state.finalAction, 'escalate');
    assert.match(acts.notices[0]?.reason ?? '', /rate_limited/);
    const rec = state.decisionChain.find((r) => r.tool === 'restart_container');
    assert.equal(rec?.ok, false);
    assert.equal(rec?.error?.code, 'rate_limited');
    assert.equal(acts.notices[0]?.recommendedAction, 'restart');
  });

  void it('Redis down at the gateway (store_unavailable) while raising memory → escalate, no start', async () => {
    const { state, acts } = await runIncident(env, { input: incidentInput(obs.oom()), script: { inspect: [STATES.oomKilled], raise: { refuse: 'store_unavailable', kind: 'throttled' } } });
    assert.equal(acts.named('raiseMemory').length, 1);
    assert.equal(acts.named('startContainer').length, 0);
    assert.equal(state.finalAction, 'escalate');
    assert.match(acts.notices[0]?.reason ?? '', /store_unavailable/);
  });

  void it('a bounds refusal (memory above the ceiling) → escalate, not retried', async () => {
    const { state, acts } = await runIncident(env, { input: incidentInput(obs.oom()), script: { inspect: [STATES.oomKilled], raise: { refuse: 'memory_above_ceiling' } } });
    assert.equal(acts.named('raiseMemory').length, 1);
    assert.equal(state.finalAction, 'escalate');
  });

  void it('a transient gateway error is retried by Temporal and then succeeds', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1)),
      script: { inspect: [{ refuse: 'docker_error', kind: 'transient' }, STATES.exited1, STATES.running] },
    });
    assert.equal(state.outcome, 'auto_resolved');
    assert.equal(acts.named('inspectContainer').length, 3, 'one failed attempt, retried, then the final check');
    assert.equal(acts.named('restartContainer').length, 1);
  });

  void it('bad input fails the workflow at once with a non-retryable InvalidIncidentInput', async () => {
    const input = incidentInput(obs.die(1), { containerId: '../../etc/passwd', escalation: { ladder: [], resolveTimeoutSeconds: 1 } });
    await assert.rejects(
      runIncident(env, { input, script: { inspect: [STATES.exited1] } }),
      (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.ok(err.cause instanceof ApplicationFailure);
        assert.equal(err.cause.type, 'InvalidIncidentInput');
        assert.equal(err.cause.nonRetryable, true);
        assert.match(err.cause.message, /containerId/);
        assert.match(err.cause.message, /escalation\.ladder/);
        return true;
      },
    );
  });

  void it('observations signalled while triage is busy are not lost (a crash loop seen mid-inspect escalates)', async () => {
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1)),
      script: { inspect: [STATES.exited1], holdFirstInspect: hold },
      during: async (h, a) => {
        while (a.named('inspectContainer').length === 0) await new Promise((r) => setTimeout(r, 10));
        await h.signal(observeSignal, obs.die(1, { time: later(1), deathsInWindow: 2 }));
        await h.signal(observeSignal, obs.crashloop(3));
        release();
      },
    });
    assert.equal(state.decision?.rule, 'crashloop');
    assert.equal(acts.mutatingCalls().length, 0);
  });

  void it('the trigger sent both as input and as the signalWithStart signal is kept once; malformed signals are dropped', async () => {
    const { state } = await runIncident(env, {
      input: incidentInput(obs.die(1)),
      script: { inspect: [STATES.exited1, STATES.running] },
      during: async (h) => {
        await waitForPhase(h, 'verify');
        await h.signal(observeSignal, { kind: 'explode', time: 'x' } as never);
        await h.signal(observeSignal, obs.die(1));
      },
    });
    assert.equal(state.observations.filter((o) => o.kind === 'die').length, 1);
    assert.ok(state.notes.includes('dropped a malformed observation'));
    assert.equal(state.outcome, 'auto_resolved');
  });
});
