import { webhookDeliveryFailed } from './errors';
import type { ResponseAction } from '../src/contract/incident';
import type { EscalationMessage } from '../src/slack/page';
import { slackPayload } from '../src/slack/page';

export type { EscalationMessage } from '../src/slack/page';
export { slackPayload } from '../src/slack/page';

export interface NotifyResult {
  webhook: 'posted' | 'not_configured';
  status?: number;
  /** Posted to Slack by the gateway (DOCKMEDIC_SLACK_VIA_GATEWAY), and whether the page carried buttons. */
  slack?: 'bot' | 'webhook';
  slackButtons?: boolean;
}

/** Where escalations go. */
export interface Notifier {
  send(message: EscalationMessage): Promise<NotifyResult>;
}

export interface WebhookNotifierOptions {
  /** Slack-compatible incoming webhook; unset → log only. */
  webhookUrl?: string | undefined;
  timeoutMs?: number;
  /** One structured line per escalation; defaults to JSON on stderr. */
  log?: (record: Record<string, unknown>) => void;
  fetch?: typeof fetch;
}

const CLI_WORD: Record<ResponseAction, string> = { approve: 'approve', reject: 'reject', acknowledge: 'ack', resolve: 'resolve' };

function shellQuote(s: string): string {
  return /^[\w.@:/-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `dockmedic respond <id> <action> --by NAME` for each action the incident waits for, then `incidents show`. */
export function respondCommands(incidentId: string, waitingFor: readonly ResponseAction[]): string[] {
  const id = shellQuote(incidentId);
  return [...waitingFor.map((a) => `dockmedic respond ${id} ${CLI_WORD[a]} --by NAME`), `dockmedic incidents show ${id}`];
}

/** `<uiUrl>/namespaces/<ns>/workflows/<workflowId>` */
export function temporalUiLink(uiUrl: string, namespace: string, workflowId: string): string {
  return `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** Posts to a Slack-compatible webhook with a timeout, and always logs a structured line first. */
export function createWebhookNotifier(opts: WebhookNotifierOptions = {}): Notifier {
  const log = opts.log ?? ((r: Record<string, unknown>) => process.stderr.write(`${JSON.stringify(r)}\n`));
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 5_000;
  return {
    async send(m) {
      const n = m.notice;
      log({
        component: 'notifier',
        msg: 'escalation',
        incidentId: n.incidentId,
        host: n.host,
        container: n.container,
        failure: n.failure,
        rule: n.rule,
        level: n.level,
        levelName: n.levelName,
        reason: n.reason,
        evidence: n.evidence,
        recommendation: n.recommendation,
        ...(n.advice ? { advice: n.advice } : {}),
        commands: m.commands,
        uiLink: m.uiLink,
        attempt: m.attempt,
        webhook: opts.webhookUrl ? 'configured' : 'not_configured',
      });
      if (!opts.webhookUrl) return { webhook: 'not_configured' };
      let res: Response;
      try {
        res = await doFetch(opts.webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(slackPayload(m)),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw webhookDeliveryFailed(`webhook unreachable: ${(err as Error).message}`);
      }
      // Drain the body so the connection is released.
      await res.text().catch(() => '');
      if (!res.ok) throw webhookDeliveryFailed(`webhook answered ${res.status}`);
      return { webhook: 'posted', status: res.status };
    },
  };
}
