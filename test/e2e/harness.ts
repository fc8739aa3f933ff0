import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Connection, Client as TemporalClient } from '@temporalio/client';
import type { AuditRecord } from '../../src/gateway/audit/record';
import { generateKeyId, generateSecret } from '../../src/signing';
import { freeLoopbackPort } from '../../src/runtime/free-port';
import type { Spawned } from '../helpers/processes';
import { killLeftoverProcesses, spawnDockmedic } from '../helpers/processes';
import { repoRoot } from '../helpers/paths';
import { cleanupTestContainers, OWNER_PID_LABEL, requireStack, TEMPORAL_ADDRESS, TEST_LABEL } from '../helpers/stack';
import { RUN_LABEL } from '../helpers/scenario';
import type { WebhookRecorder } from '../helpers/webhook';
import { startWebhookRecorder } from '../helpers/webhook';
import { after, before } from 'node:test';
import type { IncidentState } from '../../src/contract/incident';
import { stateQuery } from '../../src/contract/signals';

export const MUTATING = ['restart_container', 'start_container', 'update_container_resources'] as const;

export interface E2eStack {
  /** Unique per run: the host name in incident ids and the task queue. */
  runId: string;
  host: string;
  env: NodeJS.ProcessEnv;
  stateDir: string;
  auditFile: string;
  client: Client;
  gateway: Spawned;
  worker: Spawned;
  watcher: Spawned;
  /** Start a fresh worker process (after killing the old one). */
  restartWorker(): Promise<void>;
  /** Kill the worker (as a crash would); `startWorker` starts a new one. */
  stopWorker(): Promise<void>;
  startWorker(): Promise<void>;
  /** The watcher's listener (intake, /healthz), from its "watcher started" line. */
  listenerUrl(): string;
  /** Kill the gateway (as a crash would); `startGateway` starts a new one on the same port, keys and audit file. */
  killGateway(): Promise<void>;
  startGateway(): Promise<void>;
  /** Kill the watcher; `startWatcher` starts a new one. */
  killWatcher(): Promise<void>;
  /** Start a watcher; `extraEnv` over the run's (e.g. a deliberately wrong policy); `args` after `watcher`. */
  startWatcher(extraEnv?: NodeJS.ProcessEnv, args?: string[]): Promise<void>;
  incidentId(container: string): string;
  audit(): AuditRecord[];
  close(): Promise<void>;
}

/**
 * A private dockmedic (gateway, worker, watcher as separate processes, started by the CLI) on
 * the shared real stack: its own keys, audit file, task queue and host name, so runs never mix.
 */
export async function startE2eStack(extraEnv: NodeJS.ProcessEnv = {}, opts: { gatewayEnv?: NodeJS.ProcessEnv } = {}): Promise<E2eStack> {
  await requireStack();
  killLeftoverProcesses();
  await cleanupTestContainers();
  const runId = `e2e${randomBytes(3).toString('hex')}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'dockmedic-e2e-'));
  mkdirSync(join(stateDir, 'keys'), { mode: 0o700 });
  const keyId = generateKeyId();
  const secret = generateSecret();
  // Rate-limit windows are per agent in the shared Redis: each run is its own agent.
  const agentId = `worker-${runId}`;
  writeFileSync(join(stateDir, 'keys', 'gateway-keys.json'), JSON.stringify({ agents: { [agentId]: [{ keyId, secret, status: 'live' }] } }), { mode: 0o600 });
  writeFileSync(join(stateDir, 'keys', 'agent.json'), JSON.stringify({ agentId, keyId, secret }), { mode: 0o600 });
  const port = await freeLoopbackPort();
  const env: NodeJS.ProcessEnv = {
    DOCKMEDIC_STATE_DIR: stateDir,
    DOCKMEDIC_HOST: runId,
    DOCKMEDIC_TASK_QUEUE: `dockmedic-${runId}`,
    DOCKMEDIC_GATEWAY_PORT: String(port),
    DOCKMEDIC_INTAKE_PORT: '0',
    TEMPORAL_ADDRESS,
    DOCKMEDIC_STABILIZATION_SECONDS: '8',
    DOCKMEDIC_LADDER: 'level-1:6,level-2:4',
    DOCKMEDIC_RESOLVE_TIMEOUT_SECONDS: '30',
    DOCKMEDIC_CRASHLOOP_DEATHS: '3',
    DOCKMEDIC_CRASHLOOP_WINDOW_SECONDS: '60',
    // Most tests run several incidents at once on one host: a storm (docs/architecture.md §3) would
    // take their pages. The storm tests and benchmark turn it on.
    DOCKMEDIC_STORM_COUNT: '0',
    // This run's watcher acts on this run's containers only (see RUN_LABEL).
    DOCKMEDIC_WATCH_SELECTOR: `${RUN_LABEL}=${runId}`,
    // Drill containers carry the run's labels too: its watcher sees them, cleanup finds them.
    DOCKMEDIC_DRILL_LABELS: `${TEST_LABEL}=true,${OWNER_PID_LABEL}=${process.pid},${RUN_LABEL}=${runId}`,
    ...extraEnv,
  };
  process.env.DOCKMEDIC_TEST_RUN = runId;
  const auditFile = join(stateDir, 'audit', 'gateway.jsonl');
  // What only the gateway may hold (Slack credentials) goes to its process alone.
  const spawnGateway = () => spawnDockmedic(`gateway-${runId}`, ['gateway'], { ...env, ...opts.gatewayEnv });
  let gateway = spawnGateway();
  await gateway.waitFor(/gateway listening/);
  let worker = spawnDockmedic(`worker-${runId}`, ['worker'], env);
  let watcher = spawnDockmedic(`watcher-${runId}`, ['watcher'], env);
  await Promise.all([worker.waitFor(/worker started/, 60_000), watcher.waitFor(/watcher started/)]);
  const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  const client = new TemporalClient({ connection });
  const stack: E2eStack = {
    runId,
    host: runId,
    env,
    stateDir,
    auditFile,
    client,
    get gateway() {
      return gateway;
    },
    get worker() {
      return worker;
    },
    get watcher() {
      return watcher;
    },
    killGateway: () => gateway.stop('SIGKILL'),
    startGateway: async () => {
      gateway = spawnGateway();
      await gateway.waitFor(/gateway listening/);
    },
    killWatcher: () => watcher.stop('SIGKILL'),
    startWatcher: async (extraEnv = {}, args = []) => {
      watcher = spawnDockmedic(`watcher-${runId}`, ['watcher', ...args], { ...env, ...extraEnv });
      await watcher.waitFor(/watcher started/);
    },
    stopWorker: () => worker.stop('SIGKILL'),
    startWorker: async () => {
      worker = spawnDockmedic(`worker-${runId}`, ['worker'], env);
      await worker.waitFor(/worker started/, 60_000);
    },
    listenerUrl: () => {
      const line = watcher.output().split('\n').reverse().find((l) => l.includes('"watcher started"'));
      const url = line ? (JSON.parse(line) as { listener?: string }).listener : undefined;
      if (!url) throw new Error(`the watcher logged no listener URL in its "watcher started" line; output:\n${watcher.output().slice(-2000)}`);
      return url;
    },
    restartWorker: async () => {
      await worker.stop('SIGKILL');
      worker = spawnDockmedic(`worker-${runId}`, ['worker'], env);
      await worker.waitFor(/worker started/, 60_000);
    },
    incidentId: (container) => `incident-${runId}-${container}`,
    audit: () =>
      existsSync(auditFile)
        ? readFileSync(auditFile, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as AuditRecord)
        : [],
    close: async () => {
      await Promise.all([watcher.stop(), worker.stop(), gateway.stop()]);
      // Incidents still waiting for a person (a benchmark's, a failed test's) would wait forever.
      await terminateOpenWorkflows(client, runId);
      await connection.close();
      delete process.env.DOCKMEDIC_TEST_RUN;
      await cleanupTestContainers();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return stack;
}

async function terminateOpenWorkflows(client: Client, host: string): Promise<void> {
  const open: { id: string; runId: string }[] = [];
  for await (const info of client.workflow.list({ query: `DockmedicHost = '${host}' AND ExecutionStatus = 'Running'` })) open.push({ id: info.workflowId, runId: info.runId });
  await Promise.all(open.map((w) => client.workflow.getHandle(w.id, w.runId).terminate('the test stack closed').catch(() => undefined)));
}

/**
 * For a test file: a stack whose pages go to a local webhook recorder, started before its tests
 * and closed after them. Read `stack` and `hook` inside the tests.
 */
export function pagedStack(env: NodeJS.ProcessEnv = {}): { stack: E2eStack; hook: WebhookRecorder } {
  const ctx = {} as { stack: E2eStack; hook: WebhookRecorder };
  before(async () => {
    ctx.hook = await startWebhookRecorder();
    ctx.stack = await startE2eStack({ DOCKMEDIC_WEBHOOK_URL: ctx.hook.url, ...env });
  });
  after(async () => {
    await ctx.stack?.close();
    await ctx.hook?.close();
  });
  return ctx;
}

/** Allowed mutating calls the gateway audited for a container, by tool. */
export function mutatingCallsFor(audit: AuditRecord[], container: string): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(MUTATING.map((t) => [t, 0]));
  for (const r of audit) {
    if (r.verdict !== 'allowed' || r.replayed || !r.tool || !(MUTATING as readonly string[]).includes(r.tool)) continue;
    const args = r.args as { container?: string } | null;
    if (args?.container !== container && r.target?.name !== container) continue;
    counts[r.tool] = (counts[r.tool] ?? 0) + 1;
  }
  return counts;
}

/** Every audited request naming this container, allowed or refused. */
export function auditRecordsFor(audit: AuditRecord[], container: string): AuditRecord[] {
  return audit.filter((r) => (r.args as { container?: string } | null)?.container === container || r.target?.name === container);
}

/** Activity types scheduled in a workflow's history, with counts. */
export async function scheduledActivities(client: Client, workflowId: string): Promise<Record<string, number>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const counts: Record<string, number> = {};
  for (const e of history.events ?? []) {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
}

/** Wait for the incident to close and return its final state (the workflow's result). */
export async function closedIncident(client: Client, workflowId: string, timeoutMs: number): Promise<IncidentState> {
  await waitUntil(`incident ${workflowId} to exist`, async () => (await client.workflow.getHandle(workflowId).describe()).runId, timeoutMs);
  const handle = client.workflow.getHandle(workflowId);
  const result = await Promise.race([
    handle.result() as Promise<IncidentState>,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`incident ${workflowId} did not close within ${timeoutMs} ms`)), timeoutMs).unref()),
  ]);
  return result;
}

export async function incidentPhase(client: Client, workflowId: string): Promise<string | undefined> {
  try {
    return (await client.workflow.getHandle(workflowId).query(stateQuery)).phase;
  } catch {
    return undefined;
  }
}

/** Run the dockmedic CLI against the stack; returns exit code and output. */
/** `runCli` without blocking the test's event loop, for commands that run for minutes (drill run). */
export function runCliAsync(stack: Pick<E2eStack, 'env'>, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), ...args], { env: { ...process.env, ...stack.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dockmedic ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 600_000} ms; stderr:\n${stderr.slice(-2000)}`));
    }, opts.timeoutMs ?? 600_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

export function runCli(stack: Pick<E2eStack, 'env'>, args: string[], extraEnv: NodeJS.ProcessEnv = {}): { code: number; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), ...args], {
    env: { ...process.env, ...stack.env, ...extraEnv },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}
