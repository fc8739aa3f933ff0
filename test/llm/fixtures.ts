import type { Script, ScriptedLlm } from '../helpers/scripted-llm';
import { startScriptedLlm } from '../helpers/scripted-llm';
import type { ContainerSummary, LogsResult } from '../../src/contract/gateway';
import type { Facts } from '../../src/contract/policy';
import type { DiagnoseInput, DiagnoseTools } from '../../src/llm';
import { createOpenAiClient } from '../../src/llm';

/** Shared fixtures of the LLM tests (not a test file itself). */

export const CONTAINER = 'web';
export const CONTAINER_ID = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2';

/** A first non-zero exit of an opted-in container: the policy says `exit-restart`. */
export const EXIT_FACTS: Facts = {
  optedIn: true,
  stackMember: false,
  oomKilled: false,
  exitCode: 1,
  restarting: false,
  deathsInWindow: 1,
  health: null,
  operatorStop: false,
  running: false,
  memoryBytes: 64 * 1024 ** 2,
  priorOomIncidents: 0,
  recurrenceAfterAction: false,
};

export const GOOD_PROPOSAL = {
  failureType: 'exit',
  proposedAction: 'restart',
  rationale: 'The process exited 1 after a transient connection error; a single restart should recover it.',
  confidence: 0.8,
  evidence: ['connection refused (transient)'],
} as const;

export interface FakeTools extends DiagnoseTools {
  calls: Array<{ tool: 'inspect' | 'logs'; container: string; tail?: number }>;
}

/** Read-only tools that record every call they execute, so tests assert by effect. */
export function fakeTools(logLines: string[] = ['starting', 'error: connection refused (transient)', 'exit 1']): FakeTools {
  const calls: FakeTools['calls'] = [];
  return {
    calls,
    inspect: async (container) => {
      calls.push({ tool: 'inspect', container });
      const summary: ContainerSummary = {
        id: CONTAINER_ID,
        name: container,
        image: 'scenario:latest',
        labels: { 'dockmedic.enable': 'true' },
        status: 'exited',
        running: false,
        restarting: false,
        oomKilled: false,
        exitCode: 1,
        health: null,
        restartCount: 0,
        restartPolicy: 'no',
        startedAt: '2026-01-01T00:00:00Z',
        finishedAt: '2026-01-01T00:01:00Z',
        memoryBytes: 64 * 1024 ** 2,
        memorySwapBytes: 128 * 1024 ** 2,
      };
      return summary;
    },
    logs: async (container, tail) => {
      calls.push({ tool: 'logs', container, tail });
      const result: LogsResult = { container, lines: logLines.slice(-tail), truncated: false, redactions: 0 };
      return result;
    },
  };
}

/** `diagnose` input against a scripted server reached with plain fetch (no gateway yet). */
export function input(url: string, tools: DiagnoseTools, overrides: Partial<DiagnoseInput> = {}): DiagnoseInput {
  return {
    openai: createOpenAiClient({ baseURL: url, signedFetch: (i, init) => fetch(i, init), timeoutMs: 5_000 }),
    model: 'scripted-model',
    facts: EXIT_FACTS,
    container: CONTAINER,
    containerId: CONTAINER_ID,
    maxTurns: 3,
    maxTokens: 100_000,
    tools,
    ...overrides,
  };
}

/** Start scripted servers on demand; each is closed after the test file (`hook` is node:test's `after`). */
export function scriptedServers(hook: (fn: () => Promise<void>) => void): (script: Script) => Promise<ScriptedLlm> {
  const servers: ScriptedLlm[] = [];
  hook(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  return async (script) => {
    const s = await startScriptedLlm(script);
    servers.push(s);
    return s;
  };
}
