import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { IncidentState, Observation, Response } from './incident';

/**
 * An incident's signals and query, declared once and used as the same objects by the workflow,
 * the watcher, the CLI and the tests (docs/architecture.md §7 rule 1).
 */
export const observeSignal = defineSignal<[Observation]>('observe');
export const respondSignal = defineSignal<[Response]>('respond');
export const stateQuery = defineQuery<IncidentState>('state');
