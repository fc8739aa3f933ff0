import { createHash, randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { Refusal } from './refusal';
import { storeStep } from './store';

/** What a completed call stored under its idempotency key; a retry gets exactly this back. */
export interface StoredOutcome {
  result: unknown;
  summary: Record<string, unknown> | null;
  requestId: string;
}

/** A pending claim names the gateway process that holds it and when it was made (markers written before that carry neither). */
type Pending = { state: 'pending'; fingerprint: string; requestId: string; instance?: string; at?: number };
type Entry = Pending | { state: 'done'; fingerprint: string; outcome: StoredOutcome };

/** A claim left by a gateway process that died holding it: the call may or may not have taken effect. */
export interface OrphanedClaim {
  requestId: string;
  /** When it was claimed (ms since the epoch, this host's clock). */
  at: number;
  raw: string;
}

/** What claim() found: go ahead (null), an outcome to return, or an orphaned claim to resolve from Docker's state. */
export type ClaimResult = null | { stored: StoredOutcome } | { orphaned: OrphanedClaim };

/** How often a gateway process says it is alive, and how long that lasts. */
const ALIVE_EVERY_MS = 5_000;
const ALIVE_TTL_SECONDS = 15;

/** Delete the pending marker only if it is still ours (a later claim after expiry must not be erased). */
const RELEASE_LUA = `
local v = redis.call('GET', KEYS[1])
if v and string.find(v, ARGV[1], 1, true) and string.find(v, '"state":"pending"', 1, true) then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/** Replace an orphaned claim with ours only if it is still exactly that claim. */
const TAKE_OVER_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
end
return false
`;

/**
 * Exactly-once effect for at-least-once callers. A mutating call with an idempotency key is
 * claimed with `SET NX` (pending) before it runs; its outcome replaces the marker with the
 * stored result (TTL `ttlSeconds`). The same key again returns that result without acting;
 * while the first is still running it is refused (`idempotency_in_progress`); the same key
 * with different arguments is refused (`idempotency_conflict`). When execution fails the
 * marker is removed so the caller's retry can run.
 *
 * A gateway killed between Docker acting and storing the outcome leaves its marker pending.
 * Each gateway process keeps an "alive" key; a pending marker whose process is no longer alive,
 * and older than the call could take, is orphaned: claim() hands it back so the pipeline can
 * ask Docker whether the call took effect (docs/architecture.md §4).
 */
export class IdempotencyStore {
  private readonly release: (key: string, requestId: string) => Promise<number>;
  private readonly takeOverScript: (key: string, oldRaw: string, newRaw: string, ttl: number) => Promise<string | null>;
  /** This gateway process: random per start, so a restarted gateway is another instance. */
  readonly instance = randomBytes(8).toString('hex');
  private alive: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    /** How long a pending marker survives a gateway that dies mid-call: longer than any single Docker call. */
    private readonly pendingTtlSeconds = 900,
  ) {
    redis.defineCommand('dockmedicIdemRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
    redis.defineCommand('dockmedicIdemTakeOver', { numberOfKeys: 1, lua: TAKE_OVER_LUA });
    const r = redis as unknown as {
      dockmedicIdemRelease: (key: string, requestId: string) => Promise<number>;
      dockmedicIdemTakeOver: (key: string, oldRaw: string, newRaw: string, ttl: number) => Promise<string | null>;
    };
    this.release = r.dockmedicIdemRelease.bind(redis);
    this.takeOverScript = r.dockmedicIdemTakeOver.bind(redis);
  }

  /** Keep saying this process is alive (until stop()), so its pending claims are never taken for orphans. */
  startHeartbeat(): void {
    const beat = () => void this.redis.set(this.aliveKey(this.instance), '1', 'EX', ALIVE_TTL_SECONDS).catch(() => undefined);
    beat();
    this.alive = setInterval(beat, ALIVE_EVERY_MS);
    this.alive.unref();
  }

  stopHeartbeat(): void {
    clearInterval(this.alive);
  }

  private aliveKey(instance: string): string {
    return `idem:alive:${instance}`;
  }

  /** The Redis key of an idempotency key (hashed, so the caller's string never shapes Redis key names). */
  storeKey(agentId: string, idempotencyKey: string): string {
    return `idem:${agentId}:${createHash('sha256').update(idempotencyKey).digest('hex')}`;
  }

  /** The stored outcome, a pending claim of another gateway process (for claim() to judge), or null when the key is new. */
  private judge(raw: string | null, fingerprint: string): StoredOutcome | Pending | null {
    if (raw === null) return null;
    const entry = JSON.parse(raw) as Entry;
    if (entry.fingerprint !== fingerprint) {
      throw new Refusal('idempotency_conflict', 'this idempotency key was used for a different call');
    }
    if (entry.state === 'pending') {
      if (entry.instance !== undefined && entry.instance !== this.instance && entry.at !== undefined) return entry;
      throw inProgress();
    }
    return entry.outcome;
  }

  /** A stored outcome for this key, or null when the key is new (or its claim may be an orphan: claim() decides). */
  async lookup(agentId: string, idempotencyKey: string, fingerprint: string): Promise<StoredOutcome | null> {
    const raw = await storeStep('idempotency lookup', () => this.redis.get(this.storeKey(agentId, idempotencyKey)));
    const found = this.judge(raw, fingerprint);
    return found === null || isPending(found) ? null : found;
  }

  /**
   * Claim the key for this request. Null: claimed, go ahead. `stored`: someone finished first,
   * return it. `orphaned`: a dead gateway process held it for longer than `orphanAfterMs`.
   */
  async claim(agentId: string, idempotencyKey: string, fingerprint: string, requestId: string, orphanAfterMs = Infinity): Promise<ClaimResult> {
    const key = this.storeKey(agentId, idempotencyKey);
    const ok = await storeStep('idempotency claim', () => this.redis.set(key, this.pendingEntry(fingerprint, requestId), 'EX', this.pendingTtlSeconds, 'NX'));
    if (ok === 'OK') return null;
    const raw = await storeStep('idempotency lookup', () => this.redis.get(key));
    const found = this.judge(raw, fingerprint);
    // The holder finished and its result expired between our two reads: treat as in progress, never run twice.
    if (found === null || raw === null) throw inProgress();
    if (!isPending(found)) return { stored: found };
    const holder = found.instance ?? '';
    const holderAlive = await storeStep('idempotency holder', () => this.redis.exists(this.aliveKey(holder)));
    if (holderAlive || Date.now() - (found.at ?? Date.now()) < orphanAfterMs) throw inProgress();
    return { orphaned: { requestId: found.requestId, at: found.at ?? 0, raw } };
  }

  /** The orphaned claim is ours now, unless another request took it first. */
  async takeOver(agentId: string, idempotencyKey: string, fingerprint: string, requestId: string, orphan: OrphanedClaim): Promise<void> {
    const key = this.storeKey(agentId, idempotencyKey);
    const took = await storeStep('idempotency take-over', () => this.takeOverScript(key, orphan.raw, this.pendingEntry(fingerprint, requestId), this.pendingTtlSeconds));
    if (took !== 'OK') throw inProgress();
  }

  private pendingEntry(fingerprint: string, requestId: string): string {
    const entry: Pending = { state: 'pending', fingerprint, requestId, instance: this.instance, at: Date.now() };
    return JSON.stringify(entry);
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

function isPending(x: StoredOutcome | Pending): x is Pending {
  return (x as Pending).state === 'pending';
}

function inProgress(): Refusal {
  return new Refusal('idempotency_in_progress', 'a call with this idempotency key is still running');
}

/** What makes two calls "the same call": the tool and its validated arguments. */
export function callFingerprint(tool: string, args: unknown): string {
  return createHash('sha256').update(tool).update('\n').update(JSON.stringify(args)).digest('hex');
}
