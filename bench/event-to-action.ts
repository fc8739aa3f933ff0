import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import type { Scenario } from '../src/drills/scenarios';
import { scenario } from '../src/drills/scenarios';
import { runScenarioContainer } from '../test/helpers/scenario';
import { docker } from '../test/helpers/stack';
import { startE2eStack, waitUntil } from '../test/e2e/harness';
import { percentile, round3 } from './stats';

/**
 * Event → action latency in policy mode: from the Docker event's own time (timeNano) to the
 * gateway's audit time of the mutating call (stamped when the request arrives), through the
 * real watcher, Temporal dev server, worker and gateway.
 */

const N = Number(process.env.BENCH_INCIDENTS ?? 20);
const CASES: { key: string; scenario: string; event: (action: string) => boolean; tool: string }[] = [
  { key: 'oom', scenario: 'oom', event: (a) => a === 'oom', tool: 'update_container_resources' },
  { key: 'unhealthy', scenario: 'unhealthy', event: (a) => a === 'health_status: unhealthy', tool: 'restart_container' },
  { key: 'exit', scenario: 'exit-transient', event: (a) => a === 'die', tool: 'restart_container' },
];

/** Runs the benchmark, prints a table and writes bench/results/event-to-action.json. */
export async function runEventToAction(): Promise<Record<string, { n: number; p50_ms: number; p99_ms: number }>> {
  const stack = await startE2eStack({
    // Enough mutating budget for the whole run; the limits themselves are not what is measured.
    DOCKMEDIC_RL_AGENT_MUTATING: '100000',
    DOCKMEDIC_RL_AGENT_CALLS: '100000',
    DOCKMEDIC_STABILIZATION_SECONDS: '3',
  });
  const eventTimes = new Map<string, number>();
  const events = (await docker().getEvents({ filters: { type: ['container'], label: ['dockmedic.test=true'] } })) as unknown as Readable;
  const lines = createInterface({ input: events });
  const watching = new Map<string, (action: string) => boolean>();
  lines.on('line', (line) => {
    try {
      const ev = JSON.parse(line) as { Action: string; Actor: { Attributes: { name?: string } }; timeNano: number };
      const name = ev.Actor.Attributes.name ?? '';
      const match = watching.get(name);
      if (match?.(ev.Action) && !eventTimes.has(name)) eventTimes.set(name, ev.timeNano / 1e6);
    } catch {
      /* partial line */
    }
  });

  const results: Record<string, { n: number; p50_ms: number; p99_ms: number }> = {};
  try {
    for (const c of CASES) {
      const s: Scenario = scenario(c.scenario);
      const samples: number[] = [];
      for (let i = 0; i < N; i++) {
        const name = `${stack.runId}-bench-${c.key}-${i}`;
        watching.set(name, c.event);
        await runScenarioContainer({
          name,
          cmd: s.container.cmd,
          ...(s.container.memoryBytes ? { memory: s.container.memoryBytes } : {}),
          ...(s.container.health ? { health: s.container.health } : {}),
          labels: { 'dockmedic.enable': 'true' },
        });
        const actionMs = await waitUntil(
          `${c.tool} for ${name}`,
          async () => {
            const rec = stack.audit().find((r) => r.tool === c.tool && r.verdict === 'allowed' && ((r.args as { container?: string } | null)?.container === name || r.target?.name === name));
            return rec ? Date.parse(rec.time) : undefined;
          },
          30_000,
          10,
        );
        const eventMs = await waitUntil(`event time of ${name}`, async () => eventTimes.get(name), 5_000, 10);
        samples.push(actionMs - eventMs);
        await docker().getContainer(name).remove({ force: true });
      }
      samples.sort((a, b) => a - b);
      results[c.key] = { n: samples.length, p50_ms: round3(percentile(samples, 50)), p99_ms: round3(percentile(samples, 99)) };
    }
  } finally {
    events.destroy();
    for await (const info of stack.client.workflow.list({ query: `ExecutionStatus = 'Running' AND DockmedicHost = '${stack.host}'` })) {
      await stack.client.workflow.getHandle(info.workflowId).terminate('benchmark finished').catch(() => undefined);
    }
    await stack.close();
  }

  process.stdout.write('event → action latency (policy mode; Docker event time → gateway audit time of the mutating call)\n');
  process.stdout.write('scenario    n    p50_ms    p99_ms\n');
  for (const [k, v] of Object.entries(results)) process.stdout.write(`${k.padEnd(10)}  ${String(v.n).padEnd(3)}  ${String(v.p50_ms).padStart(8)}  ${String(v.p99_ms).padStart(8)}\n`);
  const out = join(__dirname, '..', '..', 'bench', 'results', 'event-to-action.json');
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`written ${out}\n`);
  return results;
}

