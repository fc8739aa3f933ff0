import type { SlackGatewayConfig } from '../../config';
import type { SlackMessage } from '../../slack/page';
import { Refusal } from '../refusal';

/** How the gateway posts pages: the bot token and channel, or the app's incoming webhook. */
export type SlackDelivery = NonNullable<SlackGatewayConfig['delivery']>;

/** Slack's own deadline for an interaction is 3 s; posting a page may take a little longer. */
const SLACK_TIMEOUT_MS = 5_000;

/**
 * Why a call to Slack failed, in words that carry neither the token nor the webhook URL (both are
 * credentials: docs/architecture.md §1). Node's fetch says "fetch failed" and keeps the reason in
 * `cause`; only its code is kept.
 */
function unreachable(what: string, err: unknown): string {
  const e = err as { name?: string; cause?: { code?: unknown } };
  if (e?.name === 'TimeoutError') return `${what} did not answer within ${SLACK_TIMEOUT_MS} ms`;
  const code = typeof e?.cause?.code === 'string' ? e.cause.code.replace(/[^A-Z0-9_]/g, '').slice(0, 40) : '';
  return `${what} is unreachable${code ? ` (${code})` : ''}`;
}

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(SLACK_TIMEOUT_MS),
    redirect: 'error',
  });
}

/** Post a page; `slack_delivery_failed` when Slack does not take it. Returns chat.postMessage's `ts` for the bot. */
export async function postSlackMessage(delivery: SlackDelivery, message: SlackMessage): Promise<{ ts?: string }> {
  if (delivery.via === 'bot') {
    let res: Response;
    try {
      res = await postJson(`${delivery.apiUrl.replace(/\/+$/, '')}/chat.postMessage`, { channel: delivery.channel, ...message, unfurl_links: false }, { authorization: `Bearer ${delivery.token}` });
    } catch (err) {
      throw new Refusal('slack_delivery_failed', unreachable('chat.postMessage', err));
    }
    // chat.postMessage answers 200 with {ok:false, error:"<code>"} for most failures.
    const answer = (await res.json().catch(() => null)) as { ok?: unknown; ts?: unknown; error?: unknown } | null;
    if (!res.ok || answer?.ok !== true) {
      const code = typeof answer?.error === 'string' ? answer.error.replace(/[^a-z0-9_]/g, '').slice(0, 64) : `HTTP ${res.status}`;
      throw new Refusal('slack_delivery_failed', `chat.postMessage refused the page: ${code}`);
    }
    return typeof answer.ts === 'string' ? { ts: answer.ts.slice(0, 32) } : {};
  }
  let res: Response;
  try {
    res = await postJson(delivery.url, message);
  } catch (err) {
    throw new Refusal('slack_delivery_failed', unreachable('the Slack webhook', err));
  }
  await res.text().catch(() => '');
  if (!res.ok) throw new Refusal('slack_delivery_failed', `the Slack webhook answered ${res.status}`);
  return {};
}

/** Update the clicked message through the interaction's `response_url`; the HTTP status, or null when unreachable. */
export async function postToResponseUrl(responseUrl: string, body: unknown): Promise<number | null> {
  try {
    const res = await postJson(responseUrl, body);
    await res.text().catch(() => '');
    return res.status;
  } catch {
    return null;
  }
}
