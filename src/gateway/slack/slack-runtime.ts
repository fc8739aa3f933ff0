import type { Client } from '@temporalio/client';
import type { Config, SlackGatewayConfig } from '../../config';
import { connectTemporal } from '../../runtime/temporal';
import type { SlackDelivery } from './slack-api';

/** What the gateway's Slack parts use: the credentials (never logged, audited or returned) and a Temporal client for clicks. */
export interface SlackRuntime {
  /** Verifies clicks; when set, pages carry buttons. */
  signingSecret: string | undefined;
  /** How pages are posted; undefined: `post_slack_page` answers slack_not_configured. */
  delivery: SlackDelivery | undefined;
  /** The Temporal client a click's signal goes through, connected on the first click (only this route needs one). */
  temporal(): Promise<Client>;
  close(): Promise<void>;
}

/** Undefined when nothing Slack is configured: the route and the tool then refuse with slack_not_configured. */
export function createSlackRuntime(config: Config, slack: SlackGatewayConfig | undefined, connect: (c: Config) => Promise<Client> = connectTemporal): SlackRuntime | undefined {
  if (!slack?.signingSecret && !slack?.delivery) return undefined;
  let client: Promise<Client> | undefined;
  return {
    signingSecret: slack.signingSecret,
    delivery: slack.delivery,
    temporal: () => {
      // A failed connection is not kept: the next click tries again.
      client ??= connect(config).catch((err: unknown) => {
        client = undefined;
        throw err;
      });
      return client;
    },
    close: async () => {
      const c = await client?.catch(() => undefined);
      await c?.connection.close();
    },
  };
}
