import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DrillAuditEntry, DrillEvent } from '../../src/contract/drill';
import { DRILL_RESPONDER } from '../../src/contract/drill';
import type { IncidentState } from '../../src/contract/incident';
import type { Observed } from '../../src/drills/score';
import { drillOutcome, mttrMs, scoreScenario } from '../../src/drills/score';
import { scenario } from '../../src/drills/scenarios';

/** The drill's judgement by effect (docs/architecture.md §6), on hand-made observations: each kind of wrong is caught. */
const MiB = 1024 * 1024;
const INCIDENT = 'incident-h-drill-x-oom';
const DRILL_WF = 'drill-h-x';
const T0 = 1_780_000_000_000_000_000n;
const ev = (action: string, ms: number, exitCode?: number): DrillEvent => ({
  action,
  timeNano: (T0 + BigInt(ms) * 1_000_000n).toString(),
  time: '',
  ...(exitCode !== undefined ? { exitCode } : {}),
});
const call = (tool: string, over: Partial<DrillAuditEntry> = {}): DrillAuditEntry => ({ time: '', tool, agent: 'w', verdict: 'allowed', code: null, replayed: false, workflowId: INCIDENT, ...over });

function state(over: Partial<IncidentState>): IncidentState {
  return { incidentId: INCIDENT, host: 'h', container: 'c', containerId: 'id', phase: 'closed', startedAt: '', observations: [], decisionChain: [], responses: [], notes: [], ...over };
}

function oomObserved(over: Partial<Observed> = {}): Observed {
  return {
    incident: state({ finalAction: 'raise_memory', outcome: 'auto_resolved' }),
    audit: [call('create_drill_container', { workflowId: DRILL_WF }), call('inspect_container'), call('update_container_resources'), call('start_container')],
    scheduled: { raiseMemory: 1, startContainer: 1 },
    final: { running: true, memoryBytes: 64 * MiB },
    events: [ev('start', 0), ev('oom', 1000), ev('die', 1010, 137), ev('update', 1200), ev('start', 1300)],
    drillWorkflowId: DRILL_WF,
    ...over,
  };
}

void describe('drill MTTR from Docker event times', () => {
  void it('failure event → next start, or → healthy when health is expected; none without a failure or a recovery', () => {
    assert.equal(mttrMs(oomObserved().events, false), 300);
    const unhealthy = [ev('start', 0), ev('health_status: unhealthy', 3000), ev('kill', 3050), ev('die', 3060, 137), ev('start', 3100), ev('health_status: healthy', 4100)];
    assert.equal(mttrMs(unhealthy, true), 1100);
    assert.equal(mttrMs(unhealthy, false), 100);
    assert.equal(mttrMs([ev('start', 0), ev('die', 500, 0)], false), undefined, 'a clean exit is no failure');
    assert.equal(mttrMs([ev('start', 0), ev('die', 500, 1)], false), undefined, 'never recovered');
    assert.equal(mttrMs([ev('start', 2000), ev('die', 1000, 1)], false), 1000, "events are taken in Docker's time order, not the order given");
    assert.equal(mttrMs([ev('start', 500), ev('die', 1000, 1)], false), undefined, 'a start before the failure is not a recovery');
  });
});

void describe('scoreScenario', () => {
  const oom = scenario('oom');
  void it('a right OOM incident passes with its MTTR; the drill’s own calls are not the incident’s', () => {
    const r = scoreScenario(oom, INCIDENT, oomObserved(), 32 * MiB);
    assert.equal(r.pass, true, r.why);
    assert.equal(r.mttrMs, 300);
  });

  void it('each kind of wrong fails, saying what', () => {
    const cases: [string, Partial<Observed>, RegExp][] = [
      ['wrong decision', { incident: state({ finalAction: 'restart', outcome: 'auto_resolved' }) }, /decided restart.*expected raise_memory/],
      ['not closed', { incident: state({ phase: 'verify', finalAction: 'raise_memory' }) }, /did not close/],
      ['no incident', { incident: null }, /no incident was opened/],
      ['wrong outcome', { incident: state({ finalAction: 'raise_memory', outcome: 'failed' }) }, /closed failed, expected auto_resolved/],
      ['an extra restart reached Docker', { audit: [...oomObserved().audit, call('restart_container')] }, /restart_container: 1 call\(s\) reached Docker, expected 0/],
      ['history disagrees with the audit', { scheduled: { raiseMemory: 2, startContainer: 1 } }, /update_container_resources: 2 scheduled/],
      ['limit not doubled', { final: { running: true, memoryBytes: 48 * MiB } }, /memory limit/],
      ['not running', { final: { running: false, memoryBytes: 64 * MiB } }, /not running, expected running/],
      ['no recovery in Docker’s events', { events: [ev('oom', 1000)] }, /no failure → recovery/],
    ];
    for (const [what, over, why] of cases) {
      const r = scoreScenario(oom, INCIDENT, oomObserved(over), 32 * MiB);
      assert.equal(r.pass, false, what);
      assert.match(r.why ?? '', why, what);
    }
  });

  void it('a replayed or refused call, or another workflow’s call, does not count as a mutation', () => {
    const audit = [...oomObserved().audit, call('update_container_resources', { replayed: true }), call('update_container_resources', { verdict: 'refused', code: 'rate_limited' }), call('restart_container', { workflowId: 'other' })];
    assert.equal(scoreScenario(oom, INCIDENT, oomObserved({ audit }), 32 * MiB).pass, true);
  });

  void it('an escalation must be answered by the drill responder; a scenario that must open nothing fails on any incident or foreign call', () => {
    const crash = scenario('crashloop');
    assert.equal(drillOutcome(crash), 'rejected');
    const base: Observed = { incident: state({ finalAction: 'escalate', outcome: 'rejected', responses: [{ action: 'reject', by: DRILL_RESPONDER, at: '' }] }), audit: [call('inspect_container')], scheduled: {}, final: { running: true, memoryBytes: 0 }, events: [], drillWorkflowId: DRILL_WF };
    assert.equal(scoreScenario(crash, INCIDENT, base, 0).pass, true);
    const byPerson = { ...base, incident: state({ finalAction: 'escalate', outcome: 'rejected', responses: [{ action: 'reject', by: 'alice', at: '' }] }) };
    assert.match(scoreScenario(crash, INCIDENT, byPerson, 0).why ?? '', /not by the drill responder/);

    const quiet = scenario('not-opted-in');
    const none: Observed = { incident: null, audit: [call('create_drill_container', { workflowId: DRILL_WF })], scheduled: {}, final: null, events: [], drillWorkflowId: DRILL_WF };
    assert.equal(scoreScenario(quiet, INCIDENT, none, 0).pass, true);
    assert.match(scoreScenario(quiet, INCIDENT, { ...none, audit: [...none.audit, call('inspect_container')] }, 0).why ?? '', /not the drill's own/);
    assert.match(scoreScenario(quiet, INCIDENT, { ...none, incident: state({ finalAction: 'ignore' }) }, 0).why ?? '', /an incident was opened/);
  });
});
