import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { NotWaitingError } from '../../cli/errors';
import { sendResponse } from '../../cli/incident-respond';
import { IncidentNotFoundError, NoWorkerError } from '../../cli/incident-view';
import type { SlackAnswer, SlackAnswerCode } from '../../contract/slack';
import { answeredMessage } from '../../slack/page';
import type { AuditEntry } from '../audit/record';
import type { RequestContext } from '../context';
import { elapsedMs } from '../context';
import type { SlackClick } from './click';
import { SLACK_AGENT } from './click';
import { postToResponseUrl } from './slack-api';
import type { SlackRuntime } from './slack-runtime';

/** The run a button names must be the incident's latest: a container's incidents share one workflow id (docs/architecture.md §3). */
async function requireSameRun(client: Client, click: SlackClick): Promise<void> {
  let runId: string;
  try {
    runId = (await client.workflow.getHandle(click.button.incident).describe()).runId;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new IncidentNotFoundError(`no incident with id ${click.button.incident}`);
    throw err;
  }
  if (runId !== click.button.runId) throw new NotWaitingError(`this page is about an earlier incident of ${click.button.incident}, which is closed; a later one has its own page`);
}

/** Send the respond signal if the incident waits for this answer; otherwise the code and why nothing was sent. */
async function respond(slack: SlackRuntime, click: SlackClick): Promise<{ code: SlackAnswerCode; reason?: string }> {
  let client: Client;
  try {
    client = await slack.temporal();
  } catch (err) {
    return { code: 'temporal_unavailable', reason: `Temporal did not answer (${(err as Error).message.slice(0, 200)}); try again` };
  }
  try {
    await requireSameRun(client, click);
    // The same check `dockmedic respond` makes: the state query first, and nothing is sent to an incident that would skip it.
    await sendResponse(client, click.button.incident, { action: click.button.action, by: click.by });
    return { code: 'sent' };
  } catch (err) {
    const reason = (err as Error).message.slice(0, 500);
    if (err instanceof NotWaitingError) return { code: 'not_waiting', reason };
    if (err instanceof IncidentNotFoundError) return { code: 'incident_not_found', reason };
    if (err instanceof NoWorkerError) return { code: 'no_worker', reason };
    return { code: 'failed', reason: `the answer could not be sent: ${reason}` };
  }
}

/**
 * After the click was acknowledged: the signal (or why not), then the message update through
 * `response_url` (who did what, or why nothing was sent), then one audit record of the outcome,
 * under the click's request id. Nothing here throws: every failure is a code in the audit.
 */
export async function answerClick(slack: SlackRuntime, ctx: RequestContext, click: SlackClick, audit: (entry: AuditEntry) => void): Promise<void> {
  const outcome = await respond(slack, click);
  const answer: SlackAnswer = {
    incident: click.button.incident,
    runId: click.button.runId,
    action: click.button.action,
    by: click.by,
    code: outcome.code,
    ...(outcome.reason ? { reason: outcome.reason } : {}),
  };
  const responseUrlStatus = await postToResponseUrl(click.responseUrl, answeredMessage(click.blocks, answer, click.userId));
  audit({
    time: new Date().toISOString(),
    requestId: ctx.requestId,
    agent: SLACK_AGENT,
    keyId: null,
    method: ctx.method,
    path: ctx.path,
    tool: 'slack.respond',
    args: ctx.args,
    target: null,
    verdict: outcome.code === 'sent' ? 'allowed' : 'refused',
    code: outcome.code === 'sent' ? null : outcome.code,
    status: 200,
    result: { answer: outcome.code, responseUrlStatus },
    replayed: false,
    durationMs: Math.round(elapsedMs(ctx) * 1000) / 1000,
    idempotencyKey: null,
    workflowId: click.button.incident,
  });
}
