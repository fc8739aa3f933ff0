/**
 * Activities without the gateway: idempotency keys from the activity context, log truncation,
 * failure mapping, and escalation notifications posted to a real local HTTP webhook.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ActivityDeps } from '../../activities';
import {
  gatewayRefused,
  gatewayThrottled,
  gatewayTransient,
  invalidActivityInput,
  webhookDeliveryFailed,
  createActivities,
  createWebhookNotifier,
  idempotencyKey,
  recentOomQuery,
  respondCommands,
  slackPayload,
  toActivityFailure,
  truncateLogs,
} from '../../activities';
import { GatewayRefusal, GatewayUnavailable } from '../../src/gateway-client';
import type { EscalationNotice } from '../../src/contract/escalation-notice';
import { FAILURE_TYPES, NON_RETRYABLE_ERROR_TYPES } from '../../src/contract/failures';

const info = {
  workflowExecution: { workflowId: 'incident-h1-web', runId: '0199aaaa-bbbb-7ccc-8ddd-eeeeffff0000' },
  workflowNamespace: 'default',
  workflowType: 'incidentWorkflow',
  activityId: '7',
  attempt: 1,
};

const notice: EscalationNotice = {
  incidentId: 'incident-h1-web',
  host: 'h1',
  container: 'web',
  containerId: 'c0ffee000001',
  failure: 'crashloop',
  rule: 'crashloop',
  reason: 'crash loop: restarting again would not help; a person must look',
  level: 1,
  levels: 2,
  levelName: 'oncall-primary',
  timeoutSeconds: 300,
  evidence: ['status restarting', 'log: <script>alert(1)</script> ``` & done'],
  recommendedAction: 'restart',
  recommendation: 'restart web',
  waitingFor: ['approve', 'reject', 'acknowledge', 'resolve'],
  uiUrl: 'http://127.0.0.1:8233/',
};

/** Failures are recognised by their type, as the workflow's retry policy and error handling do. */
function isFailureOfType(err: unknown, type: string): err is ApplicationFailure {
  return err instanceof ApplicationFailure && err.type === type;
}

void describe('activity failures', () => {
  void it('failures are plain ApplicationFailures whose type is the one workflows list as non-retryable', () => {
    const d = { code: 'x', tool: 'restart_container' };
    const made = [gatewayRefused('m', d), gatewayThrottled('m', d), gatewayTransient('m', d), invalidActivityInput('m'), webhookDeliveryFailed('m')];
    assert.deepEqual(made.map((f) => f.constructor.name), made.map(() => 'ApplicationFailure'));
    assert.deepEqual(made.map((f) => f.type), [FAILURE_TYPES.refused, FAILURE_TYPES.throttled, FAILURE_TYPES.transient, FAILURE_TYPES.invalidInput, FAILURE_TYPES.webhook]);
    assert.deepEqual(made.map((f) => f.nonRetryable), [true, true, false, true, false]);
    assert.deepEqual(made.filter((f) => f.nonRetryable).map((f) => f.type), [...NON_RETRYABLE_ERROR_TYPES]);
    assert.deepEqual(gatewayRefused('m', d).details, [d]);
  });

  void it('gateway refusals map by code: scope/bounds never retried, limits surfaced, engine trouble retried', () => {
    const map = (code: ConstructorParameters<typeof GatewayRefusal>[0], status: number) => toActivityFailure(new GatewayRefusal(code, status, 'no', 7), 'restart_container');
    for (const code of ['container_not_opted_in', 'container_protected', 'memory_above_ceiling', 'invalid_arguments', 'bad_signature'] as const) {
      const f = map(code, 403);
      assert.ok(isFailureOfType(f, FAILURE_TYPES.refused), code);
      assert.deepEqual(f.details?.[0], { code, status: 403, tool: 'restart_container', retryAfterSeconds: 7 });
    }
    assert.ok(isFailureOfType(map('rate_limited', 429), FAILURE_TYPES.throttled));
    assert.ok(isFailureOfType(map('store_unavailable', 503), FAILURE_TYPES.throttled));
    assert.ok(isFailureOfType(map('docker_error', 502), FAILURE_TYPES.transient));
    assert.ok(isFailureOfType(map('idempotency_in_progress', 409), FAILURE_TYPES.transient));
    const unreachable = toActivityFailure(new GatewayUnavailable('down'), 'inspect_container');
    assert.ok(isFailureOfType(unreachable, FAILURE_TYPES.transient));
    assert.equal((unreachable.details?.[0] as { code: string }).code, 'unavailable');
    const other = new Error('bug');
    assert.equal(toActivityFailure(other, 'inspect_container'), other);
  });
});

void describe('activity context', () => {
  void it('idempotency key = <workflowId>/<runId>/<activityId>: stable across attempts, distinct between runs', async () => {
    const first = await new MockActivityEnvironment(info).run(async () => idempotencyKey());
    assert.equal(first, 'incident-h1-web/0199aaaa-bbbb-7ccc-8ddd-eeeeffff0000/7');
    const retry = await new MockActivityEnvironment({ ...info, attempt: 3 }).run(async () => idempotencyKey());
    assert.equal(retry, first);
    const nextIncident = await new MockActivityEnvironment({ ...info, workflowExecution: { ...info.workflowExecution, runId: 'another-run' } }).run(async () => idempotencyKey());
    assert.notEqual(nextIncident, first);
  });

  void it('bad arguments are refused before any I/O', async () => {
    const calls: string[] = [];
    const deps: ActivityDeps = {
      gateway: { call: async (tool: string) => (calls.push(tool), { result: {}, requestId: 'r', replayed: false }) } as unknown as ActivityDeps['gateway'],
      temporal: { workflow: { count: async () => (calls.push('count'), { count: 0, groups: [] }) } } as unknown as ActivityDeps['temporal'],
      notifier: createWebhookNotifier({ log: () => undefined }),
    };
    const acts = createActivities(deps);
    const env = new MockActivityEnvironment(info);
    await assert.rejects(env.run(acts.restartContainer, '../../etc'), (e: unknown) => isFailureOfType(e, FAILURE_TYPES.invalidInput));
    await assert.rejects(env.run(acts.restartContainer, 'web; rm -rf /'), (e: unknown) => isFailureOfType(e, FAILURE_TYPES.invalidInput));
    await assert.rejects(env.run(acts.raiseMemory, 'web', -1), (e: unknown) => isFailureOfType(e, FAILURE_TYPES.invalidInput));
    await assert.rejects(env.run(acts.raiseMemory, 'web', 1.5), (e: unknown) => isFailureOfType(e, FAILURE_TYPES.invalidInput));
    await assert.rejects(env.run(acts.fetchLogs, 'web', 0), (e: unknown) => isFailureOfType(e, FAILURE_TYPES.invalidInput));
    await assert.rejects(env.run(acts.countRecentOomIncidents, "h1' OR 1=1 --", 'web', 60, 'run'), (e: unknown) => isFailureOfType(e, FAILURE_TYPES.invalidInput));
    assert.deepEqual(calls, []);
  });
});

void describe('logs and queries', () => {
  void it('truncateLogs keeps the last lines, bounds each line and the total', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i} ${'x'.repeat(i * 5)}`);
    const out = truncateLogs({ container: 'web', lines, truncated: false, redactions: 2 }, { maxLines: 40, maxLineChars: 120, maxChars: 2000 });
    assert.ok(out.truncated);
    assert.ok(out.lines.length <= 40);
    assert.ok(out.lines.every((l) => l.length <= 120));
    assert.ok(out.lines.reduce((n, l) => n + l.length, 0) <= 2000);
    assert.ok(out.lines.at(-1)?.startsWith('line 99 '), 'the newest line is kept');
    assert.equal(out.redactions, 2);
    const small = truncateLogs({ container: 'web', lines: ['a', 'b'], truncated: false, redactions: 0 }, { maxLines: 40, maxLineChars: 120, maxChars: 2000 });
    assert.deepEqual(small, { container: 'web', lines: ['a', 'b'], truncated: false, redactions: 0 });
  });

  void it('the recurrence query names the container, the host, OOM, the window and excludes this run', () => {
    const q = recentOomQuery('h1', 'web', new Date('2026-01-01T00:00:00Z'), 'run-1');
    assert.equal(
      q,
      "WorkflowType = 'incidentWorkflow' AND DockmedicHost = 'h1' AND DockmedicContainer = 'web' AND DockmedicFailure = 'oom' AND StartTime >= '2026-01-01T00:00:00.000Z' AND RunId != 'run-1'",
    );
  });
});

void describe('escalation notifications', () => {
  let server: Server;
  let url: string;
  const received: { body: unknown; contentType: string | undefined }[] = [];
  let mode: 'ok' | 'fail' | 'hang' = 'ok';

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (mode === 'hang') return; // never answers: the notifier's timeout must fire
        received.push({ body: JSON.parse(body), contentType: req.headers['content-type'] });
        res.writeHead(mode === 'ok' ? 200 : 500).end(mode === 'ok' ? 'ok' : 'boom');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

    type Acts = ReturnType<typeof createActivities>;
  const notify = (acts: Acts, n: EscalationNotice) => new MockActivityEnvironment(info).run(acts.notifyEscalation, n) as ReturnType<Acts['notifyEscalation']>;

  const depsWith = (notifier: ActivityDeps['notifier']): ActivityDeps => ({
    gateway: {} as ActivityDeps['gateway'],
    temporal: {} as ActivityDeps['temporal'],
    notifier,
  });

  void it('posts Slack-compatible JSON with the CLI commands and the Temporal UI link, and logs a structured line', async () => {
    mode = 'ok';
    received.length = 0;
    const logs: Record<string, unknown>[] = [];
    const acts = createActivities(depsWith(createWebhookNotifier({ webhookUrl: url, log: (r) => logs.push(r) })));
    const result = await notify(acts, notice);
    assert.equal(result.webhook, 'posted');
    assert.equal(result.uiLink, 'http://127.0.0.1:8233/namespaces/default/workflows/incident-h1-web');
    assert.equal(received.length, 1);
    assert.equal(received[0]?.contentType, 'application/json');
    const body = received[0]?.body as { text: string; blocks: { type: string; text: { type: string; text: string } }[] };
    assert.ok(Array.isArray(body.blocks) && body.blocks.every((b) => b.type === 'section' && b.text.type === 'mrkdwn'));
    for (const cmd of ['dockmedic respond incident-h1-web approve --by NAME', 'dockmedic respond incident-h1-web reject --by NAME', 'dockmedic respond incident-h1-web ack --by NAME', 'dockmedic respond incident-h1-web resolve --by NAME']) {
      assert.ok(body.text.includes(cmd), cmd);
    }
    assert.ok(body.text.includes(result.uiLink ?? '?'));
    const all = JSON.stringify(body.blocks);
    assert.ok(all.includes('&lt;script&gt;'), 'container text is escaped for mrkdwn');
    assert.ok(!all.includes('<script>'));
    assert.equal(logs.length, 1);
    assert.equal(logs[0]?.incidentId, 'incident-h1-web');
    assert.equal(logs[0]?.container, 'web');
    assert.equal(logs[0]?.failure, 'crashloop');
    assert.equal(logs[0]?.recommendation, 'restart web');
    assert.deepEqual(logs[0]?.commands, respondCommands('incident-h1-web', notice.waitingFor));
    assert.equal(logs[0]?.uiLink, result.uiLink);
  });

  void it("a drill's notice never reaches the real webhook: it goes to the drill notifier, or only to the log", async () => {
    mode = 'ok';
    received.length = 0;
    const real = createWebhookNotifier({ webhookUrl: url, log: () => undefined });
    const drillLogs: Record<string, unknown>[] = [];
    const drillNotice = { ...notice, drill: 'd1' };
    const logOnly = createActivities(depsWith(real));
    assert.equal((await notify(logOnly, drillNotice)).webhook, 'not_configured');
    assert.equal(received.length, 0, 'the real webhook got nothing');
    const routed = createActivities({ ...depsWith(real), drillNotifier: createWebhookNotifier({ log: (r) => drillLogs.push(r) }) });
    assert.equal((await notify(routed, drillNotice)).webhook, 'not_configured');
    assert.equal(received.length, 0);
    assert.equal(drillLogs.length, 1, 'the drill notifier logged it');
    assert.equal((await notify(routed, notice)).webhook, 'posted', 'a real notice still pages');
    assert.equal(received.length, 1);
  });

  void it('without a webhook it still logs, and says so', async () => {
    const logs: Record<string, unknown>[] = [];
    const acts = createActivities(depsWith(createWebhookNotifier({ log: (r) => logs.push(r) })));
    const result = await notify(acts, notice);
    assert.equal(result.webhook, 'not_configured');
    assert.equal(logs.length, 1);
  });

  void it('a webhook answering 500 is a retryable webhook failure (logged first)', async () => {
    mode = 'fail';
    const logs: Record<string, unknown>[] = [];
    const acts = createActivities(depsWith(createWebhookNotifier({ webhookUrl: url, log: (r) => logs.push(r) })));
    await assert.rejects(new MockActivityEnvironment(info).run(acts.notifyEscalation, notice), (e: unknown) => isFailureOfType(e, FAILURE_TYPES.webhook) && /500/.test(e.message));
    assert.equal(logs.length, 1);
  });

  void it('a webhook that never answers times out instead of hanging the activity', async () => {
    mode = 'hang';
    const acts = createActivities(depsWith(createWebhookNotifier({ webhookUrl: url, timeoutMs: 300, log: () => undefined })));
    const t0 = Date.now();
    await assert.rejects(new MockActivityEnvironment(info).run(acts.notifyEscalation, notice), (e: unknown) => isFailureOfType(e, FAILURE_TYPES.webhook));
    assert.ok(Date.now() - t0 < 3000);
  });

  void it('commands quote an incident id that would need it, and acknowledge is spelled ack', () => {
    assert.deepEqual(respondCommands("odd id'x", ['acknowledge']), [`dockmedic respond 'odd id'\\''x' ack --by NAME`, `dockmedic incidents show 'odd id'\\''x'`]);
    assert.ok(slackPayload({ notice, commands: [], attempt: 1 }).text.startsWith('dockmedic escalation (level 1/2: oncall-primary)'));
  });
});
