/**
 * Run every benchmark in sequence (`make bench` → node dist/bench/run.js). Add a benchmark:
 * write bench/<name>.ts exporting an async function, and list it below.
 */
import { runDrills } from './drills';
import { runEventToAction } from './event-to-action';
import { runGatewayOverhead } from './gateway-overhead';
import { runStorm } from './storm';
import { runThroughput } from './throughput';

const BENCHMARKS: { name: string; run: () => Promise<unknown> }[] = [
  { name: 'gateway-overhead', run: runGatewayOverhead },
  { name: 'event-to-action', run: runEventToAction },
  { name: 'drills', run: runDrills },
  { name: 'throughput', run: runThroughput },
  { name: 'storm', run: runStorm },
];

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  for (const b of BENCHMARKS) {
    if (only.length && !only.includes(b.name)) continue;
    process.stdout.write(`== ${b.name}\n`);
    await b.run();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
