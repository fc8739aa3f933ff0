/**
 * Benchmark (not a test): the gateway's own cost per call — parse, HMAC, replay check, rate
 * limit, validation, scope/bounds logic, idempotency, audit append, response — measured on the
 * server side, through the real pipeline, real HTTP, real Redis and the real Docker engine.
 * The time spent waiting on Docker (scope's inspect) is measured separately by the pipeline
 * (`timedDocker`) and subtracted; nothing is stubbed. Reported through the gateway's internal
 * `onTiming` hook: overhead = total server time − Docker time.
 *
 * A control run follows (redis-floor.ts): the same client against a bare HTTP server that does
 * one Redis PING per request. Its p99 is the machine's floor for anything with one Redis round
 * trip in its request path; it is printed beside the result and written to
 * bench/results/gateway-redis-floor.json.
 *
 * Uses the stack's Redis (REDIS_URL, default 127.0.0.1:6379; `make bench` starts it) with a
 * fresh agent id so it touches no one else's keys, and its own temp keys and audit files.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import Redis from 'ioredis';
import { loadConfig } from '../src/config';
import type { RequestTiming } from '../src/gateway';
import { LABELS, startGateway } from '../src/gateway';
import { writePrivateJson } from '../src/gateway/key-files';
import { generateSecret } from '../src/signing';
import type { FloorResult } from './redis-floor';
import { measureRedisFloor, runLoadClient } from './redis-floor';
import { percentile, round3 } from './stats';

const CALLS = Number(process.env.BENCH_CALLS ?? 5000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300);
const IMAGE = 'dockmedic/scenario:1';
const TARGET_P99_MS = 2;
const BENCH_LABEL = 'dockmedic.bench';

export interface OverheadResult {
  calls: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('no package.json above the benchmark');
    dir = up;
  }
  return dir;
}

async function requireRedis(url: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 2000, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
  } catch (err) {
    throw new Error(`Redis at ${url} does not answer (${(err as Error).message}); run \`make setup\` or set REDIS_URL`);
  } finally {
    r.disconnect();
  }
}

export async function runGatewayOverhead(): Promise<OverheadResult> {
  const base = loadConfig();
  await requireRedis(base.redisUrl);
  const docker = new Docker({ socketPath: base.dockerSocket });
  try {
    await docker.getImage(IMAGE).inspect();
  } catch {
    throw new Error(`Docker engine at ${base.dockerSocket} or image ${IMAGE} missing; run \`make setup\``);
  }

  const dir = mkdtempSync(join(tmpdir(), 'dockmedic-bench-'));
  const agentId = `bench-${randomBytes(4).toString('hex')}`;
  const cred = { agentId, keyId: `${agentId}-k1`, secret: generateSecret() };
  writePrivateJson(join(dir, 'keys.json'), { agents: { [agentId]: [{ keyId: cred.keyId, secret: cred.secret, status: 'live' }] } });
  const config = loadConfig({
    ...process.env,
    DOCKMEDIC_STATE_DIR: dir,
    DOCKMEDIC_GATEWAY_HOST: '127.0.0.1',
    DOCKMEDIC_GATEWAY_PORT: '0',
    DOCKMEDIC_GATEWAY_KEYS_FILE: join(dir, 'keys.json'),
    DOCKMEDIC_AUDIT_FILE: join(dir, 'audit.jsonl'),
    // The benchmark measures the limiter's cost, not its refusals.
    DOCKMEDIC_RL_AGENT_CALLS: String((CALLS + WARMUP) * 2),
  });

  // Leftovers of an interrupted run (label dockmedic.bench; not dockmedic.test, whose clean-up belongs to the tests).
  for (const c of await docker.listContainers({ all: true, filters: { label: [`${BENCH_LABEL}=true`] } })) {
    await docker.getContainer(c.Id).remove({ force: true });
  }
  const name = `dockmedic-bench-${randomBytes(3).toString('hex')}`;
  const container = await docker.createContainer({
    name,
    Image: IMAGE,
    Cmd: ['/bin/sh', '-c', "trap 'exit 0' TERM; while true; do sleep 1; done"],
    Labels: { [LABELS.enable]: 'true', [BENCH_LABEL]: 'true' },
    HostConfig: { NetworkMode: 'none', Memory: 32 * 1024 * 1024 },
  });
  await container.start();

  const all: RequestTiming[] = [];
  const gw = await startGateway(config, { docker, onTiming: (t) => all.push(t) });
  try {
    // Calls are sequential, so arrival order is call order: the first WARMUP are discarded.
    await runLoadClient({ url: gw.url, credentials: cred, container: name, calls: WARMUP + CALLS });
  } finally {
    await gw.close();
    await container.remove({ force: true });
    rmSync(dir, { recursive: true, force: true });
  }
  const timings = all.slice(WARMUP);
  const floor: FloorResult = await measureRedisFloor({ redisUrl: base.redisUrl, calls: CALLS, warmup: WARMUP, client: { credentials: cred, container: name } });

  const refused = timings.filter((t) => t.verdict !== 'allowed');
  if (refused.length) throw new Error(`${refused.length} benchmark calls were refused (${refused[0]?.code}); the numbers would be meaningless`);
  const overhead = timings.map((t) => t.overheadMs).sort((a, b) => a - b);
  const docker_ = timings.map((t) => t.dockerMs).sort((a, b) => a - b);
  const result: OverheadResult = { calls: overhead.length, p50_ms: round3(percentile(overhead, 50)), p99_ms: round3(percentile(overhead, 99)), max_ms: round3(overhead.at(-1) ?? NaN) };

  // Where the time goes: per stage, the median of (end of stage − end of the previous one).
  // Replay and rate limit are one Lua script (one Redis round trip), so they are one row.
  const order = [
    ['parse', 'parse (headers, body)'],
    ['hmac', 'hmac'],
    ['rateLimit', 'replay + rate limit (Redis)'],
    ['validate', 'validate (zod)'],
  ] as const;
  const stageRows: (readonly [string, number, number])[] = order.map(([stage, label], i) => {
    const d = timings.map((t) => (t.stages[stage] ?? 0) - (i === 0 ? 0 : (t.stages[order[i - 1]![0]] ?? 0))).sort((a, b) => a - b);
    return [label, round3(percentile(d, 50)), round3(percentile(d, 99))] as const;
  });
  // Everything after validation except Docker: scope/bounds logic, audit append, writing the response.
  const rest = timings.map((t) => t.overheadMs - (t.stages.validate ?? 0)).sort((a, b) => a - b);
  stageRows.push(['scope logic + audit + reply', round3(percentile(rest, 50)), round3(percentile(rest, 99))]);

  const line = (cells: (string | number)[]) => cells.map((c, i) => String(c).padStart(i === 0 ? 0 : 10).padEnd(i === 0 ? 30 : 0)).join('');
  process.stdout.write(`\ngateway pipeline overhead, server side, Docker time excluded (${result.calls} signed inspect_container calls, ${WARMUP} warm-up)\n`);
  process.stdout.write(line(['', 'p50 ms', 'p99 ms', 'max ms']) + '\n');
  process.stdout.write(line(['overhead (total − Docker)', result.p50_ms, result.p99_ms, result.max_ms]) + '\n');
  process.stdout.write(line(['  for reference: Docker inspect', round3(percentile(docker_, 50)), round3(percentile(docker_, 99)), round3(docker_.at(-1) ?? NaN)]) + '\n');
  process.stdout.write(line(['  control: HTTP + 1 Redis PING', floor.p50_ms, floor.p99_ms, floor.max_ms]) + '\n');
  process.stdout.write('stages (p50 / p99 of each step):\n');
  for (const [stage, p50, p99] of stageRows) process.stdout.write(line([`  ${stage}`, p50, p99, '']) + '\n');
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  process.stdout.write(`target p99 ≤ ${TARGET_P99_MS} ms: ${result.p99_ms <= TARGET_P99_MS ? 'met' : 'NOT met'} (load average ${load} on ${cpus().length} CPUs)\n`);

  const out = join(repoRoot(), 'bench', 'results', 'gateway-overhead.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  const floorOut = join(dirname(out), 'gateway-redis-floor.json');
  writeFileSync(floorOut, JSON.stringify(floor, null, 2) + '\n');
  process.stdout.write(`wrote ${out} and ${floorOut}\n`);
  return result;
}

if (require.main === module) {
  runGatewayOverhead().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`error: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
