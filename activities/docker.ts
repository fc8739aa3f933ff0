import { Context } from '@temporalio/activity';
import { isContainerRef } from '../src/contract/container';
import type { Budget, ContainerSummary, DependentsResult, LogsResult, MutationResult, ToolArgs, ToolName } from '../src/contract/gateway';
import { ListDependentsArgs } from '../src/contract/gateway';
import type { ActivityDeps } from './deps';
import { DEFAULT_ACTIVITY_SETTINGS } from './deps';
import { invalidActivityInput, toActivityFailure } from './errors';

/** A mutating call's result plus what the gateway said about it. */
export interface MutationOutcome extends MutationResult {
  requestId: string;
  /** True when the idempotency key returned a stored result (a retried activity): nothing ran twice. */
  replayed: boolean;
  idempotencyKey: string;
}

/** How a mutating activity is charged: a drill incident's calls go on the drill budget (docs/architecture.md §6). */
export interface MutateOptions {
  budget?: Budget;
}

/** The gateway's own check (ContainerRef), applied here too so a bad ref never leaves the worker. */
function checkRef(container: unknown): string {
  if (!isContainerRef(container)) {
    throw invalidActivityInput(`not a container name or id: ${String(JSON.stringify(container)).slice(0, 80)}`);
  }
  return container;
}

/** The workflow this activity runs for; dockmedic's activities only ever run inside incidents. */
export function workflowOf(): { workflowId: string; runId: string; namespace: string } {
  const info = Context.current().info;
  if (!info.workflowExecution || !info.workflowNamespace) throw invalidActivityInput('this activity only runs on behalf of a workflow');
  return { workflowId: info.workflowExecution.workflowId, runId: info.workflowExecution.runId, namespace: info.workflowNamespace };
}

/**
 * Stable across retries of one activity, distinct between activities and between incidents.
 * The run id is part of it because a container's incidents reuse one workflow id
 * (`incident-<host>-<name>`) and activity ids restart at 1 in every run: without it the second
 * incident's restart would get the first one's stored result from the gateway and never run.
 */
export function idempotencyKey(): string {
  const { workflowId, runId } = workflowOf();
  return `${workflowId}/${runId}/${Context.current().info.activityId}`;
}

/** Keep only dockmedic's own labels: other labels may be long or carry things that are not ours. */
function trimSummary(s: ContainerSummary): ContainerSummary {
  const labels = Object.fromEntries(Object.entries(s.labels ?? {}).filter(([k]) => k.startsWith('dockmedic.')));
  return { ...s, labels };
}

/** Keep the last lines, each and all of them bounded, so logs never bloat workflow history. */
export function truncateLogs(logs: LogsResult, limits: { maxLines: number; maxLineChars: number; maxChars: number }): LogsResult {
  let truncated = logs.truncated;
  let lines = logs.lines;
  if (lines.length > limits.maxLines) {
    lines = lines.slice(-limits.maxLines);
    truncated = true;
  }
  lines = lines.map((l) => {
    if (l.length <= limits.maxLineChars) return l;
    truncated = true;
    return `${l.slice(0, limits.maxLineChars - 1)}…`;
  });
  let total = lines.reduce((n, l) => n + l.length, 0);
  while (lines.length > 0 && total > limits.maxChars) {
    total -= (lines[0] ?? '').length;
    lines = lines.slice(1);
    truncated = true;
  }
  return { container: logs.container, lines, truncated, redactions: logs.redactions };
}

/** One signed gateway call on behalf of the current workflow; mutating calls carry the activity's idempotency key. */
export async function callGateway<T extends ToolName, R>(
  deps: ActivityDeps,
  tool: T,
  args: ToolArgs<T>,
  mutating: boolean,
  budget?: Budget,
): Promise<{ result: R; requestId: string; replayed: boolean; key?: string }> {
  const key = mutating ? idempotencyKey() : undefined;
  try {
    const res = await deps.gateway.call<T, R>(tool, args, {
      workflowId: workflowOf().workflowId,
      ...(budget ? { budget } : {}),
      ...(key ? { idempotencyKey: key } : {}),
      signal: Context.current().cancellationSignal,
    });
    return { ...res, ...(key ? { key } : {}) };
  } catch (err) {
    throw toActivityFailure(err, tool);
  }
}

/** Docker activities: each is one signed gateway call. */
export function createDockerActivities(deps: ActivityDeps) {
  const settings = { ...DEFAULT_ACTIVITY_SETTINGS, ...deps.settings };
  const call = <T extends ToolName, R>(tool: T, args: ToolArgs<T>, mutating: boolean, budget?: Budget) => callGateway<T, R>(deps, tool, args, mutating, budget);

  async function mutate(tool: 'restart_container' | 'start_container' | 'update_container_resources', args: ToolArgs<typeof tool>, opts: MutateOptions = {}): Promise<MutationOutcome> {
    if (opts.budget !== undefined && opts.budget !== 'drill') throw invalidActivityInput(`unknown budget ${String(opts.budget)}`);
    const res = await call<typeof tool, MutationResult>(tool, args, true, opts.budget);
    return { ...res.result, requestId: res.requestId, replayed: res.replayed, idempotencyKey: res.key ?? '' };
  }

  return {
    /** Docker's view of the container (labels trimmed to dockmedic's own). Read-only. */
    async inspectContainer(container: string): Promise<ContainerSummary> {
      const res = await call<'inspect_container', ContainerSummary>('inspect_container', { container: checkRef(container) }, false);
      return trimSummary(res.result);
    },

    /** The last `tail` log lines, redacted by the gateway and truncated here before they enter history. */
    async fetchLogs(container: string, tail: number): Promise<LogsResult> {
      if (!Number.isInteger(tail) || tail < 1 || tail > 10_000) throw invalidActivityInput(`tail must be an integer in 1..10000, got ${tail}`);
      const res = await call<'check_container_logs', LogsResult>('check_container_logs', { container: checkRef(container), tail }, false);
      return truncateLogs(res.result, { maxLines: settings.logMaxLines, maxLineChars: settings.logMaxLineChars, maxChars: settings.logMaxChars });
    },

    /** The containers to restart after this one (docs/architecture.md §3), opted in by the watcher's selector. Read-only. */
    async listDependents(container: string, selector: string[] = []): Promise<DependentsResult> {
      const args = ListDependentsArgs.safeParse({ container: checkRef(container), selector });
      if (!args.success) throw invalidActivityInput(`selector must be at most 16 key=value label pairs: ${args.error.issues[0]?.message ?? 'invalid'}`);
      const res = await call<'list_dependents', DependentsResult>('list_dependents', args.data, false);
      return res.result;
    },

    /** Restart the container once (idempotent across activity retries). */
    async restartContainer(container: string, opts?: MutateOptions): Promise<MutationOutcome> {
      return mutate('restart_container', { container: checkRef(container) }, opts);
    },

    /** Start a stopped container (after its memory limit was raised). */
    async startContainer(container: string, opts?: MutateOptions): Promise<MutationOutcome> {
      return mutate('start_container', { container: checkRef(container) }, opts);
    },

    /** Raise the memory limit; the gateway keeps the swap policy and enforces factor and ceiling. */
    async raiseMemory(container: string, memoryBytes: number, opts?: MutateOptions): Promise<MutationOutcome> {
      if (!Number.isSafeInteger(memoryBytes) || memoryBytes <= 0) throw invalidActivityInput(`memoryBytes must be a positive integer, got ${memoryBytes}`);
      return mutate('update_container_resources', { container: checkRef(container), memoryBytes }, opts);
    },
  };
}
