import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { runScenarioContainer } from '../helpers/scenario';
import type { E2eStack } from './harness';
import { closedIncident, mutatingCallsFor, startE2eStack, waitUntil } from './harness';
import type { IncidentState } from '../../src/contract/incident';
import type { SlackAnswer } from '../../src/contract/slack';
import { SLACK_ANSWER_EVENT } from '../../src/contract/slack';
import { stateQuery } from '../../src/contract/signals';

/**
 * Slack buttons end to end (docs/architecture.md §3) on the real stack. A local HTTP server
 * stands in for Slack: its chat.postMessage records the pages the gateway posts with the bot
 * token, and its response_url records the message updates. The Slack credentials go to the
 * gateway process only; the worker pages through it. Clicks are signed here the way Slack signs
 * them, and judged by effect: the incident's responses, outcome and the gateway's audit.
 */

const SIGNING_SECRET = randomBytes(16).toString('hex');
const BOT_TOKEN = `xoxb-test-${randomBytes(8).toString('hex')}`;
const CHANNEL = 'C0DOCKMEDIC';
const USER = 'U0ONCALL1';

interface Recorded {
  path: string;
  headers: IncomingHttpHeaders;
  json: Record<string, unknown>;
}

let stack: E2eStack;
let slack: Server;
let slackUrl = '';
const posted: Recorded[] = [];
const updates: Recorded[] = [];

interface Button {
  action_id: string;
  value: string;
}

before(async () => {
  slack = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const rec = { path: req.url ?? '', headers: req.headers, json: JSON.parse(body || '{}') as Record<string, unknown> };
      if (rec.path === '/api/chat.postMessage') {
        posted.push(rec);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, channel: CHANNEL, ts: `${Date.now() / 1000}` }));
      } else {
        updates.push(rec);
        res.writeHead(200).end('ok');
      }
    });
  });
  await new Promise<void>((r) => slack.listen(0, '127.0.0.1', r));
  const addr = slack.address();
  slackUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  stack = await startE2eStack(
    // Long levels: the test answers within the first one.
    { DOCKMEDIC_LADDER: 'level-1:120,level-2:60', DOCKMEDIC_RESOLVE_TIMEOUT_SECONDS: '120', DOCKMEDIC_SLACK_VIA_GATEWAY: 'true' },
    {
      gatewayEnv: {
        DOCKMEDIC_SLACK_SIGNING_SECRET: SIGNING_SECRET,
        DOCKMEDIC_SLACK_BOT_TOKEN: BOT_TOKEN,
        DOCKMEDIC_SLACK_CHANNEL: CHANNEL,
        DOCKMEDIC_SLACK_API_URL: `${slackUrl}/api`,
      },
    },
  );
});

after(async () => {
  await stack?.close();
  await new Promise((r) => slack?.close(r));
});

/** Fails on its first two runs (the policy's one restart does not help, so it escalates), then stays up. */
const FAIL_TWICE = 'n=$(cat /tmp/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/n; if [ $n -ge 3 ]; then trap "exit 0" TERM; sleep 100000 & wait; else sleep 1; exit 1; fi';

async function escalated(name: string): Promise<{ id: string; state: IncidentState; page: Recorded }> {
  await runScenarioContainer({ name, cmd: FAIL_TWICE, labels: { 'dockmedic.enable': 'true' } });
  const id = stack.incidentId(name);
  const state = await waitUntil('the escalation to wait for an answer', async () => {
    const s = await stack.client.workflow.getHandle(id).query(stateQuery);
    return s.pendingEscalation ? s : null;
  }, 60_000);
  const page = await waitUntil(`the page of ${id} at chat.postMessage`, async () => posted.find((p) => JSON.stringify(p.json).includes(id)), 30_000);
  return { id, state, page };
}

function buttonsOf(page: Recorded): Button[] {
  const blocks = page.json.blocks as { type: string; elements?: Button[] }[];
  return blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
}

function buttonFor(page: Recorded, action: string): Button {
  const b = buttonsOf(page).find((x) => (JSON.parse(x.value) as { action: string }).action === action);
  assert.ok(b, `the page has a ${action} button`);
  return b;
}

/** A block_actions payload as Slack sends it for a click on `button` of `page`. */
function clickBody(page: Recorded, button: Button, responsePath: string): string {
  const payload = {
    type: 'block_actions',
    user: { id: USER, username: 'jane', team_id: 'T0TEAM' },
    api_app_id: 'A0APP',
    team: { id: 'T0TEAM', domain: 'example' },
    channel: { id: CHANNEL, name: 'oncall' },
    container: { type: 'message', message_ts: '1.2', channel_id: CHANNEL },
    trigger_id: '123.456.abc',
    message: { type: 'message', ts: '1.2', text: page.json.text, blocks: page.json.blocks },
    response_url: `${slackUrl}${responsePath}`,
    actions: [{ type: 'button', block_id: 'dockmedic.respond', action_id: button.action_id, value: button.value, action_ts: `${Date.now() / 1000}` }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** Slack's scheme, computed here independently of the gateway's code. */
function sign(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

interface Sent {
  status: number;
  code: string | null;
  ms: number;
}

async function post(body: string, headers: Record<string, string>): Promise<Sent> {
  const t0 = Date.now();
  const res = await fetch(`http://127.0.0.1:${stack.env.DOCKMEDIC_GATEWAY_PORT}/slack/interactivity`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
  const text = await res.text();
  const ms = Date.now() - t0;
  const code = text ? ((JSON.parse(text) as { error?: { code?: string } }).error?.code ?? null) : null;
  return { status: res.status, code, ms };
}

function signedHeaders(body: string, opts: { secret?: string; timestamp?: number } = {}): Record<string, string> {
  const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
  return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sign(opts.secret ?? SIGNING_SECRET, ts, body) };
}

async function updateAt(path: string): Promise<SlackAnswer & { blocks: { type: string }[] }> {
  const u = await waitUntil(`the message update at ${path}`, async () => updates.find((x) => x.path === path), 20_000);
  assert.equal(u.json.replace_original, true, 'the update replaces the page');
  const metadata = u.json.metadata as { event_type: string; event_payload: SlackAnswer };
  assert.equal(metadata.event_type, SLACK_ANSWER_EVENT);
  return { ...metadata.event_payload, blocks: u.json.blocks as { type: string }[] };
}

async function responsesOf(id: string): Promise<IncidentState['responses']> {
  return (await stack.client.workflow.getHandle(id).query(stateQuery)).responses;
}

void describe('Slack buttons', () => {
  void it('a page carries buttons for exactly the answers the incident waits for; forged, stale and replayed clicks are refused with 401 and send nothing; a signed click approves, and the message says who', async () => {
    const { id, state, page } = await escalated(`${stack.runId}-slack-approve`);
    const runId = (await stack.client.workflow.getHandle(id).describe()).runId;

    const health = (await (await fetch(`http://127.0.0.1:${stack.env.DOCKMEDIC_GATEWAY_PORT}/healthz`)).json()) as { slack?: unknown };
    assert.deepEqual(health.slack, { buttons: true, pages: 'bot' }, '/healthz says which Slack parts are on');
    // Posted by the gateway with the bot token the worker never had.
    assert.equal(page.headers.authorization, `Bearer ${BOT_TOKEN}`);
    assert.equal(page.json.channel, CHANNEL);
    const buttons = buttonsOf(page).map((b) => ({ actionId: b.action_id, value: JSON.parse(b.value) as unknown }));
    assert.deepEqual(
      buttons,
      state.pendingEscalation!.waitingFor.map((action) => ({ actionId: `dockmedic.respond.${action}`, value: { incident: id, action, runId } })),
      'one button per answer waited for, naming the incident, the answer and the run',
    );

    const approve = buttonFor(page, 'approve');
    const body = clickBody(page, approve, '/response/approve');
    const forged = await post(body, signedHeaders(body, { secret: 'not-the-signing-secret' }));
    assert.deepEqual([forged.status, forged.code], [401, 'bad_signature']);
    const stale = await post(body, signedHeaders(body, { timestamp: Math.floor(Date.now() / 1000) - 301 }));
    assert.deepEqual([stale.status, stale.code], [401, 'timestamp_stale']);
    const unsigned = await post(body, {});
    assert.deepEqual([unsigned.status, unsigned.code], [401, 'missing_header']);
    const tampered = clickBody(page, buttonFor(page, 'reject'), '/response/approve');
    const swapped = await post(tampered, signedHeaders(body));
    assert.deepEqual([swapped.status, swapped.code], [401, 'bad_signature'], 'a signature covers its own body only');
    assert.deepEqual(await responsesOf(id), [], 'no refused click reached the incident');
    assert.ok((await stack.client.workflow.getHandle(id).query(stateQuery)).pendingEscalation, 'still waiting');

    const headers = signedHeaders(body);
    const click = await post(body, headers);
    assert.equal(click.status, 200);
    assert.ok(click.ms < 3000, `acknowledged within Slack's 3 s (took ${click.ms} ms)`);

    const closed = await closedIncident(stack.client, id, 60_000);
    assert.equal(closed.outcome, 'approved');
    assert.deepEqual(closed.responses.map((r) => [r.action, r.by]), [['approve', `slack:${USER}`]]);
    assert.equal(closed.decisionChain.filter((c) => c.tool === 'restart_container' && c.approvedBy === `slack:${USER}`).length, 1, 'the approved restart is recorded with who clicked');
    assert.equal(mutatingCallsFor(stack.audit(), `${stack.runId}-slack-approve`).restart_container, 2, 'the approved restart went through the gateway');

    const update = await updateAt('/response/approve');
    assert.deepEqual([update.code, update.action, update.by, update.incident, update.runId], ['sent', 'approve', `slack:${USER}`, id, runId]);
    assert.equal(update.blocks.filter((b) => b.type === 'actions').length, 0, 'the answered page has no buttons left');

    await waitUntil('the click’s outcome in the audit', async () => stack.audit().some((r) => r.tool === 'slack.respond' && r.workflowId === id), 10_000);
    // The same request again, byte for byte, inside the timestamp window: a replay.
    const replay = await post(body, headers);
    assert.deepEqual([replay.status, replay.code], [401, 'replayed_request']);

    const audit = stack.audit().filter((r) => r.tool === 'slack.interactivity' || r.tool === 'slack.respond');
    assert.deepEqual(
      audit.map((r) => [r.tool, r.verdict, r.code, r.status]),
      [
        ['slack.interactivity', 'refused', 'bad_signature', 401],
        ['slack.interactivity', 'refused', 'timestamp_stale', 401],
        ['slack.interactivity', 'refused', 'missing_header', 401],
        ['slack.interactivity', 'refused', 'bad_signature', 401],
        ['slack.interactivity', 'allowed', null, 200],
        ['slack.respond', 'allowed', null, 200],
        ['slack.interactivity', 'refused', 'replayed_request', 401],
      ],
    );
    assert.equal(audit[5]?.requestId, audit[4]?.requestId, 'the outcome is audited under the click');
    const auditText = JSON.stringify(stack.audit());
    assert.ok(!auditText.includes(SIGNING_SECRET) && !auditText.includes(BOT_TOKEN), 'no Slack secret in the audit');
    assert.ok(!stack.gateway.output().includes(BOT_TOKEN) && !stack.gateway.output().includes(SIGNING_SECRET), 'no Slack secret in the gateway log');

    // A click on the closed incident's page: acknowledged, nothing sent, and the update says why.
    const late = clickBody(page, buttonFor(page, 'reject'), '/response/late');
    assert.equal((await post(late, signedHeaders(late))).status, 200);
    const lateUpdate = await updateAt('/response/late');
    assert.equal(lateUpdate.code, 'not_waiting');
    assert.ok(lateUpdate.reason, 'the update says why');
    assert.deepEqual((await closedIncident(stack.client, id, 5_000)).responses.length, 1, 'the closed incident is unchanged');
  });

  void it('acknowledge then a second acknowledge (answered already: the message says why), then reject closes it rejected', async () => {
    const { id, page } = await escalated(`${stack.runId}-slack-reject`);
    const ack = clickBody(page, buttonFor(page, 'acknowledge'), '/response/ack-1');
    assert.equal((await post(ack, signedHeaders(ack))).status, 200);
    assert.equal((await updateAt('/response/ack-1')).code, 'sent');
    await waitUntil('the acknowledgement to be recorded', async () => (await responsesOf(id)).length === 1, 20_000);

    const again = clickBody(page, buttonFor(page, 'acknowledge'), '/response/ack-2');
    assert.equal((await post(again, signedHeaders(again))).status, 200);
    const refused = await updateAt('/response/ack-2');
    assert.equal(refused.code, 'not_waiting', 'the incident no longer waits for acknowledge');
    assert.equal((await responsesOf(id)).length, 1, 'nothing was sent');
    const respond = stack.audit().filter((r) => r.tool === 'slack.respond' && r.workflowId === id);
    assert.deepEqual(respond.map((r) => [r.verdict, r.code]), [['allowed', null], ['refused', 'not_waiting']]);

    const reject = clickBody(page, buttonFor(page, 'reject'), '/response/reject');
    assert.equal((await post(reject, signedHeaders(reject))).status, 200);
    const closed = await closedIncident(stack.client, id, 30_000);
    assert.equal(closed.outcome, 'rejected');
    assert.deepEqual(closed.responses.map((r) => [r.action, r.by]), [['acknowledge', `slack:${USER}`], ['reject', `slack:${USER}`]]);
    assert.equal((await updateAt('/response/reject')).code, 'sent');
    assert.equal(mutatingCallsFor(stack.audit(), `${stack.runId}-slack-reject`).restart_container, 1, 'reject ran nothing beyond the policy’s own restart');
  });
});
