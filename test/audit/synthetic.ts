import { loadConfig } from '../../src/config';
import type { ExportRecord } from '../../src/contract/audit-record';
import { ExportRecordSchema } from '../../src/contract/audit-record';
import { MUTATING_TOOLS, TOOL_ARGS } from '../../src/contract/gateway';
import type { IncidentInput, IncidentState, Observation, Outcome, ToolCallRecord } from '../../src/contract/incident';
import type { Action, Decision, Facts, PolicyConfig } from '../../src/contract/policy';
import type { Proposal } from '../../src/contract/diagnosis';
import type { AuditRecord } from '../../src/gateway/audit/record';
import { blankFacts } from '../../src/audit/evidence';
import { exportRecord } from '../../src/audit/export-record';
import { decide } from '../../src/policy';

/**
 * dockmedic export records made the way `audit export` makes them (exportRecord over a state,
 * an input and the gateway's audit), for incidents the workflow handles as §3 says. Each call is
 * written both into the workflow's chain and into the gateway's audit, so a variant that changes
 * the calls changes both, as a real incident would.
 */

export const MiB = 1024 ** 2;
export const POLICY: PolicyConfig = loadConfig({}).policy;
export const CONTAINER = 'web';
export const CONTAINER_ID = 'a'.repeat(64);

export interface Call {
  tool: string;
  args?: Record<string, unknown>;
  /** Refused by the gateway with this code. */
  refused?: string;
  result?: unknown;
  approvedBy?: string;
}

export interface Incident {
  /** Facts of each decision, in order (the last are the record's facts). */
  facts: Facts[];
  /** The decisions, when not decide() of each facts (a recurrence's decision is the table's recurrence row). */
  decisions?: Decision[];
  finalAction?: Action;
  outcome: Outcome;
  calls: Call[];
  observations?: Observation[];
  proposal?: { action: Action; weighed: boolean };
}

const T0 = Date.parse('2026-05-03T17:00:00.000Z');
/** Times in ms after the failure event; the n-th call is at 100 + 100·n. */
export const at = (ms: number) => new Date(T0 + ms).toISOString();

export const state = (running: boolean, over: Record<string, unknown> = {}) => ({
  status: running ? 'running' : 'exited',
  running,
  restarting: false,
  oomKilled: false,
  exitCode: running ? 0 : 1,
  health: null,
  restartCount: 0,
  memoryBytes: 0,
  memorySwapBytes: 0,
  ...over,
});
export const inspect = (running: boolean, over: Record<string, unknown> = {}): Call => ({ tool: 'inspect_container', result: state(running, over) });
export const restart = (over: Partial<Call> = {}): Call => ({ tool: 'restart_container', result: { action: 'restart', after: state(true) }, ...over });
export const DEPENDENT_ID = 'b'.repeat(64);
/** list_dependents of the incident's container: one dependent sharing its network namespace. */
export const listDependents = (optedIn: boolean): Call => ({
  tool: 'list_dependents',
  args: { container: CONTAINER_ID, selector: [] },
  result: { dependents: [{ name: 'web-proxy', id: DEPENDENT_ID, via: ['network'], optedIn }], truncated: false },
});
export const logs: Call = { tool: 'check_container_logs', args: { container: CONTAINER_ID, tail: 20 }, result: { lines: [], truncated: false, redactions: 0 } };

/** A first non-zero exit of a stopped container; each case changes what it needs. */
export const facts = (over: Partial<Facts> = {}): Facts => blankFacts({ exitCode: 1, deathsInWindow: 1, ...over });

const proposal = (action: Action): Proposal => ({ failureType: 'exit', proposedAction: action, rationale: 'synthetic', confidence: 0.9, evidence: [] });

/** `gatewayAudit: false`: as exported when the gateway's audit file could not be read. */
export function record(i: Incident, opts: { gatewayAudit: boolean } = { gatewayAudit: true }): ExportRecord {
  const workflowId = `incident-h1-${CONTAINER}`;
  const runId = 'run-1';
  const chain: ToolCallRecord[] = i.calls.map((c, n) => ({
    tool: c.tool,
    args: c.args ?? { container: CONTAINER_ID },
    ok: c.refused === undefined,
    ...(c.refused === undefined ? { result: c.result ?? null } : { error: { code: c.refused, message: `refused: ${c.refused}` } }),
    at: at(100 + 100 * n),
    ...(c.approvedBy ? { approvedBy: c.approvedBy } : {}),
  }));
  // Only gateway tools reach the gateway's audit (the OOM count is a visibility query).
  const audit: AuditRecord[] = chain.filter((c) => c.tool in TOOL_ARGS).map((c, n) => ({
    time: c.at,
    requestId: `req-${n}`,
    agent: 'worker-h1',
    keyId: 'k1',
    method: 'POST',
    path: `/v1/tools/${c.tool}`,
    tool: c.tool,
    args: c.args,
    target: { ref: String(c.args.container) },
    verdict: c.ok ? 'allowed' : 'refused',
    code: c.error?.code ?? null,
    status: c.ok ? 200 : 429,
    result: c.ok ? ((c.result as Record<string, unknown>) ?? null) : null,
    replayed: false,
    durationMs: 5,
    idempotencyKey: MUTATING_TOOLS.has(c.tool as never) ? `${workflowId}/${runId}/${n + 1}` : null,
    workflowId,
    seq: n,
    prev: '0'.repeat(64),
    hash: '0'.repeat(64),
  }));
  const decisions: Decision[] = i.decisions ?? i.facts.map((f) => decide(f, POLICY));
  const last = decisions[decisions.length - 1] as Decision;
  const trigger: Observation = i.observations?.[0] ?? { kind: i.facts[0]?.oomKilled ? 'oom' : 'die', time: at(0), exitCode: 1 };
  const st: IncidentState = {
    incidentId: workflowId,
    host: 'h1',
    container: CONTAINER,
    containerId: CONTAINER_ID,
    phase: 'closed',
    startedAt: at(50),
    closedAt: at(10_000),
    facts: i.facts[i.facts.length - 1] as Facts,
    decision: last,
    ...(decisions.length > 1 ? { decisionHistory: decisions.slice(0, -1) } : {}),
    ...(i.proposal ? { proposal: proposal(i.proposal.action), diagnosis: { model: 'm', ok: true, turns: 1, tokens: 10, toolCalls: [], weighed: i.proposal.weighed } } : {}),
    finalAction: i.finalAction ?? last.action,
    outcome: i.outcome,
    observations: i.observations ?? [trigger, { kind: 'start', time: at(700) }],
    decisionChain: chain,
    responses: [],
    notes: [],
  };
  const input: IncidentInput = {
    host: 'h1',
    container: CONTAINER,
    containerId: CONTAINER_ID,
    trigger,
    policy: POLICY,
    escalation: { ladder: [{ name: 'l1', timeoutSeconds: 60 }], resolveTimeoutSeconds: 60 },
    llm: { enabled: false, maxTurns: 3 },
  };
  return ExportRecordSchema.parse(exportRecord({ state: st, input, run: { workflowId, runId, startTime: at(0), closeTime: at(10_000) }, audit: opts.gatewayAudit ? audit : null, drill: false }));
}

/** A record without facts: the triage inspect was refused (the container is not opted in). */
export function outOfScope(): ExportRecord {
  const r = record({ facts: [facts()], outcome: 'ignored', calls: [{ tool: 'inspect_container', refused: 'container_not_opted_in' }] });
  return { ...r, facts: null, decision: { action: 'ignore', failure: 'out_of_scope', rule: 'out-of-scope', expected: 'ignored', reason: 'not opted in', final_action: 'ignore' }, policy_rule: 'out-of-scope' };
}
