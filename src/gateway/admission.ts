import type Redis from 'ioredis';
import type { WindowLimit } from './rate-limit';
import { rateLimited, SLIDING_WINDOWS_LUA } from './rate-limit';
import { Refusal } from './refusal';
import { NONCE_EPOCH_KEY, nonceKey, REPLAY_LUA } from './replay-guard';
import { storeStep } from './store';

/**
 * Replay step then rate-limit step, in that order, as one Lua script: one Redis round trip
 * instead of two (each round trip is a sleep and a wake-up of the event loop, which is most
 * of the pipeline's tail latency). Semantics are those of the two steps run one after the
 * other: a seen nonce is refused before any window is looked at; a fresh nonce is consumed
 * even when a window then refuses; windows are charged all together or not at all.
 */
const ADMISSION_LUA = `${REPLAY_LUA}\n${SLIDING_WINDOWS_LUA}`;

type Admit = (numKeys: number, ...args: (string | number)[]) => Promise<(number | string)[]>;

export interface AdmissionInput {
  keyId: string;
  nonce: string;
  timestamp: number;
  nonceTtlSeconds: number;
  windows: readonly WindowLimit[];
  eventId: string;
  /** The idempotency store key of this call, if it has one (see SLIDING_WINDOWS_LUA). */
  idempotencyStoreKey?: string | null;
}

export class Admission {
  private readonly script: Admit;

  constructor(redis: Redis) {
    redis.defineCommand('dockmedicAdmit', { lua: ADMISSION_LUA });
    this.script = (redis as unknown as { dockmedicAdmit: Admit }).dockmedicAdmit.bind(redis);
  }

  /** Refuses with replayed_nonce, timestamp_stale (signed before the store's memory began), rate_limited or store_unavailable. Returns the key each window was charged under ('' = not charged). */
  async admit(input: AdmissionInput): Promise<string[]> {
    const args: (string | number)[] = [nonceKey(input.keyId, input.nonce), NONCE_EPOCH_KEY];
    for (const w of input.windows) args.push(w.key);
    args.push(input.timestamp, input.nonceTtlSeconds, input.eventId, input.idempotencyStoreKey ?? '');
    for (const w of input.windows) args.push(w.limit, w.windowSeconds * 1000, w.alias ?? '', w.countsRunsOnly ? '1' : '0');
    const reply = await storeStep('replay check and rate limit', () => this.script(2 + input.windows.length, ...args));
    switch (reply[0]) {
      case 1:
        return reply.slice(1).map(String);
      case -1:
        throw new Refusal('replayed_nonce', 'this nonce has already been used');
      case -2:
        throw new Refusal('timestamp_stale', 'signed before the gateway’s replay memory began (its store restarted); sign the request again');
      default:
        throw rateLimited(input.windows[Number(reply[1]) - 1], Number(reply[2]));
    }
  }
}
