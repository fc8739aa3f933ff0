/**
 * Workflow test harness: the real incident workflow on Temporal's time-skipping test server,
 * with scripted (mocked) activities. Mocks are allowed here only: these are workflow unit tests.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, makeTelemetryFilterString } from '@temporalio/worker';
import type { Activities, IncidentActivities, MutateOptions, MutationOutcome } from '../../activities';
import { createTriageActivities } from '../../activities';
import { gatewayRefused, gatewayThrottled, gatewayTransient, webhookDeliveryFailed } from '../../activities/errors';
import { historyToJson } from './history-json';
import { loadConfig } from '../../src/config';
import type { DiagnosisRequest, DiagnosisResult, Proposal } from '../../src/contract/diagnosis';
import type { EscalationNotice } from '../../src/contract/escalation-notice';
import type { ContainerSummary, Dependent, DependentsResult, LogsResult } from '../../src/contract/gateway';
import type { EarlierIncident, IncidentInput, IncidentState, Observation, Phase } from '../../src/contract/incident';
import { INCIDENT_WORKFLOW_TYPE, incidentWorkflowId } from '../../src/contract/incident';
import { SA, SEARCH_ATTRIBUTE_NAMES } from '../../src/contract/search-attributes';
import { observeSignal, stateQuery } from '../../src/contract/signals';
import { incidentMetricsSinks } from '../../src/metrics/incident-sinks';

export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;
export const CONTAINER_ID = 'c0ffee0000000000000000000000000000000000000000000000000000000001';
export const HOST = 'testhost';
export const MUTATING = ['restartContainer', 'startContainer', 'raiseMemory'] as const;

/** Where the compiled workflows live, seen from dist/test/workflows. */
export const WORKFLOWS_PATH = require.resolve('../../workflows');

/** The time-skipping test server installed by `make setup`; never downloaded by tests. */
export function testServerPath(): string {
  const dir = process.env.DOCKMEDIC_TOOLS_DIR ?? '/opt/dockmedic/tools';
  const path = join(dir, 'venv', 'bin', 'temporal-test-server');
  if (!existsSync(path)) {
    throw new Error(`Temporal time-skipping test server not found at ${path}: run \`make setup\` (or set DOCKMEDIC_TOOLS_DIR)`);
  }
  return path;
}

/** IndexedValueType KEYWORD in Temporal's API enum. */
const KEYWORD = 2;

let runtimeInstalled = false;
/** Workers log every state change at INFO; tests only want warnings and errors. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger(process.env.DOCKMEDIC_TEST_LOG_LEVEL === 'debug' ? 'DEBUG' : 'ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
  });
}

export async function startEnv(): Promise<TestWorkflowEnvironment> {
  // Check first: an installed runtime with nothing to run would keep the process alive.
  const path = testServerPath();
  quietRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
  // The test server knows no custom search attributes until they are registered, like the dev server.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTE_NAMES.map((n) => [n, KEYWORD])),
  });
  return env;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundle the workflows once per test process (it takes seconds). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  return bundle;
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (msg: string, meta?: unknown) => console.error(msg, meta),
};

// ── container states ────────────────────────────────────────────────────────────────────────

export function container(over: Partial<ContainerSummary> = {}): ContainerSummary {
  return {
    id: CONTAINER_ID,
    name: 'web',
    image: 'dockmedic/scenario:latest',
    labels: { 'dockmedic.enable': 'true' },
    status: 'running',
    running: true,
    restarting: false,
    oomKilled: false,
    exitCode: 0,
    health: null,
    restartCount: 0,
    restartPolicy: 'no',
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '0001-01-01T00:00:00Z',
    memoryBytes: 32 * MiB,
    memorySwapBytes: 64 * MiB,
    ...over,
  };
}

export const STATES = {
  running: container(),
  runningHealthy: container({ health: 'healthy' }),
  exited1: container({ status: 'exited', running: false, exitCode: 1 }),
  exited0: container({ status: 'exited', running: false, exitCode: 0 }),
  stopped143: container({ status: 'exited', running: false, exitCode: 143 }),
  oomKilled: container({ status: 'exited', running: false, exitCode: 137, oomKilled: true }),
  unhealthy: container({ health: 'unhealthy' }),
  restarting: container({ status: 'restarting', running: false, restarting: true, exitCode: 1, restartPolicy: 'always' }),
  notOptedIn: container({ status: 'exited', running: false, exitCode: 1, labels: {} }),
} as const;

// ── scripted activities ─────────────────────────────────────────────────────────────────────

export interface Call {
  name: keyof Activities;
  args: unknown[];
}

type Refusal = { refuse: string; kind?: 'refused' | 'throttled' | 'transient'; retryAfterSeconds?: number };

export interface Script {
  /** Answers of inspect, in order; the last one repeats. */
  inspect: (ContainerSummary | Refusal)[];
  /** Other containers' inspect answers, by container id, counted per container (for several incidents on one worker). */
  inspectFor?: Record<string, (ContainerSummary | Refusal)[]>;
  priorOomIncidents?: number | Refusal;
  /** What the quiet period's visibility lookup lists (nothing by default). */
  earlierIncidents?: EarlierIncident[] | Refusal;
  restart?: Refusal;
  /** With `restart`: only this many restarts of the incident's container are refused, later ones succeed. */
  restartRefusals?: number;
  /** What list_dependents answers (none by default). */
  dependents?: Dependent[] | Refusal;
  /** A dependent's restart, by its container id, is refused like this. */
  dependentRestart?: Record<string, Refusal>;
  raise?: Refusal;
  /** The raise reports the container running (a restart policy brought it back). */
  raiseLeavesRunning?: boolean;
  start?: Refusal;
  logs?: string[];
  /** Every notification attempt fails like an unreachable webhook (retryable). */
  notifyFails?: boolean;
  /** Resolves before the first inspect answers: lets a test signal while triage is busy. */
  holdFirstInspect?: Promise<void>;
  /**
   * Answers of diagnoseIncident per attempt, in order; the last one repeats. A `throw` entry
   * fails that attempt like the real activity does with a transport error (retried by Temporal).
   */
  diagnosis?: (DiagnosisResult | { throw: 'LlmTimeout' | 'LlmRateLimited' | 'LlmUnavailable' })[];
}

/** A diagnosis result as the real activity returns it. */
export function diagnosis(over: Partial<DiagnosisResult> = {}): DiagnosisResult {
  return { ok: true, model: 'scripted', turns: 1, tokens: 500, toolCalls: [], attemptedTools: [], otherContainers: [], stoppedAtTurnLimit: false, attempt: 1, ...over } as DiagnosisResult;
}

/** A proposal as the model would make it. */
export function proposal(proposedAction: Proposal['proposedAction'], failureType: Proposal['failureType'] = 'exit'): Proposal {
  return { failureType, proposedAction, rationale: `the facts point to ${failureType}; ${proposedAction}`, confidence: 0.8, evidence: ['fatal: something broke'] };
}

function refusal(r: Refusal, tool: string): Error {
  const details = { code: r.refuse, status: 429, tool, ...(r.retryAfterSeconds !== undefined ? { retryAfterSeconds: r.retryAfterSeconds } : {}) };
  if (r.kind === 'throttled') return gatewayThrottled(`${r.refuse}: refused`, details);
  if (r.kind === 'transient') return gatewayTransient(`${r.refuse}: failed`, details);
  return gatewayRefused(`${r.refuse}: refused`, details);
}

const isRefusal = (x: unknown): x is Refusal => typeof x === 'object' && x !== null && 'refuse' in x;

/** Activities with the real signatures, answering from a script and recording every call. */
export class ScriptedActivities {
  readonly calls: Call[] = [];
  readonly notices: EscalationNotice[] = [];
  private inspected = 0;
  private diagnosed = 0;

  constructor(private readonly script: Script) {}

  named(name: keyof Activities): Call[] {
    return this.calls.filter((c) => c.name === name);
  }

  mutatingCalls(): Call[] {
    return this.calls.filter((c) => (MUTATING as readonly string[]).includes(c.name));
  }

  build(): IncidentActivities {
    const s = this.script;
    const rec = (name: keyof Activities, args: unknown[]) => this.calls.push({ name, args });
    const mutation = (action: MutationOutcome['action'], memoryBytes: number, running: boolean): MutationOutcome => ({
      container: CONTAINER_ID,
      action,
      after: { status: running ? 'running' : 'exited', running, restartCount: 1, memoryBytes, memorySwapBytes: memoryBytes * 2 },
      requestId: `req-${this.calls.length}`,
      replayed: false,
      idempotencyKey: `key-${this.calls.length}`,
    });
    const parts = {
      inspectContainer: async (c: string) => {
        rec('inspectContainer', [c]);
        const own = s.inspectFor?.[c];
        if (own) {
          const n = this.calls.filter((x) => x.name === 'inspectContainer' && x.args[0] === c).length - 1;
          const a = own[Math.min(n, own.length - 1)];
          if (a === undefined || isRefusal(a)) throw refusal(a ?? { refuse: 'container_not_found' }, 'inspect_container');
          return a;
        }
        if (this.inspected === 0 && s.holdFirstInspect) await s.holdFirstInspect;
        const answer = s.inspect[Math.min(this.inspected++, s.inspect.length - 1)];
        if (answer === undefined) throw new Error('script has no inspect answer');
        if (isRefusal(answer)) throw refusal(answer, 'inspect_container');
        return answer;
      },
      fetchLogs: async (c: string, tail: number): Promise<LogsResult> => {
        rec('fetchLogs', [c, tail]);
        return { container: c, lines: s.logs ?? ['starting', 'fatal: something broke'], truncated: false, redactions: 0 };
      },
      listDependents: async (c: string, selector: string[] = []): Promise<DependentsResult> => {
        rec('listDependents', [c, selector]);
        const d = s.dependents ?? [];
        if (isRefusal(d)) throw refusal(d, 'list_dependents');
        return { container: 'web', dependents: d, truncated: false };
      },
      restartContainer: async (c: string, opts?: MutateOptions) => {
        rec('restartContainer', [c, ...(opts ? [opts] : [])]);
        const dependentRefusal = s.dependentRestart?.[c];
        if (dependentRefusal) throw refusal(dependentRefusal, 'restart_container');
        const refusedSoFar = this.calls.filter((x) => x.name === 'restartContainer' && x.args[0] === CONTAINER_ID).length - 1;
        if (c === CONTAINER_ID && s.restart && refusedSoFar < (s.restartRefusals ?? Infinity)) throw refusal(s.restart, 'restart_container');
        return mutation('restart', 32 * MiB, true);
      },
      startContainer: async (c: string, opts?: MutateOptions) => {
        rec('startContainer', [c, ...(opts ? [opts] : [])]);
        if (s.start) throw refusal(s.start, 'start_container');
        return mutation('start', 64 * MiB, true);
      },
      raiseMemory: async (c: string, memoryBytes: number, opts?: MutateOptions) => {
        rec('raiseMemory', [c, memoryBytes, ...(opts ? [opts] : [])]);
        if (s.raise) throw refusal(s.raise, 'update_container_resources');
        return mutation('update_resources', memoryBytes, s.raiseLeavesRunning === true);
      },
      countRecentOomIncidents: async (host: string, name: string, windowSeconds: number, runId: string) => {
        rec('countRecentOomIncidents', [host, name, windowSeconds, runId]);
        const p = s.priorOomIncidents ?? 0;
        if (isRefusal(p)) throw refusal(p, 'count_recent_oom_incidents');
        return p;
      },
      listQuietPeriodIncidents: async (host: string, name: string, windowSeconds: number, runId: string) => {
        rec('listQuietPeriodIncidents', [host, name, windowSeconds, runId]);
        const e = s.earlierIncidents ?? [];
        if (isRefusal(e)) throw refusal(e, 'list_quiet_period_incidents');
        return e;
      },
    };
    return {
      ...parts,
      // The real composition over the scripted reads: each read is still recorded by its own name.
      ...createTriageActivities(parts),
      diagnoseIncident: async (req: DiagnosisRequest): Promise<DiagnosisResult> => {
        rec('diagnoseIncident', [req]);
        const answers = s.diagnosis ?? [diagnosis({ ok: false, reason: 'not_configured', detail: 'no model in this test' })];
        const answer = answers[Math.min(this.diagnosed++, answers.length - 1)];
        if (answer === undefined) throw new Error('script has no diagnosis answer');
        if ('throw' in answer) throw ApplicationFailure.create({ type: answer.throw, message: `${answer.throw}: scripted transport failure`, nonRetryable: false });
        return { ...answer, attempt: this.diagnosed };
      },
      notifyEscalation: async (notice: EscalationNotice) => {
        rec('notifyEscalation', [notice]);
        if (s.notifyFails) throw webhookDeliveryFailed('webhook unreachable: connect ECONNREFUSED');
        this.notices.push(notice);
        return { webhook: 'not_configured' as const };
      },
    };
  }
}

/** A worker on its own task queue running these activities, for tests that start several workflows. */
export async function scriptedWorker(env: TestWorkflowEnvironment, acts: ScriptedActivities): Promise<{ worker: Worker; taskQueue: string }> {
  const taskQueue = `wf-test-${process.pid}-${++seq}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: acts.build(),
    sinks: incidentMetricsSinks(),
  });
  return { worker, taskQueue };
}

// ── inputs ──────────────────────────────────────────────────────────────────────────────────

export const LADDER = [
  { name: 'oncall-primary', timeoutSeconds: 300 },
  { name: 'oncall-secondary', timeoutSeconds: 600 },
];
export const RESOLVE_TIMEOUT_SECONDS = 3600;
export const STABILIZATION_SECONDS = 120;

export function incidentInput(trigger: Observation, over: Partial<IncidentInput> = {}): IncidentInput {
  return {
    host: HOST,
    container: 'web',
    containerId: CONTAINER_ID,
    trigger,
    policy: { ...loadConfig({}).policy, stabilizationSeconds: STABILIZATION_SECONDS },
    escalation: { ladder: LADDER, resolveTimeoutSeconds: RESOLVE_TIMEOUT_SECONDS },
    llm: { enabled: false, maxTurns: 3 },
    uiUrl: 'http://127.0.0.1:8233',
    ...over,
  };
}

export const T0 = '2026-01-01T00:00:00.000Z';
export const obs = {
  die: (exitCode: number, extra: Partial<Observation> = {}): Observation => ({ kind: 'die', time: T0, exitCode, deathsInWindow: 1, operatorStop: false, ...extra }),
  oom: (extra: Partial<Observation> = {}): Observation => ({ kind: 'oom', time: T0, ...extra }),
  health: (health: 'healthy' | 'unhealthy' | 'starting', time = T0): Observation => ({ kind: 'health_status', time, health }),
  crashloop: (deaths = 3): Observation => ({ kind: 'crashloop', time: T0, exitCode: 1, deathsInWindow: deaths, operatorStop: false }),
};

// ── running an incident ─────────────────────────────────────────────────────────────────────

let seq = 0;

export interface Run {
  state: IncidentState;
  handle: WorkflowHandle;
  acts: ScriptedActivities;
}

/**
 * Start an incident the way the watcher does (signalWithStart with the trigger as the signal),
 * let `during` drive it (signals, env.sleep), then wait for its result. When
 * DOCKMEDIC_RECORD_HISTORIES=1, the history is saved under test/workflows/histories/<record>.json.
 */
export async function runIncident(
  env: TestWorkflowEnvironment,
  opts: { input: IncidentInput; script: Script; during?: (h: WorkflowHandle, acts: ScriptedActivities) => Promise<void>; record?: string },
): Promise<Run> {
  const acts = new ScriptedActivities(opts.script);
  const { worker, taskQueue } = await scriptedWorker(env, acts);
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.signalWithStart(INCIDENT_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: `${incidentWorkflowId(opts.input.host, opts.input.container)}-${taskQueue}`,
      args: [opts.input],
      signal: observeSignal,
      signalArgs: [opts.input.trigger],
    });
    if (opts.during) await opts.during(handle, acts);
    const state = (await handle.result()) as IncidentState;
    if (opts.record && process.env.DOCKMEDIC_RECORD_HISTORIES === '1') {
      const dir = resolve(__dirname, '../../../test/workflows/histories');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${opts.record}.json`), `${historyToJson(await handle.fetchHistory())}\n`);
    }
    return { state, handle, acts };
  });
}

/** Poll the `state` query until the incident reaches `phase` (time is not skipped while polling). */
export async function waitForPhase(h: WorkflowHandle, phase: Phase, extra: (s: IncidentState) => boolean = () => true, timeoutMs = 15_000): Promise<IncidentState> {
  const deadline = Date.now() + timeoutMs;
  let last: IncidentState | undefined;
  while (Date.now() < deadline) {
    try {
      last = await h.query(stateQuery);
      if (last.phase === phase && extra(last)) return last;
    } catch {
      // The first workflow task may not have run yet.
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`incident did not reach phase ${phase} (last: ${last?.phase ?? 'none'}, notes: ${JSON.stringify(last?.notes)})`);
}

/** The typed search attributes the incident set, by dockmedic's key names. */
export async function searchAttributes(h: WorkflowHandle): Promise<Record<Exclude<keyof typeof SA, 'drill'>, string | undefined> & { drill?: string }> {
  const sa = (await h.describe()).typedSearchAttributes;
  return {
    container: sa.get(SA.container),
    host: sa.get(SA.host),
    failure: sa.get(SA.failure),
    decision: sa.get(SA.decision),
    outcome: sa.get(SA.outcome),
    ...(sa.get(SA.drill) !== undefined ? { drill: sa.get(SA.drill) } : {}),
  };
}
