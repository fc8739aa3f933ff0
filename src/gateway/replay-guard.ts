import type Redis from 'ioredis';
import { Refusal } from './refusal';
import { storeStep } from './store';

/**
 * Replay step: a nonce is accepted once per key. It is remembered for `ttlSeconds`, which the
 * gateway requires to be at least twice the clock skew, so a captured request can never be
 * sent again while its timestamp is still acceptable.
 */
export async function claimNonce(redis: Redis, keyId: string, nonce: string, ttlSeconds: number): Promise<void> {
  const ok = await storeStep('replay check', () => redis.set(`nonce:${keyId}:${nonce}`, '1', 'EX', ttlSeconds, 'NX'));
  if (ok !== 'OK') throw new Refusal('replayed_nonce', 'this nonce has already been used');
}
