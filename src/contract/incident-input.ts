import { z } from 'zod';
import { CONTAINER_REF_PATTERN, LabelPair, bareName } from './container';
import { DrillId } from './drill';
import type { Observation, Response } from './incident';
import { OBSERVATION_KINDS, RESPONSE_ACTIONS } from './incident';

/**
 * The limits an incident's input must respect. The config schema (src/config/schema.ts) takes
 * its bounds from here, so a value the workflow would refuse stops the process at start-up,
 * naming the variable, instead of failing every incident.
 */
export const INCIDENT_LIMITS = {
  llmMaxTurns: { min: 1, max: 20 },
  llmTimeoutSeconds: { min: 1, max: 600 },
  ladderLevelName: { max: 64 },
  uiUrlChars: 512,
  responseByChars: 64,
  responseCommentChars: 2000,
} as const;

const positive = z.number().finite().positive();
/** Any integer, as `Number.isInteger` says (zod's `.int()` stops at 2^53 − 1). */
const integer = z.number().refine(Number.isInteger, 'expected an integer');
const wholeSeconds = integer.refine((n) => n >= 1, 'expected at least 1');
/** At most `n` UTF-16 code units, as `String.length` counts (zod's `.max()` counts characters). */
const text = (n: number) => z.string().refine((s) => s.length <= n, `expected at most ${n} characters`);
const health = z.enum(['healthy', 'unhealthy', 'starting']);

/** A Docker event as the watcher signals it. Anything else is dropped by the workflow, never thrown on. */
export const ObservationSchema = z.object({
  kind: z.enum(OBSERVATION_KINDS),
  time: text(64),
  exitCode: integer.optional(),
  health: health.optional(),
  deathsInWindow: integer.optional(),
  operatorStop: z.boolean().optional(),
  containerId: z.string().regex(CONTAINER_REF_PATTERN).optional(),
});

/** A person's answer as `respond` sends it. */
export const ResponseSchema = z.object({
  action: z.enum(RESPONSE_ACTIONS),
  by: text(INCIDENT_LIMITS.responseByChars).refine((s) => s.length > 0, 'expected a name'),
  comment: text(INCIDENT_LIMITS.responseCommentChars).optional(),
  at: text(64),
});

/** The policy settings an incident was decided under (also read back from history by `replay --what-if`). */
export const PolicyConfigSchema = z.object({
  memoryFactor: positive,
  memoryMaxFactor: positive,
  memoryCeilingBytes: positive,
  oomRecurrenceCount: positive,
  oomRecurrenceWindowSeconds: positive,
  crashLoopDeaths: positive,
  crashLoopWindowSeconds: positive,
  stabilizationSeconds: positive,
});

const LlmSettingsSchema = z.union([
  z.object({ enabled: z.literal(false) }).loose(),
  z.object({
    enabled: z.literal(true),
    maxTurns: integer.refine((n) => n >= INCIDENT_LIMITS.llmMaxTurns.min && n <= INCIDENT_LIMITS.llmMaxTurns.max, 'outside the turn budget limits'),
    timeoutSeconds: z.number().finite().positive().max(INCIDENT_LIMITS.llmTimeoutSeconds.max).optional(),
  }),
]);

/** The incident workflow's start argument: checked once, by this schema, before anything runs. */
export const IncidentInputSchema = z.object({
  host: z.string().regex(CONTAINER_REF_PATTERN),
  container: z.string().refine((s) => CONTAINER_REF_PATTERN.test(bareName(s))),
  containerId: z.string().regex(CONTAINER_REF_PATTERN),
  trigger: ObservationSchema,
  policy: PolicyConfigSchema,
  escalation: z.object({
    ladder: z
      .array(z.object({ name: text(INCIDENT_LIMITS.ladderLevelName.max).refine((s) => s.length > 0, 'expected a name'), timeoutSeconds: wholeSeconds }))
      .min(1),
    resolveTimeoutSeconds: wholeSeconds,
    repageQuietSeconds: z.number().int().min(0).max(30 * 86_400).optional(),
  }),
  llm: LlmSettingsSchema,
  uiUrl: text(INCIDENT_LIMITS.uiUrlChars).optional(),
  drill: DrillId.optional(),
  watchSelector: z.array(LabelPair).max(16).optional(),
  mode: z.literal('shadow').optional(),
});

/** The paths of the input that are wrong (e.g. `llm.maxTurns`), or an empty list when it is valid. */
export function incidentInputProblems(input: unknown): string[] {
  const result = IncidentInputSchema.safeParse(input);
  if (result.success) return [];
  return [...new Set(result.error.issues.map((i) => i.path.map(String).join('.') || '(input)'))];
}

export function isObservation(o: unknown): o is Observation {
  return ObservationSchema.safeParse(o).success;
}

export function isResponse(r: unknown): r is Response {
  return ResponseSchema.safeParse(r).success;
}
