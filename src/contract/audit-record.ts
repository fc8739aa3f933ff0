import { z } from 'zod';
import { Proposal } from './diagnosis';
import { IncidentInputSchema, ObservationSchema, ResponseSchema } from './incident-input';
import { ACTIONS, FAILURE_KINDS } from './policy';

/**
 * Incident audit records (docs/architecture.md §6): what `dockmedic audit export` writes and
 * `dockmedic audit analyze` reads, and the reference system's format that the analyzer reads
 * too. The export is a superset of the reference format: a reader of the reference format can
 * read ours, and ours carries the facts, the policy settings and the gateway's own record of
 * every call, so it can be scored by effect.
 */

export const AUDIT_RECORD_FORMAT = 'dockmedic.audit/v1';

const OUTCOMES = ['auto_resolved', 'escalated', 'resolved_by_human', 'rejected', 'approved', 'unacknowledged', 'ignored', 'failed', 'container_gone', 'suppressed', 'shadow'] as const;

/** One turn of the reference format's decision chain; the role labels are unreliable there. */
export const ChainTurnSchema = z.object({
  timestamp: z.string(),
  content: z.string(),
  role: z.string(),
});

/** The reference system's record (seed-audit/before-fixes). Extra fields are kept, not refused. */
export const ReferenceRecordSchema = z.looseObject({
  timestamp: z.string(),
  incident_id: z.string().min(1),
  agent_id: z.string(),
  alert: z.looseObject({ description: z.string(), container_id: z.string(), status: z.string() }),
  decision_chain: z.array(ChainTurnSchema),
  resolved: z.boolean(),
});
export type ReferenceRecord = z.output<typeof ReferenceRecordSchema>;

const FactsSchema = z.object({
  optedIn: z.boolean(),
  stackMember: z.boolean(),
  oomKilled: z.boolean(),
  exitCode: z.number().int().nullable(),
  restarting: z.boolean(),
  deathsInWindow: z.number().int().min(0),
  health: z.enum(['healthy', 'unhealthy', 'starting']).nullable(),
  operatorStop: z.boolean(),
  running: z.boolean(),
  memoryBytes: z.number().int().min(0),
  priorOomIncidents: z.number().int().min(0),
  recurrenceAfterAction: z.boolean(),
});

const DecisionSchema = z.object({
  action: z.enum(ACTIONS),
  failure: z.enum(FAILURE_KINDS),
  rule: z.string(),
  expected: z.string(),
  reason: z.string(),
  newMemoryBytes: z.number().int().positive().optional(),
});

/** A structured decision-chain turn: a tool call as the workflow recorded it (absent for the other turns). */
const ExportTurnSchema = ChainTurnSchema.extend({
  tool: z.string().optional(),
  arguments: z.record(z.string(), z.unknown()).optional(),
  ok: z.boolean().optional(),
  result: z.unknown().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  approved_by: z.string().optional(),
});

/** One call as the gateway audited it (or, when its audit could not be read, as the workflow recorded it). */
export const ExportToolSchema = z.object({
  name: z.string(),
  arguments: z.record(z.string(), z.unknown()),
  verdict: z.enum(['allowed', 'refused']),
  code: z.string().nullable(),
  result: z.unknown(),
  time: z.string(),
  replayed: z.boolean(),
  mutating: z.boolean(),
  approved_by: z.string().nullable(),
  /** A mutating call's idempotency key: the gateway records of one logical call (its retries) share it. */
  idempotency_key: z.string().nullable(),
});
export type ExportTool = z.output<typeof ExportToolSchema>;

export const ExportRecordSchema = ReferenceRecordSchema.extend({
  format: z.literal(AUDIT_RECORD_FORMAT),
  run_id: z.string().min(1),
  host: z.string(),
  container: z.string(),
  container_id: z.string(),
  closed_at: z.string().nullable(),
  decision_chain: z.array(ExportTurnSchema),
  decision: DecisionSchema.extend({ final_action: z.enum(ACTIONS) }).nullable(),
  decision_history: z.array(DecisionSchema),
  outcome: z.enum(OUTCOMES).nullable(),
  policy_rule: z.string().nullable(),
  policy: IncidentInputSchema.shape.policy,
  facts: FactsSchema.nullable(),
  trigger: ObservationSchema,
  observations: z.array(ObservationSchema),
  llm_proposal: Proposal.nullable(),
  /** Whether the gate weighed the proposal (docs/architecture.md §2); null without a diagnosis. */
  llm_weighed: z.boolean().nullable(),
  responses: z.array(ResponseSchema),
  /** Where `tools` comes from: the gateway's audit log (effect) or, when it could not be read, the workflow's decision chain. */
  tools_source: z.enum(['gateway_audit', 'decision_chain']),
  tools: z.array(ExportToolSchema),
  mttr_ms: z.number().int().min(0).nullable(),
  drill: z.boolean(),
  /** Shadow mode: what would have been done (docs/architecture.md §3); null when the incident acted or ignored. */
  would_do: z
    .object({
      action: z.enum(ACTIONS),
      calls: z.array(z.object({ tool: z.string(), args: z.record(z.string(), z.unknown()) })),
      page: z.object({ levelName: z.string(), reason: z.string() }).optional(),
    })
    .nullable()
    .default(null),
});
export type ExportRecord = z.output<typeof ExportRecordSchema>;
export type ExportOutcome = (typeof OUTCOMES)[number];
