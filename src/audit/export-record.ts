import type { ExportRecord, ExportTool } from '../contract/audit-record';
import { AUDIT_RECORD_FORMAT } from '../contract/audit-record';
import { MUTATING_TOOLS } from '../contract/gateway';
import type { IncidentInput, IncidentState, Observation, ToolCallRecord } from '../contract/incident';
import type { AuditRecord } from '../gateway/audit/record';

/**
 * One closed incident run as an audit record (docs/architecture.md §6): the reference format's
 * fields, filled from the workflow's own record, plus the facts, the policy in force, and the
 * gateway's audit of every call made for the run. Pure: the CLI fetches, this assembles.
 */

export interface RunInfo {
  workflowId: string;
  runId: string;
  startTime: string;
  closeTime: string | null;
}

/** The reference format's alert status words, so a reader of that format reads ours too. */
const ALERT_STATUS: Record<string, string> = { oom: 'OOMKilled', crashloop: 'CrashLoopBackOff', exit: 'exited', clean_exit: 'exited', unhealthy: 'unhealthy' };

const RESOLVED: ReadonlySet<string> = new Set(['auto_resolved', 'approved', 'resolved_by_human']);

function alertOf(state: IncidentState, input: IncidentInput): ExportRecord['alert'] {
  const failure = state.decisionHistory?.[0]?.failure ?? state.decision?.failure ?? 'unknown';
  const t = input.trigger;
  const bits = [`${t.kind} of ${input.container}`, ...(t.exitCode !== undefined ? [`exit code ${t.exitCode}`] : []), ...(t.health ? [`health ${t.health}`] : [])];
  return { description: `${bits.join(', ')} at ${t.time} (failure ${failure})`, container_id: input.containerId, status: ALERT_STATUS[failure] ?? failure };
}

function chainTurn(c: ToolCallRecord): ExportRecord['decision_chain'][number] {
  const result = c.ok ? JSON.stringify(c.result ?? null) : `Error: ${c.error?.code ?? 'error'}: ${c.error?.message ?? ''}`;
  return {
    timestamp: c.at,
    role: 'tool',
    content: `Tool: ${c.tool}\nArguments: ${JSON.stringify(c.args)}\nResult: ${result}`,
    tool: c.tool,
    arguments: c.args,
    ok: c.ok,
    ...(c.result !== undefined ? { result: c.result } : {}),
    ...(c.error ? { error: c.error } : {}),
    ...(c.approvedBy ? { approved_by: c.approvedBy } : {}),
  };
}

/** The workflow's decisions and the people's answers, as turns of the chain, in time order with the tool calls. */
function decisionChain(state: IncidentState): ExportRecord['decision_chain'] {
  const turns = state.decisionChain.map(chainTurn);
  const decisions = [...(state.decisionHistory ?? []), ...(state.decision ? [state.decision] : [])];
  decisions.forEach((d, i) =>
    turns.push({ timestamp: i === decisions.length - 1 ? (state.closedAt ?? state.startedAt) : state.startedAt, role: 'policy', content: `Decision: ${d.rule} → ${d.action}: ${d.reason}` }),
  );
  for (const r of state.responses) turns.push({ timestamp: r.at, role: 'human', content: `Response: ${r.action} by ${r.by}${r.comment ? `: ${r.comment}` : ''}` });
  return turns.sort((a, b) => a.timestamp.localeCompare(b.timestamp));
}

/**
 * The gateway's records of this run: a mutating call carries the run in its idempotency key
 * (`<workflowId>/<runId>/<activityId>`); a read carries the workflow id only, so it belongs to
 * the run whose [start, close] holds its time.
 */
export function auditRecordsOfRun(audit: readonly AuditRecord[], run: RunInfo): AuditRecord[] {
  const from = Date.parse(run.startTime);
  const to = run.closeTime ? Date.parse(run.closeTime) : Number.POSITIVE_INFINITY;
  return audit.filter((a) => {
    if (a.workflowId !== run.workflowId || a.tool === null) return false;
    if (a.idempotencyKey) return a.idempotencyKey.startsWith(`${run.workflowId}/${run.runId}/`);
    const t = Date.parse(a.time);
    return t >= from && t <= to;
  });
}

function toolsFromAudit(audit: AuditRecord[], state: IncidentState): ExportTool[] {
  // Who approved a call is the workflow's knowledge: the n-th logical call of a tool here (its
  // retries share an idempotency key) is its n-th in the chain.
  const keys: Record<string, string[]> = {};
  return audit.map((a) => {
    const tool = a.tool as string;
    const seen = (keys[tool] ??= []);
    const key = a.idempotencyKey ?? a.requestId;
    if (!seen.includes(key)) seen.push(key);
    const inChain = state.decisionChain.filter((c) => c.tool === tool)[seen.indexOf(key)];
    return {
      name: tool,
      arguments: (a.args ?? {}) as Record<string, unknown>,
      verdict: a.verdict,
      code: a.code,
      result: a.result,
      time: a.time,
      replayed: a.replayed,
      mutating: MUTATING_TOOLS.has(tool as never),
      approved_by: inChain?.approvedBy ?? null,
      idempotency_key: a.idempotencyKey,
    };
  });
}

function toolsFromChain(state: IncidentState): ExportTool[] {
  return state.decisionChain
    .filter((c) => c.tool !== 'count_recent_oom_incidents' && c.tool !== 'diagnose_incident')
    .map((c) => ({
      name: c.tool,
      arguments: c.args,
      verdict: c.ok ? ('allowed' as const) : ('refused' as const),
      code: c.error?.code ?? null,
      result: c.result ?? null,
      time: c.at,
      replayed: false,
      mutating: MUTATING_TOOLS.has(c.tool as never),
      approved_by: c.approvedBy ?? null,
      idempotency_key: null,
    }));
}

/**
 * Time to repair, from Docker's own event times: the failure event that opened the incident to
 * the first start (or `healthy`, when the container has a health check) after dockmedic's first
 * mutating call. Null unless the incident resolved automatically.
 */
export function mttrMs(state: IncidentState, input: IncidentInput): number | null {
  if (state.outcome !== 'auto_resolved') return null;
  const acted = state.decisionChain.find((c) => c.ok && MUTATING_TOOLS.has(c.tool as never));
  if (!acted) return null;
  const failedAt = Date.parse(input.trigger.time);
  const actedAt = Date.parse(acted.at);
  const healthChecked = state.facts?.health !== null && state.facts?.health !== undefined;
  const back = (o: Observation) => (healthChecked ? o.kind === 'health_status' && o.health === 'healthy' : o.kind === 'start');
  // Docker's times only: the workflow's clock may differ from the engine's, so the action's own time only orders.
  const recovered = state.observations.filter((o) => back(o) && Date.parse(o.time) > failedAt).map((o) => Date.parse(o.time));
  if (recovered.length === 0 || Number.isNaN(failedAt) || Number.isNaN(actedAt)) return null;
  return Math.max(0, Math.min(...recovered) - failedAt);
}

export function exportRecord(args: { state: IncidentState; input: IncidentInput; run: RunInfo; audit: AuditRecord[] | null; drill: boolean }): ExportRecord {
  const { state, input, run, drill } = args;
  const audit = args.audit ? auditRecordsOfRun(args.audit, run) : null;
  return {
    format: AUDIT_RECORD_FORMAT,
    timestamp: state.startedAt,
    incident_id: run.workflowId,
    run_id: run.runId,
    agent_id: audit?.find((a) => a.agent)?.agent ?? `dockmedic@${input.host}`,
    host: input.host,
    container: input.container,
    container_id: input.containerId,
    closed_at: state.closedAt ?? run.closeTime,
    alert: alertOf(state, input),
    decision_chain: decisionChain(state),
    resolved: state.outcome !== undefined && RESOLVED.has(state.outcome),
    decision: state.decision ? { ...state.decision, final_action: state.finalAction ?? state.decision.action } : null,
    decision_history: state.decisionHistory ?? [],
    outcome: state.outcome ?? null,
    policy_rule: state.decision?.rule ?? null,
    policy: input.policy,
    facts: state.facts ?? null,
    trigger: input.trigger,
    observations: state.observations,
    llm_proposal: state.proposal ?? null,
    llm_weighed: state.diagnosis ? state.diagnosis.weighed : null,
    responses: state.responses,
    tools_source: audit ? 'gateway_audit' : 'decision_chain',
    tools: audit ? toolsFromAudit(audit, state) : toolsFromChain(state),
    mttr_ms: mttrMs(state, input),
    drill,
    would_do: state.wouldDo ?? null,
  };
}
