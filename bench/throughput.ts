import { readFileSync } from 'node:fs';
import { runScenarioContainer, RUN_LABEL } from '../test/helpers/scenario';
import { docker } from '../test/helpers/stack';
import { startE2eStack, waitUntil } from '../test/e2e/harness';
import type { IncidentState } from '../src/contract/incident';
import { mapBounded } from '../src/runtime/bounded';
import { writeResult } from './results-file';
import { percentile, round3 } from './stats';

/**
 * Incident throughput in shadow mode (issue 12.5): N opted-in containers that exited while the
 * watcher was down are opened by its start-up reconciliation and go through the real watcher →
 * Temporal → worker → gateway path (the inspect is real; shadow mode records the restart instead
 * of making it). Per incident: its start (signalWithStart) → its close, which comes right after
 * the decision is recorded. Throughput: N over first start → last close.
 */

const N = Number(process.env.BENCH_THROUGHPUT_INCIDENTS ?? 500);

export interface ThroughputResult {
  incidents: number;
  per_second: number;
  p50_ms: number;
  p99_ms: number;
  /** Peak resident memory of the worker process (VmHWM). */
  rss_mb: number;
}

function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return line ? round3(Number(line.replace(/\D+/g, '')) / 1024) : Number.NaN;
}

export async function runThroughput(): Promise<ThroughputResult> {
  const stack = await startE2eStack({
    DOCKMEDIC_MODE: 'shadow',
    // The limits are not what is measured here.
    DOCKMEDIC_RL_AGENT_CALLS: '1000000',
  });
  try {
    await stack.killWatcher();
    process.stdout.write(`creating ${N} exited containers\n`);
    let made = 0;
    await mapBounded(
      Array.from({ length: N }, (_, i) => i),
      8,
      async (i) => {
        await runScenarioContainer({ name: `${stack.runId}-t${i}`, cmd: 'exit 3', labels: { 'dockmedic.enable': 'true' } });
        if (++made % 50 === 0) process.stdout.write(`  ${made}/${N}\n`);
      },
    );
    const filters = { label: [`${RUN_LABEL}=${stack.runId}`], status: ['exited'] };
    await waitUntil('every container to have exited', async () => (await docker().listContainers({ all: true, filters })).length === N, 120_000, 500);

    process.stdout.write('starting the watcher: its reconciliation opens the incidents\n');
    await stack.startWatcher();
    const closedQuery = `DockmedicHost = '${stack.host}' AND ExecutionStatus = 'Completed'`;
    let last = -1;
    await waitUntil(
      `all ${N} incidents to close`,
      async () => {
        const { count } = await stack.client.workflow.count(closedQuery);
        if (count !== last && (count % 50 === 0 || count === N)) process.stdout.write(`  ${count}/${N} closed\n`);
        last = count;
        return count >= N;
      },
      600_000,
      250,
    );
    const rssMb = peakRssMb(stack.worker.child.pid);

    const runs: { start: number; close: number; id: string; runId: string }[] = [];
    for await (const info of stack.client.workflow.list({ query: `DockmedicHost = '${stack.host}'` })) {
      if (info.closeTime) runs.push({ start: info.startTime.getTime(), close: info.closeTime.getTime(), id: info.workflowId, runId: info.runId });
    }
    // Nothing lost, nothing twice: one closed incident per container, each decided in shadow.
    const perContainer = new Set(runs.map((r) => r.id));
    if (runs.length !== N || perContainer.size !== N) throw new Error(`expected ${N} incidents, one per container; got ${runs.length} runs for ${perContainer.size} containers`);
    const sample = await stack.client.workflow.getHandle(runs[0]?.id ?? '', runs[0]?.runId).result() as IncidentState;
    if (sample.outcome !== 'shadow') throw new Error(`an incident closed as ${sample.outcome ?? 'nothing'}, not shadow: ${JSON.stringify(sample.notes)}`);
    const restarts = stack.audit().filter((r) => r.tool === 'restart_container').length;
    if (restarts !== 0) throw new Error(`shadow mode made ${restarts} restart calls`);

    const latencies = runs.map((r) => r.close - r.start).sort((a, b) => a - b);
    const first = Math.min(...runs.map((r) => r.start));
    const end = Math.max(...runs.map((r) => r.close));
    const result: ThroughputResult = {
      incidents: N,
      per_second: round3(N / ((end - first) / 1000)),
      p50_ms: round3(percentile(latencies, 50)),
      p99_ms: round3(percentile(latencies, 99)),
      rss_mb: rssMb,
    };
    writeResult('throughput', result);
    return result;
  } finally {
    await stack.close();
  }
}
