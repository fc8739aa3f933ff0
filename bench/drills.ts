import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startE2eStack } from '../test/e2e/harness';
import type { DrillInput, DrillResult } from '../src/contract/drill';
import { DRILL_WORKFLOW_TYPE, SCENARIO_NAMES, drillWorkflowId } from '../src/contract/drill';
import { SA } from '../src/contract/search-attributes';
import { percentile, round3 } from './stats';

/**
 * The drill catalogue, BENCH_DRILL_RUNS times (default 5), through the real watcher, worker,
 * gateway and engine: how often each scenario passes and its MTTR (Docker's failure event →
 * running/healthy again, from Docker's own event times). Writes bench/results/drills.json.
 */
const RUNS = Number(process.env.BENCH_DRILL_RUNS ?? 5);

export type DrillBench = Record<string, { runs: number; passed: number; mttr_p50_ms: number | null; mttr_p99_ms: number | null }>;

export async function runDrills(): Promise<DrillBench> {
  const stack = await startE2eStack();
  const cards: DrillResult['cards'] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const input: DrillInput = { host: stack.host, drillId: `bench${i}`, scenarios: [...SCENARIO_NAMES], scheduled: false };
      const t0 = Date.now();
      const result = (await stack.client.workflow.execute(DRILL_WORKFLOW_TYPE, {
        workflowId: drillWorkflowId(stack.host, `bench${i}-${t0}`),
        taskQueue: stack.env.DOCKMEDIC_TASK_QUEUE ?? '',
        args: [input],
        typedSearchAttributes: [{ key: SA.host, value: stack.host }],
      })) as DrillResult;
      cards.push(...result.cards);
      const passed = result.cards.filter((c) => c.status === 'passed').length;
      process.stdout.write(`run ${i + 1}/${RUNS}: ${passed}/${result.cards.length} passed in ${((Date.now() - t0) / 1000).toFixed(1)} s${result.skipped ? ` (skipped: ${result.skipped})` : ''}\n`);
      for (const c of result.cards) if (c.status !== 'passed') process.stdout.write(`  ${c.scenario}: ${c.why ?? c.status}\n`);
    }
  } finally {
    await stack.close();
  }

  const out: DrillBench = {};
  for (const name of SCENARIO_NAMES) {
    const mine = cards.filter((c) => c.scenario === name);
    const mttr = mine.flatMap((c) => (c.mttrMs !== undefined ? [c.mttrMs] : [])).sort((a, b) => a - b);
    out[name] = {
      runs: mine.length,
      passed: mine.filter((c) => c.status === 'passed').length,
      mttr_p50_ms: mttr.length ? round3(percentile(mttr, 50)) : null,
      mttr_p99_ms: mttr.length ? round3(percentile(mttr, 99)) : null,
    };
  }
  process.stdout.write('drills (MTTR: Docker failure event → running/healthy again)\nscenario              runs  passed  mttr_p50_ms  mttr_p99_ms\n');
  for (const [k, v] of Object.entries(out)) {
    process.stdout.write(`${k.padEnd(20)}  ${String(v.runs).padStart(4)}  ${String(v.passed).padStart(6)}  ${String(v.mttr_p50_ms ?? '-').padStart(11)}  ${String(v.mttr_p99_ms ?? '-').padStart(11)}\n`);
  }
  const file = join(__dirname, '..', '..', 'bench', 'results', 'drills.json');
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`written ${file}\n`);
  return out;
}
