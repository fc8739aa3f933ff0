/**
 * Slack buttons without the stack (docs/architecture.md §3): the signature check, the click's
 * payload, the page's buttons and the message update, the gateway-only settings, how pages are
 * posted (a real local HTTP server stands in for Slack) and the worker's side of it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { createWebhookNotifier, withGatewaySlack } from '../../activities';
import { ConfigError, loadSlackGateway } from '../../src/config';
import type { EscalationNotice } from '../../src/contract/escalation-notice';
import { FAILURE_TYPES } from '../../src/contract/failures';
import type { SlackAnswer } from '../../src/contract/slack';
import { GatewayRefusal } from '../../src/gateway-client';
import { Refusal } from '../../src/gateway/refusal';
import { parseClick } from '../../src/gateway/slack/click';
import { postSlackMessage } from '../../src/gateway/slack/slack-api';
import { parseSlackHeaders, verifySlackRequest } from '../../src/gateway/slack/verify-request';
import { answeredMessage, slackPayload } from '../../src/slack/page';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NOW = 1_700_000_000;

function sign(secret: string, ts: string, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
}

function headersFor(body: string, ts: string = String(NOW), secret = SECRET) {
  return { 'x-slack-request-timestamp': ts, 'x-slack-signature': sign(secret, ts, body) };
}

function refusalCode(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (err instanceof Refusal) return err.code;
    throw err;
  }
}

/** A notice with nothing to approve (the remedy is to escalate): three answers, so "exactly" is visible. */
const notice: EscalationNotice = {
  ...{ incidentId: 'incident-h1-web', host: 'h1', container: 'web', containerId: 'c0ffee000001', failure: 'crashloop', rule: 'uncertain' },
  ...{ reason: 'nothing to approve', level: 1, levels: 2, levelName: 'oncall-primary', timeoutSeconds: 300, evidence: ['status restarting'] },
  ...{ recommendedAction: 'escalate', recommendation: 'look at it', waitingFor: ['reject', 'acknowledge', 'resolve'] },
};
const RUN = '0199aaaa-bbbb-7ccc-8ddd-eeeeffff0000';

function actionsOf(blocks: unknown[]): { action_id: string; value: string }[] {
  return (blocks as { type: string; elements?: { action_id: string; value: string }[] }[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
}

void describe('Slack request signature', () => {
  const body = 'payload=%7B%7D';

  void it('accepts what Slack signed; refuses another secret, a changed byte, and timestamps beyond ±skew', () => {
    const verify = (h: Record<string, string>, b = body, now = NOW) => refusalCode(() => verifySlackRequest(SECRET, parseSlackHeaders(h), Buffer.from(b), 300, now));
    assert.equal(verify(headersFor(body)), null);
    assert.equal(verify(headersFor(body, String(NOW), 'another-secret')), 'bad_signature');
    assert.equal(verify(headersFor(body), 'payload=%7B%7D ', NOW), 'bad_signature');
    assert.equal(verify(headersFor(body, String(NOW - 300))), null, '300 s old is still inside the window');
    assert.equal(verify(headersFor(body, String(NOW - 301))), 'timestamp_stale');
    assert.equal(verify(headersFor(body, String(NOW + 301))), 'timestamp_future');
    // The timestamp is judged after the signature: an unsigned request learns nothing about the clock.
    assert.equal(verify(headersFor(body, String(NOW - 301), 'another-secret')), 'bad_signature');
    // The signed string holds the header as sent.
    assert.equal(verify(headersFor(body, `0${NOW}`)), null);
  });

  void it('headers: missing, malformed or repeated → stable codes before the body is read', () => {
    assert.equal(refusalCode(() => parseSlackHeaders({})), 'missing_header');
    assert.equal(refusalCode(() => parseSlackHeaders({ 'x-slack-request-timestamp': String(NOW) })), 'missing_header');
    assert.equal(refusalCode(() => parseSlackHeaders({ 'x-slack-request-timestamp': 'soon', 'x-slack-signature': sign(SECRET, '1', body) })), 'malformed_header');
    assert.equal(refusalCode(() => parseSlackHeaders({ 'x-slack-request-timestamp': String(NOW), 'x-slack-signature': 'v1=abc' })), 'malformed_header');
    assert.equal(refusalCode(() => parseSlackHeaders({ 'x-slack-request-timestamp': [String(NOW), String(NOW)], 'x-slack-signature': sign(SECRET, '1', body) })), 'malformed_header');
  });
});

void describe('Slack click payload', () => {
  const button = { action_id: 'dockmedic.respond.reject', value: JSON.stringify({ incident: 'incident-h1-web', action: 'reject', runId: RUN }) };
  const payload = (over: Record<string, unknown> = {}) => ({ type: 'block_actions', user: { id: 'U0ONCALL1', username: 'jane' }, response_url: 'https://hooks.slack.com/actions/T/1/x', actions: [button], ...over });
  const form = (p: unknown) => Buffer.from(new URLSearchParams({ payload: typeof p === 'string' ? p : JSON.stringify(p) }).toString());
  const code = (b: Buffer, type = 'application/x-www-form-urlencoded') => refusalCode(() => parseClick(b, type));

  void it('a click on a dockmedic button: the incident, the answer, the run, by = slack:<user id>', () => {
    const click = parseClick(form(payload()), 'application/x-www-form-urlencoded');
    assert.deepEqual(click.button, { incident: 'incident-h1-web', action: 'reject', runId: RUN });
    assert.equal(click.by, 'slack:U0ONCALL1');
    assert.equal(click.responseUrl, 'https://hooks.slack.com/actions/T/1/x');
  });

  void it('anything else is refused with a stable code', () => {
    assert.equal(code(form(payload()), 'application/json'), 'invalid_arguments');
    assert.equal(code(Buffer.from('token=x')), 'invalid_arguments');
    assert.equal(code(form('{not json')), 'malformed_json');
    assert.equal(code(form(payload({ type: 'view_submission' }))), 'invalid_arguments');
    assert.equal(code(form(payload({ user: { id: 'U0 <script>' } }))), 'invalid_arguments', 'a user id that could not be a responder name');
    assert.equal(code(form(payload({ actions: [{ ...button, action_id: 'dockmedic.respond.approve' }] }))), 'invalid_arguments', 'the action id and the value disagree');
    assert.equal(code(form(payload({ actions: [{ action_id: 'other.app', value: button.value }] }))), 'invalid_arguments');
    assert.equal(code(form(payload({ actions: [{ ...button, value: JSON.stringify({ incident: 'x', action: 'reject', runId: 'run with spaces' }) }] }))), 'invalid_arguments');
  });
});

void describe('Slack page and message update', () => {
  void it('buttons for exactly the answers waited for, each naming incident, answer and run; none without the signing secret', () => {
    const withButtons = slackPayload({ notice, commands: [] }, { runId: RUN });
    assert.deepEqual(
      actionsOf(withButtons.blocks).map((b) => [b.action_id, JSON.parse(b.value) as unknown]),
      notice.waitingFor.map((action) => [`dockmedic.respond.${action}`, { incident: notice.incidentId, action, runId: RUN }]),
    );
    assert.deepEqual(actionsOf(slackPayload({ notice, commands: [] }).blocks), []);
    // Slack refuses a section text over 3000 characters; a page with long evidence must still post.
    const long = slackPayload({ notice: { ...notice, evidence: Array.from({ length: 40 }, (_, i) => `log ${i} ${'x'.repeat(230)}`) }, commands: [] }, { runId: RUN });
    for (const b of long.blocks as { type: string; text?: { text: string } }[]) if (b.text) assert.ok(b.text.text.length <= 3000, `section of ${b.text.text.length} characters`);
    assert.ok(JSON.stringify(long.blocks).includes('log 39 '), 'the last log lines are kept');
    assert.deepEqual(actionsOf(slackPayload({ notice: { ...notice, waitingFor: [] }, commands: [] }, { runId: RUN }).blocks), []);
  });

  void it('the update drops the buttons once answered, keeps them when nothing could be decided, and carries the outcome as metadata', () => {
    const page = slackPayload({ notice, commands: [] }, { runId: RUN }).blocks;
    const answer = (code: SlackAnswer['code']): SlackAnswer => ({ incident: notice.incidentId, runId: RUN, action: 'reject', by: 'slack:U1', code, ...(code === 'sent' ? {} : { reason: 'because' }) });
    const sent = answeredMessage(page, answer('sent'), 'U1');
    assert.equal(sent.replace_original, true);
    assert.deepEqual(actionsOf(sent.blocks), []);
    assert.deepEqual(sent.metadata.event_payload, answer('sent'));
    assert.deepEqual(actionsOf(answeredMessage(page, answer('not_waiting'), 'U1').blocks), []);
    const retry = answeredMessage(page, answer('no_worker'), 'U1');
    assert.equal(actionsOf(retry.blocks).length, notice.waitingFor.length, 'no worker answered: the buttons stay for another try');
    // A second update replaces the first one's line instead of adding another.
    const twice = answeredMessage(retry.blocks, answer('sent'), 'U1');
    assert.equal((twice.blocks as { block_id?: string }[]).filter((b) => b.block_id?.startsWith('dockmedic.answer.')).length, 1);
  });
});

void describe('Slack settings (gateway only)', () => {
  void it('a bot token needs a channel, and bot and webhook exclude each other; errors never echo the token', () => {
    const token = 'xoxb-1234-secret-value';
    assert.throws(() => loadSlackGateway({ DOCKMEDIC_SLACK_BOT_TOKEN: token }), (err: unknown) => err instanceof ConfigError && err.message.includes('DOCKMEDIC_SLACK_CHANNEL') && !err.message.includes(token));
    assert.throws(() => loadSlackGateway({ DOCKMEDIC_SLACK_BOT_TOKEN: token, DOCKMEDIC_SLACK_CHANNEL: 'C1', DOCKMEDIC_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/x' }), ConfigError);
    assert.throws(() => loadSlackGateway({ DOCKMEDIC_SLACK_SIGNING_SECRET: 'has a space in it' }), (err: unknown) => err instanceof ConfigError && !err.message.includes('has a space'));
    assert.deepEqual(loadSlackGateway({}), { signingSecret: undefined, delivery: undefined });
    assert.equal(loadSlackGateway({ DOCKMEDIC_SLACK_BOT_TOKEN: token, DOCKMEDIC_SLACK_CHANNEL: 'C1' }).delivery?.via, 'bot');
  });
});

void describe('posting pages to Slack', () => {
  let server: Server;
  let base = '';
  const got: { path: string; auth: string | undefined; body: Record<string, unknown> }[] = [];
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        got.push({ path: req.url ?? '', auth: req.headers.authorization, body: JSON.parse(body) as Record<string, unknown> });
        if (req.url === '/api/chat.postMessage') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error: 'channel_not_found' }));
        else if (req.url === '/hook-down') res.writeHead(500).end('no');
        else res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  void it('the app webhook gets the page; a failing webhook or chat.postMessage is slack_delivery_failed, naming neither URL nor token', async () => {
    const message = slackPayload({ notice, commands: [] }, { runId: RUN });
    assert.deepEqual(await postSlackMessage({ via: 'webhook', url: `${base}/hook` }, message), {});
    assert.deepEqual(got.at(-1)?.body, { ...message });
    await assert.rejects(postSlackMessage({ via: 'webhook', url: `${base}/hook-down` }, message), (err: unknown) => err instanceof Refusal && err.code === 'slack_delivery_failed' && !err.message.includes(base));
    await assert.rejects(
      postSlackMessage({ via: 'bot', token: 'xoxb-secret-token', channel: 'C1', apiUrl: `${base}/api` }, message),
      (err: unknown) => err instanceof Refusal && err.code === 'slack_delivery_failed' && err.message.includes('channel_not_found') && !err.message.includes('xoxb-secret-token'),
    );
    assert.equal(got.at(-1)?.auth, 'Bearer xoxb-secret-token');
    assert.equal(got.at(-1)?.body.channel, 'C1');
    await assert.rejects(postSlackMessage({ via: 'webhook', url: 'http://127.0.0.1:1/hook' }, message), (err: unknown) => err instanceof Refusal && err.code === 'slack_delivery_failed' && !err.message.includes('127.0.0.1:1'));
  });

  void it('the worker hands the page, with its run id, to post_slack_page; Slack trouble is retried, a gateway without Slack is not', async () => {
    const calls: { tool: string; args: unknown; workflowId?: string }[] = [];
    const inner = createWebhookNotifier({ log: () => undefined });
    const ok = withGatewaySlack(inner, {
      call: (async (tool: string, args: unknown, opts?: { workflowId?: string }) => {
        calls.push({ tool, args, ...(opts?.workflowId ? { workflowId: opts.workflowId } : {}) });
        return { result: { via: 'bot', buttons: true }, requestId: 'r', replayed: false };
      }) as never,
    });
    const sent = await ok.send({ notice, commands: ['dockmedic respond x reject --by NAME'], attempt: 1, runId: RUN });
    assert.deepEqual(sent, { webhook: 'not_configured', slack: 'bot', slackButtons: true });
    assert.deepEqual(calls, [{ tool: 'post_slack_page', args: { notice, runId: RUN, commands: ['dockmedic respond x reject --by NAME'] }, workflowId: notice.incidentId }]);

    const failing = (code: string, status: number) =>
      withGatewaySlack(inner, {
        call: (async () => {
          throw new GatewayRefusal(code as never, status, 'no');
        }) as never,
      });
    const typeOf = async (n: ReturnType<typeof failing>) => {
      try {
        await n.send({ notice, commands: [], attempt: 1, runId: RUN });
        return null;
      } catch (err) {
        return err instanceof ApplicationFailure ? [err.type, err.nonRetryable] : err;
      }
    };
    assert.deepEqual(await typeOf(failing('slack_delivery_failed', 502)), [FAILURE_TYPES.transient, false]);
    assert.deepEqual(await typeOf(failing('slack_not_configured', 503)), [FAILURE_TYPES.refused, true]);
  });
});
