import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import type { Scenario } from '../src/drills/scenarios';
import { scenario } from '../src/drills/scenarios';
import { runScenarioContainer } from '../test/helpers/scenario';
import { docker } from '../test/helpers/stack';
import type { E2eStack } from '../test/e2e/harness';
import { startE2eStack, waitUntil } from '../test/e2e/harness';
import { percentile, round3 } from './stats';
import type { Checkpoint, StageSummary } from './stages';
import { historyCheckpoints, stagesOf, summarizeStages } from './stages';
import type { AuditRecord } from '../src/gateway/audit/record';

/**
 * Event → action latency in policy mode: from the Docker event's own time (timeNano) to the
 * gateway's audit time of the mutating call (stamped when the request arrives), through the
 * real watcher, Temporal dev server, worker and gateway.
 */

const N = Number(process.env.BENCH_INCIDENTS ?? 20);
const CASES: { key: string; scenario: string; event: (action: string) => boolean; tool: string; activity: string }[] = [
  { key: 'oom', scenario: 'oom', event: (a) => a === 'oom', tool: 'update_container_resources', activity: 'raiseMemory' },
  { key: 'unhealthy', scenario: 'unhealthy', event: (a) => a === 'health_status: unhealthy', tool: 'restart_container', activity: 'restartContainer' },
  { key: 'exit', scenario: 'exit-transient', event: (a) => a === 'die', tool: 'restart_container', activity: 'restartContainer' },
];

export interface CaseResult {
  n: number;
  p50_ms: number;
  p99_ms: number;
  /** Docker event → each instant dockmedic and Temporal record, stage by stage (issue 11). */
  stages: StageSummary;
  /** unhealthy only: Docker's `health_status: unhealthy` → the first `kill` of the restart, both Docker's own times. */
  first_kill?: { n: number; p50_ms: number; p99_ms: number };
}

/** The watcher's 'incident signalled' line for a container: when it read the event and when signalWithStart answered. */
function watcherTimes(output: string, name: string): { receivedMs: number; signalledMs: number } | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes('incident signalled') || !line.includes(name)) continue;
    try {
      const r = JSON.parse(line) as { container?: string; receivedMs?: number; signalledMs?: number };
      if (r.container === name && r.receivedMs !== undefined && r.signalledMs !== undefined) return { receivedMs: r.receivedMs, signalledMs: r.signalledMs };
    } catch {
      /* not a JSON line */
    }
  }
  return undefined;
}

/**
 * One incident's stages: Docker's event, the watcher's read, Temporal's history up to the start of
 * the mutating activity, the gateway's arrival and answer (audit time and duration).
 */
async function stagesFor(stack: E2eStack, name: string, activity: string, eventMs: number, audited: AuditRecord | undefined): Promise<Record<string, number>> {
  const handle = stack.client.workflow.getHandle(stack.incidentId(name));
  // The activity's started event is written when its attempt ends: wait for it.
  const checkpoints = await waitUntil(
    `history of ${name}`,
    async () => {
      const cps = historyCheckpoints((await handle.fetchHistory()).events ?? [], activity);
      return cps.some((c) => c.name === `${activity}.started`) ? cps : undefined;
    },
    15_000,
    50,
  );
  const w = watcherTimes(stack.watcher.output(), name);
  const all: Checkpoint[] = [{ name: 'docker.event', ms: eventMs }, ...(w ? [{ name: 'watcher.received', ms: w.receivedMs }] : []), ...checkpoints];
  if (audited) all.push({ name: 'gateway.received', ms: Date.parse(audited.time) }, { name: 'gateway.answered', ms: Date.parse(audited.time) + audited.durationMs });
  const stages = stagesOf(all);
  if (w) stages['watcher.received→signalWithStart answered'] = w.signalledMs - w.receivedMs;
  return stages;
}

/** Runs the benchmark, prints a table and writes bench/results/event-to-action.json. */
export async function runEventToAction(): Promise<Record<string, CaseResult>> {
  const stack = await startE2eStack({
    // Enough mutating budget for the whole run; the limits themselves are not what is measured.
    DOCKMEDIC_RL_AGENT_MUTATING: '100000',
    DOCKMEDIC_RL_AGENT_CALLS: '100000',
    DOCKMEDIC_STABILIZATION_SECONDS: '3',
  });
  const eventTimes = new Map<string, number>();
  const killTimes = new Map<string, number>();
  const events = (await docker().getEvents({ filters: { type: ['container'], label: ['dockmedic.test=true'] } })) as unknown as Readable;
  const lines = createInterface({ input: events });
  const watching = new Map<string, (action: string) => boolean>();
  lines.on('line', (line) => {
    try {
      const ev = JSON.parse(line) as { Action: string; Actor: { Attributes: { name?: string } }; timeNano: number };
      const name = ev.Actor.Attributes.name ?? '';
      const match = watching.get(name);
      if (match?.(ev.Action) && !eventTimes.has(name)) eventTimes.set(name, ev.timeNano / 1e6);
      if (ev.Action === 'kill' && eventTimes.has(name) && !killTimes.has(name)) killTimes.set(name, ev.timeNano / 1e6);
    } catch {
      /* partial line */
    }
  });

  const results: Record<string, CaseResult> = {};
  try {
    for (const c of CASES) {
      const s: Scenario = scenario(c.scenario);
      const samples: number[] = [];
      const stageSamples: Record<string, number>[] = [];
      const kills: number[] = [];
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
        let audited: AuditRecord | undefined;
        const actionMs = await waitUntil(
          `${c.tool} for ${name}`,
          async () => {
            audited = stack.audit().find((r) => r.tool === c.tool && r.verdict === 'allowed' && ((r.args as { container?: string } | null)?.container === name || r.target?.name === name));
            return audited ? Date.parse(audited.time) : undefined;
          },
          30_000,
          10,
        );
        const eventMs = await waitUntil(`event time of ${name}`, async () => eventTimes.get(name), 5_000, 10);
        samples.push(actionMs - eventMs);
        if (c.key === 'unhealthy') kills.push((await waitUntil(`first kill of ${name}`, async () => killTimes.get(name), 10_000, 10)) - eventMs);
        stageSamples.push(await stagesFor(stack, name, c.activity, eventMs, audited));
        await docker().getContainer(name).remove({ force: true });
      }
      samples.sort((a, b) => a - b);
      kills.sort((a, b) => a - b);
      results[c.key] = {
        n: samples.length,
        p50_ms: round3(percentile(samples, 50)),
        p99_ms: round3(percentile(samples, 99)),
        stages: summarizeStages(stageSamples),
        ...(kills.length ? { first_kill: { n: kills.length, p50_ms: round3(percentile(kills, 50)), p99_ms: round3(percentile(kills, 99)) } } : {}),
      };
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
  const kill = results.unhealthy?.first_kill;
  if (kill) process.stdout.write(`unhealthy → first kill (Docker's own event times): n ${kill.n}  p50 ${kill.p50_ms} ms  p99 ${kill.p99_ms} ms\n`);
  for (const [k, v] of Object.entries(results)) {
    process.stdout.write(`\nstages of ${k} (p50 / p99 ms)\n`);
    for (const [stage, t] of Object.entries(v.stages)) process.stdout.write(`  ${stage.padEnd(62)} ${String(t.p50_ms).padStart(9)} ${String(t.p99_ms).padStart(9)}\n`);
  }
  const out = join(__dirname, '..', '..', 'bench', 'results', 'event-to-action.json');
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`written ${out}\n`);
  return results;
}

