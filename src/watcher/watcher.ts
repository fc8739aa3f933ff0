import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import type { Client } from '@temporalio/client';
import { isGrpcServiceError } from '@temporalio/client';
import type { Config } from '../config';
import type { ContainerEvent, Verdict } from './classify';
import { EventClassifier, isOptedIn, toContainerEvent, watchedLabels } from './classify';
import { IncidentStarter } from './incident-starter';
import { findMissedFailures } from './reconcile';
import { mapBounded } from '../runtime/bounded';
import { createLog } from '../runtime/log';
import type { ProcessMetrics } from '../metrics/process-metrics';

export interface WatcherOptions {
  docker: Docker;
  temporal: Client;
  config: Config;
  /** How far back start-up reconciliation looks for exits it missed. */
  reconcileWindowSeconds?: number;
  log?: (record: Record<string, unknown>) => void;
  /** Events read and reconnects are counted here (docs/architecture.md §9). */
  metrics?: Pick<ProcessMetrics, 'watcherEvent' | 'watcherReconnect'>;
}

const WATCHED = new Set(['die', 'oom', 'health_status', 'kill', 'stop', 'restart', 'start', 'destroy']);

/**
 * Follows Docker events of opted-in containers and turns them into incidents. When the event
 * stream drops it reconnects from the last event it saw and reconciles, so nothing is lost.
 */
/** Incidents the start-up reconciliation opens at once. */
const RECONCILE_CONCURRENCY = 16;

/** How long an event waits for Temporal to come back before it is given up (the next reconciliation still finds an exit). */
const TEMPORAL_WAIT_MS = 10 * 60_000;

/** gRPC UNAVAILABLE or DEADLINE_EXCEEDED, on the error or its cause: the server is down or restarting. */
export function isTemporalUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e) && (e.code === 14 || e.code === 4)) return true;
  }
  return false;
}

/** Wall-clock ms with sub-ms precision (performance.now() on the process's time origin). */
function nowMs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000) / 1000;
}

export class Watcher {
  private readonly classifier: EventClassifier;
  private readonly starter: IncidentStarter;
  private readonly log: (record: Record<string, unknown>) => void;
  private stream: Readable | null = null;
  private stopped = false;
  /** Whether an event stream is subscribed right now (the heartbeat and /healthz report it). */
  private live = false;
  private lastEventSeconds: number | null = null;
  private queue: Promise<void> = Promise.resolve();
  private connectedOnce!: Promise<void>;
  private markConnected!: () => void;

  constructor(private readonly opts: WatcherOptions) {
    const policy = opts.config.policy;
    this.classifier = new EventClassifier({
      crashLoopDeaths: policy.crashLoopDeaths,
      crashLoopWindowSeconds: policy.crashLoopWindowSeconds,
      operatorStopGraceSeconds: 30,
    });
    this.log = opts.log ?? createLog('watcher');
    this.starter = new IncidentStarter(opts.temporal, opts.config, undefined, this.log);
    this.connectedOnce = new Promise((resolve) => (this.markConnected = resolve));
  }

  /** Subscribe, then reconcile; resolves once events are flowing. */
  async start(): Promise<void> {
    void this.connectLoop();
    await this.connectedOnce;
  }

  /** True while Docker's event stream is subscribed: failures are being heard (docs/architecture.md §1). */
  get eventStreamLive(): boolean {
    return this.live && !this.stopped && this.stream !== null && !this.stream.destroyed;
  }

  /** The incident start path, shared with the Alertmanager intake (one way in, one workflow id). */
  get incidents(): IncidentStarter {
    return this.starter;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stream?.destroy();
    await this.queue;
    await this.starter.settled();
  }

  private async connectLoop(): Promise<void> {
    let backoffMs = 250;
    while (!this.stopped) {
      try {
        // Sub-second precision: an event from earlier in the same second is not replayed.
        const since = this.lastEventSeconds ?? Date.now() / 1000;
        const stream = (await this.opts.docker.getEvents({
          since: since.toFixed(3) as unknown as number,
          filters: { type: ['container'], label: watchedLabels(this.opts.config.watch.selector) },
        })) as unknown as Readable;
        this.stream = stream;
        this.lastEventSeconds ??= since;
        this.log({ msg: 'subscribed to docker events', since });
        this.live = true;
        this.markConnected();
        backoffMs = 250;
        // Events heard before the drop are classified first: a stop heard then excuses its exit.
        await this.queue;
        await this.reconcile();
        await this.consume(stream);
        this.live = false;
        if (!this.stopped) {
          this.log({ msg: 'docker event stream ended; reconnecting' });
          this.opts.metrics?.watcherReconnect();
        }
      } catch (err) {
        this.live = false;
        if (this.stopped) break;
        this.log({ msg: 'docker event stream failed; reconnecting', error: (err as Error).message, backoffMs });
        this.opts.metrics?.watcherReconnect();
      }
      if (this.stopped) break;
      await new Promise((r) => setTimeout(r, backoffMs));
      backoffMs = Math.min(backoffMs * 2, 10_000);
    }
  }

  private async consume(stream: Readable): Promise<void> {
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.trim()) continue;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        continue;
      }
      const ev = toContainerEvent(raw);
      if (!ev) continue;
      ev.receivedMs = nowMs();
      this.lastEventSeconds = ev.timeMs / 1000;
      // One event at a time keeps the classifier's per-container memory in event order.
      this.queue = this.queue
        .then(async () => {
          await this.handle(ev);
        })
        .catch((err: unknown) => this.log({ msg: 'event handling failed', error: (err as Error).message }));
    }
  }

  /** Exposed for tests: classify and act on one event (counted once handled). */
  async handle(ev: ContainerEvent): Promise<Verdict> {
    const verdict = await this.classifyAndAct(ev);
    this.opts.metrics?.watcherEvent(ev.action, verdict.kind);
    return verdict;
  }

  private async classifyAndAct(ev: ContainerEvent): Promise<Verdict> {
    const action = ev.action.split(':')[0] ?? '';
    if (!WATCHED.has(action)) return { kind: 'drop', reason: 'not watched' };
    const container = { id: ev.id, name: ev.name, labels: ev.attributes };
    if (action === 'destroy') {
      this.classifier.forget(ev.id);
      // An open incident of a removed container closes as container_gone, without a page.
      if (isOptedIn(ev.attributes)) await this.starter.forward(container, { kind: 'destroy', time: new Date(ev.timeMs).toISOString(), containerId: ev.id });
      return { kind: 'drop', reason: 'destroyed' };
    }
    const restartPolicy = action === 'die' ? await this.restartPolicyOf(ev.id) : undefined;
    const classified = this.classifier.classify(ev, restartPolicy);
    // Every observation names its container: a recreated container (same name, new id) ends the old one's incident.
    const verdict: Verdict = classified.kind === 'drop' ? classified : { ...classified, observation: { ...classified.observation, containerId: ev.id } };
    if (verdict.kind === 'open') {
      const workflowId = await this.whileTemporalIsBack(() => this.starter.open(container, verdict.observation));
      // Times for the latency benchmark's stages (docs/architecture.md §3): read, then signalWithStart answered.
      this.log({ msg: 'incident signalled', workflowId, container: ev.name, event: ev.action, receivedMs: ev.receivedMs, signalledMs: nowMs() });
    } else if (verdict.kind === 'forward') {
      await this.whileTemporalIsBack(() => this.starter.forward(container, verdict.observation));
    }
    return verdict;
  }

  /**
   * Temporal down (a restart, say) is waited out, in event order: the events behind this one
   * wait with it, and each is opened or signalled once the server answers again, not dropped.
   */
  private async whileTemporalIsBack<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + TEMPORAL_WAIT_MS;
    let delayMs = 500;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!isTemporalUnavailable(err) || this.stopped || Date.now() >= deadline) throw err;
        this.log({ msg: 'temporal unavailable; the event waits for it', error: (err as Error).message, retryInMs: delayMs });
        await new Promise((r) => setTimeout(r, delayMs));
        delayMs = Math.min(delayMs * 2, 5_000);
      }
    }
  }

  private async restartPolicyOf(id: string): Promise<string | undefined> {
    try {
      const info = await this.opts.docker.getContainer(id).inspect();
      return info.HostConfig.RestartPolicy?.Name || undefined;
    } catch {
      return undefined;
    }
  }

  /** Open incidents for failures that happened while the watcher was not listening. */
  async reconcile(): Promise<number> {
    const missed = await findMissedFailures(this.opts.docker, this.opts.reconcileWindowSeconds ?? 3600, this.opts.config.watch.selector);
    // Each container is its own incident: after an outage of the watcher, hundreds may be due at
    // once, and one at a time (three Temporal round trips each) would take minutes.
    await mapBounded(missed, RECONCILE_CONCURRENCY, async (m) => {
      // A death this watcher heard live (an operator's or the engine's stop, say) was not missed.
      if (m.observation.exitCode !== undefined && this.classifier.alreadyHeard(m.id, Date.parse(m.observation.time))) return;
      // A failure that already has an incident (open or closed since) was not missed.
      if (await this.starter.hasIncidentSince(m.name, m.observation.time, m.id)) return;
      await this.starter.open({ id: m.id, name: m.name, labels: m.labels }, { ...m.observation, containerId: m.id });
      this.log({ msg: 'reconciled missed failure', container: m.name });
    });
    return missed.length;
  }
}
