import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { loadConfig } from '../../src/config';
import { IncidentStarter } from '../../src/watcher/incident-starter';
import type { Scenario } from '../../src/drills/scenarios';
import { SCENARIOS } from '../../src/drills/scenarios';
import { ACTIVITY_FOR_TOOL } from '../../src/drills/score';
import { docker } from '../helpers/stack';
import { runCatalogueScenario, runScenarioContainer } from '../helpers/scenario';
import type { E2eStack } from './harness';
import { auditRecordsFor, closedIncident, incidentPhase, mutatingCallsFor, runCli, scheduledActivities, startE2eStack, waitUntil } from './harness';
import { SA } from '../../src/contract/search-attributes';
import { stateQuery } from '../../src/contract/signals';

/**
 * docs/architecture.md §6 scenarios 1–6, 8 and 9 on the real stack: Docker engine, Redis, Temporal dev server,
 * and dockmedic's gateway, worker and watcher as separate processes. Each is checked by effect.
 */

let stack: E2eStack;

async function startScenario(s: Scenario): Promise<{ name: string; id: string }> {
  const name = `${stack.runId}-${s.name}`;
  const id = await runCatalogueScenario(s, name);
  if (s.container.operatorStopAfterMs !== undefined) {
    await new Promise((r) => setTimeout(r, s.container.operatorStopAfterMs));
    await docker().getContainer(id).stop({ t: 2 });
  }
  return { name, id };
}

async function checkScenario(s: Scenario, container: { name: string; id: string }): Promise<void> {
  const workflowId = stack.incidentId(container.name);
  if (!s.expect.incident) {
    // Give the watcher time to (wrongly) react, then require that nothing happened.
    await new Promise((r) => setTimeout(r, 6000));
    const { count } = await stack.client.workflow.count(`WorkflowId = '${workflowId}'`);
    assert.equal(count, 0, `${s.name}: no incident may be opened`);
    await assert.rejects(stack.client.workflow.getHandle(workflowId).describe(), `${s.name}: workflow must not exist`);
    assert.deepEqual(auditRecordsFor(stack.audit(), container.name), [], `${s.name}: the gateway must see no call for the container`);
    return;
  }
  const state = await closedIncident(stack.client, workflowId, 90_000);
  assert.equal(state.outcome, s.expect.outcome, `${s.name}: outcome (notes: ${state.notes.join(' | ')})`);
  assert.equal(state.finalAction ?? state.decision?.action, s.expect.decision, `${s.name}: decision`);

  const desc = await stack.client.workflow.getHandle(workflowId).describe();
  assert.equal(desc.typedSearchAttributes.get(SA.container), container.name);
  assert.equal(desc.typedSearchAttributes.get(SA.host), stack.host);
  assert.equal(desc.typedSearchAttributes.get(SA.decision), s.expect.decision);
  assert.equal(desc.typedSearchAttributes.get(SA.outcome), s.expect.outcome);
  assert.ok(desc.typedSearchAttributes.get(SA.failure), `${s.name}: failure search attribute set`);

  const audited = mutatingCallsFor(stack.audit(), container.name);
  const scheduled = await scheduledActivities(stack.client, workflowId);
  for (const [tool, n] of Object.entries(s.expect.mutatingCalls ?? {})) {
    assert.equal(audited[tool], n, `${s.name}: ${tool} allowed by the gateway`);
    assert.equal(scheduled[ACTIVITY_FOR_TOOL[tool] ?? tool] ?? 0, n, `${s.name}: ${tool} scheduled in history`);
  }

  const fin = s.expect.finalState;
  if (fin) {
    const info: Docker.ContainerInspectInfo = await docker().getContainer(container.id).inspect();
    assert.equal(info.State.Running, fin.running, `${s.name}: running`);
    if (fin.memoryFactor) assert.equal(info.HostConfig.Memory, (s.container.memoryBytes ?? 0) * fin.memoryFactor, `${s.name}: memory limit`);
    if (fin.healthy) {
      await waitUntil(`${s.name} healthy`, async () => (await docker().getContainer(container.id).inspect()).State.Health?.Status === 'healthy', 15_000);
    }
  }
}

describe('end-to-end scenarios on the real stack', { timeout: 300_000 }, () => {
  before(async () => {
    stack = await startE2eStack();
  });
  after(async () => {
    await stack?.close();
  });

  it('scenarios 1–6, 8, 9: decision and effect', async () => {
    const chosen = SCENARIOS.filter((s) => ['oom', 'crashloop', 'exit-transient', 'exit-persistent', 'unhealthy', 'unhealthy-persistent', 'not-opted-in', 'operator-stop'].includes(s.name));
    assert.equal(chosen.length, 8);
    const started = await Promise.all(chosen.map(async (s) => ({ s, c: await startScenario(s) })));
    const results = await Promise.allSettled(started.map(({ s, c }) => checkScenario(s, c)));
    const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`${started[i]?.s.name}: ${(r.reason as Error).message}`] : []));
    assert.deepEqual(failures, []);
  });

  it('100 duplicate events for one container open exactly one incident', async () => {
    const config = loadConfig({ ...process.env, ...stack.env });
    const name = `${stack.runId}-dup`;
    const id = await runScenarioContainer({ name, cmd: 'sleep 1; exit 1', labels: { 'dockmedic.enable': 'true' } });
    await waitUntil('container exited', async () => !(await docker().getContainer(id).inspect()).State.Running, 10_000);
    const starter = new IncidentStarter(stack.client, config);
    const time = new Date().toISOString();
    await Promise.all(Array.from({ length: 100 }, () => starter.open({ id, name }, { kind: 'die', time, exitCode: 1, deathsInWindow: 1, operatorStop: false })));
    const workflowId = stack.incidentId(name);
    await waitUntil('visibility to list the incident', async () => (await stack.client.workflow.count(`WorkflowId = '${workflowId}'`)).count >= 1, 10_000);
    const runs: string[] = [];
    for await (const info of stack.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(info.runId);
    assert.equal(runs.length, 1, 'exactly one incident for the container');
    const state = await closedIncident(stack.client, workflowId, 60_000);
    assert.equal(mutatingCallsFor(stack.audit(), name).restart_container, 1, 'one restart for one incident');
    assert.equal(state.decisionChain.filter((c) => c.tool === 'restart_container').length, 1);
  });

  it('a failure while the watcher was down is reconciled when it starts again', async () => {
    await stack.killWatcher();
    const name = `${stack.runId}-missed`;
    const id = await runScenarioContainer({ name, cmd: 'if [ -f /tmp/ran ]; then trap "exit 0" TERM; sleep 100000 & wait; else touch /tmp/ran; exit 3; fi', labels: { 'dockmedic.enable': 'true' } });
    await waitUntil('the container to exit', async () => (await docker().getContainer(id).inspect()).State.Status === 'exited', 10_000);
    const workflowId = stack.incidentId(name);
    await assert.rejects(stack.client.workflow.getHandle(workflowId).describe(), 'no incident while nobody watches');
    await stack.startWatcher();
    const state = await closedIncident(stack.client, workflowId, 60_000);
    assert.equal(state.outcome, 'auto_resolved');
    assert.equal(state.facts?.exitCode, 3);
    assert.equal(mutatingCallsFor(stack.audit(), name).restart_container, 1);
    assert.equal((await docker().getContainer(id).inspect()).State.Running, true);
  });

  it('a worker killed with SIGKILL inside the verification window: the incident completes, one restart', async () => {
    const name = `${stack.runId}-sigkill`;
    const id = await runScenarioContainer({ name, cmd: 'if [ -f /tmp/ran ]; then trap "exit 0" TERM; sleep 100000 & wait; else touch /tmp/ran; sleep 1; exit 1; fi', labels: { 'dockmedic.enable': 'true' } });
    const workflowId = stack.incidentId(name);
    await waitUntil('the incident to reach verify', async () => (await incidentPhase(stack.client, workflowId)) === 'verify', 30_000);
    await stack.restartWorker();
    const state = await closedIncident(stack.client, workflowId, 60_000);
    assert.equal(state.outcome, 'auto_resolved');
    assert.equal(mutatingCallsFor(stack.audit(), name).restart_container, 1, 'exactly one restart in the gateway audit');
    assert.equal((await docker().getContainer(id).inspect()).State.Running, true);
  });
});

describe('operating an incident with the CLI on the real stack', { timeout: 300_000 }, () => {
  before(async () => {
    stack = await startE2eStack();
  });
  after(async () => {
    await stack?.close();
  });

  it('doctor is ready on the stack and names what is broken otherwise', () => {
    const ok = runCli(stack, ['doctor', '--json']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const report = JSON.parse(ok.stdout) as { ready: boolean; checks: { name: string; ok: boolean }[] };
    assert.equal(report.ready, true);
    const broken = runCli(stack, ['doctor', '--json'], { REDIS_URL: 'redis://127.0.0.1:1' });
    assert.equal(broken.code, 1);
    const checks = (JSON.parse(broken.stdout) as typeof report).checks;
    assert.deepEqual(checks.filter((c) => !c.ok).map((c) => c.name), ['redis']);
  });

  it('approve by CLI runs the action through the gateway with approvedBy; list/show --json; a closed incident refuses answers', async () => {
    const name = `${stack.runId}-approve`;
    // Fails on its first two runs (so the policy's one restart does not help and it escalates), then stays up.
    const failTwice = 'n=$(cat /tmp/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/n; if [ $n -ge 3 ]; then trap "exit 0" TERM; sleep 100000 & wait; else sleep 1; exit 1; fi';
    const containerId = await runScenarioContainer({ name, cmd: failTwice, labels: { 'dockmedic.enable': 'true' } });
    const id = stack.incidentId(name);
    await waitUntil('the escalation to wait for an answer', async () => (await stack.client.workflow.getHandle(id).query(stateQuery)).pendingEscalation?.waitingFor.includes('approve'), 40_000);
    const before = mutatingCallsFor(stack.audit(), name).restart_container;
    assert.equal(before, 1, 'the policy restarted once before escalating');

    const bad = runCli(stack, ['respond', id, 'resolve-now', '--by', 'alice']);
    assert.equal(bad.code, 2, 'an unknown answer is refused as bad input');
    const sent = runCli(stack, ['respond', id, 'approve', '--by', 'alice', '--comment', 'one more try']);
    assert.equal(sent.code, 0, sent.stderr);

    const state = await closedIncident(stack.client, id, 60_000);
    assert.equal(state.outcome, 'approved');
    const approved = state.decisionChain.filter((c) => c.tool === 'restart_container' && c.approvedBy === 'alice');
    assert.equal(approved.length, 1, 'the approved restart is recorded with who approved it');
    assert.equal(mutatingCallsFor(stack.audit(), name).restart_container, 2, 'the approved restart went through the gateway');
    assert.equal((await docker().getContainer(containerId).inspect()).State.Running, true, 'the approved action took effect');

    const again = runCli(stack, ['respond', id, 'approve', '--by', 'bob']);
    assert.equal(again.code, 1, 'a closed incident refuses answers');
    assert.equal(mutatingCallsFor(stack.audit(), name).restart_container, 2, 'and nothing ran');

    const list = runCli(stack, ['incidents', 'list', '--json', '--container', name]);
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as Record<string, unknown>[];
    assert.equal(rows.length, 1);
    for (const field of ['id', 'container', 'failure', 'decision', 'outcome', 'phase', 'startedAt', 'closedAt']) assert.ok(rows[0]?.[field], `list --json has ${field}`);
    assert.equal(rows[0]?.outcome, 'approved');

    const show = runCli(stack, ['incidents', 'show', id, '--json']);
    assert.equal(show.code, 0, show.stderr);
    const detail = JSON.parse(show.stdout) as { facts: { exitCode: number }; rule: string; decisionChain: { tool: string; args: unknown; at: string }[]; responses: { action: string; by: string; comment?: string }[] };
    assert.equal(detail.facts.exitCode, 1);
    assert.equal(detail.rule, 'exit-recurrence');
    assert.ok(detail.decisionChain.some((c) => c.tool === 'restart_container' && c.args && c.at));
    assert.deepEqual(detail.responses.map((r) => [r.action, r.by, r.comment]), [['approve', 'alice', 'one more try']]);
  });
});
