import { writeFileSync } from 'node:fs';
import { failOnceAt, runScenarioContainer } from '../test/helpers/scenario';
import { startWebhookRecorder } from '../test/helpers/webhook';
import { startE2eStack, waitUntil } from '../test/e2e/harness';
import { mapBounded } from '../src/runtime/bounded';
import type { AuditRecord } from '../src/gateway/audit/record';
import { docker } from '../test/helpers/stack';
import { writeResult } from './results-file';
import { round3 } from './stats';

/**
 * One page per storm (issue 12.2): N opted-in containers that each fail once, at the same
 * wall-clock moment, on one host, with the default limits, ladder and storm settings. Counted:
 * pages the webhook received, restarts the gateway executed (and any container restarted twice),
 * the failure → Docker's answer to the last restart, and the containers neither restarted nor
 * named in a page.
 */

const N = Number(process.env.BENCH_STORM_CONTAINERS ?? 50);
/** After the last restart, how long pages may still arrive (the first page waits 2 s for a removal). */
const PAGE_SETTLE_MS = 15_000;

export interface StormResult {
  containers: number;
  pages: number;
  restarts: number;
  duplicates: number;
  drain_s: number;
  left_unhandled: number;
}

/** Where the drain goes: the watcher opening incidents one event at a time, then the gateway's Docker calls. */
function printBreakdown(watcherLog: string, restarts: AuditRecord[], failMs: number): void {
  const signalled = watcherLog
    .split('\n')
    .filter((l) => l.includes('"incident signalled"'))
    .map((l) => (JSON.parse(l) as { signalledMs: number }).signalledMs - failMs)
    .sort((a, b) => a - b);
  const docker = restarts.map((r) => r.durationMs).sort((a, b) => a - b);
  const first = Math.min(...restarts.map((r) => Date.parse(r.time))) - failMs;
  process.stdout.write(
    `watcher: first incident signalled at +${round3(signalled[0] ?? NaN)} ms, last at +${round3(signalled.at(-1) ?? NaN)} ms (${signalled.length} signals)\n` +
      `gateway: first restart arrived at +${round3(first)} ms; a restart's gateway time p50 ${round3(docker[Math.floor(docker.length / 2)] ?? NaN)} ms, max ${round3(docker.at(-1) ?? NaN)} ms\n`,
  );
}

/** The engine's own floor: `restarts` exited containers restarted at once through the Docker API, no dockmedic. */
async function dockerFloorSeconds(runId: string, restarts: number): Promise<number> {
  const names = Array.from({ length: restarts }, (_, i) => `${runId}-floor${i}`);
  await mapBounded(names, 8, (name) => runScenarioContainer({ name, cmd: 'exit 3' }));
  await waitUntil('the floor containers to exit', async () => (await Promise.all(names.map(async (n) => !(await docker().getContainer(n).inspect()).State.Running))).every(Boolean), 60_000);
  const t0 = performance.now();
  await Promise.all(names.map((n) => docker().getContainer(n).restart({ t: 10 })));
  return round3((performance.now() - t0) / 1000);
}

export async function runStorm(): Promise<StormResult> {
  const webhook = await startWebhookRecorder();
  // The e2e stack shortens the ladder and the stabilisation window; the storm runs on the defaults.
  const stack = await startE2eStack({
    DOCKMEDIC_WEBHOOK_URL: webhook.url,
    DOCKMEDIC_STABILIZATION_SECONDS: '120',
    DOCKMEDIC_LADDER: 'oncall-primary:300,oncall-secondary:600,engineering-manager:900',
    DOCKMEDIC_RESOLVE_TIMEOUT_SECONDS: '14400',
    DOCKMEDIC_STORM_COUNT: '5',
    DOCKMEDIC_STORM_WINDOW_SECONDS: '30',
  });
  try {
    const failAt = Math.ceil(Date.now() / 1000) + 20 + Math.ceil(N / 4);
    process.stdout.write(`creating ${N} containers that fail at ${new Date(failAt * 1000).toISOString()}\n`);
    const names = Array.from({ length: N }, (_, i) => `${stack.runId}-s${i}`);
    await mapBounded(names, 8, async (name) => {
      await runScenarioContainer({ name, cmd: failOnceAt(failAt), labels: { 'dockmedic.enable': 'true' } });
    });
    if (Date.now() / 1000 > failAt - 2) throw new Error('creating the containers took longer than planned; raise the lead time');

    const executed = () => stack.audit().filter((r) => r.tool === 'restart_container' && r.verdict === 'allowed' && !r.replayed);
    const refused = () => new Set(stack.audit().filter((r) => r.tool === 'restart_container' && r.verdict !== 'allowed').map((r) => r.idempotencyKey ?? r.requestId)).size;
    let shown = -1;
    await waitUntil(
      'every container to be restarted or refused',
      async () => {
        const done = executed().length + refused();
        if (done !== shown) process.stdout.write(`  ${executed().length} restarted, ${refused()} refused\n`);
        shown = done;
        return done >= N && Date.now() / 1000 > failAt;
      },
      120_000,
      250,
    );
    await new Promise((r) => setTimeout(r, PAGE_SETTLE_MS));

    const restarts = executed();
    const byContainer = new Map<string, number>();
    for (const r of restarts) {
      const name = r.target?.name ?? '';
      byContainer.set(name, (byContainer.get(name) ?? 0) + 1);
    }
    // An audit record's time is the request's arrival; its duration takes it to Docker's answer.
    const lastRestartMs = Math.max(...restarts.map((r) => Date.parse(r.time) + r.durationMs));
    const paged = webhook.pages.join('\n');
    if (process.env.BENCH_STORM_PAGES) writeFileSync(process.env.BENCH_STORM_PAGES, paged);
    const unhandled = names.filter((n) => !byContainer.has(n) && !paged.includes(n));
    const result: StormResult = {
      containers: N,
      pages: webhook.pages.length,
      restarts: restarts.length,
      duplicates: [...byContainer.values()].reduce((s, c) => s + Math.max(0, c - 1), 0),
      drain_s: round3((lastRestartMs - failAt * 1000) / 1000),
      left_unhandled: unhandled.length,
    };
    writeResult('storm', result);
    printBreakdown(stack.watcher.output(), restarts, failAt * 1000);
    process.stdout.write(`docker alone: ${await dockerFloorSeconds(stack.runId, restarts.length)} s to restart ${restarts.length} exited containers at once\n`);
    return result;
  } finally {
    await stack.close();
    await webhook.close();
  }
}
