import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { auditRecordsOfRun, mttrMs } from '../../src/audit/export-record';
import { referenceCalls } from '../../src/audit/reference-evidence';
import { sinceTime } from '../../src/cli/options';
import { ReferenceRecordSchema } from '../../src/contract/audit-record';
import type { IncidentInput, IncidentState } from '../../src/contract/incident';
import type { AuditRecord } from '../../src/gateway/audit/record';
import { CONTAINER_ID, facts, inspect, logs, record, restart } from './synthetic';

/** docs/architecture.md §6: how `audit export` joins a run's calls, measures MTTR, and stays readable as the reference format. */

function audited(over: Partial<AuditRecord>): AuditRecord {
  return {
    time: '2026-05-03T17:00:01.000Z',
    requestId: 'r',
    agent: 'a',
    keyId: 'k',
    method: 'POST',
    path: '/v1/tools/inspect_container',
    tool: 'inspect_container',
    args: { container: 'c' },
    target: null,
    verdict: 'allowed',
    code: null,
    status: 200,
    result: null,
    replayed: false,
    durationMs: 1,
    idempotencyKey: null,
    workflowId: 'incident-h-web',
    seq: 0,
    prev: '',
    hash: '',
    ...over,
  };
}

describe('audit export: a run and its gateway calls', () => {
  const run = { workflowId: 'incident-h-web', runId: 'run-2', startTime: '2026-05-03T17:00:00.000Z', closeTime: '2026-05-03T17:05:00.000Z' };
  it('mutating calls by the run id in their idempotency key, reads by the run window; other workflows and LLM calls never', () => {
    const mine = [
      audited({ requestId: 'restart-2', tool: 'restart_container', idempotencyKey: 'incident-h-web/run-2/3', time: '2026-05-03T17:00:02.000Z' }),
      audited({ requestId: 'read-2' }),
    ];
    const others = [
      // The earlier run of the same container, its restart audited inside this run's window (clock skew, retries): its key says whose it is.
      audited({ requestId: 'restart-1', tool: 'restart_container', idempotencyKey: 'incident-h-web/run-1/3' }),
      audited({ requestId: 'read-before', time: '2026-05-03T16:59:59.000Z' }),
      audited({ requestId: 'read-after', time: '2026-05-03T17:05:01.000Z' }),
      audited({ requestId: 'other-workflow', workflowId: 'incident-h-db' }),
      audited({ requestId: 'llm', tool: null, path: '/llm/v1/chat/completions' }),
    ];
    assert.deepEqual(auditRecordsOfRun([...others, ...mine], run).map((a) => a.requestId), mine.map((a) => a.requestId));
  });

  it('who approved a call comes from the workflow record, matched by tool and order', () => {
    const r = record({ facts: [facts({ restarting: true, deathsInWindow: 3 })], outcome: 'approved', calls: [inspect(false), logs, restart({ approvedBy: 'alice' })] });
    assert.deepEqual(r.tools.map((t) => [t.name, t.approved_by]), [['inspect_container', null], ['check_container_logs', null], ['restart_container', 'alice']]);
    assert.equal(r.tools_source, 'gateway_audit');
  });

  it('the export is a superset of the reference format: a reader of that format finds the same calls', () => {
    const r = record({ facts: [facts()], outcome: 'auto_resolved', calls: [inspect(false), restart({ refused: 'rate_limited' }), restart(), inspect(true)] });
    const asReference = ReferenceRecordSchema.parse(r);
    assert.equal(asReference.alert.status, 'exited');
    assert.equal(asReference.alert.container_id, CONTAINER_ID);
    const calls = referenceCalls(asReference);
    assert.deepEqual(calls.filter((c) => c.mutating).map((c) => [c.tool, c.ok]), [['restart_container', false], ['restart_container', true]]);
    assert.equal(r.resolved, true);
  });
});

describe('audit export: MTTR from Docker event times', () => {
  const input = { trigger: { kind: 'die', time: '2026-05-03T17:00:00.000Z', exitCode: 1 } } as IncidentInput;
  const state = (over: Partial<IncidentState>): IncidentState =>
    ({
      outcome: 'auto_resolved',
      facts: facts(),
      decisionChain: [{ tool: 'restart_container', args: {}, ok: true, at: '2026-05-03T17:00:00.300Z' }],
      observations: [input.trigger, { kind: 'start', time: '2026-05-03T17:00:00.450Z' }, { kind: 'start', time: '2026-05-03T17:00:09.000Z' }],
      ...over,
    }) as IncidentState;

  it('failure event → first start after it', () => assert.equal(mttrMs(state({}), input), 450));
  it('with a health check: failure event → healthy', () => {
    const s = state({ facts: facts({ health: 'unhealthy', running: true }), observations: [input.trigger, { kind: 'start', time: '2026-05-03T17:00:00.450Z' }, { kind: 'health_status', health: 'healthy', time: '2026-05-03T17:00:03.000Z' }] });
    assert.equal(mttrMs(s, input), 3000);
  });
  it('none unless resolved automatically, and none without the event', () => {
    assert.equal(mttrMs(state({ outcome: 'unacknowledged' }), input), null);
    assert.equal(mttrMs(state({ observations: [input.trigger] }), input), null);
    assert.equal(mttrMs(state({ decisionChain: [] }), input), null);
  });
});

describe('audit export options', () => {
  it('--since takes a duration or an ISO-8601 time, and nothing else', () => {
    const now = Date.parse('2026-05-03T17:00:00.000Z');
    const parse = sinceTime('--since', () => now);
    assert.equal(parse('24h').toISOString(), '2026-05-02T17:00:00.000Z');
    assert.equal(parse('90s').toISOString(), '2026-05-03T16:58:30.000Z');
    assert.equal(parse('7d').toISOString(), '2026-04-26T17:00:00.000Z');
    assert.equal(parse('2026-05-03T17:05:31Z').toISOString(), '2026-05-03T17:05:31.000Z');
    for (const bad of ['', 'yesterday', '24', '-1h', '1.5h', '2026-13-45', '1e3s']) assert.throws(() => parse(bad), InvalidArgumentError, bad);
  });

});
