import { ApplicationFailure } from '@temporalio/common';
import { sleep } from '@temporalio/activity';
import type { ContainerSummary } from '../src/contract/gateway';
import type { EarlierIncident } from '../src/contract/incident';
import type { GatewayFailureDetails } from '../src/contract/failures';

/** What triage reads before the policy decides: the inspect, and the lookups it asked for. */
export interface TriageRequest {
  host: string;
  /** The container's name (visibility) and id (Docker). */
  container: string;
  containerId: string;
  /** This run, left out of both lookups. */
  excludeRunId: string;
  /** Count earlier OOM incidents in this window (an OOM trigger); absent = not asked. */
  oomWindowSeconds?: number;
  /** List incidents closed by a person (or nobody) in this window (the quiet period); absent = not asked. */
  quietSeconds?: number;
}

/** A lookup's answer, or why there is none: the workflow decides what a missing answer means. */
export type LookupOutcome<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };

export interface TriageResult {
  summary: ContainerSummary;
  oomCount?: LookupOutcome<number>;
  earlier?: LookupOutcome<EarlierIncident[]>;
}

/** The leaf reads triage is made of: the Docker and visibility activities' own functions. */
export interface TriageParts {
  inspectContainer(container: string): Promise<ContainerSummary>;
  countRecentOomIncidents(host: string, container: string, windowSeconds: number, excludeWorkflowRunId: string): Promise<number>;
  listQuietPeriodIncidents(host: string, container: string, windowSeconds: number, excludeWorkflowRunId: string): Promise<EarlierIncident[]>;
}

/** Attempts of one lookup inside the activity, and the pause before each retry. */
const LOOKUP_RETRY_DELAYS_MS = [200, 500];
/** A lookup that takes longer is given up on: it must not hold the inspect's answer back. */
const LOOKUP_TIMEOUT_MS = 5_000;

function outcomeOf(err: unknown): { code: string; message: string } {
  if (err instanceof ApplicationFailure) {
    const details = err.details?.[0] as Partial<GatewayFailureDetails> | undefined;
    return { code: details?.code ?? err.type ?? 'lookup_failed', message: err.message };
  }
  return { code: 'lookup_failed', message: err instanceof Error ? err.message : String(err) };
}

/**
 * One lookup with a short retry of its own. Its failure is returned, not thrown: a failed
 * lookup must not fail (and retry) the inspect beside it, and the workflow knows what a missing
 * count or list means (docs/architecture.md §3).
 */
async function lookup<T>(run: () => Promise<T>): Promise<LookupOutcome<T>> {
  let last: { code: string; message: string } = { code: 'lookup_failed', message: 'not tried' };
  for (let attempt = 0; attempt <= LOOKUP_RETRY_DELAYS_MS.length; attempt++) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(ApplicationFailure.create({ type: 'LookupTimeout', message: `no answer within ${LOOKUP_TIMEOUT_MS / 1000}s` })), LOOKUP_TIMEOUT_MS);
    });
    try {
      return { ok: true, value: await Promise.race([run(), timeout]) };
    } catch (err) {
      last = outcomeOf(err);
      if (err instanceof ApplicationFailure && err.nonRetryable) return { ok: false, error: last };
    } finally {
      clearTimeout(timer);
    }
    const delay = LOOKUP_RETRY_DELAYS_MS[attempt];
    if (delay !== undefined) await sleep(delay);
  }
  return { ok: false, error: last };
}

/**
 * Triage's reads as one activity (issue 11, docs/architecture.md §3): the inspect and the
 * visibility lookups run side by side and the workflow wakes once, when all are in, instead of
 * once per read. The inspect's failure is the activity's failure (typed, retried by its policy).
 */
export function createTriageActivities(parts: TriageParts) {
  return {
    async triage(req: TriageRequest): Promise<TriageResult> {
      const { host, container, excludeRunId, oomWindowSeconds, quietSeconds } = req;
      const oomCount = oomWindowSeconds === undefined ? undefined : lookup(() => parts.countRecentOomIncidents(host, container, oomWindowSeconds, excludeRunId));
      const earlier = quietSeconds === undefined ? undefined : lookup(() => parts.listQuietPeriodIncidents(host, container, quietSeconds, excludeRunId));
      const summary = await parts.inspectContainer(req.containerId);
      return {
        summary,
        ...(oomCount ? { oomCount: await oomCount } : {}),
        ...(earlier ? { earlier: await earlier } : {}),
      };
    },
  };
}
