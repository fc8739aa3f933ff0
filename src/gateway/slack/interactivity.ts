import type { IncomingMessage } from 'node:http';
import type { RequestContext } from '../context';
import { mark } from '../context';
import { toolWindows } from '../limits';
import type { PipelineDeps, PipelineResponse } from '../pipeline';
import { nonceTtl } from '../pipeline';
import { readBody } from '../read-body';
import { Refusal } from '../refusal';
import { answerClick } from './answer-click';
import { parseClick, SLACK_AGENT } from './click';
import { parseSlackHeaders, verifySlackRequest } from './verify-request';

/** Slack's interactivity Request URL (docs/architecture.md §3). */
export const SLACK_INTERACTIVITY_PATH = '/slack/interactivity';

/**
 * `POST /slack/interactivity`: Slack's signing headers (checked before the body is read) → body
 * within the limit → HMAC over `v0:<timestamp>:<body>` in constant time → timestamp ±skew → replay
 * (the signature is a nonce: the same request seen again is `replayed_request`) and the all-calls
 * window → the payload, with zod. Then the click is acknowledged with an empty 200 at once (Slack
 * waits 3 s), and `answerClick` runs after the answer is sent: the same check `dockmedic respond`
 * makes, the signal, the message update, and an audit record of its own.
 */
export async function runSlackInteractivity(deps: PipelineDeps, ctx: RequestContext, req: IncomingMessage): Promise<PipelineResponse> {
  ctx.tool = 'slack.interactivity';
  const slack = deps.slack;
  if (!slack?.signingSecret) throw new Refusal('slack_not_configured', 'Slack buttons are off: this gateway has no DOCKMEDIC_SLACK_SIGNING_SECRET');
  if (ctx.method !== 'POST') throw new Refusal('method_not_allowed', 'Slack posts interactions with POST');
  const headers = parseSlackHeaders(req.headers);
  const body = await readBody(req, deps.settings.maxBodyBytes);
  mark(ctx, 'parse');
  verifySlackRequest(slack.signingSecret, headers, body, deps.settings.clockSkewSeconds);
  ctx.agent = SLACK_AGENT;
  mark(ctx, 'hmac');
  try {
    await deps.admission.admit({
      keyId: SLACK_AGENT,
      nonce: headers.raw.slice(3),
      timestamp: headers.timestamp,
      nonceTtlSeconds: nonceTtl(deps.settings, headers.timestamp),
      windows: toolWindows(deps.settings.limits, SLACK_AGENT, false, null),
      eventId: ctx.requestId,
    });
  } catch (err) {
    // Slack never sends one request twice with the same signature: a second one is a replay, refused like a forgery.
    if (err instanceof Refusal && err.code === 'replayed_nonce') throw new Refusal('replayed_request', 'this Slack request was already received');
    throw err;
  }
  mark(ctx, 'replay');
  const click = parseClick(body, req.headers['content-type']);
  ctx.args = { incident: click.button.incident, runId: click.button.runId, action: click.button.action, by: click.by };
  ctx.workflowId = click.button.incident;
  mark(ctx, 'validate');
  return { status: 200, body: null, after: (audit) => answerClick(slack, ctx, click, audit) };
}
