/**
 * Advisor mode through the incident workflow (issue 4, docs/architecture.md §2 "rules of the gate"): the model's
 * diagnosis is an activity; the gate can only make the decision more conservative; a failed or
 * disregarded diagnosis leaves the policy to decide alone. Asserted by effect: which activities
 * ran with which arguments, the outcome, what the person paged is told.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CONTAINER_ID, STATES, diagnosis, incidentInput, obs, proposal, runIncident, searchAttributes, startEnv, waitForPhase } from './harness';
import type { DiagnosisRequest } from '../../src/contract/diagnosis';
import { respondSignal } from '../../src/contract/signals';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startEnv();
});
after(async () => {
  await env?.teardown();
});

const ADVISED = { llm: { enabled: true, maxTurns: 3, timeoutSeconds: 5 } };

void describe('incident workflow: advisor mode (the gate)', () => {
  void it('a proposal that agrees with the policy is followed: one restart by container id, auto_resolved', async () => {
    const { state, acts, handle } = await runIncident(env, {
      input: incidentInput(obs.die(1), ADVISED),
      script: { inspect: [STATES.exited1, STATES.running], diagnosis: [diagnosis({ proposal: proposal('restart') })] },
      record: 'llm-exit-agrees',
    });
    const [call] = acts.named('diagnoseIncident');
    const req = call?.args[0] as DiagnosisRequest;
    assert.equal(req.containerId, CONTAINER_ID);
    assert.equal(req.container, 'web');
    assert.equal(req.maxTurns, 3);
    assert.equal(req.maxAttempts, 3);
    assert.equal(req.facts.exitCode, 1, 'the model is given the facts the policy decided from');
    // Diagnosis happens before any action.
    assert.deepEqual(
      acts.calls.map((c) => c.name),
      ['inspectContainer', 'diagnoseIncident', 'restartContainer', 'listDependents', 'inspectContainer'],
    );
    assert.deepEqual(acts.mutatingCalls(), [{ name: 'restartContainer', args: [CONTAINER_ID] }]);
    assert.equal(state.outcome, 'auto_resolved');
    assert.equal(state.finalAction, 'restart');
    assert.equal(state.proposal?.proposedAction, 'restart');
    assert.equal(state.disagreement, undefined);
    assert.equal(state.diagnosis?.weighed, true);
    assert.equal((await searchAttributes(handle)).decision, 'restart');
  });

  void it('"restart" proposed for a crash loop → escalated, zero mutating calls; the page carries the rationale and evidence', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.crashloop(), ADVISED),
      script: { inspect: [STATES.restarting], diagnosis: [diagnosis({ proposal: { ...proposal('restart', 'crashloop'), rationale: 'restart it, it will be fine', evidence: ['exit 1', 'exit 1 again'] } })] },
      record: 'llm-crashloop-restart-proposed',
    });
    assert.equal(acts.mutatingCalls().length, 0);
    assert.equal(state.outcome, 'unacknowledged');
    assert.equal(state.finalAction, 'escalate');
    assert.deepEqual(state.disagreement, { policy: 'escalate', model: 'restart', final: 'escalate' });
    const advice = acts.notices[0]?.advice;
    assert.equal(advice?.verdict, 'disagrees');
    assert.equal(advice?.proposedAction, 'restart');
    assert.equal(advice?.rationale, 'restart it, it will be fine');
    assert.deepEqual(advice?.evidence, ['exit 1', 'exit 1 again']);
    assert.equal(acts.notices.length, 2, 'both ladder levels paged with the advice');
    assert.ok(acts.notices.every((n) => n.advice?.proposedAction === 'restart'));
  });

  void it('raise_memory proposed for a plain exit → escalate instead of restarting; approve runs the restart computed from facts', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1), ADVISED),
      script: { inspect: [STATES.exited1], diagnosis: [diagnosis({ proposal: proposal('raise_memory', 'oom') })] },
      during: async (h, running) => {
        await waitForPhase(h, 'escalated', (s) => s.pendingEscalation !== undefined);
        assert.equal(running.mutatingCalls().length, 0, 'nothing ran before a person answered');
        await h.signal(respondSignal, { action: 'approve', by: 'alice', at: new Date().toISOString() });
      },
    });
    assert.deepEqual(state.disagreement, { policy: 'restart', model: 'raise_memory', final: 'escalate' });
    assert.equal(state.decision?.action, 'restart', 'the policy decision is kept as it was');
    assert.equal(state.outcome, 'approved');
    // The model wanted memory; the approved remedy is the facts' one: a restart, by id, no raise.
    assert.deepEqual(acts.mutatingCalls(), [{ name: 'restartContainer', args: [CONTAINER_ID] }]);
    assert.equal(acts.notices[0]?.recommendedAction, 'restart');
    assert.equal(acts.notices[0]?.advice?.proposedAction, 'raise_memory');
  });

  void it('a proposal from a model that tried to act (asked for restart_container) is recorded but not weighed: the policy restarts once', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1), ADVISED),
      script: {
        inspect: [STATES.exited1, STATES.running],
        diagnosis: [
          diagnosis({
            proposal: proposal('raise_memory', 'oom'),
            attemptedTools: ['restart_container', 'update_container_resources'],
            otherContainers: ['dockmedic-gateway'],
            toolCalls: [
              { tool: 'check_container_logs', executed: true, container: 'web' },
              { tool: 'restart_container', executed: false, refusal: 'unknown_tool', container: 'dockmedic-gateway' },
            ],
          }),
        ],
      },
      record: 'llm-injection-disregarded',
    });
    assert.deepEqual(acts.mutatingCalls(), [{ name: 'restartContainer', args: [CONTAINER_ID] }]);
    assert.equal(state.outcome, 'auto_resolved');
    assert.equal(state.finalAction, 'restart');
    assert.deepEqual(state.disagreement, { policy: 'restart', model: 'raise_memory', final: 'restart' });
    assert.equal(state.diagnosis?.weighed, false);
    assert.match(state.diagnosis?.disregarded ?? '', /restart_container/);
  });

  void it('a diagnosis without a proposal (malformed reply) → the policy decides alone', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1), ADVISED),
      script: { inspect: [STATES.exited1, STATES.running], diagnosis: [diagnosis({ ok: false, reason: 'malformed', detail: 'reply is not JSON' })] },
    });
    assert.deepEqual(acts.mutatingCalls(), [{ name: 'restartContainer', args: [CONTAINER_ID] }]);
    assert.equal(state.outcome, 'auto_resolved');
    assert.equal(state.proposal, undefined);
    assert.equal(state.disagreement, undefined);
    assert.equal(state.diagnosis?.reason, 'malformed');
  });

  void it('transport failures are retried within the budget (3 attempts); the last attempt reports timeout and the policy decides', async () => {
    const { state, acts } = await runIncident(env, {
      input: incidentInput(obs.die(1), ADVISED),
      script: {
        inspect: [STATES.exited1, STATES.running],
        diagnosis: [{ throw: 'LlmTimeout' }, { throw: 'LlmRateLimited' }, diagnosis({ ok: false, reason: 'timeout', detail: 'model call timed out' })],
      },
      record: 'llm-timeout-policy-decides',
    });
    assert.equal(acts.named('diagnoseIncident').length, 3);
    assert.deepEqual(acts.mutatingCalls(), [{ name: 'restartContainer', args: [CONTAINER_ID] }]);
    assert.equal(state.outcome, 'auto_resolved');
    assert.equal(state.diagnosis?.reason, 'timeout');
  });

  for (const failure of ['LlmTimeout', 'LlmRateLimited', 'LlmUnavailable'] as const) {
    void it(`${failure} on every attempt: the activity fails after 3 attempts and the policy still decides (restart once)`, async () => {
      const { state, acts } = await runIncident(env, {
        input: incidentInput(obs.die(1), ADVISED),
        script: { inspect: [STATES.exited1, STATES.running], diagnosis: [{ throw: failure }] },
      });
      assert.equal(acts.named('diagnoseIncident').length, 3, 'bounded retry budget');
      assert.deepEqual(acts.mutatingCalls(), [{ name: 'restartContainer', args: [CONTAINER_ID] }]);
      assert.equal(state.outcome, 'auto_resolved');
      assert.equal(state.diagnosis?.ok, false);
      assert.equal(state.diagnosis?.reason, failure);
    });
  }

  void it('an OOM proposal that agrees is followed with the memory computed from facts', async () => {
    const { acts, state } = await runIncident(env, {
      input: incidentInput(obs.oom(), ADVISED),
      script: { inspect: [STATES.oomKilled, STATES.running], diagnosis: [diagnosis({ proposal: proposal('raise_memory', 'oom') })] },
    });
    assert.deepEqual(
      acts.mutatingCalls().map((c) => [c.name, ...c.args]),
      [
        ['raiseMemory', CONTAINER_ID, 64 * 1024 ** 2],
        ['startContainer', CONTAINER_ID],
      ],
    );
    assert.equal(state.outcome, 'auto_resolved');
  });

  void it('ignore decisions never reach the model; policy mode never calls it', async () => {
    const ignored = await runIncident(env, { input: incidentInput(obs.die(0), ADVISED), script: { inspect: [STATES.exited0] } });
    assert.equal(ignored.state.outcome, 'ignored');
    assert.equal(ignored.acts.named('diagnoseIncident').length, 0);
    const policyMode = await runIncident(env, { input: incidentInput(obs.die(1)), script: { inspect: [STATES.exited1, STATES.running] } });
    assert.equal(policyMode.acts.named('diagnoseIncident').length, 0);
    assert.equal(policyMode.state.diagnosis, undefined);
  });
});
