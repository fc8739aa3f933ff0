import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import { Refusal } from './refusal';
import { storeStep } from './store';

/** What a completed call stored under its idempotency key; a retry gets exactly this back. */
export interface StoredOutcome {
  result: unknown;
  summary: Record<string, unknown> | null;
  requestId: string;
}

type Entry =
  | { state: 'pending'; fingerprint: string; requestId: string }
  | { state: 'done'; fingerprint: string; outcome: StoredOutcome };

/** Delete the pending marker only if it is still ours (a later claim after expiry must not be erased). */
const RELEASE_LUA = `
local v = redis.call('GET', KEYS[1])
if v and string.find(v, ARGV[1], 1, true) and string.find(v, '"state":"pending"', 1, true) then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/**
 * Exactly-once effect for at-least-once callers. A mutating call with an idempotency key is
 * claimed with `SET NX` (pending) before it runs; its outcome replaces the marker with the
 * stored result (TTL `ttlSeconds`). The same key again returns that result without acting;
 * while the first is still running it is refused (`idempotency_in_progress`); the same key
 * with different arguments is refused (`idempotency_conflict`). When execution fails the
 * marker is removed so the caller's retry can run.
 */
export class IdempotencyStore {
  private readonly release: (key: string, requestId: string) => Promise<number>;

  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    /** How long a pending marker survives a gateway that dies mid-call: longer than any single Docker call. */
    private readonly pendingTtlSeconds = 900,
  ) {
    redis.defineCommand('dockmedicIdemRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
    const r = redis as unknown as { dockmedicIdemRelease: (key: string, requestId: string) => Promise<number> };
    this.release = r.dockmedicIdemRelease.bind(redis);
  }

  /** The Redis key of an idempotency key (hashed, so the caller's string never shapes Redis key names). */
  storeKey(agentId: string, idempotencyKey: string): string {
    return `idem:${agentId}:${createHash('sha256').update(idempotencyKey).digest('hex')}`;
  }

  private judge(raw: string | null, fingerprint: string): StoredOutcome | null {
    if (raw === null) return null;
    const entry = JSON.parse(raw) as Entry;
    if (entry.fingerprint !== fingerprint) {
      throw new Refusal('idempotency_conflict', 'this idempotency key was used for a different call');
    }
    if (entry.state === 'pending') throw new Refusal('idempotency_in_progress', 'a call with this idempotency key is still running');
    return entry.outcome;
  }

  /** A stored outcome for this key, or null when the key is new. */
  async lookup(agentId: string, idempotencyKey: string, fingerprint: string): Promise<StoredOutcome | null> {
    const raw = await storeStep('idempotency lookup', () => this.redis.get(this.storeKey(agentId, idempotencyKey)));
    return this.judge(raw, fingerprint);
  }

  /** Claim the key for this request. Null = claimed, go ahead; an outcome = someone finished first, return it. */
  async claim(agentId: string, idempotencyKey: string, fingerprint: string, requestId: string): Promise<StoredOutcome | null> {
    const key = this.storeKey(agentId, idempotencyKey);
    const entry: Entry = { state: 'pending', fingerprint, requestId };
    const ok = await storeStep('idempotency claim', () => this.redis.set(key, JSON.stringify(entry), 'EX', this.pendingTtlSeconds, 'NX'));
    if (ok === 'OK') return null;
    const raw = await storeStep('idempotency lookup', () => this.redis.get(key));
    const outcome = this.judge(raw, fingerprint);
    // The holder finished and its result expired between our two reads: treat as in progress, never run twice.
    if (!outcome) throw new Refusal('idempotency_in_progress', 'a call with this idempotency key is still running');
    return outcome;
  }

  /** Store the outcome. Best effort: the action already happened, so a store failure is reported, not thrown. */
  async complete(agentId: string, idempotencyKey: string, fingerprint: string, outcome: StoredOutcome): Promise<boolean> {
    const entry: Entry = { state: 'done', fingerprint, outcome };
    try {
      await this.redis.set(this.storeKey(agentId, idempotencyKey), JSON.stringify(entry), 'EX', this.ttlSeconds);
      return true;
    } catch {
      // The pending marker stays until it expires, so a retry is refused rather than executed twice.
      return false;
    }
  }

  /** Execution failed: drop our pending marker so a retry can run. */
  async abandon(agentId: string, idempotencyKey: string, requestId: string): Promise<void> {
    try {
      await this.release(this.storeKey(agentId, idempotencyKey), requestId);
    } catch {
      /* the marker expires on its own */
    }
  }
}

/** What makes two calls "the same call": the tool and its validated arguments. */
export function callFingerprint(tool: string, args: unknown): string {
  return createHash('sha256').update(tool).update('\n').update(JSON.stringify(args)).digest('hex');
}
