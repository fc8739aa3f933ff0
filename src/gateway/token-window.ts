import type Redis from 'ioredis';
import { Refusal } from './refusal';
import type { WindowLimit } from './rate-limit';
import { storeStep } from './store';

/**
 * A sliding window of LLM tokens per agent (docs/architecture.md §4: "per agent for LLM requests and
 * tokens"). The request window counts events; this one sums them: each completed call is one
 * sorted-set member `<requestId>:<tokens>` scored by Redis server time, so several gateways agree
 * and entries expire with the window.
 *
 * ARGV: mode ('check' | 'charge'), limit, window ms, member (charge only).
 * Returns {tokens used in the window, ms until the window is below its limit again (0 if it is)}.
 */
const TOKEN_WINDOW_LUA = `
local key = KEYS[1]
local mode, limit, window, member = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if mode == 'charge' then
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
end
local entries = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
local used = 0
for i = 1, #entries, 2 do
  used = used + (tonumber(string.match(entries[i], ':(%d+)$')) or 0)
end
local wait = 0
if used >= limit then
  local left = used
  for i = 1, #entries, 2 do
    left = left - (tonumber(string.match(entries[i], ':(%d+)$')) or 0)
    if left < limit then
      wait = tonumber(entries[i + 1]) + window - now
      break
    end
  end
  if wait < 1 then wait = 1 end
end
return {used, wait}
`;

/** Registered with numberOfKeys 1: the window key, then ARGV. */
type Script = (...keyThenArgs: (string | number)[]) => Promise<[number, number]>;

/**
 * Admission is checked before a call and the real usage charged after it (the upstream's
 * `usage.total_tokens`): the cost of a call is only known once it has answered. Calls admitted
 * concurrently while the window has room can therefore overshoot it by at most their own usage;
 * the next call is refused until the window has slid below the limit.
 */
export class TokenWindow {
  private readonly script: Script;

  constructor(redis: Redis) {
    redis.defineCommand('dockmedicTokenWindow', { numberOfKeys: 1, lua: TOKEN_WINDOW_LUA });
    this.script = (redis as unknown as { dockmedicTokenWindow: Script }).dockmedicTokenWindow.bind(redis);
  }

  /** Refuses with `rate_limited` (429 + Retry-After) when the window's tokens are spent. Returns the tokens used so far. */
  async admit(window: WindowLimit): Promise<number> {
    const [used, waitMs] = await storeStep('llm token window', () => this.script(window.key, 'check', window.limit, window.windowSeconds * 1000, ''));
    if (Number(used) >= window.limit) {
      throw new Refusal('rate_limited', `rate limit ${window.name} reached: ${window.limit} tokens per ${window.windowSeconds} s`, Math.max(1, Math.ceil(Number(waitMs) / 1000)));
    }
    return Number(used);
  }

  /** Records what a call used; returns the window's total after it. */
  async charge(window: WindowLimit, eventId: string, tokens: number): Promise<number> {
    const whole = Math.max(0, Math.ceil(tokens));
    const [used] = await storeStep('llm token window', () => this.script(window.key, 'charge', window.limit, window.windowSeconds * 1000, `${eventId}:${whole}`));
    return Number(used);
  }
}
