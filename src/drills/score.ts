import type { DrillAuditEntry, DrillEvent, ScenarioCard } from '../contract/drill';
import type { IncidentState, Outcome } from '../contract/incident';
import { DRILL_RESPONDER } from '../contract/drill';
import { MUTATING_TOOLS } from '../contract/gateway';
import type { ToolName } from '../contract/gateway';
import type { Scenario } from './scenarios';

/**
 * A drill scenario judged by effect (docs/architecture.md §6): the calls that reached Docker
 * (gateway audit) and were scheduled (incident history), the container's final state, the
 * outcome, and the MTTR from Docker's own event times. Pure: the drill workflow and the tests
 * share it.
 */

/** The activity each mutating tool is scheduled as in the incident's history. */
export const ACTIVITY_FOR_TOOL: Readonly<Record<string, string>> = {
  restart_container: 'restartContainer',
  start_container: 'startContainer',
  update_container_resources: 'raiseMemory',
};

/** What the drill saw of one scenario. */
export interface Observed {
  /** The incident's final state; null when none was opened. */
  incident: IncidentState | null;
  /** The gateway's audit records about the container. */
  audit: DrillAuditEntry[];
  /** Activities scheduled in the incident's history, by type. */
  scheduled: Record<string, number>;
  /** Docker's view at the end; null when not inspected. */
  final: { running: boolean; memoryBytes: number; health?: string } | null;
  events: DrillEvent[];
  /** The drill's own workflow id: its calls (create, stop, events…) are not the incident's. */
  drillWorkflowId: string;
  /** The incident run observed. */
  incidentRunId?: string;
}

/** A drill answers every escalation with `reject` as DRILL_RESPONDER, so "nobody answered" reads as rejected. */
export function drillOutcome(s: Scenario): Outcome | undefined {
  return s.expect.outcome === 'unacknowledged' ? 'rejected' : s.expect.outcome;
}

export function expectedText(s: Scenario): string {
  const e = s.expect;
  if (!e.incident) return 'no incident, no gateway call';
  const calls = Object.entries(e.mutatingCalls ?? {})
    .filter(([, n]) => n > 0)
    .map(([t, n]) => `${t}×${n}`);
  return `${e.decision} → ${drillOutcome(s)}${calls.length ? `, ${calls.join(' ')}` : ', no mutation'}`;
}

/** Allowed, first-time (not replayed) mutating calls the incident made, by tool. */
export function mutationsBy(audit: readonly DrillAuditEntry[], workflowId: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of audit) {
    if (r.workflowId !== workflowId || r.verdict !== 'allowed' || r.replayed || !r.tool || !MUTATING_TOOLS.has(r.tool as ToolName)) continue;
    out[r.tool] = (out[r.tool] ?? 0) + 1;
  }
  return out;
}

const nano = (e: DrillEvent): bigint => BigInt(e.timeNano);

/**
 * Docker's failure event → running again (or healthy again, when the scenario expects health),
 * from Docker's own times; undefined when the container never failed or never recovered.
 */
export function mttrMs(events: readonly DrillEvent[], wantHealthy: boolean): number | undefined {
  const sorted = [...events].sort((a, b) => (nano(a) < nano(b) ? -1 : nano(a) > nano(b) ? 1 : 0));
  const failed = sorted.find((e) => e.action === 'oom' || e.action === 'health_status: unhealthy' || (e.action === 'die' && e.exitCode !== 0));
  if (!failed) return undefined;
  const recovered = sorted.find((e) => nano(e) > nano(failed) && (wantHealthy ? e.action === 'health_status: healthy' : e.action === 'start'));
  return recovered ? Number((nano(recovered) - nano(failed)) / 1_000_000n) : undefined;
}

function summarise(o: Observed, incidentId: string): string {
  if (!o.incident) return 'no incident';
  const calls = Object.entries(mutationsBy(o.audit, incidentId)).map(([t, n]) => `${t}×${n}`);
  const fin = o.final ? `, ${o.final.running ? 'running' : 'stopped'}${o.final.health ? ` ${o.final.health}` : ''}` : '';
  return `${o.incident.finalAction ?? o.incident.decision?.action ?? '?'} → ${o.incident.outcome ?? o.incident.phase}${calls.length ? `, ${calls.join(' ')}` : ', no mutation'}${fin}`;
}

/** Score one scenario: the first thing that does not match is the card's one-line why. */
export function scoreScenario(s: Scenario, incidentId: string, o: Observed, initialMemoryBytes: number): Pick<ScenarioCard, 'pass' | 'why' | 'observed' | 'mttrMs'> {
  const fail = (why: string) => ({ pass: false, why, observed: summarise(o, incidentId) });
  const e = s.expect;
  if (!e.incident) {
    if (o.incident) return fail(`an incident was opened (${o.incident.decision?.action ?? o.incident.phase}) where none may be`);
    const foreign = o.audit.filter((r) => r.workflowId !== o.drillWorkflowId);
    if (foreign.length > 0) return fail(`the gateway saw ${foreign.length} call(s) for the container that were not the drill's own (${foreign[0]?.tool ?? '?'})`);
    return { pass: true, why: 'no incident and no gateway call, as expected', observed: 'no incident' };
  }
  const st = o.incident;
  if (!st) return fail('no incident was opened');
  if (st.outcome === undefined) return fail(`the incident did not close (phase ${st.phase})`);
  const decision = st.finalAction ?? st.decision?.action;
  if (decision !== e.decision) return fail(`decided ${decision ?? 'nothing'} (${st.decision?.rule ?? '?'}), expected ${e.decision}`);
  const outcome = drillOutcome(s);
  if (st.outcome !== outcome) return fail(`closed ${st.outcome}, expected ${outcome}${st.notes.length ? ` (last note: ${st.notes[st.notes.length - 1]})` : ''}`);
  if (outcome === 'rejected' && !st.responses.some((r) => r.by === DRILL_RESPONDER && r.action === 'reject')) return fail('rejected, but not by the drill responder');
  const made = mutationsBy(o.audit, incidentId);
  for (const [tool, n] of Object.entries(e.mutatingCalls ?? {})) {
    if ((made[tool] ?? 0) !== n) return fail(`${tool}: ${made[tool] ?? 0} call(s) reached Docker, expected ${n}`);
    const activity = ACTIVITY_FOR_TOOL[tool] ?? tool;
    if ((o.scheduled[activity] ?? 0) !== n) return fail(`${tool}: ${o.scheduled[activity] ?? 0} scheduled in the incident's history, expected ${n}`);
  }
  const fin = e.finalState;
  let mttr: number | undefined;
  if (fin) {
    if (!o.final) return fail('the final state could not be read');
    if (o.final.running !== fin.running) return fail(`the container is ${o.final.running ? 'running' : 'not running'}, expected ${fin.running ? 'running' : 'stopped'}`);
    if (fin.memoryFactor && o.final.memoryBytes !== initialMemoryBytes * fin.memoryFactor) {
      return fail(`memory limit ${o.final.memoryBytes} bytes, expected ${initialMemoryBytes * fin.memoryFactor} (×${fin.memoryFactor})`);
    }
    if (fin.healthy && o.final.health !== 'healthy') return fail(`health ${o.final.health ?? 'none'}, expected healthy`);
    if (fin.running) {
      mttr = mttrMs(o.events, fin.healthy === true);
      if (mttr === undefined) return fail("no failure → recovery pair in Docker's events");
    }
  }
  return { pass: true, why: `${decision} as expected, ${st.outcome}, effect as expected`, observed: summarise(o, incidentId), ...(mttr !== undefined ? { mttrMs: mttr } : {}) };
}
