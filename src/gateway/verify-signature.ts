import { timingSafeEqual } from 'node:crypto';
import { computeSignature } from '../signing';
import type { Keyring } from './keyring';
import { Refusal } from './refusal';
import type { SignedHeaders } from './signed-headers';

export interface Authenticated {
  agentId: string;
  keyId: string;
}

/**
 * HMAC step: find the key by id, recompute the signature over the canonical string of what
 * actually arrived (method, path with query, timestamp, nonce, key id, idempotency key, body
 * digest), compare in constant time, then check the timestamp window. The timestamp is
 * judged only once the signature proves the sender holds the key.
 */
export function verifySignature(
  keyring: Keyring,
  h: SignedHeaders,
  request: { method: string; path: string; body: Buffer },
  clockSkewSeconds: number,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Authenticated {
  const key = keyring.get(h.keyId);
  if (!key) throw new Refusal('unknown_key', 'unknown key id');
  if (key.status !== 'live') throw new Refusal('key_retired', 'this key has been retired; sign with the agent’s current key');
  const expected = Buffer.from(
    computeSignature(key.secret, {
      method: request.method,
      path: request.path,
      timestamp: h.timestamp,
      nonce: h.nonce,
      keyId: h.keyId,
      idempotencyKey: h.idempotencyKey,
      body: request.body,
    }),
    'hex',
  );
  if (expected.length !== h.signature.length || !timingSafeEqual(expected, h.signature)) {
    throw new Refusal('bad_signature', 'signature does not match the request');
  }
  if (h.timestamp < nowSeconds - clockSkewSeconds) throw new Refusal('timestamp_stale', `timestamp is more than ${clockSkewSeconds} s old`);
  if (h.timestamp > nowSeconds + clockSkewSeconds) throw new Refusal('timestamp_future', `timestamp is more than ${clockSkewSeconds} s in the future`);
  return { agentId: key.agentId, keyId: key.keyId };
}
