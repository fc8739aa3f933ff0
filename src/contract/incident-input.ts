import { z } from 'zod';
import { CONTAINER_REF_PATTERN, bareName } from './container';
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

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const positive = z.number().finite().positive();
const wholeSeconds = z.number().int().min(1);
const health = z.enum(['healthy', 'unhealthy', 'starting']);

/** A Docker event as the watcher signals it. Anything else is dropped by the workflow, never thrown on. */
export const ObservationSchema = z.object({
  kind: z.enum(OBSERVATION_KINDS),
  time: z.string().max(64),
  exitCode: z.number().int().optional(),
  health: health.optional(),
  deathsInWindow: z.number().int().optional(),
  operatorStop: z.boolean().optional(),
});

/** A person's answer as `respond` sends it. */
export const ResponseSchema = z.object({
  action: z.enum(RESPONSE_ACTIONS),
  by: z.string().min(1).max(INCIDENT_LIMITS.responseByChars),
  comment: z.string().max(INCIDENT_LIMITS.responseCommentChars).optional(),
  at: z.string().max(64),
});

const PolicyConfigSchema = z.object({
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
    maxTurns: z.number().int().min(INCIDENT_LIMITS.llmMaxTurns.min).max(INCIDENT_LIMITS.llmMaxTurns.max),
    timeoutSeconds: z.number().finite().positive().max(INCIDENT_LIMITS.llmTimeoutSeconds.max).optional(),
  }),
]);

/** The incident workflow's start argument: checked once, by this schema, before anything runs. */
export const IncidentInputSchema = z.object({
  host: z.string().regex(NAME),
  container: z.string().refine((s) => NAME.test(bareName(s))),
  containerId: z.string().regex(CONTAINER_REF_PATTERN),
  trigger: ObservationSchema,
  policy: PolicyConfigSchema,
  escalation: z.object({
    ladder: z
      .array(z.object({ name: z.string().min(1).max(INCIDENT_LIMITS.ladderLevelName.max), timeoutSeconds: wholeSeconds }))
      .min(1),
    resolveTimeoutSeconds: wholeSeconds,
  }),
  llm: LlmSettingsSchema,
  uiUrl: z.string().max(INCIDENT_LIMITS.uiUrlChars).optional(),
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
