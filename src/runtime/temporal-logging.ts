import { IllegalStateError } from '@temporalio/common';
import type { LogEntry, RuntimeOptions } from '@temporalio/worker';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Log } from './log';
import type { TemporalSdkMetrics } from '../metrics/temporal-sdk-metrics';
import { freeLoopbackPort } from './free-port';

/** JSON cannot hold a bigint; the SDK's metadata may carry some (sequence numbers, durations). */
function plain(meta: unknown): Record<string, unknown> {
  if (!meta || typeof meta !== 'object') return {};
  try {
    return JSON.parse(JSON.stringify(meta, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/**
 * Route the Temporal SDK's own logs (the TS worker's and the Rust core's) through our structured
 * log at WARN and above: by default the core writes coloured text to stdout and the bundler
 * prints webpack output to stderr, between our JSON lines. With `metrics`, the same runtime also
 * serves the SDK's worker metrics on a free loopback port that /metrics reads
 * (docs/architecture.md §9). Must run before the first worker or native connection; a process (a
 * test) whose runtime already exists keeps its own, without SDK metrics.
 */
export async function routeTemporalLogs(log: Log, metrics?: TemporalSdkMetrics): Promise<void> {
  const options: RuntimeOptions = {
    logger: new DefaultLogger('WARN', (entry: LogEntry) => log({ level: entry.level.toLowerCase(), msg: entry.message, source: 'temporal-sdk', ...plain(entry.meta) })),
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
  };
  // The port is free when chosen and taken by the SDK a moment later: another process may win it in between, so a few tries.
  for (let attempt = 1; metrics && attempt <= 3; attempt++) {
    const bindAddress = `127.0.0.1:${await freeLoopbackPort()}`;
    try {
      Runtime.install({ ...options, telemetryOptions: { ...options.telemetryOptions, metrics: { prometheus: { bindAddress } } } });
      metrics.exporterBound(bindAddress);
      return;
    } catch (err) {
      if (err instanceof IllegalStateError) return; // the runtime was created already (tests that run workers in-process)
      if (attempt === 3) log({ level: 'warn', msg: 'the Temporal SDK metrics exporter could not bind; /metrics serves dockmedic\'s own metrics only', error: (err as Error).message });
    }
  }
  try {
    Runtime.install(options);
  } catch {
    /* the runtime was created already (tests that run workers in-process) */
  }
}
