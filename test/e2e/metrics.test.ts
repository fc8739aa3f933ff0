import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spawned } from '../helpers/processes';
import { spawnDockmedic } from '../helpers/processes';
import type { Scrape } from '../helpers/prometheus-text';
import { sampleSum, scrape } from '../helpers/prometheus-text';
import { runScenarioContainer } from '../helpers/scenario';
import { freeLoopbackPort } from '../../src/runtime/free-port';
import type { E2eStack } from './harness';
import { closedIncident, startE2eStack } from './harness';

/**
 * docs/architecture.md §9 on the real stack: real incidents move the counters that the gateway,
 * the watcher's listener and the worker serve on /metrics; `dockmedic up` serves all of it, the
 * Temporal SDK's worker metrics included, on its one listener.
 */

let stack: E2eStack;

/** A string field of the JSON log line whose msg is `msg` (e.g. the listener URL in "watcher started"). */
function logField(p: Spawned, msg: string, field: string): string {
  for (const line of p.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    const rec = JSON.parse(line) as Record<string, unknown>;
    if (rec.msg === msg && typeof rec[field] === 'string') return rec[field];
  }
  throw new Error(`${p.name} logged no "${msg}" line with ${field}; output:\n${p.output().slice(-2000)}`);
}

/** First run exits 3; after a restart it stays up: one restart, auto-resolved. */
const EXITS_ONCE = 'if [ -f /tmp/ran ]; then trap "exit 0" TERM; sleep 100000 & wait; else touch /tmp/ran; exit 3; fi';

function delta(before: Scrape, afterwards: Scrape, name: string, labels: Record<string, string> = {}): number {
  return sampleSum(afterwards, name, labels) - sampleSum(before, name, labels);
}

/** Nothing that names one container or incident may be a label value (docs/architecture.md §9), nor a secret. */
function assertNothingSpecific(s: Scrape & { text: string }, forbidden: string[], where: string): void {
  for (const f of forbidden) assert.ok(!s.text.includes(f), `${where}: the scrape must not contain ${f}`);
}

describe('Prometheus /metrics on the real stack', { timeout: 300_000 }, () => {
  let urls: { gateway: string; watcher: string; worker: string };
  let secret: string;

  before(async () => {
    stack = await startE2eStack({ DOCKMEDIC_METRICS_PORT: '0' });
    urls = {
      gateway: `http://127.0.0.1:${stack.env.DOCKMEDIC_GATEWAY_PORT}/metrics`,
      watcher: `${logField(stack.watcher, 'watcher started', 'listener')}/metrics`,
      worker: logField(stack.worker, 'worker started', 'metrics'),
    };
    secret = (JSON.parse(readFileSync(join(stack.stateDir, 'keys', 'agent.json'), 'utf8')) as { secret: string }).secret;
  });
  after(async () => {
    await stack?.close();
  });

  it('an auto-resolved exit moves the gateway, watcher and worker counters', async () => {
    const before = { gateway: await scrape(urls.gateway), watcher: await scrape(urls.watcher), worker: await scrape(urls.worker) };
    const name = `${stack.runId}-exit`;
    const id = await runScenarioContainer({ name, cmd: EXITS_ONCE, labels: { 'dockmedic.enable': 'true' } });
    const state = await closedIncident(stack.client, stack.incidentId(name), 90_000);
    assert.equal(state.outcome, 'auto_resolved', `precondition: the incident resolved (notes: ${state.notes.join(' | ')})`);
    const afterwards = { gateway: await scrape(urls.gateway), watcher: await scrape(urls.watcher), worker: await scrape(urls.worker) };

    const g = afterwards.gateway;
    assert.match(g.contentType ?? '', /^text\/plain; version=0\.0\.4/);
    assert.equal(delta(before.gateway, g, 'dockmedic_gateway_requests_total', { tool: 'restart_container', verdict: 'allowed', code: 'none' }), 1, 'one allowed restart');
    assert.ok(delta(before.gateway, g, 'dockmedic_gateway_requests_total', { tool: 'inspect_container', verdict: 'allowed' }) >= 2, 'triage and verify inspects');
    const requests = delta(before.gateway, g, 'dockmedic_gateway_requests_total');
    assert.equal(delta(before.gateway, g, 'dockmedic_gateway_pipeline_seconds_count'), requests, 'every request is timed once');
    assert.ok(delta(before.gateway, g, 'dockmedic_gateway_pipeline_seconds_sum') > 0);
    // /metrics calls nothing: it is not a tool call and is not audited.
    assert.deepEqual(stack.audit().filter((r) => r.path.startsWith('/metrics')), [], 'scrapes are not audited');

    const w = afterwards.watcher;
    assert.ok(delta(before.watcher, w, 'dockmedic_watcher_events_total', { action: 'die', verdict: 'open' }) >= 1, 'the death opened the incident');
    assert.ok(delta(before.watcher, w, 'dockmedic_watcher_events_total', { action: 'start' }) >= 1, 'the restart was read');
    assert.equal(sampleSum(w, 'dockmedic_watcher_reconnects_total'), 0, 'no reconnect on a healthy stream');

    const k = afterwards.worker;
    assert.equal(delta(before.worker, k, 'dockmedic_incidents_total', { failure: 'exit', decision: 'restart', outcome: 'auto_resolved' }), 1, 'the incident counted once');
    assert.equal(delta(before.worker, k, 'dockmedic_incident_mttr_seconds_count'), 1, 'its time to repair observed');
    const mttr = delta(before.worker, k, 'dockmedic_incident_mttr_seconds_sum');
    assert.ok(mttr > 0 && mttr < 60, `MTTR ${mttr}s: the death to the restart`);
    // The Temporal SDK's own worker metrics, merged into the same scrape.
    assert.ok(sampleSum(k, 'temporal_worker_task_slots_available') > 0, 'SDK slot gauges present');
    assert.ok(k.samples.some((s) => s.name.startsWith('temporal_workflow_completed') && s.labels.workflow_type === 'incidentWorkflow' && s.value >= 1), 'SDK counted the completed incident workflow');
    assert.equal(sampleSum(k, 'dockmedic_temporal_sdk_scrape_errors_total'), 0);

    for (const [where, s] of Object.entries(afterwards)) {
      assert.ok(sampleSum(s, 'process_cpu_user_seconds_total') > 0, `${where}: default process metrics`);
      assertNothingSpecific(s, [name, id, id.slice(0, 12), stack.incidentId(name), secret], where);
    }
  });

  it('an escalation counts its pages by level and its incident, with no time to repair', async () => {
    const before = await scrape(urls.worker);
    const name = `${stack.runId}-again`;
    await runScenarioContainer({ name, cmd: 'sleep 1; exit 1', labels: { 'dockmedic.enable': 'true' } });
    const state = await closedIncident(stack.client, stack.incidentId(name), 90_000);
    assert.equal(state.outcome, 'unacknowledged', `precondition: nobody answered (notes: ${state.notes.join(' | ')})`);
    const afterwards = await scrape(urls.worker);
    assert.equal(delta(before, afterwards, 'dockmedic_pages_total', { level: 'level-1' }), 1);
    assert.equal(delta(before, afterwards, 'dockmedic_pages_total', { level: 'level-2' }), 1);
    assert.equal(delta(before, afterwards, 'dockmedic_incidents_total', { failure: 'exit', decision: 'escalate', outcome: 'unacknowledged' }), 1);
    assert.equal(delta(before, afterwards, 'dockmedic_incident_mttr_seconds_count'), 0, 'an escalated incident has no time to repair');
  });

  it('`dockmedic up` serves everything of its process on the one listener endpoint', async () => {
    const upRun = `${stack.runId}up`;
    const up = spawnDockmedic(`up-${upRun}`, ['up', '--reconcile-window', '0'], {
      ...stack.env,
      DOCKMEDIC_HOST: upRun,
      DOCKMEDIC_TASK_QUEUE: `dockmedic-${upRun}`,
      DOCKMEDIC_GATEWAY_PORT: String(await freeLoopbackPort()),
      DOCKMEDIC_AUDIT_FILE: join(stack.stateDir, 'audit', 'up.jsonl'),
      DOCKMEDIC_WATCH_SELECTOR: `dockmedic.test.run=${upRun}`,
      DOCKMEDIC_METRICS_PORT: '',
    });
    try {
      await up.waitFor(/"msg":"dockmedic up"/, 60_000);
      const listener = `${logField(up, 'dockmedic up', 'listener')}/metrics`;
      const gateway = `${logField(up, 'dockmedic up', 'gateway')}/metrics`;
      const name = `${upRun}-exit`;
      // The container carries this process's run label, not the harness watcher's.
      const run = process.env.DOCKMEDIC_TEST_RUN;
      process.env.DOCKMEDIC_TEST_RUN = upRun;
      try {
        await runScenarioContainer({ name, cmd: EXITS_ONCE, labels: { 'dockmedic.enable': 'true' } });
      } finally {
        process.env.DOCKMEDIC_TEST_RUN = run;
      }
      const state = await closedIncident(stack.client, `incident-${upRun}-${name}`, 90_000);
      assert.equal(state.outcome, 'auto_resolved', `precondition (notes: ${state.notes.join(' | ')})`);
      const s = await scrape(listener);
      assert.equal(sampleSum(s, 'dockmedic_gateway_requests_total', { tool: 'restart_container', verdict: 'allowed' }), 1, 'the gateway part');
      assert.ok(sampleSum(s, 'dockmedic_watcher_events_total', { action: 'die', verdict: 'open' }) >= 1, 'the watcher part');
      assert.equal(sampleSum(s, 'dockmedic_incidents_total', { failure: 'exit', decision: 'restart', outcome: 'auto_resolved' }), 1, 'the worker part');
      assert.equal(sampleSum(s, 'dockmedic_incident_mttr_seconds_count'), 1);
      assert.ok(sampleSum(s, 'temporal_worker_task_slots_available') > 0, "the Temporal SDK's part");
      assert.equal(s.types.get('process_cpu_user_seconds_total'), 'counter', 'one registry: its families declared once (the parser refuses a second declaration)');
      // One endpoint: the gateway's port does not serve the same counters a second time.
      assert.equal((await fetch(gateway)).status, 404);
    } finally {
      await up.stop();
    }
  });
});
