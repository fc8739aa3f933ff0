import { condition, patched, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { EarlierIncident, IncidentInput, IncidentState, WouldDo } from '../src/contract/incident';
import { isObservation } from '../src/contract/incident-input';
import type { Action, Decision, Facts } from '../src/contract/policy';
import { SA } from '../src/contract/search-attributes';
import { observeSignal, respondSignal, stateQuery } from '../src/contract/signals';
import { joinStormSignal } from '../src/contract/storm';
import { DEPENDENT_NOT_RESTARTED, act, countRecentOomIncidents, describeAction, inspectVerifying } from './actions';
import { diagnose, noteAdvice } from './advice';
import { Inbox, closeGone, escalate } from './escalation';
import { factsFrom } from './facts';
import { validateInput } from './input';
import { PATCHES } from './patches';
import { ObservationTracker, describeObservation } from './observations';
import { IncidentRecord } from './record';
import { joinStorm, reportToStorm } from './storm-member';
import { startTriage } from './triage';
import type { Advice } from '../src/policy';
import { containerGone, decide, decisionFromRow, gate, recurrenceDecision, uncertain } from '../src/policy';

/**
 * One incident of one container (docs/architecture.md §3): triage → diagnose → decide → act →
 * verify → resolved | escalated → closed. Returns the final state, which `incidents show` displays.
 */
export async function incidentWorkflow(input: IncidentInput): Promise<IncidentState> {
  validateInput(input);
  // Incidents started before container_gone existed keep reading foreign and destroy events as before.
  const tracker = new ObservationTracker(patched(PATCHES.containerGone) ? input.containerId : null);
  const rec = new IncidentRecord(input, tracker);
  const inbox = new Inbox(rec);
  // The trigger also arrives as signalWithStart's signal: adding it first makes that a duplicate.
  tracker.add(input.trigger);
  setHandler(observeSignal, (o) => {
    if (isObservation(o)) tracker.add(o);
    else rec.note('dropped a malformed observation');
  });
  setHandler(respondSignal, (r) => inbox.receive(r));
  setHandler(joinStormSignal, (j) => joinStorm(rec, (j as { stormId?: unknown } | undefined)?.stormId));
  setHandler(stateQuery, () => rec.st);
  const final = await run(rec, inbox);
  if (rec.closing) await rec.closing;
  return final;
}

async function run(rec: IncidentRecord, inbox: Inbox): Promise<IncidentState> {
  const { input, tracker } = rec;
  upsertSearchAttributes([
    { key: SA.container, value: input.container },
    { key: SA.host, value: input.host },
  ]);
  rec.setPhase('triage');

  // The quiet period's memory is read with the inspect: it adds no time before an action.
  const quietSeconds = input.drill ? 0 : (input.escalation.repageQuietSeconds ?? 0);
  const reads = startTriage(rec, quietSeconds);
  const inspected = await reads.inspected;
  if (!inspected.ok) return triageFailed(rec, inbox, inspected.error);
  rec.summary = inspected.value;

  let facts = factsFrom(rec.summary, tracker, input.policy, 0, false);
  let countError: { code: string; message: string } | undefined;
  if (facts.oomKilled && facts.optedIn && !facts.stackMember) {
    const counted = await (reads.oomCount ?? countRecentOomIncidents(rec));
    if (counted.ok) facts = { ...facts, priorOomIncidents: counted.value };
    else countError = counted.error;
  }
  rec.setFacts(facts);
  let decision = decide(facts, input.policy);
  if (countError && decision.failure === 'oom') {
    decision = uncertain(`OOM killed, but past OOM incidents could not be counted (${countError.code}): escalating rather than guessing`, 'oom');
  }

  if (reads.earlier && decision.action !== 'ignore') {
    // A lookup that fails pages as usual: silence needs a reason, a page does not.
    const listed = await reads.earlier;
    const held = listed.ok ? listed.value.find((e) => e.failure === decision.failure) : undefined;
    if (held) return quietPeriod(rec, decision, held, quietSeconds);
  }

  // An ignore decision never reaches the model; otherwise this is where it advises.
  let advice: Advice | null = null;
  if (decision.action !== 'ignore') {
    rec.setPhase('diagnose');
    if (input.llm.enabled) advice = await diagnose(rec, facts);
  }

  rec.setPhase('decide');
  // The gate weighs a usable proposal only; it can make the decision more conservative, never less.
  const finalAction = gate(decision.action, advice?.use ? advice.proposal.proposedAction : undefined);
  const proposed = rec.st.proposal?.proposedAction;
  if (proposed !== undefined && proposed !== decision.action) {
    rec.st.disagreement = { policy: decision.action, model: proposed, final: finalAction };
  }
  rec.setDecision(decision, finalAction);
  if (advice) noteAdvice(rec, advice, decision, finalAction);

  if (finalAction === 'ignore') return rec.close('ignored');
  if (input.mode === 'shadow') return shadowed(rec, finalAction, decision);
  if (finalAction === 'escalate') {
    if (decision.action === 'escalate') return escalate(rec, inbox, decision.reason);
    return escalate(
      rec,
      inbox,
      `the model proposed ${proposed ?? '?'} where the policy decided ${decision.action} (${decision.rule}: ${decision.reason}); the model can only make a decision more conservative, so a person decides`,
    );
  }

  rec.setPhase('act');
  const acted = await act(rec, finalAction, decision.newMemoryBytes);
  if (!acted.ok) {
    // A dependent left unrestarted (e.g. its budget refused it) is paged about, never dropped.
    if (acted.error.code === DEPENDENT_NOT_RESTARTED) return escalate(rec, inbox, acted.error.message);
    return escalate(rec, inbox, `${describeAction(finalAction)} was refused or failed (${acted.error.code}): ${acted.error.message}`);
  }
  void reportToStorm(rec, 'acted');
  return verify(rec, inbox);
}

/**
 * Shadow mode (docs/architecture.md §3): facts, decision and advice are taken as always; what
 * would be done is recorded instead of done, and nobody is paged. The gateway refuses this
 * host's worker any mutating call as well, so a workflow bug cannot act either.
 */
function shadowed(rec: IncidentRecord, action: Action, decision: Decision): IncidentState {
  const container = rec.input.containerId;
  const calls: WouldDo['calls'] =
    action === 'restart'
      ? [{ tool: 'restart_container', args: { container } }]
      : action === 'raise_memory'
        ? [{ tool: 'update_container_resources', args: { container, memoryBytes: decision.newMemoryBytes } }, ...(rec.summary?.running ? [] : [{ tool: 'start_container', args: { container } }])]
        : [];
  const first = rec.input.escalation.ladder[0];
  const page = action === 'escalate' && first ? { levelName: first.name, reason: decision.reason } : undefined;
  rec.st.wouldDo = { action, calls, ...(page ? { page } : {}) };
  rec.note(`shadow mode: would ${page ? `page ${page.levelName}` : action === 'raise_memory' ? 'raise the memory limit' : action}${calls.length ? ` (${calls.map((c) => c.tool).join(', ')})` : ''}; nothing was done (DOCKMEDIC_MODE=shadow)`);
  return rec.close('shadow');
}

/**
 * The same failure of the same container again, soon after a person (or nobody) already had it:
 * recorded and visible, linked to the earlier run, but neither paged nor acted on
 * (docs/architecture.md §3). A different failure is not held back.
 */
function quietPeriod(rec: IncidentRecord, decision: Decision, earlier: EarlierIncident, quietSeconds: number): IncidentState {
  rec.st.quietAfter = earlier;
  rec.setDecision(decision, 'ignore');
  rec.note(
    `quiet period: the same failure (${earlier.failure}) closed ${earlier.outcome} at ${earlier.closedAt} in run ${earlier.runId}, less than ${quietSeconds}s ago; ` +
      `the policy's ${decision.action} is recorded, nothing is done and nobody is paged (DOCKMEDIC_REPAGE_QUIET_SECONDS)`,
  );
  return rec.close('suppressed');
}

/**
 * The fix must hold for the stabilisation window: a durable timer plus `observe` signals. A
 * failure inside the window, or a final state that is not running (and healthy when the
 * container has a health check), is a recurrence.
 */
async function verify(rec: IncidentRecord, inbox: Inbox): Promise<IncidentState> {
  rec.setPhase('verify');
  const windowSeconds = rec.input.policy.stabilizationSeconds;
  const recurred = await condition(() => rec.tracker.recurrence !== null || rec.tracker.gone !== null, windowSeconds * 1000, {
    summary: `stabilisation window (${windowSeconds}s)`,
  });
  if (rec.tracker.gone) return closeGone(rec);
  if (recurred && rec.tracker.recurrence) {
    // Facts after a recurrence come from Docker again (e.g. the limit we just raised).
    const current = await inspectVerifying(rec);
    // `docker rm -f` and a recreate kill the container first: its death is its end, not a recurrence.
    if (isGone(rec, current)) return closeGone(rec);
    if (current.ok) rec.summary = current.value;
    return onRecurrence(rec, inbox, `observed ${describeObservation(rec.tracker.recurrence)}`);
  }

  const final = await inspectVerifying(rec);
  if (isGone(rec, final)) return closeGone(rec);
  if (!final.ok) return escalate(rec, inbox, `the fix could not be verified: inspect failed (${final.error.code}): ${final.error.message}`);
  rec.summary = final.value;
  const s = final.value;
  if (!s.running) return onRecurrence(rec, inbox, `not running at the end of the stabilisation window (status ${s.status}, exit ${s.exitCode})`);
  if (s.health === 'unhealthy') return onRecurrence(rec, inbox, 'health check unhealthy at the end of the stabilisation window');
  if (s.health === 'starting') return onRecurrence(rec, inbox, 'health check did not report healthy within the stabilisation window');
  rec.setPhase('resolved');
  rec.note(`held for ${windowSeconds}s: running${s.health ? `, ${s.health}` : ''}`);
  return rec.close('auto_resolved');
}

/** The container was removed or replaced: Docker says so, or the watcher did (only in incidents that know about it). */
function isGone(rec: IncidentRecord, inspected: { ok: boolean; error?: { code: string } }): boolean {
  if (!rec.tracker.goneAware) return false;
  return rec.tracker.gone !== null || (!inspected.ok && inspected.error?.code === 'container_not_found');
}

/** A failure after dockmedic acted: never a second action, escalate (docs/architecture.md §2). */
function onRecurrence(rec: IncidentRecord, inbox: Inbox, what: string): Promise<IncidentState> {
  const { input, tracker } = rec;
  rec.note(`recurrence after dockmedic acted: ${what}`);
  const facts: Facts = rec.summary
    ? factsFrom(rec.summary, tracker, input.policy, rec.facts?.priorOomIncidents ?? 0, true)
    : { ...(rec.facts as Facts), recurrenceAfterAction: true };
  let d = decide(facts, input.policy);
  if (d.action === 'ignore' && tracker.recurrence === null) {
    // No failure was observed and Docker's state says there is none now (e.g. an operator
    // stopped the container during the window): nothing left to fix or to page about.
    rec.setFacts(facts);
    rec.note(`no longer a failure (${d.rule}): ${d.reason}`);
    rec.setDecision(d, 'ignore');
    return Promise.resolve(rec.close('ignored'));
  }
  if (d.action !== 'escalate') d = recurrenceDecision(rec.decision?.failure ?? 'unknown');
  rec.setFacts(facts);
  rec.setDecision(d, 'escalate');
  return escalate(rec, inbox, `${d.reason}; ${what}`);
}

/** Couldn't even inspect the container. */
function triageFailed(rec: IncidentRecord, inbox: Inbox, error: { code: string; message: string }): Promise<IncidentState> | IncidentState {
  if (error.code === 'container_not_found') {
    rec.setDecision(containerGone(), 'ignore');
    return rec.close('ignored');
  }
  if (error.code === 'container_not_opted_in' || error.code === 'container_protected') {
    rec.setDecision(decisionFromRow('out-of-scope'), 'ignore');
    rec.note(`the gateway says the container is out of scope (${error.code})`);
    return rec.close('ignored');
  }
  const d = uncertain(`the container could not be inspected (${error.code}): ${error.message}`);
  rec.setDecision(d, 'escalate');
  return escalate(rec, inbox, d.reason);
}
