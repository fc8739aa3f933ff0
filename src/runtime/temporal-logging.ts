import type { LogEntry } from '@temporalio/worker';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Log } from './log';

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
 * prints webpack output to stderr, between our JSON lines. Must run before the first worker or
 * native connection; a process (a test) whose runtime already exists keeps its own.
 */
export function routeTemporalLogs(log: Log): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN', (entry: LogEntry) => log({ level: entry.level.toLowerCase(), msg: entry.message, source: 'temporal-sdk', ...plain(entry.meta) })),
      telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
    });
  } catch {
    /* the runtime was created already (tests that run workers in-process) */
  }
}
