import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import type { IncidentHistory } from './incident-histories';
import { incidentMetricsSinks } from '../metrics/incident-sinks';

/** How one recorded run replayed against the workflow code. */
export interface ReplayVerdict {
  workflowId: string;
  runId: string;
  ok: boolean;
  /** `nondeterminism` when the code no longer makes the recorded commands; `replay_error` for anything else that stopped the replay. */
  kind?: 'nondeterminism' | 'replay_error';
  /** The first line of the SDK's error (the rest is a stack or event dump). */
  error?: string;
}

/**
 * The line a person needs: the core's own failure message (`[TMPRL1100] Nondeterminism error:
 * Timer machine does not handle this event: …`) when the SDK wrapped it in its explanation and a
 * debug dump, else the first line of the error.
 */
export function errorLine(text: string): string {
  const inner = /message: "((?:[^"\\]|\\.)*)"/.exec(text)?.[1];
  if (inner) return inner;
  return (text.split('\n').find((l) => l.trim() !== '') ?? text).trim();
}

/**
 * Replay every history against the workflow module at `workflowsPath` with
 * `Worker.runReplayHistories` (docs/architecture.md §7, convention 10): no server and no
 * activities, only the recorded events. A history fails when the code would issue different
 * commands than those recorded. The bundle is built once for the whole batch.
 */
export async function replayHistories(histories: IncidentHistory[], workflowsPath: string, progress: (done: number) => void = () => undefined): Promise<ReplayVerdict[]> {
  const verdicts: ReplayVerdict[] = [];
  if (histories.length === 0) return verdicts;
  const input = histories.map((h) => ({ workflowId: h.workflowId, history: h.history }));
  for await (const r of Worker.runReplayHistories({ workflowsPath, replayName: 'dockmedic-replay', sinks: incidentMetricsSinks() }, input)) {
    const err = r.error;
    verdicts.push(
      err
        ? { workflowId: r.workflowId, runId: r.runId, ok: false, kind: err instanceof DeterminismViolationError ? 'nondeterminism' : 'replay_error', error: errorLine(err.message) }
        : { workflowId: r.workflowId, runId: r.runId, ok: true },
    );
    progress(verdicts.length);
  }
  return verdicts;
}
