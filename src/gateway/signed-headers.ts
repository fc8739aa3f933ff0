import type { IncomingHttpHeaders } from 'node:http';
import { HEADERS, NO_IDEMPOTENCY_KEY, SIGNATURE_VERSION } from '../signing';
import { Refusal } from './refusal';

/** The authentication headers of a request, checked for presence and shape (not yet for truth). */
export interface SignedHeaders {
  keyId: string;
  timestamp: number;
  nonce: string;
  /** The 32-byte signature, decoded from `v1=<hex>`. */
  signature: Buffer;
  idempotencyKey: string | undefined;
}

const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const TIMESTAMP = /^\d{1,12}$/;
const NONCE = /^[A-Za-z0-9_-]{16,128}$/;
const SIGNATURE = new RegExp(`^${SIGNATURE_VERSION}=([0-9a-f]{64})$`);
/** `<workflowId>/<activityId>` and similar: printable, no spaces, bounded. */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:/@+=-]{1,256}$/;

/** A header that must appear at most once (a repeated signing header is `malformed_header`). */
export function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  if (Array.isArray(v)) throw new Refusal('malformed_header', `header ${name} appears more than once`);
  return v;
}

/** `missing_header`, naming every one of the headers that is absent or empty. */
export function requirePresent(headers: [name: string, value: string | undefined][]): void {
  const missing = headers.filter(([, v]) => v === undefined || v === '').map(([n]) => n);
  if (missing.length) throw new Refusal('missing_header', `missing header(s): ${missing.join(', ')}`);
}

/** Extract the signing headers; missing → `missing_header`, badly formed → `malformed_header`. */
export function parseSignedHeaders(headers: IncomingHttpHeaders): SignedHeaders {
  const keyId = single(headers, HEADERS.keyId);
  const timestamp = single(headers, HEADERS.timestamp);
  const nonce = single(headers, HEADERS.nonce);
  const signature = single(headers, HEADERS.signature);
  const idempotencyKey = single(headers, HEADERS.idempotencyKey);
  requirePresent([
    [HEADERS.keyId, keyId],
    [HEADERS.timestamp, timestamp],
    [HEADERS.nonce, nonce],
    [HEADERS.signature, signature],
  ]);
  if (!KEY_ID.test(keyId!)) throw new Refusal('malformed_header', `${HEADERS.keyId} is not a key id`);
  if (!TIMESTAMP.test(timestamp!)) throw new Refusal('malformed_header', `${HEADERS.timestamp} must be Unix seconds`);
  if (!NONCE.test(nonce!)) throw new Refusal('malformed_header', `${HEADERS.nonce} must be 16–128 characters of [A-Za-z0-9_-]`);
  const sig = SIGNATURE.exec(signature!);
  if (!sig) throw new Refusal('malformed_header', `${HEADERS.signature} must be ${SIGNATURE_VERSION}=<64 hex>`);
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw new Refusal('malformed_header', `${HEADERS.idempotencyKey} must be 1–256 characters of [A-Za-z0-9_.:/@+=-]`);
  }
  // `-` is what the canonical string holds for "no key": accepting it as a key would let a
  // key be added in transit to an unkeyed request without breaking its signature.
  if (idempotencyKey === NO_IDEMPOTENCY_KEY) throw new Refusal('malformed_header', `${HEADERS.idempotencyKey} may not be "${NO_IDEMPOTENCY_KEY}"`);
  return { keyId: keyId!, timestamp: Number(timestamp), nonce: nonce!, signature: Buffer.from(sig[1]!, 'hex'), idempotencyKey };
}
