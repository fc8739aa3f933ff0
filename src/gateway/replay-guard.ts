/**
 * Replay step (Lua fragment, run first inside the admission script — see admission.ts).
 *
 * `SET nonce:<keyId>:<nonce> 1 NX EX ttl`: a nonce is accepted once per key and remembered
 * for `ttl`, which the gateway requires to be at least twice the clock skew, so a captured
 * request can never be sent again while its timestamp is still acceptable.
 *
 * Guarded by the store's "nonce epoch", the moment the store's nonce memory began. Setup runs
 * Redis with an append-only file, but a Redis started elsewhere may have none, and even with
 * one, writes of the last second can be lost in a crash (appendfsync everysec): after such a
 * restart a request signed before that moment could be a replay the store can no longer
 * recognise, so it is refused. The
 * epoch is the Redis server's start time (TIME − uptime), not the first request's: nothing
 * could have been accepted by this store before it started, and a request signed a moment
 * before the first claim is legitimate.
 *
 * KEYS[1] nonce key, KEYS[2] epoch key; ARGV[1] request timestamp, ARGV[2] ttl seconds.
 * Falls through when the nonce is fresh; returns {-1} (seen) or {-2} (signed before the epoch).
 */
export const REPLAY_LUA = `
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  local uptime = tonumber(string.match(redis.call('INFO', 'server'), 'uptime_in_seconds:(%d+)')) or 0
  epoch = tonumber(redis.call('TIME')[1]) - uptime
  redis.call('SET', KEYS[2], epoch)
end
if tonumber(ARGV[1]) < tonumber(epoch) then return {-2} end
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[2])) then return {-1} end
`;

export const NONCE_EPOCH_KEY = 'nonce-epoch';

export function nonceKey(keyId: string, nonce: string): string {
  return `nonce:${keyId}:${nonce}`;
}
