import type { EscalationNotice } from '../contract/escalation-notice';
import type { ResponseAction } from '../contract/incident';
import type { SlackAnswer } from '../contract/slack';
import { SLACK_ACTION_PREFIX, SLACK_ANSWER_EVENT } from '../contract/slack';

/** A notice with everything a person needs to answer it. */
export interface EscalationMessage {
  notice: EscalationNotice;
  /** Exact CLI commands to answer, one per action the incident waits for. */
  commands: string[];
  /** The incident in the Temporal UI. */
  uiLink?: string;
  /** Activity attempt: a retried notification logs again with a higher attempt. */
  attempt: number;
  /** The incident's run: the Slack buttons name it, so a click never answers a later incident of the same container. */
  runId?: string;
}

/** What a page is built from (the gateway has no attempt number). */
export type PageContent = Pick<EscalationMessage, 'notice' | 'commands' | 'uiLink'>;

/** A Slack message: `text` for any consumer and for notifications, `blocks` for Slack. */
export interface SlackMessage {
  text: string;
  blocks: unknown[];
}

/** Slack's limit on a section block's text. */
const SECTION_TEXT_MAX = 3000;

/** The end of `s` within `max` characters, marked as cut. */
function lastChars(s: string, max: number): string {
  return s.length <= max ? s : `…${s.slice(s.length - max + 1)}`;
}

/** Slack mrkdwn needs &, < and > escaped; everything from a container is untrusted text. */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const BUTTON_TEXT: Record<ResponseAction, string> = { approve: 'Approve', reject: 'Reject', acknowledge: 'Acknowledge', resolve: 'Resolve' };

/** The `block_id` of the buttons: a message update replaces the page without them. */
export const BUTTONS_BLOCK_ID = 'dockmedic.respond';

/**
 * One button per answer the incident waits for, and no other (docs/architecture.md §3). The
 * value names the incident, the answer and the run; nothing in it is secret, and the gateway
 * checks the incident again before anything is sent.
 */
export function respondButtons(incidentId: string, runId: string, waitingFor: readonly ResponseAction[]): Record<string, unknown> {
  return {
    type: 'actions',
    block_id: BUTTONS_BLOCK_ID,
    elements: waitingFor.map((action) => ({
      type: 'button',
      action_id: `${SLACK_ACTION_PREFIX}${action}`,
      text: { type: 'plain_text', text: BUTTON_TEXT[action] },
      value: JSON.stringify({ incident: incidentId, action, runId }),
      ...(action === 'approve' ? { style: 'primary' } : action === 'reject' ? { style: 'danger' } : {}),
    })),
  };
}

/** The page: `buttons` (with the run id) only when the gateway can verify the clicks. */
export function slackPayload(m: PageContent | EscalationMessage, buttons?: { runId: string }): SlackMessage {
  const n = m.notice;
  const title = `dockmedic escalation (level ${n.level}/${n.levels}: ${n.levelName}) — ${n.failure} on ${n.container}@${n.host}`;
  const lines = [
    `*${esc(title)}*`,
    `*Incident:* \`${esc(n.incidentId)}\`   *Rule:* \`${esc(n.rule)}\``,
    `*Why:* ${esc(n.reason)}`,
    `*Recommended:* ${esc(n.recommendation)}`,
    ...(m.uiLink ? [`*Temporal UI:* <${m.uiLink}|open incident>`] : []),
  ];
  // Slack refuses a section whose text passes 3000 characters (invalid_blocks): the evidence keeps its last lines.
  const evidence = n.evidence.length > 0 ? '```' + lastChars(esc(n.evidence.join('\n').replace(/```/g, "'''")), SECTION_TEXT_MAX - 100) + '```' : '_no evidence gathered_';
  const commands = '```' + esc(m.commands.join('\n')) + '```';
  const advice = adviceLines(n);
  const text = [title, `Why: ${n.reason}`, `Recommended: ${n.recommendation}`, ...advice.plain, ...m.commands, ...(m.uiLink ? [m.uiLink] : [])].join('\n');
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, SECTION_TEXT_MAX) } },
      { type: 'section', text: { type: 'mrkdwn', text: `*Evidence*\n${evidence}` } },
      ...(advice.mrkdwn ? [{ type: 'section', text: { type: 'mrkdwn', text: advice.mrkdwn.slice(0, SECTION_TEXT_MAX) } }] : []),
      { type: 'section', text: { type: 'mrkdwn', text: `*Respond* (next level paged in ${n.timeoutSeconds}s)\n${commands}` } },
      ...(buttons && n.waitingFor.length > 0 ? [respondButtons(n.incidentId, buttons.runId, n.waitingFor)] : []),
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

/** The `block_id` of the line a message update adds, followed by the answer's code. */
export const ANSWER_BLOCK_PREFIX = 'dockmedic.answer.';

/** A Slack user, as Slack renders a mention; `by` carries the id, so the mention is exact. */
function mention(userId: string): string {
  return `<@${userId}>`;
}

/**
 * What replaces the page once a button was clicked (POSTed to `response_url` with
 * `replace_original`): who did what, or why nothing was sent. The original blocks stay, minus the
 * buttons (an answered page must not invite a second click); `metadata` carries the outcome for
 * machines (`SlackAnswer`).
 */
export function answeredMessage(original: unknown[] | undefined, answer: SlackAnswer, userId: string): SlackMessage & { replace_original: true; metadata: { event_type: string; event_payload: SlackAnswer } } {
  const who = mention(userId);
  const line =
    answer.code === 'sent'
      ? `*${esc(answer.action)}* by ${who} (recorded as \`${esc(answer.by)}\`), sent to \`${esc(answer.incident)}\``
      : `${who} clicked *${esc(answer.action)}*, and nothing was sent: ${esc(answer.reason ?? answer.code)}`;
  // When nothing could be decided (no worker, Temporal down), the buttons stay for another try.
  const final = answer.code === 'sent' || answer.code === 'not_waiting' || answer.code === 'incident_not_found';
  const blocks = (original ?? []).filter((b) => {
    const id = b && typeof b === 'object' ? (b as { block_id?: unknown }).block_id : undefined;
    return !(typeof id === 'string' && id.startsWith(ANSWER_BLOCK_PREFIX)) && !(final && id === BUTTONS_BLOCK_ID);
  });
  return {
    replace_original: true,
    text: line.replace(/\*/g, ''),
    blocks: [...blocks, { type: 'context', block_id: `${ANSWER_BLOCK_PREFIX}${answer.code}`, elements: [{ type: 'mrkdwn', text: line }] }],
    metadata: { event_type: SLACK_ANSWER_EVENT, event_payload: answer },
  };
}
