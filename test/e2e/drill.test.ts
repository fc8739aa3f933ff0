import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { docker } from '../helpers/stack';
import { runScenarioContainer } from '../helpers/scenario';
import type { WebhookRecorder } from '../helpers/webhook';
import { startWebhookRecorder } from '../helpers/webhook';
import type { E2eStack } from './harness';
import { runCli, runCliAsync, startE2eStack, waitUntil } from './harness';
import type { DrillInput, DrillResult } from '../../src/contract/drill';
import { DRILL_HOST_LABEL, DRILL_RESPONDER, DRILL_SCHEDULE_PREFIX, DRILL_WORKFLOW_TYPE, SCENARIO_NAMES, drillProgressQuery, drillWorkflowId } from '../../src/contract/drill';
import { SA } from '../../src/contract/search-attributes';
import { DRILL_EXIT } from '../../src/cli/drill-select';
import type { DrillHistoryRow } from '../../src/cli/drill-view';

/**
 * Drills end to end (docs/architecture.md §6) on the real stack: the gateway, worker and watcher
 * as processes, real drill containers. The whole catalogue passes through `drill run`; a wrong
 * policy makes a drill fail with a clear why; nobody is paged; nothing is left behind, also after
 * a cancelled drill; a drill skips while a real incident is open; a Schedule's run shows in
 * `drill history`.
 */
let stack: E2eStack;
let hook: WebhookRecorder;
/** Every request the (real) webhook received: a drill must add none. */
let pages: string[] = [];
const scheduleName = `t${process.pid}`;

async function drillContainersLeft(host: string): Promise<number> {
  return (await docker().listContainers({ all: true, filters: { label: [`${DRILL_HOST_LABEL}=${host}`] } })).length;
}

before(async () => {
  hook = await startWebhookRecorder();
  pages = hook.pages;
  stack = await startE2eStack({ DOCKMEDIC_WEBHOOK_URL: hook.url });
});

after(async () => {
  runCli(stack, ['drill', 'schedule', 'delete', scheduleName]);
  await stack?.close();
  await hook?.close();
});

void describe('dockmedic drill run', () => {
  void it('runs the whole catalogue and every scenario passes by effect; no page, no drill container left, drill incidents hidden from incidents list', async () => {
    const res = await runCliAsync(stack, ['drill', 'run', '--json'], { timeoutMs: 540_000 });
    assert.equal(res.code, DRILL_EXIT.passed, `drill run exit ${res.code}\nstdout: ${res.stdout.slice(-3000)}\nstderr: ${res.stderr.slice(-3000)}`);
    const r = JSON.parse(res.stdout) as DrillResult;
    assert.deepEqual(
      r.cards.map((c) => c.scenario),
      [...SCENARIO_NAMES],
    );
    for (const c of r.cards) assert.equal(c.status, 'passed', `${c.scenario}: ${c.why ?? ''}`);
    // MTTR from Docker's own times, for each scenario that must end running.
    for (const name of ['oom', 'exit-transient', 'unhealthy', 'log-injection']) {
      const mttr = r.cards.find((c) => c.scenario === name)?.mttrMs;
      assert.ok(mttr !== undefined && mttr > 0 && mttr < 60_000, `${name}: MTTR ${mttr}`);
    }
    assert.deepEqual(pages, [], 'no webhook call during a drill');
    assert.equal(await drillContainersLeft(stack.host), 0, 'no drill container left');

    // The drill's incidents carry DockmedicDrill; escalations were answered by the drill responder.
    const crash = r.cards.find((c) => c.scenario === 'crashloop');
    assert.ok(crash?.incidentId);
    const desc = await stack.client.workflow.getHandle(crash.incidentId).describe();
    assert.equal(desc.typedSearchAttributes.get(SA.drill), r.drillId);
    const listed = JSON.parse(runCli(stack, ['incidents', 'list', '--json']).stdout) as { id: string }[];
    assert.equal(listed.filter((i) => i.id === crash.incidentId).length, 0, 'incidents list hides drill incidents');
    const withDrills = JSON.parse(runCli(stack, ['incidents', 'list', '--drills', '--json']).stdout) as { id: string; drill: string | null }[];
    assert.equal(withDrills.find((i) => i.id === crash.incidentId)?.drill, r.drillId);
    // The run the drill judged (a crash-looping container may open another run before it is removed).
    const state = (await stack.client.workflow.getHandle(crash.incidentId, crash.incidentRunId).result()) as { responses: { by: string; action: string }[] };
    assert.deepEqual(
      state.responses.map((x) => [x.by, x.action]),
      [[DRILL_RESPONDER, 'reject']],
    );

    const history = JSON.parse(runCli(stack, ['drill', 'history', '--json']).stdout) as DrillHistoryRow[];
    assert.equal(history[0]?.workflowId, drillWorkflowId(stack.host, r.drillId));
    assert.equal(history[0]?.passed, SCENARIO_NAMES.length);
  });

  void it('rejects an unknown scenario before anything runs (exit 2)', async () => {
    const res = runCli(stack, ['drill', 'run', 'no-such-scenario']);
    assert.equal(res.code, DRILL_EXIT.usage);
    const { count } = await stack.client.workflow.count(`WorkflowType = '${DRILL_WORKFLOW_TYPE}' AND ${SA.host.name} = '${stack.host}' AND ExecutionStatus = 'Running'`);
    assert.equal(count, 0);
  });
});

void describe('a drill can fail', () => {
  void it('with a deliberately wrong policy the scenarios it gets wrong fail saying why, and the others still pass', async () => {
    // A watcher whose policy is wrong: crash loops are never recognised (so Docker's restarts go
    // unwatched), and the memory ceiling forbids the raise an OOM needs.
    await stack.killWatcher();
    await stack.startWatcher({ DOCKMEDIC_CRASHLOOP_DEATHS: '1000', DOCKMEDIC_MEMORY_CEILING_BYTES: String(40 * 1024 * 1024) });
    try {
      const res = await runCliAsync(stack, ['drill', 'run', 'crashloop', 'oom', 'exit-transient', '--json'], { timeoutMs: 300_000 });
      assert.equal(res.code, DRILL_EXIT.failed, res.stderr.slice(-2000));
      const cards = Object.fromEntries((JSON.parse(res.stdout) as DrillResult).cards.map((c) => [c.scenario, c]));
      assert.equal(cards.oom?.status, 'failed');
      assert.match(cards.oom?.why ?? '', /decided escalate .*expected raise_memory/);
      // By effect: the OOM incident escalated and no memory update reached the gateway.
      const oomRun = (await stack.client.workflow.getHandle(cards.oom?.incidentId ?? '', cards.oom?.incidentRunId).result()) as { finalAction?: string };
      assert.equal(oomRun.finalAction, 'escalate');
      assert.equal(stack.audit().filter((r) => r.tool === 'update_container_resources' && r.workflowId === cards.oom?.incidentId).length, 0);
      assert.equal(cards.crashloop?.status, 'failed');
      assert.match(cards.crashloop?.why ?? '', /no incident was opened/);
      assert.equal(cards['exit-transient']?.status, 'passed', cards['exit-transient']?.why);
      assert.deepEqual(pages, [], 'a failing drill started by hand pages nobody either');
      assert.equal(await drillContainersLeft(stack.host), 0);

      // The same failure in a scheduled drill pages once, as an incident about dockmedic itself.
      const input: DrillInput = { host: stack.host, drillId: `s${process.pid}`, scenarios: ['oom'], scheduled: true };
      const r = (await stack.client.workflow.execute(DRILL_WORKFLOW_TYPE, {
        workflowId: drillWorkflowId(stack.host, input.drillId ?? ''),
        taskQueue: stack.env.DOCKMEDIC_TASK_QUEUE ?? '',
        args: [input],
        typedSearchAttributes: [{ key: SA.host, value: stack.host }],
      })) as DrillResult;
      assert.equal(r.passed, false);
      await waitUntil('the failed scheduled drill pages', async () => pages.length > 0, 30_000);
      assert.equal(pages.length, 1, 'one page for the failed scheduled drill');
      const page = JSON.parse(pages[0] ?? '{}') as { text?: string };
      assert.ok(page.text?.includes(input.drillId ?? '?'), `the page names the drill: ${page.text}`);
    } finally {
      await stack.killWatcher();
      await stack.startWatcher();
    }
  });
});

void describe('drills never compete with real incidents and never leave anything behind', () => {
  void it('a cancelled drill removes its container', async () => {
    const input: DrillInput = { host: stack.host, drillId: `c${process.pid}`, scenarios: ['crashloop'], scheduled: false };
    const handle = await stack.client.workflow.start(DRILL_WORKFLOW_TYPE, {
      workflowId: drillWorkflowId(stack.host, input.drillId ?? ''),
      taskQueue: stack.env.DOCKMEDIC_TASK_QUEUE ?? '',
      args: [input],
      typedSearchAttributes: [{ key: SA.host, value: stack.host }],
    });
    await waitUntil('the drill container exists', async () => (await drillContainersLeft(stack.host)) > 0, 60_000);
    await waitUntil('the scenario is running', async () => (await handle.query(drillProgressQuery)).cards[0]?.container, 30_000);
    await handle.cancel();
    await assert.rejects(handle.result());
    assert.equal(await drillContainersLeft(stack.host), 0, 'the cancelled drill removed its container');
  });

  void it('skips, with the reason, while a real incident is open on the host', async () => {
    const name = `${stack.runId}-real-crash`;
    await runScenarioContainer({ name, cmd: 'sleep 1; exit 1', labels: { 'dockmedic.enable': 'true' } });
    const real = stack.incidentId(name);
    await waitUntil('the real incident is open', async () => (await stack.client.workflow.count(`WorkflowId = '${real}' AND ExecutionStatus = 'Running'`)).count > 0, 60_000);
    const res = await runCliAsync(stack, ['drill', 'run', 'exit-transient', '--json'], { timeoutMs: 120_000 });
    assert.equal(res.code, DRILL_EXIT.skipped, res.stderr.slice(-2000));
    const r = JSON.parse(res.stdout) as DrillResult;
    assert.match(r.skipped ?? '', /real incident/);
    assert.equal(r.cards[0]?.status, 'skipped');
    assert.equal(r.cards[0]?.container, undefined, 'no drill container was made');
    assert.equal(await drillContainersLeft(stack.host), 0);
    // The real incident still pages as usual (the drill changed nothing about it).
    await stack.client.workflow.getHandle(real).result();
  });
});

void describe('drills on a Temporal Schedule', () => {
  void it('a Schedule is created, triggered, and its run is visible in drill history', async () => {
    const create = runCli(stack, ['drill', 'schedule', 'create', '--every', '1d', '--scenario', 'exit-transient', '--name', scheduleName, '--json']);
    assert.equal(create.code, 0, create.stderr);
    const list = JSON.parse(runCli(stack, ['drill', 'schedule', 'list', '--json']).stdout) as { scheduleId: string }[];
    assert.ok(list.some((s) => s.scheduleId === `${DRILL_SCHEDULE_PREFIX}${scheduleName}`));
    const paused = () => (JSON.parse(runCli(stack, ['drill', 'schedule', 'list', '--json']).stdout) as { scheduleId: string; paused: boolean }[]).find((s) => s.scheduleId === `${DRILL_SCHEDULE_PREFIX}${scheduleName}`)?.paused;
    assert.equal(runCli(stack, ['drill', 'schedule', 'pause', scheduleName]).code, 0);
    assert.equal(paused(), true);
    assert.equal(runCli(stack, ['drill', 'schedule', 'resume', scheduleName]).code, 0);
    assert.equal(paused(), false);
    const before0 = (JSON.parse(runCli(stack, ['drill', 'history', '--json']).stdout) as DrillHistoryRow[]).length;
    assert.equal(runCli(stack, ['drill', 'schedule', 'trigger', scheduleName]).code, 0);
    const row = await waitUntil(
      'the scheduled drill completed',
      async () => {
        const rows = JSON.parse(runCli(stack, ['drill', 'history', '--json']).stdout) as DrillHistoryRow[];
        return rows.length > before0 && rows[0]?.status === 'COMPLETED' ? rows[0] : null;
      },
      180_000,
      2_000,
    );
    assert.equal(row.scheduled, true);
    assert.equal(row.result?.passed, true, JSON.stringify(row.result?.cards));
    assert.ok((row.mttrMedianMs ?? 0) > 0);
    assert.equal(runCli(stack, ['drill', 'schedule', 'delete', scheduleName]).code, 0);
    assert.equal(runCli(stack, ['drill', 'schedule', 'pause', scheduleName]).code, 2, 'a deleted schedule is gone');
  });
});
