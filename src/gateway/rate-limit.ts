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
  /**
   * A Redis key that may hold the canonical window key to use instead of `key` (container
   * windows: a name or short id is an alias of the container's canonical window).
   */
  alias?: string;
  /**
   * Counts only calls that run (the mutating windows): not charged when the call's idempotency
   * key already holds a completed outcome, and given back when a later step refuses the call.
   */
  countsRunsOnly?: boolean;
}

/**
 * Rate-limit step (Lua fragment, run inside the admission script after the replay step).
 * Checks every applicable window and records the event in all of them only if all pass —
 * atomically, so concurrent requests cannot both see "one left" (the GET-then-INCR race).
 * Windows are sorted sets of event timestamps (Redis server time, so several gateways agree).
 *
 * A retry whose idempotency key already holds a completed outcome executes nothing (the
 * gateway returns the stored result), so it is not charged to the windows marked
 * `countsRunsOnly` (the mutating ones): a lost answer must not turn into a 429 for a restart
 * that happened, nor spend the container's budget again.
 *
 * Window keys are KEYS[3..]; ARGV[3] is the event id, ARGV[4] the idempotency store key ('' for
 * none), then per window: limit, window ms, alias key ('' for none), countsRunsOnly
 * ('1' or '0'). Returns {1, key used per window ('' when not charged)…} or {0, index of the
 * tightest window, ms until it has room}.
 */
export const SLIDING_WINDOWS_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local member = ARGV[3]
local stored = false
if ARGV[4] ~= '' then
  local entry = redis.call('GET', ARGV[4])
  stored = entry and string.find(entry, '"state":"done"', 1, true) ~= nil
end
local keys = {}
local worst, blocked = 0, 0
for i = 3, #KEYS do
  local w = i - 2
  local key = KEYS[i]
  local limit = tonumber(ARGV[w * 4 + 1])
  local window = tonumber(ARGV[w * 4 + 2])
  local alias = ARGV[w * 4 + 3]
  if stored and ARGV[w * 4 + 4] == '1' then
    keys[w] = ''
  else
    if alias ~= '' then
      local canonical = redis.call('GET', alias)
      if canonical then key = canonical end
    end
    keys[w] = key
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    local count = redis.call('ZCARD', key)
    if count >= limit then
      local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
      local wait = tonumber(oldest[2]) + window - now
      if wait < 1 then wait = 1 end
      if wait > worst then worst, blocked = wait, w end
    end
  end
end
if blocked > 0 then return {0, blocked, worst} end
local used = {1}
for w, key in ipairs(keys) do
  if key ~= '' then
    redis.call('ZADD', key, now, member)
    redis.call('PEXPIRE', key, tonumber(ARGV[w * 4 + 2]))
  end
  used[w + 1] = key
end
return used
`;

/**
 * Move an event charged under a not-yet-known alias into the container's canonical window,
 * once scope has resolved the container, and re-check the limit there. A raw-reference window
 * (earlier calls under the same, then unknown, reference) moves whole. If the canonical window
 * is now over its limit, the event is removed from every window it was charged to, so the
 * refusal costs the caller nothing — as if the first script had refused it.
 * KEYS: used key, canonical key, alias keys…; ARGV: member, limit, window ms, raw prefix, other window keys joined by \\n.
 * Returns {1} or {0, ms until the canonical window has room}.
 */
const REBIND_LUA = `
local used, canonical = KEYS[1], KEYS[2]
local member, limit, window, rawPrefix = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if used ~= canonical then
  local moved
  if string.sub(used, 1, #rawPrefix) == rawPrefix then
    moved = redis.call('ZRANGE', used, 0, -1, 'WITHSCORES')
    redis.call('DEL', used)
  else
    local score = redis.call('ZSCORE', used, member)
    redis.call('ZREM', used, member)
    moved = score and {member, score} or {}
  end
  for i = 1, #moved, 2 do redis.call('ZADD', canonical, moved[i + 1], moved[i]) end
end
for i = 3, #KEYS do redis.call('SET', KEYS[i], canonical, 'PX', window) end
redis.call('ZREMRANGEBYSCORE', canonical, '-inf', now - window)
redis.call('PEXPIRE', canonical, window)
local count = redis.call('ZCARD', canonical)
if count > limit then
  redis.call('ZREM', canonical, member)
  for other in string.gmatch(ARGV[5], '[^\\n]+') do redis.call('ZREM', other, member) end
  local oldest = redis.call('ZRANGE', canonical, count - 1 - limit, count - 1 - limit, 'WITHSCORES')
  local wait = tonumber(oldest[2]) + window - now
  if wait < 1 then wait = 1 end
  return {0, wait}
end
return {1}
`;

type Rebinder = (numKeys: number, ...args: (string | number)[]) => Promise<number[]>;

export function rateLimited(w: { name: string; limit: number; windowSeconds: number } | undefined, waitMs: number): Refusal {
  return new Refusal(
    'rate_limited',
    w ? `rate limit ${w.name} reached: ${w.limit} per ${w.windowSeconds} s` : 'rate limit reached',
    Math.max(1, Math.ceil(waitMs / 1000)),
  );
}

/** The part of rate limiting that happens after scope: settling the per-container window on the container's real id. */
export class RateLimiter {
  private readonly rebindScript: Rebinder;

  constructor(private readonly redis: Redis) {
    // EVALSHA with a transparent EVAL fallback; the script is loaded once per connection.
    redis.defineCommand('dockmedicRebindWindow', { lua: REBIND_LUA });
    this.rebindScript = (redis as unknown as { dockmedicRebindWindow: Rebinder }).dockmedicRebindWindow.bind(redis);
  }

  /** After scope: charge the event to the container's canonical window (see REBIND_LUA); refuses if that window is full. */
  async rebind(input: {
    window: WindowLimit;
    usedKey: string;
    canonicalKey: string;
    aliasKeys: string[];
    rawPrefix: string;
    otherKeys: string[];
    eventId: string;
  }): Promise<void> {
    const { window: w } = input;
    const keys = [input.usedKey, input.canonicalKey, ...input.aliasKeys];
    const reply = await storeStep('rate limit', () =>
      this.rebindScript(keys.length, ...keys, input.eventId, w.limit, w.windowSeconds * 1000, input.rawPrefix, input.otherKeys.join('\n')),
    );
    if (reply[0] !== 1) throw rateLimited(w, Number(reply[1]));
  }

  /**
   * Take an event back out of windows it was charged to: the call was refused, or answered
   * from a stored outcome, before anything ran. Best effort — if Redis fails now the event
   * stays charged, which only errs on the side of fewer calls.
   */
  async uncharge(keys: readonly string[], eventId: string): Promise<void> {
    if (!keys.length) return;
    try {
      await Promise.all(keys.map((k) => this.redis.zrem(k, eventId)));
    } catch {
      /* stays charged */
    }
  }
}
