import type { Observation } from '../contract/incident';
import { bareName } from '../contract/container';

/** A Docker container event, reduced to what the watcher needs. */
export interface ContainerEvent {
  action: string;
  id: string;
  name: string;
  attributes: Record<string, string>;
  /** Event time in ms since the epoch (from timeNano). */
  timeMs: number;
  /** When the watcher read it off the stream (ms since the epoch, sub-ms): the latency benchmark's first stage. */
  receivedMs?: number;
}

export interface ClassifierSettings {
  crashLoopDeaths: number;
  crashLoopWindowSeconds: number;
  /** A die within this long after kill/stop counts as stopped by an operator. */
  operatorStopGraceSeconds: number;
}

/**
 * What to do with an event: open (or join) the container's incident, pass it to an open
 * incident only, or drop it.
 */
export type Verdict =
  | { kind: 'open'; observation: Observation }
  | { kind: 'forward'; observation: Observation }
  | { kind: 'drop'; reason: string };

/** Restart policies under which Docker restarts the container by itself. */
export const SELF_RESTARTING_POLICIES: ReadonlySet<string> = new Set(['always', 'unless-stopped', 'on-failure']);

/**
 * Docker label filters for the containers this watcher handles: the opt-in plus the configured
 * selector (so several dockmedic instances, or a drill beside production, can share a host).
 */
export function watchedLabels(selector: readonly string[]): string[] {
  return ['dockmedic.enable=true', ...selector];
}

/** Whether a container's labels match this watcher's Docker filter (`watchedLabels`) and opt-in: the same containers the event stream delivers. */
export function isWatched(labels: Record<string, string>, selector: readonly string[]): boolean {
  return (
    isOptedIn(labels) &&
    watchedLabels(selector).every((pair) => {
      const eq = pair.indexOf('=');
      return labels[pair.slice(0, eq)] === pair.slice(eq + 1);
    })
  );
}

export function isOptedIn(labels: Record<string, string>): boolean {
  return labels['dockmedic.enable'] === 'true' && labels['dockmedic.stack'] === undefined;
}

/**
 * Turns a stream of events into incident verdicts. It keeps per-container memory (recent deaths,
 * the last kill/stop) and nothing else; Docker and Temporal hold the real state.
 */
export class EventClassifier {
  private readonly deaths = new Map<string, number[]>();
  private readonly lastStop = new Map<string, number>();
  private readonly lastOom = new Map<string, number>();
  /** The last death heard live as an operator's stop, by container: a reconciliation must not take it for a missed failure. */
  private readonly lastStoppedDeath = new Map<string, number>();

  constructor(private readonly settings: ClassifierSettings) {}

  /**
   * Whether an exit Docker reports at `finishedMs` followed an operator's (or the engine's own)
   * stop this watcher heard: dockerd stopping sends kill events, and its containers' deaths are
   * no failures for the reconciliation to open incidents for.
   */
  alreadyHeard(id: string, finishedMs: number): boolean {
    const died = this.lastStoppedDeath.get(id);
    if (died !== undefined && finishedMs <= died + 1000) return true;
    const stoppedAt = this.lastStop.get(id);
    return stoppedAt !== undefined && finishedMs >= stoppedAt && finishedMs - stoppedAt <= this.settings.operatorStopGraceSeconds * 1000;
  }

  /**
   * `restartPolicy` is the container's HostConfig.RestartPolicy.Name, looked up by the caller
   * only for `die` events.
   */
  classify(ev: ContainerEvent, restartPolicy?: string): Verdict {
    if (!isOptedIn(ev.attributes)) return { kind: 'drop', reason: 'not opted in or part of the dockmedic stack' };
    const time = new Date(ev.timeMs).toISOString();
    const [action, detail] = splitAction(ev.action);
    switch (action) {
      case 'kill':
      case 'stop':
        this.lastStop.set(ev.id, ev.timeMs);
        return { kind: 'forward', observation: { kind: action, time } };
      case 'oom':
        this.lastOom.set(ev.id, ev.timeMs);
        return { kind: 'open', observation: { kind: 'oom', time } };
      case 'start':
      case 'restart':
        return { kind: 'forward', observation: { kind: action, time } };
      case 'health_status': {
        const health = detail === 'healthy' || detail === 'unhealthy' || detail === 'starting' ? detail : undefined;
        if (!health) return { kind: 'drop', reason: `unknown health status ${detail ?? ''}` };
        const observation: Observation = { kind: 'health_status', time, health };
        return health === 'unhealthy' ? { kind: 'open', observation } : { kind: 'forward', observation };
      }
      case 'die':
        return this.classifyDeath(ev, time, restartPolicy);
      default:
        return { kind: 'drop', reason: `event ${ev.action} is not watched` };
    }
  }

  private classifyDeath(ev: ContainerEvent, time: string, restartPolicy?: string): Verdict {
    const exitCode = Number(ev.attributes.exitCode ?? NaN);
    const graceMs = this.settings.operatorStopGraceSeconds * 1000;
    const stoppedAt = this.lastStop.get(ev.id);
    const operatorStop = stoppedAt !== undefined && ev.timeMs - stoppedAt <= graceMs && ev.timeMs >= stoppedAt;
    const oomAt = this.lastOom.get(ev.id);
    const oom = oomAt !== undefined && ev.timeMs - oomAt <= graceMs && ev.timeMs >= oomAt;
    if (operatorStop) {
      this.lastStop.delete(ev.id);
      this.lastStoppedDeath.set(ev.id, ev.timeMs);
    }

    const windowMs = this.settings.crashLoopWindowSeconds * 1000;
    const recent = (this.deaths.get(ev.id) ?? []).filter((t) => ev.timeMs - t < windowMs);
    if (!operatorStop && exitCode !== 0) recent.push(ev.timeMs);
    this.deaths.set(ev.id, recent);

    const observation: Observation = {
      kind: 'die',
      time,
      ...(Number.isFinite(exitCode) ? { exitCode } : {}),
      deathsInWindow: recent.length,
      operatorStop,
    };
    if (operatorStop) return { kind: 'forward', observation };
    if (exitCode === 0) return { kind: 'forward', observation };
    if (oom) return { kind: 'open', observation };
    if (recent.length >= this.settings.crashLoopDeaths) {
      return { kind: 'open', observation: { ...observation, kind: 'crashloop' } };
    }
    // Docker restarts such a container itself: one death is not yet an incident, a loop is.
    if (restartPolicy !== undefined && SELF_RESTARTING_POLICIES.has(restartPolicy)) return { kind: 'forward', observation };
    return { kind: 'open', observation };
  }

  /** Forget containers that were removed. */
  forget(id: string): void {
    this.deaths.delete(id);
    this.lastStop.delete(id);
    this.lastOom.delete(id);
    this.lastStoppedDeath.delete(id);
  }
}

function splitAction(action: string): [string, string | undefined] {
  const idx = action.indexOf(':');
  if (idx < 0) return [action, undefined];
  return [action.slice(0, idx).trim(), action.slice(idx + 1).trim()];
}

/** Reduce a raw Docker event message to a ContainerEvent, or null when it is not about a container. */
export function toContainerEvent(raw: unknown): ContainerEvent | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const msg = raw as { Type?: string; Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> }; time?: number; timeNano?: number };
  if (msg.Type !== 'container' || !msg.Action || !msg.Actor?.ID) return null;
  const attributes = msg.Actor.Attributes ?? {};
  const timeMs = msg.timeNano ? Math.floor(msg.timeNano / 1e6) : (msg.time ?? 0) * 1000;
  return { action: msg.Action, id: msg.Actor.ID, name: bareName(attributes.name ?? msg.Actor.ID), attributes, timeMs };
}
