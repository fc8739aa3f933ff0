import { z } from 'zod';
import { ContainerRef, LabelPair } from './container';
import { CreateDrillContainerArgs, DrillContainerArgs, DrillContainerEventsArgs, ListDrillContainersArgs } from './drill';
import { PostSlackPageArgs } from './slack';

/**
 * The gateway's wire contract, shared by the server, the signing client, the CLI and tests.
 * Tools are called as `POST /v1/tools/<name>` with body `{ "args": {...}, "workflowId"?: "..." }`.
 * LLM requests go to `POST /llm/v1/chat/completions`.
 */

export const InspectContainerArgs = z.object({ container: ContainerRef }).strict();
export const CheckContainerLogsArgs = z
  .object({
    container: ContainerRef,
    tail: z.number().int().min(1).max(10_000).default(100),
  })
  .strict();
export const RestartContainerArgs = z.object({ container: ContainerRef, timeoutSeconds: z.number().int().min(0).max(300).default(10) }).strict();
export const StartContainerArgs = z.object({ container: ContainerRef }).strict();
export const UpdateContainerResourcesArgs = z
  .object({
    container: ContainerRef,
    /** The new memory limit in bytes; swap is adjusted by the gateway to keep its policy. */
    memoryBytes: z.number().int().positive().max(2 ** 50),
  })
  .strict();
/**
 * The containers that depend on one (docs/architecture.md §3, dependents): `selector` is the
 * watcher's own label selector, so "opted in" means what it means to the watcher.
 */
export const ListDependentsArgs = z.object({ container: ContainerRef, selector: z.array(LabelPair).max(16).default([]) }).strict();

export const TOOL_ARGS = {
  inspect_container: InspectContainerArgs,
  check_container_logs: CheckContainerLogsArgs,
  restart_container: RestartContainerArgs,
  start_container: StartContainerArgs,
  update_container_resources: UpdateContainerResourcesArgs,
  list_dependents: ListDependentsArgs,
  create_drill_container: CreateDrillContainerArgs,
  remove_drill_container: DrillContainerArgs,
  stop_drill_container: DrillContainerArgs,
  list_drill_containers: ListDrillContainersArgs,
  drill_container_events: DrillContainerEventsArgs,
  drill_audit: DrillContainerArgs,
  post_slack_page: PostSlackPageArgs,
} as const;
export type ToolName = keyof typeof TOOL_ARGS;
export type ToolArgs<T extends ToolName> = z.input<(typeof TOOL_ARGS)[T]>;
export const MUTATING_TOOLS: ReadonlySet<ToolName> = new Set([
  'restart_container',
  'start_container',
  'update_container_resources',
  'create_drill_container',
  'remove_drill_container',
  'stop_drill_container',
]);

/**
 * Which budget a mutating call is charged to (docs/architecture.md §6). `drill`: the drill
 * windows instead of the agent's mutating window, so drills never use up what real incidents
 * need; the gateway refuses it (not_a_drill_container) unless the target carries the drill label.
 */
export const Budget = z.enum(['drill']);
export type Budget = z.infer<typeof Budget>;

/** Body of a tool call. `workflowId` is signed with the rest and lands in the audit record. */
export const ToolRequestBody = z
  .object({
    args: z.unknown(),
    workflowId: z.string().max(256).optional(),
    budget: Budget.optional(),
  })
  .strict();

/** What inspect_container returns: the facts the policy needs, nothing secret (no env, no mounts). */
export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  status: string;
  running: boolean;
  restarting: boolean;
  oomKilled: boolean;
  exitCode: number;
  health: 'healthy' | 'unhealthy' | 'starting' | null;
  restartCount: number;
  restartPolicy: string;
  startedAt: string;
  finishedAt: string;
  memoryBytes: number;
  memorySwapBytes: number;
}

/** Why a container depends on another: it shares its network namespace, or says so by label. */
export type DependencyKind = 'network' | 'label';

export interface Dependent {
  id: string;
  name: string;
  via: DependencyKind[];
  /** Carries dockmedic.enable=true and every pair of the selector, and is not part of the stack. */
  optedIn: boolean;
}

/** What list_dependents returns: the container's dependents, by name (a stable order). */
export interface DependentsResult {
  container: string;
  dependents: Dependent[];
  /** More dependents than the tool returns (DEPENDENTS_MAX); the rest are not listed. */
  truncated: boolean;
}
export const DEPENDENTS_MAX = 32;

export interface LogsResult {
  container: string;
  lines: string[];
  truncated: boolean;
  redactions: number;
}

export interface MutationResult {
  container: string;
  action: 'restart' | 'start' | 'update_resources' | 'stop';
  /** State after the call, as Docker reports it. */
  after: Pick<ContainerSummary, 'status' | 'running' | 'restartCount' | 'memoryBytes' | 'memorySwapBytes'>;
  before?: Pick<ContainerSummary, 'memoryBytes' | 'memorySwapBytes'>;
}

/** Every refusal the gateway can give, with its HTTP status. Codes are stable: scripts match on them. */
export const REFUSALS = {
  missing_header: 401,
  malformed_header: 401,
  unknown_key: 401,
  key_retired: 401,
  bad_signature: 401,
  timestamp_stale: 401,
  timestamp_future: 401,
  replayed_nonce: 409,
  /** A Slack click whose signature was seen before (docs/architecture.md §3). */
  replayed_request: 401,
  rate_limited: 429,
  store_unavailable: 503,
  body_too_large: 413,
  /** The client closed the connection (or the body stream failed) before the whole body arrived. */
  body_incomplete: 400,
  malformed_json: 400,
  invalid_arguments: 400,
  unknown_tool: 404,
  not_found: 404,
  method_not_allowed: 405,
  container_not_found: 404,
  container_not_opted_in: 403,
  container_protected: 403,
  /** A mutating call from an agent this gateway holds in shadow mode: decided, recorded, never executed. */
  agent_in_shadow_mode: 403,
  /** A drill tool, or a call on the drill budget, named a container that is not one of this host's drills. */
  not_a_drill_container: 403,
  /** create_drill_container found a container of that name that is not this drill's. */
  drill_container_conflict: 409,
  /** A mutating call about a drill container, not on the drill budget. */
  drill_budget_required: 403,
  /** The drill image is not on this engine. */
  drill_image_missing: 503,
  memory_not_raised: 422,
  memory_factor_exceeded: 422,
  memory_above_ceiling: 422,
  memory_unlimited: 422,
  idempotency_in_progress: 409,
  idempotency_conflict: 422,
  llm_not_configured: 503,
  llm_upstream_error: 502,
  /** The LLM upstream answered 429 (provider quota); Retry-After is passed on. */
  llm_upstream_rate_limited: 429,
  /** The LLM upstream did not answer in time (DOCKMEDIC_LLM_TIMEOUT_SECONDS). */
  llm_upstream_timeout: 504,
  /** The LLM upstream refused the request itself (4xx other than 408/429): retrying it cannot help. */
  llm_upstream_rejected: 422,
  /** Slack buttons or pages asked of a gateway without the Slack settings they need. */
  slack_not_configured: 503,
  /** Slack did not take a page (chat.postMessage said not ok, the webhook refused, or neither answered). */
  slack_delivery_failed: 502,
  docker_error: 502,
  internal_error: 500,
} as const;
export type RefusalCode = keyof typeof REFUSALS;

/** JSON body of every refusal. */
export interface RefusalBody {
  error: { code: RefusalCode; message: string; retryAfterSeconds?: number };
  requestId: string;
}

/** JSON body of a successful tool call. `replayed` is true when an idempotency key returned a stored result. */
export interface ToolResponseBody<R = unknown> {
  result: R;
  requestId: string;
  replayed: boolean;
}

