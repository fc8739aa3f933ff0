import { ApplicationFailure } from '@temporalio/workflow';
import { FAILURE_TYPES } from '../src/contract/failures';
import type { IncidentInput } from '../src/contract/incident';
import { incidentInputProblems } from '../src/contract/incident-input';

/**
 * Bad input fails the workflow at once with a typed, non-retryable failure: a bare throw would
 * fail the workflow task and retry it forever.
 */
export function validateInput(input: IncidentInput): void {
  const problems = incidentInputProblems(input);
  if (problems.length > 0) {
    throw ApplicationFailure.nonRetryable(`invalid incident input: ${problems.join(', ')}`, FAILURE_TYPES.invalidIncident);
  }
}
