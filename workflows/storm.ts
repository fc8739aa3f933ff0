import { condition, getExternalWorkflowHandle, isCancellation, setCurrentDetails, setHandler, sleep, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { EscalationNotice } from '../src/contract/escalation-notice';
import type { Outcome, Phase, Response, ResponseAction } from '../src/contract/incident';
import type { FailureKind } from '../src/contract/policy';
import { FAILURE_KINDS } from '../src/contract/policy';
import { SA } from '../src/contract/search-attributes';
import { respondSignal, stateQuery } from '../src/contract/signals';
import type { StormInput, StormMember, StormState } from '../src/contract/storm';
import { StormMembersSchema, StormReportSchema, stormMembersSignal, stormReportSignal } from '../src/contract/storm';
import { failureOf } from './decision-chain';
import { Inbox, page as sendPage } from './escalation';
import { closeState, now } from './record';

/** No change for this long and every member has said where it stands: the storm pages. */
const SETTLE_MS = 2000;
/** Handed-over members approved at once; the rest wait their turn (the gateway's budgets still apply). */
const APPROVE_CONCURRENCY = 4;
/** A page lists at most this many members (the Slack page's evidence bound); handed-over ones last, so a cut keeps them. */
const PAGE_LINES = 100;
const MAX_MEMBERS = 1000;
const MAX_NOTES = 100;

/**
 * One host's storm (docs/architecture.md §3): many container incidents opened at once. It
 * gathers what each member did, pages once, and answers for the members that handed their
 * escalation to it: `approve` runs each one's own remedy through its own incident, a few at a
 * time and again when the gateway's budget says later; reject, acknowledge and resolve go to
 * them all. Members keep acting on their own meanwhile: the storm only holds their pages.
 */
export async function stormWorkflow(input: StormInput): Promise<StormState> {
  const storm = new Storm(input);
  setHandler(stormMembersSignal, (refs) => storm.addMembers(refs));
  setHandler(stormReportSignal, (r) => storm.report(r));
  setHandler(respondSignal, (r) => storm.receive(r));
  setHandler(stateQuery, () => storm.st);
  upsertSearchAttributes([
    { key: SA.container, value: 'storm' },
    { key: SA.host, value: input.host },
  ]);

  await storm.gather();
  if (storm.nothingToSay()) return storm.quiet();
  void storm.followUps();
  return storm.ladder();
}

/** Outcomes of members that needed nothing: a burst of these is no storm worth a page. */
const QUIET_OUTCOMES: readonly string[] = ['ignored', 'suppressed', 'container_gone', 'shadow'];

class Storm {
  readonly st: StormState;
  private readonly members = new Map<string, StormMember>();
  private readonly inbox: Inbox;
  /** Bumped by every membership or report change. */
  private version = 0;
  private level = 0;
  private closed = false;

  constructor(private readonly input: StormInput) {
    this.st = {
      incidentId: workflowInfo().workflowId,
      host: input.host,
      container: 'storm',
      containerId: '',
      phase: 'triage',
      startedAt: now(),
      observations: [],
      decisionChain: [],
      responses: [],
      notes: [],
      storm: { count: input.count, windowSeconds: input.windowSeconds, members: [] },
    };
    // A storm has no container that could go away.
    this.inbox = new Inbox({ st: this.st, note: (t) => this.note(t), tracker: { gone: null } });
  }

  addMembers(refs: unknown): void {
    const parsed = StormMembersSchema.safeParse(refs);
    if (!parsed.success) return this.note('dropped a malformed member list');
    for (const r of parsed.data) {
      if (this.members.has(r.workflowId) || this.members.size >= MAX_MEMBERS) continue;
      const m: StormMember = { ...r, joinedAt: now() };
      this.members.set(r.workflowId, m);
      this.st.storm.members.push(m);
    }
    this.changed();
  }

  report(raw: unknown): void {
    const parsed = StormReportSchema.safeParse(raw);
    if (!parsed.success) return this.note('dropped a malformed member report');
    const r = parsed.data;
    let m = this.members.get(r.workflowId);
    if (!m) {
      this.addMembers([{ workflowId: r.workflowId, container: r.container, containerId: r.containerId }]);
      m = this.members.get(r.workflowId);
      if (!m) return;
    }
    // A new hand-over (first, or after the budget said later) is not yet in any page.
    if (r.status === 'handed_over' && m.report?.status !== 'handed_over') m.paged = false;
    m.report = r as StormMember['report'];
    this.changed();
  }

  receive(r: Response): void {
    this.inbox.receive(r);
  }

  /** Until every member has reported past `deciding` and nothing changed for SETTLE_MS, or the storm window ends. */
  async gather(): Promise<void> {
    const deadline = Date.now() + this.input.windowSeconds * 1000;
    for (;;) {
      const seen = this.version;
      const changed = await condition(() => this.version !== seen, SETTLE_MS, { summary: 'gathering members' });
      if (!changed && this.settled()) return;
      if (Date.now() >= deadline) {
        this.note(`paged at the end of the storm window (${this.input.windowSeconds}s) with ${this.undecided().length} member(s) still deciding`);
        return;
      }
    }
  }

  /** Every member closed having needed nothing (ignored, held back, gone): nobody is paged. */
  nothingToSay(): boolean {
    return [...this.members.values()].every((m) => m.report?.status === 'closed' && QUIET_OUTCOMES.includes(m.report.outcome ?? ''));
  }

  quiet(): StormState {
    this.note(`all ${this.members.size} members closed without needing anything (${[...new Set([...this.members.values()].map((m) => m.report?.outcome))].join(', ')}): nobody is paged`);
    return this.close('ignored');
  }

  /**
   * The storm's own ladder, like an incident's: one page per level until someone answers. Its
   * answer is passed on to the members that handed over.
   */
  async ladder(): Promise<StormState> {
    const ladder = this.input.escalation.ladder;
    upsertSearchAttributes([
      { key: SA.failure, value: this.mainFailure() },
      { key: SA.decision, value: 'escalate' },
    ]);
    for (const [i, level] of ladder.entries()) {
      this.level = i + 1;
      this.setPending(this.answerable());
      this.page();
      const answer = await this.inbox.waitFor(() => this.answerable(), level.timeoutSeconds, `waiting for ${level.name} (level ${i + 1})`);
      if (answer === null) {
        this.note(`no answer from ${level.name} within ${level.timeoutSeconds}s`);
        continue;
      }
      if (answer.action !== 'acknowledge') return this.answered(answer);
      await this.forward(answer);
      const rest = () => this.answerable().filter((a) => a !== 'acknowledge');
      this.setPending(rest());
      this.note(`acknowledged by ${answer.by}; waiting up to ${this.input.escalation.resolveTimeoutSeconds}s for ${rest().join(' | ')}`);
      const decided = await this.inbox.waitFor(rest, this.input.escalation.resolveTimeoutSeconds, `acknowledged by ${answer.by}`);
      if (decided === null) return this.close('unacknowledged');
      return this.answered(decided);
    }
    this.note(`no answer after the last escalation level (${ladder.length}); the members that handed over close unanswered on their own`);
    return this.close('unacknowledged');
  }

  /** Late hand-overs (after a page went out) are paged once more at the current level, batched. */
  async followUps(): Promise<void> {
    while (!this.closed) {
      // Only while waiting for an answer: during an approval or after it, nothing is paged.
      await condition(() => this.closed || (this.st.pendingEscalation !== undefined && this.unpaged().length > 0));
      if (this.closed) return;
      await sleep(SETTLE_MS);
      if (!this.closed && this.st.pendingEscalation) {
        // A late member may bring something to approve: the answers waited for follow.
        this.st.pendingEscalation.waitingFor = this.st.pendingEscalation.waitingFor.includes('acknowledge') ? this.answerable() : this.answerable().filter((a) => a !== 'acknowledge');
        this.page();
      }
    }
  }

  private async answered(answer: Response): Promise<StormState> {
    delete this.st.pendingEscalation;
    switch (answer.action) {
      case 'approve':
        this.st.storm.approvedBy = answer.by;
        await this.approveAll(answer);
        return this.close('approved');
      case 'reject':
        await this.forward(answer);
        return this.close('rejected');
      default:
        await this.forward(answer);
        return this.close('resolved_by_human');
    }
  }

  /**
   * Each handed-over member with something to approve runs its own remedy through its own
   * incident, APPROVE_CONCURRENCY at a time; one the gateway's budget refused hands over again
   * with a retry-after, and is approved again once that has passed, within the resolve timeout.
   */
  private async approveAll(answer: Response): Promise<void> {
    this.setPhase('act');
    const deadline = Date.now() + this.input.escalation.resolveTimeoutSeconds * 1000;
    const by = `${answer.by} (storm)`;
    const approvable = () => this.handedOver().filter((m) => m.report?.remedy === 'restart' || m.report?.remedy === 'raise_memory');
    this.note(`approved by ${answer.by}: ${approvable().length} handed-over member(s) run their remedy, ${APPROVE_CONCURRENCY} at a time`);
    const inFlight = new Set<string>();
    const notBefore = new Map<string, number>();
    for (;;) {
      const due = approvable().filter((m) => !inFlight.has(m.workflowId) && (notBefore.get(m.workflowId) ?? 0) <= Date.now());
      if (approvable().length === 0 || Date.now() >= deadline) break;
      for (const m of due.slice(0, Math.max(0, APPROVE_CONCURRENCY - inFlight.size))) {
        inFlight.add(m.workflowId);
        const sent = m.report;
        void this.signalMember(m, { ...answer, by }).then(async (ok) => {
          if (ok) await condition(() => m.report !== sent, Math.max(deadline - Date.now(), 1));
          else m.report = { ...(m.report as NonNullable<StormMember['report']>), status: 'closed', done: 'its incident had closed' };
          const retry = m.report?.status === 'handed_over' ? m.report.retryAfterSeconds : undefined;
          if (retry !== undefined) notBefore.set(m.workflowId, Date.now() + Math.max(retry, 1) * 1000);
          inFlight.delete(m.workflowId);
          this.changed();
        });
      }
      const next = Math.min(...[...notBefore.values()].filter((t) => t > Date.now()), deadline);
      const seen = this.version;
      await condition(() => this.version !== seen, Math.max(next - Date.now(), 1), { summary: 'approving handed-over members' });
    }
    const left = approvable().length;
    if (left > 0) this.note(`${left} member(s) were still refused by the gateway's budget at the resolve timeout`);
  }

  /** Passes a person's answer to every member still waiting for the storm. */
  private async forward(answer: Response): Promise<void> {
    await Promise.all(this.handedOver().map((m) => this.signalMember(m, { ...answer, by: `${answer.by} (storm)` })));
  }

  private async signalMember(m: StormMember, r: Response): Promise<boolean> {
    try {
      await getExternalWorkflowHandle(m.workflowId).signal(respondSignal, r);
      return true;
    } catch (err) {
      if (isCancellation(err)) throw err;
      this.note(`could not pass ${r.action} to ${m.container}: ${failureOf(err).message}`);
      return false;
    }
  }


  private page(): void {
    const ladder = this.input.escalation.ladder;
    const level = ladder[this.level - 1];
    if (!level) return;
    const members = [...this.members.values()];
    const handed = this.handedOver();
    for (const m of members) m.paged = true;
    const byFailure = new Map<string, number>();
    for (const m of members) byFailure.set(m.report?.failure ?? 'unknown', (byFailure.get(m.report?.failure ?? 'unknown') ?? 0) + 1);
    const kinds = [...byFailure.entries()].map(([f, n]) => `${n} ${f}`).join(', ');
    const acted = members.filter((m) => m.report?.status === 'acted' || m.report?.outcome === 'auto_resolved').length;
    const lines = [...members.filter((m) => !handed.includes(m)), ...handed].map(memberLine).slice(-PAGE_LINES);
    const names = handed.map((m) => m.container);
    const notice: EscalationNotice = {
      incidentId: this.st.incidentId,
      host: this.input.host,
      container: `storm: ${members.length} containers`,
      containerId: '',
      failure: this.mainFailure(),
      rule: 'storm',
      reason: `${members.length} incidents opened on ${this.input.host} within ${this.input.windowSeconds}s (${kinds}): ${acted} acted on by the policy, ${handed.length} waiting for a person, each listed below`,
      level: this.level,
      levels: ladder.length,
      levelName: level.name,
      timeoutSeconds: level.timeoutSeconds,
      evidence: lines,
      recommendedAction: names.length > 0 ? 'restart' : 'escalate',
      recommendation:
        names.length > 0
          ? `approve runs each waiting container's own remedy through its incident, ${APPROVE_CONCURRENCY} at a time within the gateway's budgets: ${names.join(', ')}`.slice(0, 1000)
          : 'nothing waits for approval: acknowledge or resolve the storm',
      waitingFor: this.answerable(),
      ...(this.input.uiUrl ? { uiUrl: this.input.uiUrl } : {}),
    };
    sendPage({ note: (t) => this.note(t) }, notice, `storm page ${level.name}`);
    this.note(`the page lists ${members.length} members, ${handed.length} handed over`);
  }

  private answerable(): ResponseAction[] {
    return this.handedOver().some((m) => m.report?.remedy === 'restart' || m.report?.remedy === 'raise_memory')
      ? ['approve', 'reject', 'acknowledge', 'resolve']
      : ['reject', 'acknowledge', 'resolve'];
  }

  private setPending(waitingFor: ResponseAction[]): void {
    const level = this.input.escalation.ladder[this.level - 1];
    this.st.pendingEscalation = {
      level: this.level,
      levelName: level?.name ?? 'storm',
      since: now(),
      waitingFor,
      proposedAction: waitingFor.includes('approve') ? 'restart' : 'escalate',
      reason: `storm of ${this.members.size} incidents on ${this.input.host}`,
    };
    this.setPhase('escalated');
  }

  private handedOver(): StormMember[] {
    return [...this.members.values()].filter((m) => m.report?.status === 'handed_over');
  }

  private unpaged(): StormMember[] {
    return this.handedOver().filter((m) => !m.paged);
  }

  private undecided(): StormMember[] {
    return [...this.members.values()].filter((m) => !m.report || m.report.status === 'deciding');
  }

  private settled(): boolean {
    return this.members.size > 0 && this.undecided().length === 0;
  }

  private mainFailure(): FailureKind {
    const counts = new Map<FailureKind, number>();
    for (const m of this.members.values()) {
      const f = (FAILURE_KINDS as readonly string[]).includes(m.report?.failure ?? '') ? (m.report?.failure as FailureKind) : 'unknown';
      counts.set(f, (counts.get(f) ?? 0) + 1);
    }
    return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'unknown';
  }

  private changed(): void {
    this.version++;
    this.setDetails();
  }

  private note(text: string): void {
    if (this.st.notes.length < MAX_NOTES) this.st.notes.push(text);
  }

  private setPhase(phase: Phase): void {
    this.st.phase = phase;
    this.setDetails();
  }

  private close(outcome: Outcome): StormState {
    this.closed = true;
    closeState(this.st, outcome);
    this.setDetails();
    return this.st;
  }

  private setDetails(): void {
    const members = [...this.members.values()];
    setCurrentDetails(
      [
        `**storm** on ${this.input.host} · phase **${this.st.phase}** · ${members.length} members, ${this.handedOver().length} handed over`,
        ...(this.st.pendingEscalation ? [`waiting for ${this.st.pendingEscalation.levelName}: ${this.st.pendingEscalation.waitingFor.join(' | ')}`] : []),
        ...(this.st.outcome ? [`outcome: ${this.st.outcome}`] : []),
      ].join('\n\n'),
    );
  }
}

function memberLine(m: StormMember): string {
  const r = m.report;
  if (!r) return `${m.container}: no report yet (see ${m.workflowId})`;
  const waiting = r.status === 'handed_over' ? ` — waits for this page (approve: ${r.remedy ?? 'nothing to run'})` : r.status === 'paged_alone' ? ' — paged on its own' : '';
  return `${m.container}: ${r.failure} → ${r.done}${waiting}`.slice(0, 1024);
}
