/**
 * Replay of saved incident histories against the current workflow code: any nondeterministic
 * change (reordered activities, a new timer, a removed signal handler…) fails here before it
 * can break incidents that are open in production. Record new histories with
 * `DOCKMEDIC_RECORD_HISTORIES=1 node --test dist/test/workflows/`.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { HistoryAndWorkflowId } from '@temporalio/client';
import { DeterminismViolationError } from '@temporalio/workflow';
import type { ReplayResult } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import { quietRuntime, workflowBundle } from './harness';
import { historyFromJson } from './history-json';
import { incidentMetricsSinks } from '../../src/metrics/incident-sinks';

/** Source directory (the JSON files are not copied to dist). */
const HISTORIES_DIR = resolve(__dirname, '../../../test/workflows/histories');

function histories(): HistoryAndWorkflowId[] {
  return readdirSync(HISTORIES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ workflowId: f.replace(/\.json$/, ''), history: historyFromJson(JSON.parse(readFileSync(join(HISTORIES_DIR, f), 'utf8'))) }));
}

async function replayAll(options: Parameters<typeof Worker.runReplayHistories>[0]): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  for await (const r of Worker.runReplayHistories({ sinks: incidentMetricsSinks(), ...options }, histories())) results.push(r);
  return results;
}

// Replay needs no server, only the SDK runtime (quiet: no per-worker INFO lines).
before(() => quietRuntime());

void describe('replay of saved incident histories', () => {
  void it('has histories for the main paths (resolved, recurrence, ladder answers, advisor mode)', () => {
    const names = histories().map((h) => h.workflowId);
    for (const needed of ['oom-raise', 'exit-restart-resolved', 'exit-recurrence', 'unhealthy-restart-resolved', 'ladder-silence-unacknowledged', 'ladder-ack-resolve', 'ladder-approve-restart', 'ladder-reject', 'llm-exit-agrees', 'llm-crashloop-restart-proposed', 'llm-injection-disregarded', 'llm-timeout-policy-decides']) {
      assert.ok(names.includes(needed), `missing history ${needed}.json in ${HISTORIES_DIR}`);
    }
  });

  void it('the current workflow code replays every saved history without nondeterminism', async () => {
    const results = await replayAll({ workflowBundle: await workflowBundle(), replayName: 'dockmedic-replay-test' });
    assert.equal(results.length, histories().length);
    for (const r of results) assert.equal(r.error, undefined, `${r.workflowId}: ${r.error?.message}`);
  });

  void it('a changed workflow is caught: every history fails to replay with a determinism violation', async () => {
    const results = await replayAll({ workflowsPath: require.resolve('./fixtures/changed-workflows'), replayName: 'dockmedic-replay-negative' });
    assert.equal(results.length, histories().length);
    for (const r of results) assert.ok(r.error instanceof DeterminismViolationError, `${r.workflowId}: expected a determinism violation, got ${String(r.error)}`);
  });
});
