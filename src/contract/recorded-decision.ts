import { z } from 'zod';
import { PolicyConfigSchema } from './incident-input';
import type { Decision, Facts, PolicyConfig } from './policy';
import { ACTIONS, FAILURE_KINDS } from './policy';

/**
 * What a closed incident's history says it decided, and from what: the policy settings of its
 * input and the facts and decision of its final state (the workflow's result). `replay --what-if`
 * reads these back from Temporal, so they are checked here like any other boundary.
 */

const count = z.number().int().min(0);

export const FactsSchema = z.object({
  optedIn: z.boolean(),
  stackMember: z.boolean(),
  oomKilled: z.boolean(),
  exitCode: z.number().int().nullable(),
  restarting: z.boolean(),
  deathsInWindow: count,
  health: z.enum(['healthy', 'unhealthy', 'starting']).nullable(),
  operatorStop: z.boolean(),
  running: z.boolean(),
  memoryBytes: count,
  priorOomIncidents: count,
  recurrenceAfterAction: z.boolean(),
}) satisfies z.ZodType<Facts>;

export const DecisionSchema = z.object({
  action: z.enum(ACTIONS),
  failure: z.enum(FAILURE_KINDS),
  rule: z.string(),
  expected: z.enum(['auto_resolved', 'escalated', 'ignored']),
  reason: z.string(),
  newMemoryBytes: count.optional(),
}) satisfies z.ZodType<Decision>;

/** The part of the incident's input a re-decision needs. */
export const RecordedInputSchema = z.object({ policy: PolicyConfigSchema satisfies z.ZodType<PolicyConfig> });

/** The part of the incident's final state a re-decision needs; facts are absent when the container was never inspected. */
export const RecordedStateSchema = z.object({
  facts: FactsSchema.optional(),
  decision: DecisionSchema.optional(),
  decisionHistory: z.array(DecisionSchema).optional(),
  /** Absent in histories recorded before the state kept it: their earlier decisions have no facts. */
  decisionHistoryFacts: z.array(FactsSchema.nullable()).optional(),
  outcome: z.string().optional(),
  container: z.string(),
});
