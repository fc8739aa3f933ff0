import type Docker from 'dockerode';
import type { ContainerInspectInfo } from 'dockerode';
import type { z } from 'zod';
import type { MemoryBoundsPolicy } from '../bounds';
import type { RequestContext } from '../context';
import type { ToolName } from '../../contract/gateway';

/** What a tool handler may use: the engine, the request (for Docker timing) and the caps it must honour. */
export interface ToolEnv {
  docker: Docker;
  ctx: RequestContext;
  logTailMax: number;
  logBytesMax: number;
  bounds: MemoryBoundsPolicy;
}

/** A tool's result for the caller, and the small summary that goes into the audit record. */
export interface ToolOutcome {
  result: unknown;
  summary: Record<string, unknown>;
}

/**
 * A gateway tool, defined once: name, input schema (from src/contract/gateway.ts), whether it
 * mutates, an optional bounds check that turns arguments into a plan, and the handler.
 */
export interface ToolDefinition<S extends z.ZodType = z.ZodType, P = unknown> {
  name: ToolName;
  description: string;
  schema: S;
  mutating: boolean;
  /** Bounds step: refuse arguments the target's facts do not allow, or return what `execute` should do. */
  plan?: (args: z.output<S>, target: ContainerInspectInfo, env: ToolEnv) => P;
  execute: (args: z.output<S>, target: ContainerInspectInfo, plan: P, env: ToolEnv) => Promise<ToolOutcome>;
}

/** Erase a tool's precise types so tools of different shapes share one registry. */
export function defineTool<S extends z.ZodType, P>(def: ToolDefinition<S, P>): ToolDefinition {
  return def as unknown as ToolDefinition;
}
