import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Refusal } from '../refusal';
import { requirePresent, single } from '../signed-headers';

/** Slack's signing headers, checked for presence and shape before the body is read. */
export interface SlackSignedHeaders {
  timestamp: number;
  /** The header as sent: the signed string holds it byte for byte. */
  timestampText: string;
  /** The 32-byte HMAC, decoded from `v0=<hex>`. */
  signature: Buffer;
  /** `v0=<hex>` as sent: the replay guard remembers it. */
  raw: string;
}

export const SLACK_HEADERS = { timestamp: 'x-slack-request-timestamp', signature: 'x-slack-signature' } as const;

const TIMESTAMP = /^\d{1,12}$/;
const SIGNATURE = /^v0=([0-9a-f]{64})$/;

/** `missing_header` / `malformed_header`, as for the agents' own signing headers (docs/architecture.md §4). */
export function parseSlackHeaders(headers: IncomingHttpHeaders): SlackSignedHeaders {
  const timestamp = single(headers, SLACK_HEADERS.timestamp);
  const signature = single(headers, SLACK_HEADERS.signature);
  requirePresent([
    [SLACK_HEADERS.timestamp, timestamp],
    [SLACK_HEADERS.signature, signature],
  ]);
  if (!TIMESTAMP.test(timestamp!)) throw new Refusal('malformed_header', `${SLACK_HEADERS.timestamp} must be Unix seconds`);
  const sig = SIGNATURE.exec(signature!);
  if (!sig) throw new Refusal('malformed_header', `${SLACK_HEADERS.signature} must be v0=<64 hex>`);
  return { timestamp: Number(timestamp), timestampText: timestamp!, signature: Buffer.from(sig[1]!, 'hex'), raw: signature! };
}

/** Slack's scheme: `v0=` + hex HMAC-SHA256(signing secret, `v0:<timestamp>:<raw body>`). */
export function slackSignature(secret: string, timestamp: number | string, body: Buffer | string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex')}`;
}

/**
 * Recompute the signature over the body as it arrived and compare in constant time (both are
 * 32 bytes: the header's shape was checked). The timestamp is judged only after the signature,
 * so an unsigned request learns nothing about the clock.
 */
export function verifySlackRequest(secret: string, h: SlackSignedHeaders, body: Buffer, clockSkewSeconds: number, nowSeconds: number = Math.floor(Date.now() / 1000)): void {
  const expected = Buffer.from(slackSignature(secret, h.timestampText, body).slice(3), 'hex');
  if (expected.length !== h.signature.length || !timingSafeEqual(expected, h.signature)) {
    throw new Refusal('bad_signature', 'X-Slack-Signature does not match the request');
  }
  if (h.timestamp < nowSeconds - clockSkewSeconds) throw new Refusal('timestamp_stale', `X-Slack-Request-Timestamp is more than ${clockSkewSeconds} s old`);
  if (h.timestamp > nowSeconds + clockSkewSeconds) throw new Refusal('timestamp_future', `X-Slack-Request-Timestamp is more than ${clockSkewSeconds} s in the future`);
}
