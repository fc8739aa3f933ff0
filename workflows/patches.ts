/**
 * Patch ids of the incident workflow (`patched()`), one per change that would make running
 * incidents' histories stop replaying. Never rename or remove one while histories that predate
 * it may still replay (test/workflows/histories keep the old path tested).
 */
export const PATCHES = {
  /** An OOM trigger's recurrence count runs beside the triage inspect (issue 11). */
  oomCountBesideInspect: 'oom-count-beside-inspect',
  /** After a restart or start, the container's opted-in dependents are restarted (issue 10). */
  restartDependents: 'restart-dependents',
  /** A removed or replaced container ends its incident as container_gone (issue 12). */
  containerGone: 'container-gone',
  /** Within the quiet period the same failure neither pages nor acts (issue 12). */
  quietPeriod: 'quiet-period',
  /** The inspects of the verify phase retry for up to two minutes (issue 12). */
  verifyReadRetry: 'verify-read-retry',
  /** Triage's inspect and lookups run as one activity: one workflow task fewer before acting (issue 11). */
  triageInOne: 'triage-in-one',
} as const;
