import type { SlackPageResult } from '../../contract/slack';
import { PostSlackPageArgs } from '../../contract/slack';
import { slackPayload } from '../../slack/page';
import { Refusal } from '../refusal';
import { postSlackMessage } from '../slack/slack-api';
import { defineHostTool } from './tool';

/**
 * Post an escalation page to Slack for the worker (docs/architecture.md §3): the bot token or the
 * app's webhook stays here. Buttons for exactly the answers the incident waits for are added only
 * when this gateway holds the signing secret, so every button on a page can be verified when clicked.
 * The audit keeps who was paged about what, not the evidence (log lines stay in history only).
 */
export const postSlackPage = defineHostTool({
  name: 'post_slack_page',
  description: 'Post an escalation page to Slack, with answer buttons when the gateway verifies clicks',
  schema: PostSlackPageArgs,
  mutating: false,
  target: 'none',
  execute: async (args, env) => {
    const n = args.notice;
    env.ctx.args = { incidentId: n.incidentId, runId: args.runId, level: n.level, levelName: n.levelName, waitingFor: n.waitingFor };
    const slack = env.slack;
    if (!slack?.delivery) throw new Refusal('slack_not_configured', 'this gateway has no Slack bot token (DOCKMEDIC_SLACK_BOT_TOKEN + DOCKMEDIC_SLACK_CHANNEL) or app webhook (DOCKMEDIC_SLACK_WEBHOOK_URL)');
    const buttons = slack.signingSecret !== undefined;
    const posted = await postSlackMessage(slack.delivery, slackPayload(args, buttons ? { runId: args.runId } : undefined));
    const result: SlackPageResult = { via: slack.delivery.via, buttons, ...posted };
    return { result, summary: { via: result.via, buttons, ...(buttons ? { answers: n.waitingFor } : {}) } };
  },
});
