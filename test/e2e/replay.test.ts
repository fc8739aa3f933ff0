import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Scenario } from '../../src/drills/scenarios';
import { SCENARIOS } from '../../src/drills/scenarios';
import type { IncidentState } from '../../src/contract/incident';
import { runScenarioContainer } from '../helpers/scenario';
import { repoRoot } from '../helpers/paths';
import type { E2eStack } from './harness';
import { closedIncident, runCli, startE2eStack, waitUntil } from './harness';

/**
 * `dockmedic replay` on the real stack (docs/architecture.md §6): real incidents run by the
 * gateway, worker and watcher processes, their histories downloaded from the Temporal dev server
 * and replayed by the CLI, first against the worker's own workflow code (all replay), then
 * against a changed workflow (every one flagged, exit 1); and `--what-if` re-deciding them.
 */

interface ReplayJson {
  total: number;
  passed: number;
  failed: number;
  results: { workflowId: string; runId: string; ok: boolean; kind?: string; error?: string }[];
}

interface WhatIfJson {
  settings: { variable: string }[];
  changed: number;
  groups: { sentence: string; incidents: string[] }[];
  incidents: { workflowId: string; runId: string; changed: boolean; recorded: { action: string }; whatIf: { action: string; rule: string } | null }[];
}

let stack: E2eStack;
const closed = new Map<string, { runId: string; state: IncidentState }>();

function scenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  assert.ok(s, `scenario ${name} is in the catalogue`);
  return s;
}

/** Run a catalogue scenario's container and wait for its incident to close. */
async function incident(name: string): Promise<void> {
  const s = scenario(name);
  const container = `${stack.runId}-${s.name}`;
  await runScenarioContainer({
    name: container,
    cmd: s.container.cmd,
    ...(s.container.memoryBytes ? { memory: s.container.memoryBytes } : {}),
    labels: { 'dockmedic.enable': 'true' },
  });
  const id = stack.incidentId(container);
  const state = await closedIncident(stack.client, id, 90_000);
  assert.equal(state.outcome, s.expect.outcome, `${name}: outcome (notes: ${state.notes.join(' | ')})`);
  closed.set(id, { runId: (await stack.client.workflow.getHandle(id).describe()).runId, state });
}

function json<T>(out: { code: number; stdout: string; stderr: string }): T {
  try {
    return JSON.parse(out.stdout) as T;
  } catch {
    throw new Error(`expected JSON on stdout (exit ${out.code}); stderr: ${out.stderr}`);
  }
}

describe('dockmedic replay on the real stack', { timeout: 300_000 }, () => {
  before(async () => {
    stack = await startE2eStack();
    await Promise.all([incident('oom'), incident('exit-transient')]);
    // Visibility is eventually consistent: wait until it lists both runs as closed.
    await waitUntil('visibility to list both incidents as closed', async () => (await stack.client.workflow.count(`DockmedicHost = '${stack.host}' AND ExecutionStatus != 'Running'`)).count === 2, 20_000);
  });
  after(async () => {
    await stack?.close();
  });

  it("replays this host's closed incidents against the worker's workflow code: all pass, exit 0", () => {
    const out = runCli(stack, ['replay', '--host', stack.host, '--json']);
    assert.equal(out.code, 0, out.stderr);
    const r = json<ReplayJson>(out);
    assert.equal(r.total, 2);
    assert.equal(r.failed, 0);
    assert.deepEqual(
      r.results.map((x) => `${x.workflowId}/${x.runId}`).sort(),
      [...closed].map(([id, c]) => `${id}/${c.runId}`).sort(),
    );
    assert.ok(r.results.every((x) => x.ok));
  });

  it('flags every history against a changed workflow with the same type name: a line per run, exit 1', () => {
    const changed = join(repoRoot, 'dist', 'test', 'e2e', 'fixtures', 'restart-first-workflow.js');
    const text = runCli(stack, ['replay', '--host', stack.host, '--workflows', changed]);
    assert.equal(text.code, 1, text.stderr);
    for (const [id, c] of closed) {
      const line = text.stdout.split('\n').find((l) => l.includes(id));
      assert.ok(line, `a line for ${id}:\n${text.stdout}`);
      assert.ok(line.includes(c.runId), `the line names the run: ${line}`);
      // Temporal names the first difference: the changed activity, or a patch marker the changed code lacks.
      assert.match(line, /nondeterminism: \[TMPRL1100\][^\n]*(restartContainer|patch marker)/, 'the first line of the nondeterminism error, naming what changed');
    }
    const r = json<ReplayJson>(runCli(stack, ['replay', '--host', stack.host, '--workflows', changed, '--json']));
    assert.equal(r.failed, 2);
    assert.ok(r.results.every((x) => !x.ok && x.kind === 'nondeterminism'));
  });

  it('--id replays the runs of one incident only', () => {
    const [id] = [...closed.keys()];
    const r = json<ReplayJson>(runCli(stack, ['replay', '--id', id as string, '--json']));
    assert.deepEqual(r.results.map((x) => x.workflowId), [id]);
  });

  it('--what-if: a lower memory cap turns the OOM raise into an escalation, the restart stays', () => {
    const file = join(stack.stateDir, 'lower-cap.env');
    writeFileSync(file, 'DOCKMEDIC_MEMORY_MAX_FACTOR=1.5\n');
    const out = runCli(stack, ['replay', '--host', stack.host, '--what-if', file, '--json']);
    assert.equal(out.code, 0, out.stderr);
    const r = json<WhatIfJson>(out);
    assert.deepEqual(r.settings.map((s) => s.variable), ['DOCKMEDIC_MEMORY_MAX_FACTOR']);
    const byContainer = (name: string) => r.incidents.find((i) => i.workflowId === stack.incidentId(`${stack.runId}-${name}`));
    assert.deepEqual([byContainer('oom')?.recorded.action, byContainer('oom')?.whatIf?.action, byContainer('oom')?.whatIf?.rule], ['raise_memory', 'escalate', 'oom-cap']);
    assert.equal(byContainer('exit-transient')?.changed, false);
    assert.equal(r.changed, 1);
    assert.deepEqual(r.groups.map((g) => g.sentence), ['1 OOM incident would have escalated instead of raising memory']);
  });

  it('nothing in the window: exit 0 at once, saying so, in both modes', () => {
    const none = `${stack.host}-none`;
    const started = Date.now();
    const r = json<ReplayJson>(runCli(stack, ['replay', '--host', none, '--json']));
    assert.deepEqual([r.total, r.failed], [0, 0]);
    const file = join(stack.stateDir, 'same.env');
    writeFileSync(file, '');
    const w = runCli(stack, ['replay', '--host', none, '--what-if', file]);
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stdout, /no closed incidents on host .*-none/);
    assert.ok(Date.now() - started < 20_000, 'the process ends when there is nothing to replay');
  });

  it('bad input changes nothing and exits 2 with a clear error', () => {
    const bad = join(stack.stateDir, 'bad.env');
    writeFileSync(bad, 'DOCKMEDIC_MEMORY_MAX_FACTOR=lots\n');
    const cases: [string[], RegExp][] = [
      [['replay', '--what-if', bad], /DOCKMEDIC_MEMORY_MAX_FACTOR:/],
      [['replay', '--since', 'yesterday'], /--since yesterday: expected a window/],
      [['replay', '--id', `incident-${stack.host}-nothing-here`], /no incident with id/],
      [['replay', '--workflows', join(stack.stateDir, 'missing.js')], /--workflows .*no such file/],
      // A module that is not workflow code (it imports Node built-ins) cannot be bundled for replay.
      [['replay', '--host', stack.host, '--workflows', join(repoRoot, 'dist', 'src', 'config', 'index.js')], /could not be loaded as workflow code/],
    ];
    for (const [args, message] of cases) {
      const out = runCli(stack, args);
      assert.equal(out.code, 2, `${args.join(' ')}: exit 2 (stderr: ${out.stderr})`);
      assert.match(out.stderr, message);
      assert.equal(out.stdout, '', `${args.join(' ')}: no report`);
    }
  });

  it('Temporal unreachable: exit 3, nothing checked (never 0 or 1, which a deploy gate reads as a verdict)', () => {
    const out = runCli(stack, ['replay', '--json'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(out.code, 3, out.stderr);
    assert.match(out.stderr, /nothing was checked: Temporal at 127\.0\.0\.1:1/);
    assert.equal((JSON.parse(out.stdout) as { error: { code: string } }).error.code, 'temporal_unavailable', 'the uniform --json error, no report');
  });
});
