import type { Observation } from '../src/contract/incident';

/**
 * A failure seen after dockmedic acted: a death that was not a stop (our own restart of a running
 * container shows as kill → die, which the watcher marks as a stop), an OOM, a crash loop, or the
 * health check going unhealthy.
 */
export function isFailure(o: Observation): boolean {
  switch (o.kind) {
    case 'oom':
    case 'crashloop':
      return true;
    case 'die':
      return o.operatorStop !== true && o.exitCode !== 0;
    case 'health_status':
      return o.health === 'unhealthy';
    case 'reconcile':
      return o.health === 'unhealthy' || (o.exitCode !== undefined && o.exitCode !== 0);
    default:
      return false;
  }
}

export function describeObservation(o: Observation): string {
  const bits: string[] = [o.kind];
  if (o.health) bits.push(o.health);
  if (o.exitCode !== undefined) bits.push(`exit ${o.exitCode}`);
  if (o.deathsInWindow !== undefined) bits.push(`${o.deathsInWindow} deaths in window`);
  if (o.operatorStop) bits.push('operator stop');
  return `${bits.join(', ')} at ${o.time}`;
}

/** The same death reported by the event stream and by reconciliation differs by under a millisecond. */
const STALE_TOLERANCE_MS = 1;

/** How many observations the `state` query keeps (the most recent ones). */
export const MAX_KEPT_OBSERVATIONS = 50;

/**
 * Everything the incident learns from `observe` signals, kept incrementally so nothing is lost
 * while the workflow is busy in another phase. Duplicates (the trigger arrives both as input and
 * as signalWithStart's signal; the watcher may resend after a reconnect) are dropped.
 */
export class ObservationTracker {
  /** The most recent observations, for the `state` query. */
  readonly recent: Observation[] = [];
  oomSeen = false;
  crashloopSeen = false;
  maxDeaths = 0;
  lastDie: Observation | null = null;
  /** The first failure observed after `arm()`: a recurrence. */
  recurrence: Observation | null = null;
  /**
   * The container was removed, or an event came from another container under the same name (it
   * was recreated): nothing left for this incident to fix or page about (docs/architecture.md §3).
   */
  gone: Observation | null = null;
  private armed = false;
  /** Docker time (ms) of the latest failure known before arming; nothing at or before it recurs. */
  private armedAfter = Number.NEGATIVE_INFINITY;
  private latestFailureMs = Number.NEGATIVE_INFINITY;
  private readonly seen = new Set<string>();

  /**
   * `containerId`: the incident's container; observations about another id, and destroy events,
   * mean it is gone. null: an incident that predates this, which reads them as before.
   */
  constructor(private readonly containerId: string | null = null) {}

  get goneAware(): boolean {
    return this.containerId !== null;
  }

  /** Returns false for a duplicate. */
  add(o: Observation): boolean {
    const foreign = o.containerId !== undefined && this.containerId !== null && o.containerId !== this.containerId;
    if (this.goneAware && (foreign || o.kind === 'destroy')) {
      // Another container's failure is not this incident's recurrence: only its end.
      this.gone ??= o;
      return true;
    }
    const key = `${o.kind}|${o.time}|${o.exitCode ?? ''}|${o.health ?? ''}|${o.operatorStop ?? ''}`;
    if (this.seen.has(key)) return false;
    if (this.seen.size < 10_000) this.seen.add(key);
    this.recent.push(o);
    if (this.recent.length > MAX_KEPT_OBSERVATIONS) this.recent.shift();
    if (o.kind === 'oom') this.oomSeen = true;
    if (o.kind === 'crashloop') this.crashloopSeen = true;
    if (o.deathsInWindow !== undefined) this.maxDeaths = Math.max(this.maxDeaths, o.deathsInWindow);
    if (o.kind === 'die' || o.kind === 'crashloop') this.lastDie = o;
    const failure = isFailure(o);
    const timeMs = Date.parse(o.time);
    if (failure && !this.armed && timeMs > this.latestFailureMs) this.latestFailureMs = timeMs;
    if (this.armed) {
      // An event replayed or delivered late (a watcher restart, a reconnect) describes the failure
      // being handled, not a new one: times are Docker's, compared with Docker's.
      const isNew = Number.isNaN(timeMs) || timeMs > this.armedAfter + STALE_TOLERANCE_MS;
      if (this.recurrence === null && failure && isNew) this.recurrence = o;
    }
    return true;
  }

  /** From now on a failure is a recurrence of the incident (called as dockmedic acts). */
  arm(): void {
    if (!this.armed) this.armedAfter = this.latestFailureMs;
    this.armed = true;
  }
}
