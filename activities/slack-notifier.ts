import type { Notifier } from './notifier';
import { invalidActivityInput, toActivityFailure } from './errors';
import type { SlackPageResult } from '../src/contract/slack';
import type { GatewayClient } from '../src/gateway-client';

/**
 * Pages through the gateway's `post_slack_page` tool as well as `inner` (the log line and the
 * plain webhook): the gateway holds the bot token or app webhook and the signing secret, so the
 * worker never does (docs/architecture.md §3). A refusal or Slack failure fails the notify activity
 * like a webhook failure: `slack_delivery_failed` is retried, `slack_not_configured` is not.
 */
export function withGatewaySlack(inner: Notifier, gateway: Pick<GatewayClient, 'call'>): Notifier {
  return {
    async send(m) {
      const result = await inner.send(m);
      // The buttons name the run, so that a click never answers a later incident of the same container.
      if (!m.runId) throw invalidActivityInput('a Slack page needs the incident run id');
      let posted: SlackPageResult;
      try {
        const args = { notice: m.notice, runId: m.runId, commands: m.commands, ...(m.uiLink ? { uiLink: m.uiLink } : {}) };
        posted = (await gateway.call<'post_slack_page', SlackPageResult>('post_slack_page', args, { workflowId: m.notice.incidentId })).result;
      } catch (err) {
        throw toActivityFailure(err, 'post_slack_page');
      }
      return { ...result, slack: posted.via, slackButtons: posted.buttons };
    },
  };
}
