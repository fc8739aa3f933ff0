import { z } from 'zod';
import { RESPONSE_ACTIONS } from './incident';
import { ACTIONS, FAILURE_KINDS } from './policy';

/**
 * Slack's side of paging (docs/architecture.md §3, "Slack buttons"): what the worker hands the
 * gateway's `post_slack_page` tool, what a button carries, and what Slack sends back when one is
 * clicked. Nothing here is secret: the signing secret and the bot token stay in the gateway.
 */

/** At most `n` UTF-16 code units, as `String.length` counts. */
const text = (n: number) => z.string().refine((s) => s.length <= n, `expected at most ${n} characters`);
const count = z.number().int().min(0).max(1000);

/** Run ids are UUIDs; the pattern only keeps the button value small and plain. */
export const RunId = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'expected a Temporal run id');

const EscalationAdviceSchema = z
  .object({
    model: text(128),
    verdict: z.enum(['agrees', 'disagrees', 'disregarded', 'failed']),
    proposedAction: z.enum(ACTIONS).optional(),
    failureType: z.enum(FAILURE_KINDS).optional(),
    confidence: z.number().min(0).max(1).optional(),
    rationale: text(2000).optional(),
    evidence: z.array(text(500)).max(10).optional(),
    note: text(1000),
  })
  .strict();

/**
 * An escalation notice as the gateway accepts it (src/contract/escalation-notice.ts, bounded).
 * It has no `drill` field: a drill never pages a person, so a drill's notice is refused here too.
 */
export const SlackNoticeSchema = z
  .object({
    incidentId: text(256),
    host: text(128),
    container: text(256),
    containerId: text(128),
    failure: z.enum(FAILURE_KINDS),
    rule: text(64),
    reason: text(2000),
    level: count,
    levels: count,
    levelName: text(64),
    timeoutSeconds: z.number().int().min(0),
    evidence: z.array(text(1024)).max(100),
    recommendedAction: z.enum(ACTIONS),
    recommendation: text(1000),
    waitingFor: z.array(z.enum(RESPONSE_ACTIONS)).max(RESPONSE_ACTIONS.length),
    uiUrl: text(512).optional(),
    advice: EscalationAdviceSchema.optional(),
  })
  .strict();

/** `post_slack_page` arguments: the notice, the run it belongs to (its buttons name it), the CLI commands and the UI link. */
export const PostSlackPageArgs = z
  .object({
    notice: SlackNoticeSchema,
    runId: RunId,
    commands: z.array(text(512)).max(8),
    uiLink: z.string().url().max(1024).optional(),
  })
  .strict();
export type PostSlackPageArgs = z.infer<typeof PostSlackPageArgs>;

/** What `post_slack_page` returns. */
export interface SlackPageResult {
  via: 'bot' | 'webhook';
  /** Whether the page carried buttons (the gateway holds the signing secret). */
  buttons: boolean;
  /** chat.postMessage's message timestamp (bot only). */
  ts?: string;
}

/** Every dockmedic button's `action_id` starts with this; the action follows. */
export const SLACK_ACTION_PREFIX = 'dockmedic.respond.';

/** A button's `value`: which incident run and which answer. JSON, short keys (Slack allows 2000 characters). */
export const SlackButtonValue = z
  .object({
    incident: text(256).refine((s) => s.length > 0, 'expected an incident id'),
    action: z.enum(RESPONSE_ACTIONS),
    runId: RunId,
  })
  .strict();
export type SlackButtonValue = z.infer<typeof SlackButtonValue>;

/** Slack user ids (U…, W…) and usernames: plain characters only, because they become `by`. */
const SlackName = z.string().regex(/^[A-Za-z0-9._-]{1,40}$/);

/**
 * The `payload` form field Slack posts to the interactivity URL for a button click
 * (`block_actions`). Only what dockmedic reads is checked; Slack adds fields over time.
 */
export const SlackBlockActions = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: SlackName, username: SlackName.optional() }),
  response_url: z.string().url().max(2048),
  actions: z
    .array(
      z.object({
        action_id: text(255),
        value: text(2000).optional(),
      }),
    )
    .min(1),
});
export type SlackBlockActions = z.infer<typeof SlackBlockActions>;

/**
 * How a click ended, as the message update says it in its metadata (`event_payload.code`).
 * sent: the respond signal went to the incident; the others: nothing was sent, and why.
 */
export const SLACK_ANSWER_CODES = ['sent', 'not_waiting', 'incident_not_found', 'no_worker', 'temporal_unavailable', 'failed'] as const;
export type SlackAnswerCode = (typeof SLACK_ANSWER_CODES)[number];

/** `metadata.event_type` of every message update dockmedic sends through `response_url`. */
export const SLACK_ANSWER_EVENT = 'dockmedic_answer';

/** `metadata.event_payload` of a message update. */
export interface SlackAnswer {
  incident: string;
  runId: string;
  action: string;
  by: string;
  code: SlackAnswerCode;
  /** Why nothing was sent, for people (absent when sent). */
  reason?: string;
}
