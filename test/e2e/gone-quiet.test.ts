import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { docker } from '../helpers/stack';
import { runScenarioContainer } from '../helpers/scenario';
import { closedIncident, incidentPhase, mutatingCallsFor, runCli, pagedStack, waitUntil } from './harness';
import type { IncidentDetail } from '../../src/cli/incident-detail';
import type { IncidentState } from '../../src/contract/incident';

/**
 * Staying quiet when there is nothing to page about (docs/architecture.md §3), on the real stack:
 * a crash loop that Docker keeps restarting pages once, not once per incident; a container
 * removed while its incident is open closes it as container_gone without a page; a container
 * recreated under the same name gets its own incident and is remediated.
 */
const t = pagedStack({
    // One short level: an unanswered escalation closes within seconds.
    DOCKMEDIC_LADDER: 'level-1:3',
    DOCKMEDIC_STABILIZATION_SECONDS: '6',
});

/** Every run of this container's incident id, oldest first, with its final state when closed. */
async function runsOf(name: string): Promise<{ runId: string; status: string; state?: IncidentState }[]> {
  const id = t.stack.incidentId(name);
  const runs: { runId: string; status: string; state?: IncidentState }[] = [];
  for await (const info of t.stack.client.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push({ runId: info.runId, status: info.status.name });
  runs.reverse();
  for (const r of runs) {
    if (r.status === 'COMPLETED') r.state = (await t.stack.client.workflow.getHandle(id, r.runId).result()) as IncidentState;
  }
  return runs;
}

/** Pages about this container's incidents (the incident id is in every page). */
const pagesAbout = (name: string) => t.hook.pages.filter((p) => ((JSON.parse(p) as { text?: string }).text ?? '').includes(t.stack.incidentId(name))).length;

void describe('quiet period and containers that go away', () => {
  void it('a crash loop under --restart on-failure:10 pages once, however many incidents it opens', async () => {
    const name = `${t.stack.runId}-loop`;
    await runScenarioContainer({ name, cmd: 'sleep 1; exit 3', restart: 'on-failure:10', labels: { 'dockmedic.enable': 'true' } });
    // The first incident escalates and, unanswered, closes; Docker keeps restarting the container.
    // Every later death inside the quiet period opens an incident that is recorded, not paged.
    const runs = await waitUntil(
      'the first incident to close and two more to be held back by the quiet period',
      async () => {
        const r = await runsOf(name);
        return r.filter((x) => x.state?.outcome === 'suppressed').length >= 2 && r[0]?.state?.outcome === 'unacknowledged' ? r : null;
      },
      120_000,
      1000,
    );
    await docker().getContainer(name).remove({ force: true });
    const first = runs[0]?.state;
    assert.equal(first?.outcome, 'unacknowledged');
    for (const r of runs.slice(1).filter((x) => x.state)) {
      assert.equal(r.state?.outcome, 'suppressed', `run ${r.runId}: ${JSON.stringify(r.state?.notes)}`);
      assert.equal(r.state?.quietAfter?.runId, runs[0]?.runId, 'linked to the run that was paged');
      assert.deepEqual(r.state?.decisionChain.filter((c) => c.tool !== 'inspect_container' && c.tool !== 'list_quiet_period_incidents').map((c) => c.tool), [], 'nothing done');
    }
    assert.equal(pagesAbout(name), 1, 'one page for the whole crash loop');
    // `incidents show` of the latest run says why it was held back, and after which run.
    const latest = (await runsOf(name)).at(-1);
    assert.equal(latest?.state?.outcome, 'suppressed');
    const shown = runCli(t.stack, ['incidents', 'show', t.stack.incidentId(name), '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    const detail = JSON.parse(shown.stdout) as IncidentDetail;
    assert.equal(detail.quietAfter?.runId, runs[0]?.runId);
    assert.equal(detail.outcome, 'suppressed');
    assert.deepEqual(mutatingCallsFor(t.stack.audit(), name), { restart_container: 0, start_container: 0, update_container_resources: 0 });
  });

  void it('a container removed while its incident is open closes it as container_gone, and nobody is paged', async () => {
    const name = `${t.stack.runId}-removed`;
    // Fails once; the restart would hold. It is removed while the fix is being verified.
    await runScenarioContainer({ name, cmd: '[ -f /ran ] && exec sleep 300; touch /ran; exit 7', labels: { 'dockmedic.enable': 'true' } });
    const id = t.stack.incidentId(name);
    await waitUntil('the restart to be under verification', async () => (await incidentPhase(t.stack.client, id)) === 'verify', 30_000);
    await docker().getContainer(name).remove({ force: true });
    const state = await closedIncident(t.stack.client, id, 30_000);
    assert.equal(state.outcome, 'container_gone', JSON.stringify(state.notes));
    // A page would have been sent within the level's 3 s had the kill been taken for a recurrence.
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(pagesAbout(name), 0);
    assert.equal(mutatingCallsFor(t.stack.audit(), name).restart_container, 1);
  });

  void it('a container recreated under the same name while its incident waits for a person gets its own incident and is remediated', async () => {
    const name = `${t.stack.runId}-recreated`;
    // A long first level: the old incident is still waiting for a person when the name is reused.
    const waiting = { DOCKMEDIC_LADDER: 'level-1:120' };
    await t.stack.killWatcher();
    await t.stack.startWatcher(waiting);
    const oldId = await runScenarioContainer({ name, cmd: 'exit 7', labels: { 'dockmedic.enable': 'true' } });
    const id = t.stack.incidentId(name);
    // Restarted once, failed again: escalated, waiting for a person.
    await waitUntil('the old container’s incident to escalate', async () => (await incidentPhase(t.stack.client, id)) === 'escalated', 30_000);
    const oldRun = (await t.stack.client.workflow.getHandle(id).describe()).runId;
    // What `docker compose up` does on a change: the watcher is down meanwhile, so the old
    // incident never hears of the removal and the new container's failure reaches its id first.
    await t.stack.killWatcher();
    await docker().getContainer(name).remove({ force: true });
    const newId = await runScenarioContainer({ name, cmd: '[ -f /ran ] && exec sleep 300; touch /ran; exit 7', labels: { 'dockmedic.enable': 'true' } });
    await waitUntil('the new container to exit', async () => (await docker().getContainer(newId).inspect()).State.Status === 'exited', 10_000);
    await t.stack.startWatcher(waiting);

    const old = (await t.stack.client.workflow.getHandle(id, oldRun).result()) as IncidentState;
    assert.equal(old.outcome, 'container_gone', JSON.stringify(old.notes));
    assert.equal(old.containerId, oldId);
    const fresh = await waitUntil('the new container’s own incident to close', async () => {
      const runs = await runsOf(name);
      return runs.find((r) => r.runId !== oldRun && r.state?.containerId === newId)?.state;
    }, 60_000, 500);
    assert.equal(fresh.outcome, 'auto_resolved', JSON.stringify(fresh.notes));
    const info = await docker().getContainer(newId).inspect();
    assert.equal(info.State.Running, true, 'the new container is running');
    const restarts = t.stack.audit().filter((r) => r.tool === 'restart_container' && r.verdict === 'allowed' && !r.replayed);
    assert.equal(restarts.filter((r) => r.target?.id === newId).length, 1, 'the new container was restarted once');
    assert.equal(restarts.filter((r) => r.target?.id === oldId).length, 1, 'the old one only by its own incident');
    await docker().getContainer(name).remove({ force: true });
  });
});
