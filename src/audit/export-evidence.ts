import type { ExportRecord, ExportTool } from '../contract/audit-record';
import { MUTATING_TOOLS } from '../contract/gateway';
import type { Facts } from '../contract/policy';
import type { CallEvidence, Evidence, ObservedState } from './evidence';
import { blankFacts, stateAfterFirstMutation } from './evidence';

/**
 * dockmedic's own export (docs/architecture.md §6): the calls are the gateway's audit of them
 * (what reached Docker), the facts and the container states after acting are the workflow's
 * record of Docker's answers (its decision chain: the gateway's audit keeps inspect results
 * short, without health).
 */

type ChainTurn = ExportRecord['decision_chain'][number];

function asRecord(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** The state an inspect result (`running`, `health`) or a mutation result (`after`) reports. */
function observed(result: unknown): ObservedState | null {
  const r = asRecord(result);
  const s = asRecord(r?.after) ?? r;
  if (!s || typeof s.running !== 'boolean') return null;
  const health = s.health === 'healthy' || s.health === 'unhealthy' || s.health === 'starting' ? s.health : null;
  return { running: s.running, health, status: typeof s.status === 'string' ? s.status : null };
}

function fromTool(t: ExportTool): CallEvidence {
  const memory = t.arguments.memoryBytes;
  return {
    tool: t.name,
    mutating: t.mutating,
    container: typeof t.arguments.container === 'string' ? t.arguments.container : null,
    args: t.arguments,
    ok: t.verdict === 'allowed',
    approvedBy: t.approved_by,
    memoryBytes: typeof memory === 'number' ? memory : null,
    after: t.verdict === 'allowed' ? observed(t.result) : null,
    error: t.verdict === 'refused' ? (t.code ?? 'refused') : null,
  };
}

function fromTurn(t: ChainTurn): CallEvidence | null {
  if (!t.tool) return null;
  const args = t.arguments ?? {};
  return {
    tool: t.tool,
    mutating: MUTATING_TOOLS.has(t.tool as never),
    container: typeof args.container === 'string' ? args.container : null,
    args,
    ok: t.ok ?? null,
    approvedBy: t.approved_by ?? null,
    memoryBytes: typeof args.memoryBytes === 'number' ? args.memoryBytes : null,
    after: t.ok ? observed(t.result) : null,
    error: t.error ? `${t.error.code}: ${t.error.message}` : null,
  };
}

/**
 * One entry per logical call. The gateway records every attempt: a retry of a mutating call
 * carries the same idempotency key, and a replayed answer did not touch Docker again. A call
 * took effect if any of its attempts was allowed; otherwise it stands as its last refusal.
 */
function logicalCalls(tools: readonly ExportTool[]): ExportTool[] {
  const out: ExportTool[] = [];
  const byKey = new Map<string, number>();
  for (const t of tools) {
    const at = t.idempotency_key === null ? undefined : byKey.get(t.idempotency_key);
    if (at === undefined) {
      if (t.idempotency_key !== null) byKey.set(t.idempotency_key, out.length);
      out.push(t);
      continue;
    }
    const first = out[at] as ExportTool;
    if (first.verdict !== 'allowed') out[at] = { ...t, approved_by: first.approved_by ?? t.approved_by };
  }
  return out;
}

/** The first triage inspect, as the workflow recorded it. */
function triageInspect(r: ExportRecord): Record<string, unknown> | null {
  const turn = r.decision_chain.find((t) => t.tool === 'inspect_container');
  return turn?.ok ? asRecord(turn.result) : null;
}

/**
 * What the watcher had reported before dockmedic first acted, as the workflow's tracker sums it
 * up (workflows/observations.ts): the last death, the most deaths in the window, an OOM or a
 * crash loop seen. Our own restart of a running container shows as kill → die, an "operator
 * stop", and must not leak into the first decision's facts. Times are Docker's; the cut-off is
 * the first mutating call's time (the same host's clock).
 */
function observedBefore(r: ExportRecord, policyDeaths: number): Pick<Facts, 'operatorStop' | 'deathsInWindow'> & { lastDieExit: number | null; oomSeen: boolean } {
  const acted = r.decision_chain.find((t) => t.tool !== undefined && MUTATING_TOOLS.has(t.tool as never));
  const cutoff = acted ? Date.parse(acted.timestamp) : Number.POSITIVE_INFINITY;
  const seen = r.observations.filter((o) => Date.parse(o.time) < cutoff);
  const before = seen.length > 0 ? seen : [r.trigger];
  const lastDie = [...before].reverse().find((o) => o.kind === 'die' || o.kind === 'crashloop');
  const maxDeaths = Math.max(0, ...before.map((o) => o.deathsInWindow ?? 0));
  return {
    operatorStop: lastDie?.operatorStop === true,
    deathsInWindow: before.some((o) => o.kind === 'crashloop') ? Math.max(maxDeaths, policyDeaths) : maxDeaths,
    lastDieExit: lastDie?.exitCode ?? null,
    oomSeen: before.some((o) => o.kind === 'oom'),
  };
}

/**
 * The facts of the first decision. The record keeps the latest facts: after dockmedic acted and
 * the failure recurred they were taken again (`recurrenceAfterAction`, a raised limit, our own
 * restart's kill → die). The first decision's facts are rebuilt as the workflow built them
 * (workflows/facts.ts): the triage inspect's Docker state and what was observed before acting.
 */
function firstFacts(r: ExportRecord): Facts | null {
  if (!r.facts) return null;
  if (r.decision_history.length === 0) return r.facts;
  const s = triageInspect(r);
  const obs = observedBefore(r, r.policy.crashLoopDeaths);
  const facts: Facts = { ...r.facts, recurrenceAfterAction: false, operatorStop: obs.operatorStop, deathsInWindow: obs.deathsInWindow };
  if (!s) return facts;
  const running = typeof s.running === 'boolean' ? s.running : facts.running;
  const health = s.health === 'healthy' || s.health === 'unhealthy' || s.health === 'starting' ? s.health : null;
  return {
    ...facts,
    running,
    restarting: s.restarting === true,
    health,
    oomKilled: s.oomKilled === true || obs.oomSeen,
    memoryBytes: typeof s.memoryBytes === 'number' ? s.memoryBytes : facts.memoryBytes,
    // Docker reports exit code 0 for a running container; its last exit is then the last death seen.
    exitCode: running ? obs.lastDieExit : typeof s.exitCode === 'number' ? s.exitCode : facts.exitCode,
  };
}

/** Gateway refusals of the triage inspect that mean the container is not dockmedic's to touch. */
const OUT_OF_SCOPE_CODES: ReadonlySet<string> = new Set(['container_not_found', 'container_not_opted_in', 'container_protected']);

/**
 * An incident whose triage inspect failed has no facts. What the gateway answered is the fact:
 * a container that is gone or out of scope must be left alone; any other failure leaves nothing
 * known, and the policy's catch-all (escalate) applies.
 */
function triageFailureFacts(r: ExportRecord): { facts: Facts; unknown: string } {
  const inspect = r.tools.find((t) => t.name === 'inspect_container') ?? null;
  const code = inspect?.verdict === 'refused' ? inspect.code : (r.decision_chain.find((t) => t.tool === 'inspect_container' && t.ok === false)?.error?.code ?? null);
  const outOfScope = code !== null && OUT_OF_SCOPE_CODES.has(code);
  const facts = blankFacts({ optedIn: !outOfScope });
  return { facts, unknown: `no Docker facts: the triage inspect failed (${code ?? 'no inspect recorded'})${outOfScope ? ', so the container is out of scope' : ''}` };
}

/** The opted-in dependents the incident listed (its decision chain's list_dependents results). */
function dependentRefsOf(r: ExportRecord): string[] {
  const refs: string[] = [];
  for (const t of r.decision_chain) {
    if (t.tool !== 'list_dependents' || !t.ok) continue;
    const deps = asRecord(t.result)?.dependents;
    if (!Array.isArray(deps)) continue;
    for (const d of deps.map(asRecord)) {
      if (d?.optedIn !== true) continue;
      for (const ref of [d.id, d.name]) if (typeof ref === 'string') refs.push(ref);
    }
  }
  return refs;
}

export function exportEvidence(r: ExportRecord): Evidence {
  const known = firstFacts(r);
  const fallback = known ? null : triageFailureFacts(r);
  const facts = known ?? (fallback as { facts: Facts }).facts;
  const calls = r.tools_source === 'gateway_audit' ? logicalCalls(r.tools).map(fromTool) : r.decision_chain.flatMap((t) => fromTurn(t) ?? []);
  // The gateway's audit keeps inspect results short (no health); the workflow's chain has Docker's full answer.
  const dependentRefs = dependentRefsOf(r);
  // A dependent's restart reports the dependent's state, not the container's.
  const chainCalls = r.decision_chain.flatMap((t) => fromTurn(t) ?? []).filter((c) => !(c.tool === 'restart_container' && c.container !== null && dependentRefs.includes(c.container)));
  const refs = [r.container_id, r.container, r.container.replace(/^\//, '')];
  const notes = calls.filter((c) => !c.mutating && c.container !== null && !refs.includes(c.container)).map((c) => `read-only ${c.tool} for another container (${c.container})`);
  return {
    id: `${r.incident_id}/${r.run_id}`,
    format: 'dockmedic',
    containerRefs: refs,
    dependentRefs,
    facts,
    unknownFacts: fallback ? [fallback.unknown] : [],
    memoryKnown: true,
    policy: r.policy,
    weighedProposal: r.llm_weighed && r.llm_proposal ? r.llm_proposal.proposedAction : null,
    calls,
    finalState: stateAfterFirstMutation(chainCalls),
    outcome: r.outcome,
    recordedRule: r.decision_history[0]?.rule ?? r.policy_rule,
    notes: [...new Set(notes)],
  };
}
