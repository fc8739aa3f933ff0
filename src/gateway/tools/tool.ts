import type Docker from 'dockerode';
import type { ContainerInspectInfo } from 'dockerode';
import type { z } from 'zod';
import type { MemoryBoundsPolicy } from '../bounds';
import type { RequestContext } from '../context';
import type { Budget, ToolName } from '../../contract/gateway';
import type { GatewaySettings } from '../settings';
import type { SlackRuntime } from '../slack/slack-runtime';

/** What a tool handler may use: the engine, the request (for Docker timing) and the caps it must honour. */
export interface ToolEnv {
  docker: Docker;
  ctx: RequestContext;
  logTailMax: number;
  logBytesMax: number;
  bounds: MemoryBoundsPolicy;
  /** Drill containers: this gateway's host, the fixed image, extra labels (docs/architecture.md §6). */
  drill: GatewaySettings['drill'];
  /** The audit file, for drill_audit. */
  auditFile: string;
  /** Slack credentials, for post_slack_page; undefined when none are configured. */
  slack?: SlackRuntime | undefined;
}

/** A tool's result for the caller, and the small summary that goes into the audit record. */
export interface ToolOutcome {
  result: unknown;
  summary: Record<string, unknown>;
}

interface ToolBase<S extends z.ZodType> {
  name: ToolName;
  description: string;
  schema: S;
  mutating: boolean;
  /** Always charged to this budget instead of the agent's mutating window (the drill tools). */
  budget?: Budget;
}

/**
 * A gateway tool about one container, defined once: name, input schema (from
 * src/contract/gateway.ts), whether it mutates, what scope must find (an opted-in container, or
 * one of this host's drill containers), an optional bounds check that turns arguments into a
 * plan, and the handler.
 */
export interface ContainerTool<S extends z.ZodType = z.ZodType, P = unknown> extends ToolBase<S> {
  target?: 'container' | 'drill';
  /** Bounds step: refuse arguments the target's facts do not allow, or return what `execute` should do. */
  plan?: (args: z.output<S>, target: ContainerInspectInfo, env: ToolEnv) => P;
  execute: (args: z.output<S>, target: ContainerInspectInfo, plan: P, env: ToolEnv) => Promise<ToolOutcome>;
  /**
   * A call whose gateway process died holding its idempotency claim (docs/architecture.md §4):
   * how long the call could have run, and, from the target as Docker shows it now, its outcome
   * if it took effect after `claimedAtMs` (null: it did not, run it).
   */
  recover?: {
    afterMs: (args: z.output<S>) => number;
    tookEffect: (args: z.output<S>, target: ContainerInspectInfo, claimedAtMs: number) => ToolOutcome | null;
  };
}

/** A tool about no one container (create_drill_container, list_drill_containers): no scope step. */
export interface HostTool<S extends z.ZodType = z.ZodType> extends ToolBase<S> {
  target: 'none';
  execute: (args: z.output<S>, env: ToolEnv) => Promise<ToolOutcome>;
}

export type ToolDefinition = ContainerTool | HostTool;

/** Erase a tool's precise types so tools of different shapes share one registry. */
export function defineTool<S extends z.ZodType, P>(def: ContainerTool<S, P>): ToolDefinition {
  return def as unknown as ToolDefinition;
}

export function defineHostTool<S extends z.ZodType>(def: HostTool<S>): ToolDefinition {
  return def as unknown as ToolDefinition;
}
