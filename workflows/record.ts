import { isCancellation, log, proxySinks, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ContainerSummary } from '../src/contract/gateway';
import type { EscalationAdvice } from '../src/contract/escalation-notice';
import type { IncidentInput, IncidentState, Outcome, Phase, ToolCallRecord } from '../src/contract/incident';
import type { IncidentMetricsSinks } from '../src/contract/metrics-sinks';
import type { Action, Decision, Facts } from '../src/contract/policy';
import { SA } from '../src/contract/search-attributes';
import type { ToolResult } from './decision-chain';
import { failureOf } from './decision-chain';
import type { ObservationTracker } from './observations';

const MAX_NOTES = 100;

const { incidentMetrics } = proxySinks<IncidentMetricsSinks>();

/** Workflow time (deterministic in the sandbox). */
export function now(): string {
  return new Date().toISOString();
}

/** The state's last change, for an incident and for a storm: the outcome, its time, and the search attribute. */
export function closeState(st: IncidentState, outcome: Outcome): void {
  delete st.pendingEscalation;
  st.outcome = outcome;
  st.closedAt = now();
  st.phase = 'closed';
  upsertSearchAttributes([{ key: SA.outcome, value: outcome }]);
}

/**
 * What one incident knows and has written down: the state the `state` query returns, the
 * current facts and decision, and the search attributes and UI details that follow them. Every
 * phase reads and writes the incident through this one object.
 */
export class IncidentRecord {
  readonly st: IncidentState;
  summary: ContainerSummary | undefined;
  facts: Facts | undefined;
  decision: Decision | undefined;
  /** What the model advised, for the escalation notification. */
  adviceNotice: EscalationAdvice | undefined;
  private readonly decisionHistory: Decision[] = [];
  private readonly decisionHistoryFacts: (Facts | null)[] = [];
  /** The facts in force when the current decision was made. */
  private decidedFrom: Facts | null = null;
  /** Called with the final state (a storm member tells its storm: workflows/storm-member.ts). */
  onClose: ((st: IncidentState) => void) | undefined;
  /**
   * What the workflow must await before it returns: a signal sent in the task that completes
   * the workflow is dropped by the server, so the storm would never hear of the close.
   */
  closing: Promise<unknown> | undefined;

  constructor(
    readonly input: IncidentInput,
    readonly tracker: ObservationTracker,
  ) {
    this.st = {
      incidentId: workflowInfo().workflowId,
      host: input.host,
      container: input.container,
      containerId: input.containerId,
      phase: 'triage',
      startedAt: now(),
      observations: tracker.recent,
      decisionChain: [],
      responses: [],
      notes: [],
    };
  }

  setFacts(facts: Facts): void {
    this.facts = facts;
    this.st.facts = facts;
  }

  setDecision(d: Decision, finalAction: Action): void {
    if (this.decision) {
      this.decisionHistory.push(this.decision);
      this.decisionHistoryFacts.push(this.decidedFrom);
    }
    this.decision = d;
    this.decidedFrom = this.facts ?? null;
    this.st.decision = d;
    this.st.finalAction = finalAction;
    if (this.decisionHistory.length > 0) {
      this.st.decisionHistory = [...this.decisionHistory];
      this.st.decisionHistoryFacts = [...this.decisionHistoryFacts];
    }
    upsertSearchAttributes([
      { key: SA.failure, value: d.failure },
      { key: SA.decision, value: finalAction },
    ]);
    this.setDetails();
  }

  setPhase(phase: Phase): void {
    this.st.phase = phase;
    this.setDetails();
  }

  note(text: string): void {
    if (this.st.notes.length < MAX_NOTES) this.st.notes.push(text);
  }

  close(outcome: Outcome): IncidentState {
    closeState(this.st, outcome);
    this.setDetails();
    log.info('incident closed', { outcome, rule: this.decision?.rule, action: this.st.finalAction });
    // Counted by the worker's metrics (docs/architecture.md §9): a sink call is no command, and replay does not repeat it.
    incidentMetrics.closed(this.input, this.st);
    this.onClose?.(this.st);
    return this.st;
  }

  /** Runs one activity and writes it into the decision chain, whatever its outcome; only a cancellation passes through. */
  async call<R>(tool: string, args: Record<string, unknown>, run: () => Promise<R>, compact: (r: R) => unknown, approvedBy?: string): Promise<ToolResult<R>> {
    const at = now();
    let result: ToolResult<R>;
    try {
      result = { ok: true, value: await run() };
    } catch (err) {
      if (isCancellation(err)) throw err;
      result = { ok: false, error: failureOf(err) };
    }
    return this.recordResult(tool, args, result, compact, at, approvedBy);
  }

  /** A tool call that ran inside another activity (triage's lookups), recorded like one of its own. */
  recordResult<R>(tool: string, args: Record<string, unknown>, result: ToolResult<R>, compact: (r: R) => unknown, at: string, approvedBy?: string): ToolResult<R> {
    const by = approvedBy ? { approvedBy } : {};
    this.record(result.ok ? { tool, args, ok: true, result: compact(result.value), at, ...by } : { tool, args, ok: false, error: result.error, at, ...by });
    return result;
  }

  /** The "current details" the Temporal UI shows for a running workflow. */
  setDetails(): void {
    const d = this.decision;
    const lines = [
      `**${this.input.container}** on ${this.input.host} · phase **${this.st.phase}**`,
      ...(d ? [`decision: ${this.st.finalAction ?? d.action} (${d.rule}) — ${d.reason}`] : []),
      ...(this.st.pendingEscalation ? [`waiting for ${this.st.pendingEscalation.levelName}: ${this.st.pendingEscalation.waitingFor.join(' | ')}`] : []),
      ...(this.st.outcome ? [`outcome: ${this.st.outcome}`] : []),
    ];
    setCurrentDetails(lines.join('\n\n'));
  }

  private record(r: ToolCallRecord): void {
    this.st.decisionChain.push(r);
  }
}
