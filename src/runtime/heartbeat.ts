import type { Log } from './log';
import type { SelfCheckResult } from './self-check';

/**
 * The heartbeat URL's path or query usually is the secret (healthchecks.io: /ping/<uuid>), so
 * logs show its origin only.
 */
export function redactUrl(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return '(invalid URL)';
  }
}

/** healthchecks' failure signal: `<url>/fail`, the query kept. */
export function failUrl(url: string): string {
  const u = new URL(url);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/fail`;
  return u.toString();
}

export interface HeartbeatOptions {
  url: string;
  intervalSeconds: number;
  check: () => Promise<SelfCheckResult>;
  log: Log;
}

/**
 * Every interval: the self-check, then a GET of the URL when it holds, or of `<url>/fail` when it
 * does not (docs/architecture.md §1). A dockmedic that is gone sends nothing, and the user's
 * monitor pages after its grace time. The first ping waits one interval: at start-up the worker
 * may still be connecting.
 */
export function startHeartbeat(opts: HeartbeatOptions): { stop: () => void } {
  let last: boolean | undefined;
  let running = false;
  const shown = redactUrl(opts.url);
  const beat = async () => {
    if (running) return; // a slow check or ping never overlaps the next
    running = true;
    try {
      const result = await opts.check();
      if (result.ok !== last) {
        const failed = Object.entries(result.checks).filter(([, c]) => !c.ok).map(([name, c]) => `${name}: ${c.detail}`);
        opts.log({ msg: result.ok ? 'heartbeat: healthy, pinging' : 'heartbeat: unhealthy, pinging /fail', url: shown, ...(failed.length ? { failed } : {}) });
        last = result.ok;
      }
      const res = await fetch(result.ok ? opts.url : failUrl(opts.url), { method: 'GET', signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      if (!res.ok) opts.log({ msg: 'heartbeat ping answered with an error', url: shown, status: res.status });
    } catch (err) {
      // fetch's message names no URL; its cause's code says what went wrong.
      opts.log({ msg: 'heartbeat ping failed', url: shown, error: ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name) });
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void beat(), opts.intervalSeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
