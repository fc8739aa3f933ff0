/**
 * Benchmark (not a test): the gateway's own cost per call — parse, HMAC, replay check, rate
 * limit, validation, scope/bounds logic, idempotency, audit append, response — measured on the
 * server side, through the real pipeline, real HTTP, real Redis and the real Docker engine.
 * The time spent waiting on Docker (scope's inspect) is measured separately by the pipeline
 * (`timedDocker`) and subtracted; nothing is stubbed. Reported through the gateway's internal
 * `onTiming` hook: overhead = total server time − Docker time.
 *
 * Warm-up: on this kind of machine (a VM whose vCPUs sleep when idle) latency is much worse
 * for the first few thousand calls after a process starts or after the machine was idle for a
 * few seconds, and settles after that. The same happens with a bare server (below), so the VM
 * causes it, not the gateway. The result is the steady state after WARMUP calls. The warm-up
 * phase ("cold") is printed beside it and written to gateway-overhead-detail.json, together
 * with the p99 of every 1,000 calls, so the transient stays visible.
 *
 * Control (redis-floor.ts): after an idle pause, the same client calls a bare HTTP server that
 * does one Redis PING per request, in the same phases. Its p99 is the machine's floor for
 * anything with one Redis round trip in its request path.
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
import { LABELS } from '../src/contract/container';
import { startGateway } from '../src/gateway';
import { writePrivateJson } from '../src/gateway/key-files';
import { generateSecret } from '../src/signing';
import { measureRedisFloor } from './redis-floor';
import { runLoadClient } from './run-load-client';
import type { LatencySummary } from './stats';
import { percentile, round3, summarize } from './stats';

const CALLS = Number(process.env.BENCH_CALLS ?? 5000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5000);
const BLOCK = 1000;
/** Idle time before the control, so it starts from the state the gateway run started from. */
const IDLE_PAUSE_MS = 5000;
const IMAGE = 'dockmedic/scenario:1';
const TARGET_P99_MS = 2;
const BENCH_LABEL = 'dockmedic.bench';

export type OverheadResult = LatencySummary;

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
  const refused = all.filter((t) => t.verdict !== 'allowed');
  if (refused.length) throw new Error(`${refused.length} benchmark calls were refused (${refused[0]?.code}); the numbers would be meaningless`);
  // Calls are sequential, so arrival order is call order.
  const timings = all.slice(WARMUP);
  const result: OverheadResult = summarize(timings.map((t) => t.overheadMs));
  const cold = summarize(all.slice(0, WARMUP).map((t) => t.overheadMs));
  const blockP99 = (sample: readonly number[]) => {
    const out: number[] = [];
    for (let i = 0; i < sample.length; i += BLOCK) out.push(summarize(sample.slice(i, i + BLOCK)).p99_ms);
    return out;
  };
  const blocks = blockP99(all.map((t) => t.overheadMs));

  await new Promise((resolve) => setTimeout(resolve, IDLE_PAUSE_MS));
  const floorTimes = await measureRedisFloor({ redisUrl: base.redisUrl, calls: WARMUP + CALLS, client: { credentials: cred, container: name } });
  const control = { steady: summarize(floorTimes.slice(WARMUP)), cold: summarize(floorTimes.slice(0, WARMUP)), p99_per_block_ms: blockP99(floorTimes) };
  const docker_ = summarize(timings.map((t) => t.dockerMs));

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

  const line = (cells: (string | number)[]) => cells.map((c, i) => String(c).padStart(i === 0 ? 0 : 10).padEnd(i === 0 ? 34 : 0)).join('');
  const row = (label: string, r: LatencySummary) => process.stdout.write(line([label, r.p50_ms, r.p99_ms, r.max_ms]) + '\n');
  process.stdout.write(`\ngateway pipeline overhead, server side, Docker time excluded (signed inspect_container calls)\n`);
  process.stdout.write(line(['', 'p50 ms', 'p99 ms', 'max ms']) + '\n');
  row(`overhead, steady (${result.calls} calls)`, result);
  row(`overhead, first ${cold.calls} after start`, cold);
  row(`  control, steady`, control.steady);
  row(`  control, first ${control.cold.calls} after idle`, control.cold);
  row('  for reference: Docker inspect', docker_);
  process.stdout.write(`p99 of each ${BLOCK} calls from the start, gateway: ${blocks.join(' ')}\n`);
  process.stdout.write(`p99 of each ${BLOCK} calls from the start, control: ${control.p99_per_block_ms.join(' ')}\n`);
  process.stdout.write('stages, steady (p50 / p99 of each step):\n');
  for (const [stage, p50, p99] of stageRows) process.stdout.write(line([`  ${stage}`, p50, p99, '']) + '\n');
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  const verdict = (r: LatencySummary) => (r.p99_ms <= TARGET_P99_MS ? 'met' : 'NOT met');
  process.stdout.write(`target p99 ≤ ${TARGET_P99_MS} ms: ${verdict(result)} in steady state, ${verdict(cold)} in the first ${cold.calls} calls (load average ${load} on ${cpus().length} CPUs)\n`);

  const out = join(repoRoot(), 'bench', 'results', 'gateway-overhead.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  const detail = join(dirname(out), 'gateway-overhead-detail.json');
  const detailBody = { steady: result, cold, control, docker_inspect: docker_, p99_per_block_ms: blocks, block_calls: BLOCK, warmup_calls: WARMUP, idle_pause_ms: IDLE_PAUSE_MS };
  writeFileSync(detail, JSON.stringify(detailBody, null, 2) + '\n');
  process.stdout.write(`wrote ${out} and ${detail}\n`);
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
