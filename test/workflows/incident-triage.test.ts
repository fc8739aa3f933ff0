/**
 * Triage reads in one activity (issue 11): before the first action the workflow schedules one
 * `triage` activity whose inspect and lookups run side by side, and records each read in the
 * decision chain as before. A failed lookup neither fails nor repeats the inspect.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import { CONTAINER_ID, HOST, STATES, container, incidentInput, obs, runIncident, startEnv } from './harness';
import type { Observation } from '../../src/contract/incident';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startEnv();
});
after(async () => {
  await env?.teardown();
});

const QUIET = 3600;
const input = (trigger: Observation) => incidentInput(trigger, { escalation: { ladder: [{ name: 'oncall', timeoutSeconds: 300 }], resolveTimeoutSeconds: 3600, repageQuietSeconds: QUIET } });

/** Activity types the history scheduled before the first mutating one. */
async function scheduledBeforeAction(h: WorkflowHandle): Promise<string[]> {
  const names: string[] = [];
  for (const e of (await h.fetchHistory()).events ?? []) {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (!name) continue;
    if (['restartContainer', 'raiseMemory', 'startContainer'].includes(name)) break;
    names.push(name);
  }
  return names;
}

void describe('incident workflow: triage in one activity', () => {
  void it('unhealthy: one triage activity reads the inspect and the quiet period, then the restart', async () => {
    const { state, handle, acts } = await runIncident(env, { input: input(obs.health('unhealthy')), script: { inspect: [STATES.unhealthy, container({ health: 'healthy' })] } });
    assert.equal(state.outcome, 'auto_resolved');
    assert.deepEqual(await scheduledBeforeAction(handle), ['triage']);
    assert.deepEqual(acts.named('listQuietPeriodIncidents').map((c) => c.args.slice(0, 3)), [[HOST, 'web', QUIET]]);
    assert.equal(acts.named('countRecentOomIncidents').length, 0, 'no OOM, no count');
    assert.deepEqual(acts.named('restartContainer').map((c) => c.args), [[CONTAINER_ID]]);
    const tools = state.decisionChain.map((c) => c.tool);
    assert.deepEqual(tools.slice(0, 2), ['inspect_container', 'list_quiet_period_incidents']);
  });

  void it('OOM trigger: the count of earlier OOM incidents is read in the same activity and decides', async () => {
    const { state, handle, acts } = await runIncident(env, { input: input(obs.oom()), script: { inspect: [STATES.oomKilled], priorOomIncidents: 5 } });
    // Earlier OOMs in the window: the policy escalates instead of raising the limit again.
    assert.equal(state.decision?.rule, 'oom-recurrence');
    const scheduled = await scheduledBeforeAction(handle);
    assert.equal(scheduled[0], 'triage');
    assert.ok(!scheduled.some((n) => ['inspectContainer', 'countRecentOomIncidents', 'listQuietPeriodIncidents'].includes(n)), `separate reads scheduled: ${scheduled.join(', ')}`);
    assert.equal(acts.named('countRecentOomIncidents').length, 1);
    assert.equal(acts.named('inspectContainer').length, 1);
    assert.equal(acts.mutatingCalls().length, 0);
    const count = state.decisionChain.find((c) => c.tool === 'count_recent_oom_incidents');
    assert.equal(count?.ok, true);
    assert.equal(count?.ok && count.result, 5);
  });

  void it('a lookup that fails is recorded as failed, the inspect is not repeated, and the incident acts', async () => {
    const { state, acts } = await runIncident(env, {
      input: input(obs.die(1)),
      script: { inspect: [STATES.exited1, STATES.running], earlierIncidents: { refuse: 'temporal_unavailable', kind: 'transient' } },
    });
    assert.equal(state.outcome, 'auto_resolved');
    assert.equal(acts.named('inspectContainer').length, 2, 'triage + final check: the failed lookup did not retry the inspect');
    assert.equal(acts.named('listQuietPeriodIncidents').length, 3, 'the lookup retried inside the activity, then gave up');
    const listed = state.decisionChain.find((c) => c.tool === 'list_quiet_period_incidents');
    assert.equal(listed?.ok, false);
    assert.deepEqual(acts.named('restartContainer').map((c) => c.args), [[CONTAINER_ID]]);
  });

  void it('an OOM count that cannot be read escalates rather than guessing', async () => {
    const { state, acts } = await runIncident(env, { input: input(obs.oom()), script: { inspect: [STATES.oomKilled], priorOomIncidents: { refuse: 'temporal_unavailable', kind: 'refused' } } });
    assert.equal(acts.named('countRecentOomIncidents').length, 1, 'a refusal is not retried');
    assert.equal(acts.mutatingCalls().length, 0);
    assert.equal(state.finalAction, 'escalate');
    assert.equal(state.decision?.failure, 'oom');
  });
});
