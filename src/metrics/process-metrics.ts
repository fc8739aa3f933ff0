import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { REFUSALS, TOOL_ARGS } from '../contract/gateway';
import type { Outcome } from '../contract/incident';
import { ACTIONS, FAILURE_KINDS } from '../contract/policy';
import { TemporalSdkMetrics } from './temporal-sdk-metrics';

/**
 * The process's one metrics registry (docs/architecture.md §9): `dockmedic up` feeds the
 * gateway's, the worker's and the watcher's counters into the same object, so one scrape sees
 * all of it once. Every label value is one of a fixed set (tool names, refusal codes, decision
 * table values, Docker event actions, ladder level names from the config): never a container
 * name, an id or anything a caller sent.
 */
export class ProcessMetrics {
  readonly registry = new Registry();
  /** The Temporal SDK's own exporter, when this process runs a worker. */
  readonly temporalSdk = new TemporalSdkMetrics();
  readonly gatewayRequests: Counter<'tool' | 'verdict' | 'code'>;
  readonly gatewayPipelineSeconds: Histogram;
  readonly incidents: Counter<'failure' | 'decision' | 'outcome'>;
  readonly incidentMttrSeconds: Histogram;
  readonly pages: Counter<'level'>;
  readonly watcherEvents: Counter<'action' | 'verdict'>;
  readonly watcherReconnects: Counter;
  /** Scrapes whose Temporal SDK part could not be read (see temporal-sdk-metrics.ts). */
  readonly temporalScrapeErrors: Counter;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) => new Counter<L>({ name, help, labelNames, registers: [this.registry] });
    const histogram = (name: string, help: string, buckets: number[]) => new Histogram({ name, help, buckets, registers: [this.registry] });
    this.gatewayRequests = counter('dockmedic_gateway_requests_total', 'Requests the gateway answered (and audited), by tool, verdict and refusal code (none when allowed)', ['tool', 'verdict', 'code']);
    this.gatewayPipelineSeconds = histogram(
      'dockmedic_gateway_pipeline_seconds',
      "Time from a request's arrival at the gateway to its answer, Docker's share included",
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    );
    this.incidents = counter(
      'dockmedic_incidents_total',
      "Incidents closed by this worker, by the decision table's failure, the final action and the outcome (drills not counted)",
      ['failure', 'decision', 'outcome'],
    );
    this.incidentMttrSeconds = histogram(
      'dockmedic_incident_mttr_seconds',
      'Time to repair of automatically resolved incidents: the failure event to the container back up (Docker event times)',
      [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600],
    );
    this.pages = counter('dockmedic_pages_total', 'Escalation pages sent, by ladder level name (drills not counted: they never page a person)', ['level']);
    this.watcherEvents = counter('dockmedic_watcher_events_total', 'Docker events of watched containers the watcher read, by Docker action and what it did with them (open, forward, drop)', ['action', 'verdict']);
    this.watcherReconnects = counter('dockmedic_watcher_reconnects_total', 'Times the Docker event stream dropped or failed and the watcher reconnected');
    this.temporalScrapeErrors = counter('dockmedic_temporal_sdk_scrape_errors_total', "Scrapes of /metrics whose Temporal SDK worker metrics could not be read from the SDK's own exporter");
  }

  /** One answered gateway request (from the server's timing hook). */
  gatewayRequest(r: { tool: string | null; verdict: 'allowed' | 'refused'; code: string | null; totalMs: number }): void {
    this.gatewayRequests.inc({ tool: toolLabel(r.tool), verdict: r.verdict, code: r.code === null ? 'none' : oneOf(r.code, REFUSAL_CODES) });
    this.gatewayPipelineSeconds.observe(r.totalMs / 1000);
  }

  incidentClosed(r: { failure: string | undefined; decision: string | undefined; outcome: string; mttrMs: number | null }): void {
    this.incidents.inc({ failure: r.failure ? oneOf(r.failure, FAILURES) : 'none', decision: r.decision ? oneOf(r.decision, DECISIONS) : 'none', outcome: oneOf(r.outcome, OUTCOMES) });
    if (r.mttrMs !== null) this.incidentMttrSeconds.observe(r.mttrMs / 1000);
  }

  /** `levelName` comes from DOCKMEDIC_LADDER (validated names, a handful of them). */
  page(levelName: string): void {
    this.pages.inc({ level: /^[\w.@-]{1,64}$/.test(levelName) ? levelName : 'other' });
  }

  watcherEvent(dockerAction: string, verdict: 'open' | 'forward' | 'drop'): void {
    // `exec_start: sh -c …` and `health_status: healthy` carry text after the colon: the action is the word before it.
    const action = dockerAction.split(':')[0]?.trim() ?? '';
    this.watcherEvents.inc({ action: oneOf(action, DOCKER_ACTIONS), verdict });
  }

  watcherReconnect(): void {
    this.watcherReconnects.inc();
  }
}

const REFUSAL_CODES: ReadonlySet<string> = new Set(Object.keys(REFUSALS));
const TOOLS: ReadonlySet<string> = new Set([...Object.keys(TOOL_ARGS), 'llm.chat.completions']);
const FAILURES: ReadonlySet<string> = new Set(FAILURE_KINDS);
const DECISIONS: ReadonlySet<string> = new Set(ACTIONS);
const OUTCOMES: ReadonlySet<string> = new Set<Outcome>(['auto_resolved', 'escalated', 'resolved_by_human', 'rejected', 'approved', 'unacknowledged', 'ignored', 'failed', 'container_gone', 'suppressed', 'shadow']);
/** Docker's container event actions (the engine's API reference); anything else is `other`. */
const DOCKER_ACTIONS: ReadonlySet<string> = new Set([
  'attach', 'commit', 'copy', 'create', 'destroy', 'detach', 'die', 'exec_create', 'exec_detach', 'exec_die', 'exec_start', 'export',
  'health_status', 'kill', 'oom', 'pause', 'rename', 'resize', 'restart', 'start', 'stop', 'top', 'unpause', 'update', 'prune',
]);

function oneOf(value: string, known: ReadonlySet<string>): string {
  return known.has(value) ? value : 'other';
}

/** A path names the tool (`/v1/tools/<anything>`): only the gateway's own tool names become label values. */
function toolLabel(tool: string | null): string {
  if (tool === null) return 'none';
  return TOOLS.has(tool) ? tool : 'unknown';
}
