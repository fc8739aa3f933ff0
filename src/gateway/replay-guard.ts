import type Redis from 'ioredis';
import { Refusal } from './refusal';
import { storeStep } from './store';

/**
 * `SET nonce:<keyId>:<nonce> 1 NX EX ttl`, guarded by the store's "nonce epoch": the moment the
 * store's nonce memory began. Redis runs without persistence, so after a restart it has
 * forgotten every nonce; a request signed before that moment could be a replay the store can
 * no longer recognise, and is refused. Returns 1 accepted, 0 nonce seen, -1 signed before the epoch.
 */
const CLAIM_NONCE_LUA = `
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = redis.call('TIME')[1]
  redis.call('SET', KEYS[2], epoch)
end
if tonumber(ARGV[1]) < tonumber(epoch) then return -1 end
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[2])) then return 1 end
return 0
`;

type Claim = (nonceKey: string, epochKey: string, timestamp: number, ttlSeconds: number) => Promise<number>;

/**
 * Replay step: a nonce is accepted once per key. It is remembered for `ttlSeconds`, which the
 * gateway requires to be at least twice the clock skew, so a captured request can never be
 * sent again while its timestamp is still acceptable.
 */
export class ReplayGuard {
  private readonly claimScript: Claim;

  constructor(redis: Redis) {
    redis.defineCommand('dockmedicClaimNonce', { numberOfKeys: 2, lua: CLAIM_NONCE_LUA });
    this.claimScript = (redis as unknown as { dockmedicClaimNonce: Claim }).dockmedicClaimNonce.bind(redis);
  }

  async claim(keyId: string, nonce: string, timestamp: number, ttlSeconds: number): Promise<void> {
    const r = await storeStep('replay check', () => this.claimScript(`nonce:${keyId}:${nonce}`, 'nonce-epoch', timestamp, ttlSeconds));
    if (r === 0) throw new Refusal('replayed_nonce', 'this nonce has already been used');
    if (r === -1) throw new Refusal('timestamp_stale', 'signed before the gateway’s replay memory began (its store restarted); sign the request again');
  }
}
