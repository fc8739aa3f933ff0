import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { docker } from '../helpers/stack';
import { failOnceAt, runScenarioContainer } from '../helpers/scenario';
import { closedIncident, mutatingCallsFor, runCli, pagedStack, waitUntil } from './harness';
import type { IncidentState } from '../../src/contract/incident';
import type { StormState } from '../../src/contract/storm';
import { STORM_WORKFLOW_TYPE } from '../../src/contract/storm';
import { stateQuery } from '../../src/contract/signals';
import { mapBounded } from '../../src/runtime/bounded';

/**
 * One page per storm (docs/architecture.md §3), on the real stack: eight containers that fail at
 * the same moment, with a mutating budget of five per 20 s. The policy restarts five; the three
 * the budget refused are handed to the host's storm, which pages once and lists them; its
 * approval restarts them through their own incidents once the budget allows, each exactly once.
 */
const CONTAINERS = 8;
const BUDGET = 5;
const t = pagedStack({
    DOCKMEDIC_STORM_COUNT: '5',
    DOCKMEDIC_STORM_WINDOW_SECONDS: '30',
    DOCKMEDIC_RL_AGENT_MUTATING: String(BUDGET),
    DOCKMEDIC_RL_AGENT_MUTATING_WINDOW_SECONDS: '20',
    // Long enough for the test to answer at the first level.
    DOCKMEDIC_LADDER: 'level-1:120,level-2:60',
    DOCKMEDIC_STABILIZATION_SECONDS: '5',
});

async function stormsOfHost(): Promise<string[]> {
  const ids: string[] = [];
  for await (const info of t.stack.client.workflow.list({ query: `WorkflowType = '${STORM_WORKFLOW_TYPE}' AND DockmedicHost = '${t.stack.host}'` })) ids.push(info.workflowId);
  return ids;
}

void describe('a storm of failures on one host', () => {
  void it('pages once, lists what the budget left, and its approval restarts those in a rate-limited batch', async () => {
    const failAt = Math.ceil(Date.now() / 1000) + 8;
    const names = Array.from({ length: CONTAINERS }, (_, i) => `${t.stack.runId}-st${i}`);
    await mapBounded(names, 4, (name) => runScenarioContainer({ name, cmd: failOnceAt(failAt), labels: { 'dockmedic.enable': 'true' } }));
    assert.ok(Date.now() / 1000 < failAt, 'the containers were created before the moment they fail');

    const stormId = await waitUntil('one storm to open for the host', async () => (await stormsOfHost())[0], 40_000, 250);
    const storm = t.stack.client.workflow.getHandle(stormId);
    const waiting = await waitUntil(
      'the storm to page and wait for an answer',
      async () => {
        const st = (await storm.query(stateQuery)) as StormState;
        return st.pendingEscalation && t.hook.pages.length > 0 ? st : null;
      },
      60_000,
      250,
    );
    const handed = waiting.storm.members.filter((m) => m.report?.status === 'handed_over').map((m) => m.container);
    assert.equal(waiting.storm.members.length, CONTAINERS, 'every incident is a member');
    assert.equal(handed.length, CONTAINERS - BUDGET, 'the containers the budget refused wait for the storm');
    assert.deepEqual(waiting.pendingEscalation?.waitingFor, ['approve', 'reject', 'acknowledge', 'resolve']);
    const restartedBefore = names.filter((n) => mutatingCallsFor(t.stack.audit(), n).restart_container === 1);
    assert.equal(restartedBefore.length, BUDGET, 'the policy acted on as many as the budget allows');

    // Nobody else is paged: not the handed-over incidents, not the restarted ones.
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(t.hook.pages.length, 1, 'one page for the storm');
    const page = JSON.stringify(JSON.parse(t.hook.pages[0] ?? '{}'));
    assert.ok(page.includes(stormId), 'the page is the storm’s');
    for (const n of handed) assert.ok(page.includes(n), `the page names ${n}, which waits for a person`);
    for (const n of handed) {
      const st = (await t.stack.client.workflow.getHandle(t.stack.incidentId(n)).query(stateQuery)) as IncidentState;
      assert.equal(st.stormId, stormId, `${n} is linked to the storm`);
      assert.ok(st.pendingEscalation, `${n} waits for the storm's answer`);
    }

    const approvedAt = Date.now();
    const answered = runCli(t.stack, ['respond', stormId, 'approve', '--by', 'alice']);
    assert.equal(answered.code, 0, answered.stderr);
    // The budget frees 20 s after the first restarts: the batch waits for it, then restarts the three.
    const closed = (await storm.result()) as StormState;
    assert.equal(closed.outcome, 'approved', JSON.stringify(closed.notes));
    // Each approved member's close reached the storm (a signal sent as a workflow completes would be dropped).
    for (const n of handed) {
      const m = closed.storm.members.find((x) => x.container === n);
      assert.deepEqual([m?.report?.status, m?.report?.outcome], ['closed', 'approved'], `${n} told the storm it closed`);
    }
    for (const n of handed) {
      const st = await closedIncident(t.stack.client, t.stack.incidentId(n), 60_000);
      assert.equal(st.outcome, 'approved', `${n}: ${JSON.stringify(st.notes)}`);
      const executed = st.decisionChain.filter((c) => c.tool === 'restart_container' && c.ok);
      assert.equal(executed.length, 1, `${n}: one restart`);
      assert.equal(executed[0]?.approvedBy, 'alice (storm)');
    }
    const audit = t.stack.audit();
    // The batch met the budget and waited for it rather than pushing past it.
    assert.ok(audit.some((r) => r.tool === 'restart_container' && r.code === 'rate_limited' && Date.parse(r.time) > approvedAt), 'the batch was held to the budget');
    for (const n of names) assert.equal(mutatingCallsFor(audit, n).restart_container, 1, `${n}: restarted exactly once by the gateway`);
    await waitUntil(
      'every container to run again',
      async () => (await Promise.all(names.map(async (n) => (await docker().getContainer(n).inspect()).State.Running))).every(Boolean),
      20_000,
    );
    assert.equal(t.hook.pages.length, 1, 'still one page');
    assert.equal((await stormsOfHost()).length, 1, 'one storm');
  });
});
