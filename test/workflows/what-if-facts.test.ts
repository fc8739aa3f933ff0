/**
 * The facts behind every decision an incident makes are in its recorded state, so
 * `replay --what-if` can re-decide the first decision of an incident that recurred, not only its
 * last one. Runs the OOM-recurrence path on the time-skipping server, reads its history back the
 * way the CLI does, and re-decides it under a lower memory cap.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { observeSignal } from '../../src/contract/signals';
import { loadConfig } from '../../src/config';
import { isRecorded, recordedDecision } from '../../src/replay/recorded';
import { reDecide } from '../../src/replay/what-if';
import { MiB, STATES, T0, container, incidentInput, obs, runIncident, startEnv, waitForPhase } from './harness';

/** A time this many seconds after the harness's T0. */
const at = (seconds: number): string => new Date(Date.parse(T0) + seconds * 1000).toISOString();

/** One test, one time-skipping server: started here and always torn down. */
async function withEnv(run: (env: TestWorkflowEnvironment) => Promise<void>): Promise<void> {
  const env = await startEnv();
  try {
    await run(env);
  } finally {
    await env.teardown();
  }
}

void describe('recorded facts of earlier decisions', () => {
  void it('an OOM that recurred after the raise: the raise is re-decided from its own facts and would have escalated under a lower cap', () =>
    withEnv(async (env) => {
      const { state, handle } = await runIncident(env, {
        input: incidentInput(obs.oom()),
        script: { inspect: [STATES.oomKilled, container({ ...STATES.oomKilled, memoryBytes: 64 * MiB })] },
        during: async (h) => {
          await waitForPhase(h, 'verify');
          await env.sleep('30s');
          await h.signal(observeSignal, obs.oom({ time: at(30) }));
        },
      });
      assert.deepEqual(state.decisionHistory?.map((d) => d.rule), ['oom-raise']);
      const first = state.decisionHistoryFacts?.[0];
      assert.equal(first?.memoryBytes, 32 * MiB, 'the raise was decided on the limit before it');
      assert.equal(first?.recurrenceAfterAction, false);
      assert.equal(state.facts?.recurrenceAfterAction, true, 'the final facts are those after the recurrence');

      const h = await handle.describe();
      const r = recordedDecision({ workflowId: h.workflowId, runId: h.runId, status: h.status.name, closedAt: null, history: await handle.fetchHistory() });
      assert.ok(isRecorded(r));
      const same = reDecide(r, r.policy);
      assert.equal(same.changed, false);
      assert.equal(same.step, 1, 'under the same settings every decision stands, up to the last');
      const lower = reDecide(r, loadConfig({ DOCKMEDIC_MEMORY_MAX_FACTOR: '1.5' }).policy);
      assert.deepEqual([lower.changed, lower.step, lower.recorded.rule, lower.whatIf?.rule], [true, 0, 'oom-raise', 'oom-cap']);
    }));
});
