import { ApplicationFailure, condition, isCancellation, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { EscalationNotice } from '../src/contract/escalation-notice';
import type { IncidentState, Response, ResponseAction } from '../src/contract/incident';
import { isResponse } from '../src/contract/incident-input';
import { SA } from '../src/contract/search-attributes';
import { act, logEvidence } from './actions';
import { ACTIVITY_OPTIONS } from './activity-options';
import { failureOf } from './decision-chain';
import { evidenceLines } from './facts';
import type { IncidentRecord } from './record';
import { now } from './record';
import { reportToStorm } from './storm-member';
import type { Remedy } from '../src/policy';
import { remedy as remedyFor } from '../src/policy';

const notifications = proxyActivities<Activities>(ACTIVITY_OPTIONS.notify);

const MAX_RESPONSES = 50;

/**
 * People's answers (`respond` signals). Every answer is recorded in the state; only those that
 * arrive while an escalation waits are kept for the ladder, in arrival order.
 */
/** What an inbox answers for: an incident, or a storm (which never goes away). */
export interface InboxOwner {
  st: Pick<IncidentState, 'responses' | 'pendingEscalation'>;
  note(text: string): void;
  tracker: { gone: unknown };
}

export class Inbox {
  private readonly pending: Response[] = [];

  constructor(private readonly rec: InboxOwner) {}

  receive(r: Response): void {
    const rec = this.rec;
    if (!isResponse(r)) {
      rec.note('dropped a malformed response');
      return;
    }
    if (rec.st.responses.length < MAX_RESPONSES) rec.st.responses.push(r);
    if (!rec.st.pendingEscalation) {
      rec.note(`${r.action} by ${r.by} ignored: no escalation is waiting for an answer`);
      return;
    }
    this.pending.push(r);
  }

  /**
   * The first response among `accepted` within the timeout, or null. Others are recorded and
   * skipped. `accepted` may be read as each answer arrives (a storm's grows with late members).
   */
  async waitFor(acceptedNow: readonly ResponseAction[] | (() => readonly ResponseAction[]), timeoutSeconds: number, summary: string): Promise<Response | null> {
    const accepted = () => (typeof acceptedNow === 'function' ? acceptedNow() : acceptedNow);
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const remaining = deadline - Date.now();
      if (this.pending.length === 0 && remaining <= 0) return null;
      if (!(await condition(() => this.pending.length > 0 || this.rec.tracker.gone !== null, Math.max(remaining, 1), { summary }))) return null;
      // The container is gone: nobody's answer is needed any more (escalate closes the incident).
      if (this.rec.tracker.gone !== null) return null;
      const r = this.pending.shift() as Response;
      if (accepted().includes(r.action)) return r;
      this.rec.note(`${r.action} by ${r.by} ignored: waiting for ${accepted().join(' | ')}`);
    }
  }
}

/** How long the first page waits for a removal that may follow the death it is about. */
const GONE_GRACE_MS = 2000;

/**
 * Page people up the ladder until someone answers (docs/architecture.md §3). Notifications are
 * not awaited: a slow or failing webhook never delays the ladder's timers.
 */
export async function escalate(rec: IncidentRecord, inbox: Inbox, reason: string): Promise<IncidentState> {
  const { input } = rec;
  rec.setPhase('escalated');
  if (rec.st.finalAction !== 'escalate') {
    rec.st.finalAction = 'escalate';
    upsertSearchAttributes([{ key: SA.decision, value: 'escalate' }]);
  }
  const remedy = remedyFor(rec.decision, rec.facts, input.policy, input.container);
  const evidence = [...evidenceLines(rec.facts, rec.summary), ...(await logEvidence(rec))];
  const answerable: ResponseAction[] = remedy.action === 'escalate' ? ['reject', 'acknowledge', 'resolve'] : ['approve', 'reject', 'acknowledge', 'resolve'];
  const ladder = input.escalation.ladder;
  // `docker rm -f` and compose's recreate kill a container just before removing it: a death that
  // is really its end must not page (docs/architecture.md §3), so the first page waits briefly.
  // The wait is taken out of the first level's time: the ladder's later levels keep their times.
  const escalatedAt = Date.now();
  // A storm's link may arrive within the same wait: its member hands over instead of paging.
  if (rec.tracker.goneAware && (await condition(() => rec.tracker.gone !== null || rec.st.stormId !== undefined, GONE_GRACE_MS, { summary: 'removed or replaced?' }))) {
    if (rec.tracker.gone) return closeGone(rec);
  }
  if (rec.st.stormId !== undefined) {
    if (await reportToStorm(rec, 'handed_over', { remedy: remedy.action, recommendation: remedy.text, reason })) return awaitStorm(rec, inbox, remedy, answerable, reason);
    rec.onClose = undefined;
    rec.note('the storm could not take this escalation (it has closed): paging on its own');
  }
  const graceSeconds = (Date.now() - escalatedAt) / 1000;

  for (const [i, level] of ladder.entries()) {
    if (rec.tracker.gone) return closeGone(rec);
    rec.st.pendingEscalation = { level: i + 1, levelName: level.name, since: now(), waitingFor: answerable, proposedAction: remedy.action, reason };
    rec.setDetails();
    page(rec, {
      incidentId: rec.st.incidentId,
      host: input.host,
      container: input.container,
      containerId: input.containerId,
      failure: rec.decision?.failure ?? 'unknown',
      rule: rec.decision?.rule ?? 'uncertain',
      reason,
      level: i + 1,
      levels: ladder.length,
      levelName: level.name,
      timeoutSeconds: level.timeoutSeconds,
      evidence,
      recommendedAction: remedy.action,
      recommendation: remedy.text,
      waitingFor: answerable,
      ...(input.uiUrl ? { uiUrl: input.uiUrl } : {}),
      ...(input.drill ? { drill: input.drill } : {}),
      ...(rec.adviceNotice ? { advice: rec.adviceNotice } : {}),
    });
    const answer = await inbox.waitFor(answerable, i === 0 ? Math.max(level.timeoutSeconds - graceSeconds, 1) : level.timeoutSeconds, `waiting for ${level.name} (level ${i + 1})`);
    if (answer === null) {
      rec.note(`no answer from ${level.name} within ${level.timeoutSeconds}s`);
      continue;
    }
    if (answer.action !== 'acknowledge') return answered(rec, answer, remedy);

    // Acknowledged: nobody else is paged; wait for the decision.
    const waitingFor = answerable.filter((a) => a !== 'acknowledge');
    rec.st.pendingEscalation = { ...rec.st.pendingEscalation, since: now(), waitingFor };
    rec.note(`acknowledged by ${answer.by}; waiting up to ${input.escalation.resolveTimeoutSeconds}s for resolve, approve or reject`);
    rec.setDetails();
    const decided = await inbox.waitFor(waitingFor, input.escalation.resolveTimeoutSeconds, `acknowledged by ${answer.by}`);
    if (rec.tracker.gone) return closeGone(rec);
    if (decided === null) {
      rec.note(`acknowledged by ${answer.by} but not resolved within ${input.escalation.resolveTimeoutSeconds}s`);
      return rec.close('unacknowledged');
    }
    return answered(rec, decided, remedy);
  }
  if (rec.tracker.gone) return closeGone(rec);
  rec.note(`no answer after the last escalation level (${ladder.length})`);
  return rec.close('unacknowledged');
}

/** The container was removed or replaced under its name: closed without a page (docs/architecture.md §3). */
export function closeGone(rec: IncidentRecord): IncidentState {
  const gone = rec.tracker.gone;
  const newId = gone?.containerId !== rec.input.containerId ? gone?.containerId : undefined;
  rec.note(
    newId !== undefined && gone
      ? `the container was replaced under its name (now ${newId.slice(0, 12)}, at ${gone.time}): this incident ends; the new container gets its own`
      : `the container was removed${gone ? ` at ${gone.time}` : ''}: nothing left to fix`,
  );
  return rec.close('container_gone');
}

/**
 * A storm member waits for the storm's answer (or a person's, to this incident) instead of
 * paging (docs/architecture.md §3), for as long as the storm's ladder. An approval the gateway's
 * budget refuses for now is handed back to the storm with its retry-after: the storm approves
 * it again later, so a batch never runs past the budgets.
 */
async function awaitStorm(rec: IncidentRecord, inbox: Inbox, remedy: Remedy, answerable: ResponseAction[], reason: string): Promise<IncidentState> {
  const { input } = rec;
  const levelName = `storm ${rec.st.stormId ?? ''}`;
  let waitingFor = answerable;
  let timeoutSeconds = input.escalation.ladder.reduce((s, l) => s + l.timeoutSeconds, 0) + 60;
  rec.note(`handed over to ${levelName}: its page lists this container and its answer is this incident's; nobody is paged for it alone`);
  for (;;) {
    rec.st.pendingEscalation = { level: 1, levelName, since: now(), waitingFor, proposedAction: remedy.action, reason };
    rec.setDetails();
    const answer = await inbox.waitFor(waitingFor, timeoutSeconds, `waiting for ${levelName}`);
    if (rec.tracker.gone) return closeGone(rec);
    if (answer === null) {
      rec.note(`no answer through the storm within ${timeoutSeconds}s`);
      return rec.close('unacknowledged');
    }
    if (answer.action === 'acknowledge') {
      waitingFor = waitingFor.filter((a) => a !== 'acknowledge');
      timeoutSeconds = input.escalation.resolveTimeoutSeconds;
      rec.note(`acknowledged by ${answer.by}; waiting up to ${timeoutSeconds}s for ${waitingFor.join(' | ')}`);
      continue;
    }
    if (answer.action !== 'approve') return answered(rec, answer, remedy);
    const done = await runApproved(rec, answer, remedy);
    if (done.ok) return rec.close('approved');
    if (done.error.code !== 'rate_limited') return failedApproval(rec, done.error);
    rec.note(`the gateway's budget refused the approved action for now (${done.error.message}): back to the storm, which approves it again later`);
    rec.setPhase('escalated');
    timeoutSeconds = input.escalation.resolveTimeoutSeconds;
    await reportToStorm(rec, 'handed_over', { remedy: remedy.action, recommendation: remedy.text, reason, retryAfterSeconds: done.error.retryAfterSeconds ?? 30 });
  }
}

function runApproved(rec: IncidentRecord, answer: Response, remedy: Remedy): ReturnType<typeof act> {
  delete rec.st.pendingEscalation;
  rec.setPhase('act');
  rec.note(`approved by ${answer.by}: ${remedy.text}`);
  return act(rec, remedy.action, remedy.memoryBytes, answer.by);
}

function failedApproval(rec: IncidentRecord, error: { code: string; message: string }): IncidentState {
  rec.note(`the approved action was refused or failed (${error.code}): ${error.message}`);
  return rec.close('failed');
}

async function answered(rec: IncidentRecord, answer: Response, remedy: Remedy): Promise<IncidentState> {
  delete rec.st.pendingEscalation;
  switch (answer.action) {
    case 'reject':
      rec.note(`rejected by ${answer.by}: no action`);
      return rec.close('rejected');
    case 'resolve':
      rec.note(`resolved by ${answer.by}`);
      return rec.close('resolved_by_human');
    case 'approve': {
      const done = await runApproved(rec, answer, remedy);
      return done.ok ? rec.close('approved') : failedApproval(rec, done.error);
    }
    default:
      // waitFor only returns actions from the list it was given.
      throw ApplicationFailure.nonRetryable(`unexpected response ${answer.action}`);
  }
}

/** Sends one level's page, not awaited (a slow webhook never delays the ladder); its delivery is noted once known. */
export function page(rec: Pick<InboxOwner, 'note'>, notice: EscalationNotice, summary = `page ${notice.levelName}`): void {
  const what = `level ${notice.level} (${notice.levelName})`;
  void notifications.notifyEscalation.executeWithOptions({ ...ACTIVITY_OPTIONS.notify, summary }, [notice]).then(
    (r) => rec.note(`notified ${what}: webhook ${r.webhook}`),
    (err: unknown) => {
      if (!isCancellation(err)) rec.note(`notification to ${what} failed: ${failureOf(err).message}`);
    },
  );
  rec.note(`paging ${what}`);
}
