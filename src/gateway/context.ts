import { randomUUID } from 'node:crypto';

/** The container a request is about: the reference as sent and, once scope resolved it, what Docker says it is. */
export interface Target {
  ref: string;
  id?: string;
  name?: string;
}

/** The pipeline stages, in order; each one records when it finished (for the overhead benchmark). */
export type Stage = 'parse' | 'hmac' | 'replay' | 'rateLimit' | 'validate' | 'scope' | 'bounds' | 'idempotency' | 'execute';

/**
 * Everything the pipeline learns about one request, filled in step by step; the audit record
 * and the request log are built from it, whatever step the request stopped at.
 */
export interface RequestContext {
  requestId: string;
  time: string;
  start: bigint;
  method: string;
  path: string;
  agent: string | null;
  keyId: string | null;
  tool: string | null;
  args: unknown;
  target: Target | null;
  idempotencyKey: string | null;
  workflowId: string | null;
  replayed: boolean;
  resultSummary: Record<string, unknown> | null;
  /** The tool's Docker mutation took effect (set before the state is read back): from here on, a failure must not free the idempotency claim. */
  effected: boolean;
  /** Time spent waiting on the Docker engine, so it can be told apart from the pipeline's own cost. */
  dockerNs: bigint;
  /** Nanoseconds since `start` at which each completed stage ended. */
  marks: Partial<Record<Stage, number>>;
}

export function newContext(method: string, path: string): RequestContext {
  return {
    requestId: randomUUID(),
    time: new Date().toISOString(),
    start: process.hrtime.bigint(),
    method,
    path,
    agent: null,
    keyId: null,
    tool: null,
    args: null,
    target: null,
    idempotencyKey: null,
    workflowId: null,
    replayed: false,
    resultSummary: null,
    effected: false,
    dockerNs: 0n,
    marks: {},
  };
}

export function mark(ctx: RequestContext, stage: Stage): void {
  ctx.marks[stage] = Number(process.hrtime.bigint() - ctx.start);
}

export function elapsedMs(ctx: RequestContext): number {
  return Number(process.hrtime.bigint() - ctx.start) / 1e6;
}

/** Run a Docker call and charge its wall time to the request's Docker budget. */
export async function timedDocker<T>(ctx: RequestContext, call: () => Promise<T>): Promise<T> {
  const t0 = process.hrtime.bigint();
  try {
    return await call();
  } finally {
    ctx.dockerNs += process.hrtime.bigint() - t0;
  }
}
