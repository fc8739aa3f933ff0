import type { SlackBlockActions, SlackButtonValue } from '../../contract/slack';
import { SLACK_ACTION_PREFIX, SlackBlockActions as BlockActionsSchema, SlackButtonValue as ButtonValueSchema } from '../../contract/slack';
import { Refusal } from '../refusal';

/** Every click is charged to this agent's all-calls window, and its signatures live in the nonce store under it. */
export const SLACK_AGENT = 'slack';

/** A click, as verified and parsed: who, which incident run, which answer, where to say what happened. */
export interface SlackClick {
  button: SlackButtonValue;
  userId: string;
  /** Recorded in the incident's history as the responder. */
  by: string;
  responseUrl: string;
  /** The page's blocks as Slack sent them back, so the update keeps the page and drops the buttons. */
  blocks: unknown[] | undefined;
}

/** The `payload` form field of a click, checked with zod; anything else is invalid_arguments or malformed_json. */
export function parseClick(body: Buffer, contentType: string | undefined): SlackClick {
  if (!/^application\/x-www-form-urlencoded\b/i.test(contentType ?? '')) throw new Refusal('invalid_arguments', 'expected application/x-www-form-urlencoded with a payload field');
  const field = new URLSearchParams(body.toString('utf8')).get('payload');
  if (field === null) throw new Refusal('invalid_arguments', 'no payload field');
  let json: unknown;
  try {
    json = JSON.parse(field);
  } catch {
    throw new Refusal('malformed_json', 'the payload field is not valid JSON');
  }
  const parsed = BlockActionsSchema.safeParse(json);
  if (!parsed.success) throw new Refusal('invalid_arguments', `not a button click dockmedic understands: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ')}`.slice(0, 500));
  return clickOf(parsed.data, json);
}

function clickOf(p: SlackBlockActions, json: unknown): SlackClick {
  const action = p.actions.find((a) => a.action_id.startsWith(SLACK_ACTION_PREFIX));
  if (!action?.value) throw new Refusal('invalid_arguments', 'the click is not on a dockmedic button');
  let value: unknown;
  try {
    value = JSON.parse(action.value);
  } catch {
    throw new Refusal('invalid_arguments', 'the button value is not dockmedic’s');
  }
  const button = ButtonValueSchema.safeParse(value);
  // The action id names the answer too; a value that disagrees with it was not made by dockmedic.
  if (!button.success || action.action_id !== `${SLACK_ACTION_PREFIX}${button.data.action}`) throw new Refusal('invalid_arguments', 'the button value is not dockmedic’s');
  const blocks = (json as { message?: { blocks?: unknown } }).message?.blocks;
  return {
    button: button.data,
    userId: p.user.id,
    by: `slack:${p.user.id}`,
    responseUrl: p.response_url,
    blocks: Array.isArray(blocks) ? blocks.slice(0, 50) : undefined,
  };
}

