import type { Sinks } from '@temporalio/workflow';
import type { IncidentInput, IncidentState } from './incident';

/**
 * What an incident tells its worker's metrics when it closes (docs/architecture.md §9). A sink
 * call issues no command and is not made again when history replays, so counting closed
 * incidents here changes nothing a saved history records. The worker turns the state into
 * labels of fixed sets only (src/metrics/incident-sinks.ts).
 */
export interface IncidentMetricsSinks extends Sinks {
  incidentMetrics: {
    closed(input: IncidentInput, state: IncidentState): void;
  };
}
