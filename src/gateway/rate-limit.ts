import type Redis from 'ioredis';
import { Refusal } from './refusal';
import { storeStep } from './store';

/** One sliding-window limit: at most `limit` events per `windowSeconds` under `key`. */
export interface WindowLimit {
  /** Short name for messages and the audit (`agent_calls`, `container_mutating`, …). */
  name: string;
  key: string;
  limit: number;
  windowSeconds: number;
}

/**
 * Check every applicable window and record the event in all of them only if all pass — in one
 * Lua script, so concurrent requests cannot both see "one left" (the GET-then-INCR race).
 * Windows are sorted sets of event timestamps (Redis server time, so several gateways agree).
 * Returns {1} when allowed, or {0, index of the tightest window, ms until it has room}.
 */
const SLIDING_WINDOWS_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local member = ARGV[1]
local worst, blocked = 0, 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[i * 2])
  local window = tonumber(ARGV[i * 2 + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local wait = tonumber(oldest[2]) + window - now
    if wait < 1 then wait = 1 end
    if wait > worst then worst, blocked = wait, i end
  end
end
if blocked > 0 then return {0, blocked, worst} end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, tonumber(ARGV[i * 2 + 1]))
end
return {1, 0, 0}
`;

type Checker = (numKeys: number, ...args: (string | number)[]) => Promise<[number, number, number]>;

export class RateLimiter {
  private readonly check: Checker;

  constructor(redis: Redis) {
    // EVALSHA with a transparent EVAL fallback; the script is loaded once per connection.
    redis.defineCommand('dockmedicSlidingWindows', { lua: SLIDING_WINDOWS_LUA });
    const r = redis as unknown as { dockmedicSlidingWindows: Checker };
    this.check = r.dockmedicSlidingWindows.bind(redis);
  }

  /** Record one event in every window, or refuse with `rate_limited` and a Retry-After if any window is full. */
  async consume(windows: readonly WindowLimit[], eventId: string): Promise<void> {
    if (windows.length === 0) return;
    const args: (string | number)[] = [];
    for (const w of windows) args.push(w.key);
    args.push(eventId);
    for (const w of windows) args.push(w.limit, w.windowSeconds * 1000);
    const [allowed, blocked, waitMs] = await storeStep('rate limit', () => this.check(windows.length, ...args));
    if (allowed !== 1) {
      const w = windows[blocked - 1];
      const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
      throw new Refusal(
        'rate_limited',
        w ? `rate limit ${w.name} reached: ${w.limit} per ${w.windowSeconds} s` : 'rate limit reached',
        retryAfter,
      );
    }
  }
}
