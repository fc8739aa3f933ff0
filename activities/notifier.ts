import { webhookDeliveryFailed } from './errors';
import type { EscalationNotice } from '../src/contract/escalation-notice';
import type { ResponseAction } from '../src/contract/incident';

/** A notice with everything a person needs to answer it. */
export interface EscalationMessage {
  notice: EscalationNotice;
  /** Exact CLI commands to answer, one per action the incident waits for. */
  commands: string[];
  /** The incident in the Temporal UI. */
  uiLink?: string;
  /** Activity attempt: a retried notification logs again with a higher attempt. */
  attempt: number;
}

export interface NotifyResult {
  webhook: 'posted' | 'not_configured';
  status?: number;
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

/** Slack mrkdwn needs &, < and > escaped; everything from a container is untrusted text. */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The Slack-compatible body: `text` for any consumer, `blocks` for Slack. */
export function slackPayload(m: EscalationMessage): { text: string; blocks: unknown[] } {
  const n = m.notice;
  const title = `dockmedic escalation (level ${n.level}/${n.levels}: ${n.levelName}) — ${n.failure} on ${n.container}@${n.host}`;
  const lines = [
    `*${esc(title)}*`,
    `*Incident:* \`${esc(n.incidentId)}\`   *Rule:* \`${esc(n.rule)}\``,
    `*Why:* ${esc(n.reason)}`,
    `*Recommended:* ${esc(n.recommendation)}`,
    ...(m.uiLink ? [`*Temporal UI:* <${m.uiLink}|open incident>`] : []),
  ];
  const evidence = n.evidence.length > 0 ? '```' + esc(n.evidence.join('\n').replace(/```/g, "'''")) + '```' : '_no evidence gathered_';
  const commands = '```' + esc(m.commands.join('\n')) + '```';
  const advice = adviceLines(n);
  const text = [title, `Why: ${n.reason}`, `Recommended: ${n.recommendation}`, ...advice.plain, ...m.commands, ...(m.uiLink ? [m.uiLink] : [])].join('\n');
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
      { type: 'section', text: { type: 'mrkdwn', text: `*Evidence*\n${evidence}` } },
      ...(advice.mrkdwn ? [{ type: 'section', text: { type: 'mrkdwn', text: advice.mrkdwn } }] : []),
      { type: 'section', text: { type: 'mrkdwn', text: `*Respond* (next level paged in ${n.timeoutSeconds}s)\n${commands}` } },
    ],
  };
}

/**
 * The advising model's view, for the person paged: what it proposed, its rationale and quoted
 * evidence, and what the gate made of it. Model text is untrusted: quoted, escaped, never a command.
 */
function adviceLines(n: EscalationNotice): { plain: string[]; mrkdwn: string | null } {
  const a = n.advice;
  if (!a) return { plain: [], mrkdwn: null };
  const proposed = a.proposedAction ? `proposed ${a.proposedAction} (failure ${a.failureType ?? '?'}, confidence ${a.confidence ?? '?'})` : 'no proposal';
  const plain = [`Model ${a.model}: ${proposed}: ${a.note}`, ...(a.rationale ? [`Model rationale: ${a.rationale}`] : []), ...(a.evidence ?? []).map((e) => `Model evidence: ${e}`)];
  const quote = (s: string) => '```' + esc(s.replace(/```/g, "'''")) + '```';
  const mrkdwn = [
    `*Model advice* (${esc(a.model)}, advice only; the policy decides): ${esc(proposed)}`,
    `_${esc(a.note)}_`,
    ...(a.rationale ? [`*Rationale*\n${quote(a.rationale)}`] : []),
    ...(a.evidence && a.evidence.length > 0 ? [`*Quoted evidence*\n${quote(a.evidence.join('\n'))}`] : []),
  ].join('\n');
  return { plain, mrkdwn };
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
