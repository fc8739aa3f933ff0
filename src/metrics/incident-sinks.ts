import type { InjectedSinks } from '@temporalio/worker';
import type { IncidentMetricsSinks } from '../contract/metrics-sinks';
import { mttrMs } from '../audit/export-record';
import type { ProcessMetrics } from './process-metrics';

/**
 * The worker's side of the incident workflow's metrics sink (docs/architecture.md §9). Not called
 * during replay: an incident counts once, when its close is first decided. Every worker that runs
 * the incident workflow registers it (without metrics it does nothing), since a call to a sink no
 * worker knows is logged as an error. Drills are not counted: their own scoring measures them.
 */
export function incidentMetricsSinks(metrics?: ProcessMetrics): InjectedSinks<IncidentMetricsSinks> {
  return {
    incidentMetrics: {
      closed: {
        fn: (_info, input, state) => {
          if (!metrics || input.drill !== undefined || state.outcome === undefined) return;
          metrics.incidentClosed({ failure: state.decision?.failure, decision: state.finalAction ?? state.decision?.action, outcome: state.outcome, mttrMs: mttrMs(state, input) });
        },
        callDuringReplay: false,
      },
    },
  };
}
