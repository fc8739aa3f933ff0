import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Analysis } from '../../src/audit/analyze';
import { analyzeRecords } from '../../src/audit/analyze';
import { BadAuditInput, readAuditRecords } from '../../src/audit/read-records';
import type { FindingCode } from '../../src/audit/score';
import { FINDING_CODES } from '../../src/audit/score';
import type { ExportRecord } from '../../src/contract/audit-record';
import { repoRoot } from '../helpers/paths';
import type { Incident } from './synthetic';
import { decide, decisionFromRow } from '../../src/policy';
import { referenceFacts } from '../../src/audit/reference-evidence';
import { ReferenceRecordSchema } from '../../src/contract/audit-record';
import { CONTAINER_ID, DEPENDENT_ID, MiB, POLICY, at, facts, inspect, listDependents, logs, outOfScope, record, restart, state } from './synthetic';

/**
 * docs/architecture.md §6, the analyzer: records are scored by effect against decide(). On the
 * reference system's own records (test/fixtures/seed-audit) and on dockmedic export records,
 * right ones and every kind of wrong one.
 */

const SEED = join(repoRoot, 'test', 'fixtures', 'seed-audit', 'before-fixes');
const CLI = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'dockmedic-analyze-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

function analyzeDir(records: unknown[]): Analysis {
  const dir = mkdtempSync(join(root, 'records-'));
  records.forEach((r, i) => writeFileSync(join(dir, `r${i}.json`), JSON.stringify(r)));
  return analyzeRecords(readAuditRecords(dir), POLICY);
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  // Temporal points nowhere: a command that got past its checks would fail on the connection instead.
  const env = { PATH: process.env.PATH ?? '', DOCKMEDIC_STATE_DIR: join(root, 'state'), TEMPORAL_ADDRESS: '127.0.0.1:1' };
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the reference records (seed-audit/before-fixes), by effect', () => {
  const analysis = () => analyzeRecords(readAuditRecords(SEED), POLICY);
  const EXPECTED: Record<string, { correct: boolean; scenario: string; finding?: FindingCode }> = {
    'inc-20260503-170531': { correct: false, scenario: 'oom', finding: 'action_failed' },
    'inc-20260503-171710': { correct: false, scenario: 'oom', finding: 'action_failed' },
    'inc-20260503-182707': { correct: false, scenario: 'crashloop', finding: 'mutating_call_not_allowed' },
    'inc-20260503-191130': { correct: false, scenario: 'crashloop', finding: 'mutating_call_not_allowed' },
    'inc-20260503-191939': { correct: true, scenario: 'crashloop' },
    'inc-20260503-194001': { correct: true, scenario: 'exit' },
    'inc-20260503-194807': { correct: true, scenario: 'exit' },
  };

  it('3 of 7 are correct: the OOM updates failed, two crash loops were restarted; the exits were restarted once', () => {
    const a = analysis();
    assert.equal(a.records.length, 7);
    for (const r of a.records) {
      const want = EXPECTED[r.id];
      assert.ok(want, `unexpected record ${r.id}`);
      assert.equal(r.correct, want.correct, `${r.id}: ${r.why}`);
      assert.equal(r.scenario, want.scenario, r.id);
      if (want.finding) assert.ok(r.findings.some((f) => f.code === want.finding), `${r.id}: ${JSON.stringify(r.findings)}`);
    }
    assert.deepEqual(a.total, { records: 7, correct: 3 });
    assert.deepEqual(a.scenarios, { oom: { records: 2, correct: 0 }, crashloop: { records: 3, correct: 1 }, exit: { records: 2, correct: 2 } });
  });

  it('the restarts that ran are counted from the tool results, not from proposals or the alert prompt', () => {
    const byId = new Map(analysis().records.map((r) => [r.id, r]));
    assert.deepEqual(byId.get('inc-20260503-182707')?.mutatingCalls, { restart_container: 1 });
    assert.deepEqual(byId.get('inc-20260503-194807')?.mutatingCalls, { restart_container: 1 });
    assert.deepEqual(byId.get('inc-20260503-191939')?.mutatingCalls, {});
    // The failed updates did not take effect.
    assert.deepEqual(byId.get('inc-20260503-170531')?.mutatingCalls, {});
    // 194001 also read the logs of two containers named by alerts quoted into its chain.
    assert.equal(byId.get('inc-20260503-194001')?.notes.length, 2);
  });

  it("neither the agent's resolved flag nor the role labels change a verdict", () => {
    const dir = mkdtempSync(join(root, 'flipped-'));
    for (const r of readAuditRecords(SEED)) {
      const rec = r.record as Record<string, unknown> & { resolved: boolean; decision_chain: { role: string }[] };
      const flipped = { ...rec, resolved: !rec.resolved, decision_chain: rec.decision_chain.map((t) => ({ ...t, role: t.role === 'assistant' ? 'tool_result' : 'assistant' })) };
      writeFileSync(join(dir, `${String(rec.incident_id)}.json`), JSON.stringify(flipped));
    }
    const verdicts = (a: Analysis) => a.records.map((r) => [r.id, r.correct]);
    assert.deepEqual(verdicts(analyzeRecords(readAuditRecords(dir), POLICY)), verdicts(analysis()));
  });

  it('agrees with the keyword-based results.csv on every verdict (the grounds differ: docs/architecture.md §6)', () => {
    const rows = readFileSync(join(SEED, 'results.csv'), 'utf8').trim().split(/\r?\n/).slice(1).map((l) => l.split(','));
    assert.equal(rows.length, 7);
    const ours = new Map(analysis().records.map((r) => [r.id, r.correct]));
    for (const row of rows) assert.equal(ours.get(row[1] ?? ''), row[6] === 'Yes', `${row[1]}`);
  });
});

describe('reference alerts → facts → the policy', () => {
  const alert = (status: string, description: string) =>
    ReferenceRecordSchema.parse({ timestamp: 't', incident_id: 'i', agent_id: 'a', alert: { status, description, container_id: 'c' }, decision_chain: [], resolved: false });
  for (const [status, description, rule] of [
    ['OOMKilled', 'Docker container crashed with OOMKilled', 'oom-raise'],
    ['exited', 'Docker container exited with error code 137', 'oom-raise'],
    ['exited', 'killed: out of memory', 'oom-raise'],
    ['CrashLoopBackOff', 'Docker container is in CrashLoopBackOff - exits immediately', 'crashloop'],
    ['unhealthy', 'health check failing', 'unhealthy-restart'],
    ['exited', 'Docker container exited with error code 3', 'exit-restart'],
    ['exited', 'Docker container exited', 'exit-restart'],
    ['exited', 'Docker container exited with code 0', 'clean-exit'],
    ['paused', 'something odd', 'uncertain'],
  ] as const) {
    it(`${status}: ${description} → ${rule}`, () => {
      assert.equal(decide(referenceFacts(alert(status, description), POLICY).facts, POLICY).rule, rule);
    });
  }
});

const exitFacts = facts();
const oomFacts = facts({ oomKilled: true, exitCode: 137, memoryBytes: 32 * MiB });
const crashFacts = facts({ restarting: true, deathsInWindow: 3 });
const oomInspect = inspect(false, { oomKilled: true, exitCode: 137, memoryBytes: 32 * MiB });
const count = { tool: 'count_recent_oom_incidents', args: { host: 'h1', container: 'web', windowSeconds: 1 }, result: 0 };
const update = (memoryBytes: number, over = {}) => ({
  tool: 'update_container_resources',
  args: { container: CONTAINER_ID, memoryBytes },
  result: { action: 'update_resources', after: state(false, { memoryBytes }) },
  ...over,
});
const start = { tool: 'start_container', result: { action: 'start', after: state(true, { memoryBytes: 64 * MiB }) } };

const RIGHT: Record<string, Incident> = {
  'exit restarted once, resolved': { facts: [exitFacts], outcome: 'auto_resolved', calls: [inspect(false), restart(), inspect(true)] },
  'exit restarted once, recurred, escalated': {
    facts: [exitFacts, facts({ recurrenceAfterAction: true, deathsInWindow: 2 })],
    outcome: 'unacknowledged',
    calls: [inspect(false), restart(), inspect(false), logs],
  },
  'oom raised to twice the limit and started': { facts: [oomFacts], outcome: 'auto_resolved', calls: [oomInspect, count, update(64 * MiB), start, inspect(true, { memoryBytes: 64 * MiB })] },
  'oom raised, recurred at the new limit, escalated': {
    facts: [oomFacts, facts({ oomKilled: true, exitCode: 137, memoryBytes: 64 * MiB, recurrenceAfterAction: true })],
    outcome: 'unacknowledged',
    calls: [oomInspect, count, update(64 * MiB), start, inspect(false, { oomKilled: true, exitCode: 137, memoryBytes: 64 * MiB }), logs],
  },
  'unhealthy restarted once, unhealthy again (our restart seen as kill → die), escalated': {
    facts: [facts({ running: true, exitCode: null, deathsInWindow: 0, health: 'unhealthy' }), facts({ running: true, exitCode: 137, health: 'unhealthy', operatorStop: true, recurrenceAfterAction: true })],
    decisions: [decisionFromRow('unhealthy-restart'), decisionFromRow('unhealthy-recurrence')],
    outcome: 'unacknowledged',
    calls: [inspect(true, { health: 'unhealthy' }), restart(), inspect(true, { health: 'unhealthy' }), logs],
    observations: [
      { kind: 'health_status', health: 'unhealthy', time: at(0) },
      { kind: 'kill', time: at(250) },
      { kind: 'die', exitCode: 137, operatorStop: true, deathsInWindow: 1, time: at(260) },
      { kind: 'start', time: at(300) },
      { kind: 'health_status', health: 'unhealthy', time: at(5000) },
    ],
  },
  'exit restarted, then the opted-in dependent it listed (docs/architecture.md §3)': {
    facts: [exitFacts],
    outcome: 'auto_resolved',
    calls: [inspect(false), restart(), listDependents(true), restart({ args: { container: DEPENDENT_ID } }), inspect(true)],
  },
  'crash loop escalated, nothing mutated': { facts: [crashFacts], outcome: 'unacknowledged', calls: [inspect(false, { restarting: true }), logs] },
  'crash loop escalated, a person approved the restart': { facts: [crashFacts], outcome: 'approved', calls: [inspect(false, { restarting: true }), logs, restart({ approvedBy: 'alice' })] },
  'exit: the weighed model proposal escalated it': { facts: [exitFacts], finalAction: 'escalate', outcome: 'unacknowledged', calls: [inspect(false), logs], proposal: { action: 'escalate', weighed: true } },
  'exit: a proposal that was not weighed changes nothing': { facts: [exitFacts], outcome: 'auto_resolved', calls: [inspect(false), restart(), inspect(true)], proposal: { action: 'ignore', weighed: false } },
  'exit held back by the quiet period: recorded, nothing done (docs/architecture.md §3)': { facts: [exitFacts], finalAction: 'ignore', outcome: 'suppressed', calls: [inspect(false)] },
  'exit restarted, then the container was removed mid-verification': { facts: [exitFacts], outcome: 'container_gone', calls: [inspect(false), restart()] },
};

const WRONG: [string, FindingCode, Incident | ExportRecord][] = [
  ['a crash loop restarted', 'mutating_call_not_allowed', { facts: [crashFacts], outcome: 'unacknowledged', calls: [inspect(false, { restarting: true }), restart()] }],
  ['a weighed escalation restarted anyway', 'mutating_call_not_allowed', { facts: [exitFacts], finalAction: 'escalate', outcome: 'auto_resolved', calls: [inspect(false), restart(), inspect(true)], proposal: { action: 'escalate', weighed: true } }],
  ['an out-of-scope container restarted', 'mutating_call_not_allowed', { ...outOfScope(), tools: [...outOfScope().tools, { name: 'restart_container', arguments: { container: CONTAINER_ID }, verdict: 'allowed', code: null, result: null, time: '2026-05-03T17:00:05.000Z', replayed: false, mutating: true, approved_by: null, idempotency_key: null }] }],
  ['a restart inside the quiet period', 'mutating_call_not_allowed', { facts: [exitFacts], finalAction: 'ignore', outcome: 'suppressed', calls: [inspect(false), restart()] }],
  ['restarted twice before the container was removed', 'action_repeated', { facts: [exitFacts], outcome: 'container_gone', calls: [inspect(false), restart(), restart()] }],
  ['a first exit not restarted', 'action_missing', { facts: [exitFacts], outcome: 'unacknowledged', calls: [inspect(false), logs] }],
  ['a recurrence restarted a second time', 'action_repeated', { facts: [exitFacts, facts({ recurrenceAfterAction: true })], outcome: 'unacknowledged', calls: [inspect(false), restart(), inspect(false), restart()] }],
  ['an exit answered with a memory update too', 'wrong_tool', { facts: [exitFacts], outcome: 'auto_resolved', calls: [inspect(false), restart(), update(64 * MiB), inspect(true)] }],
  ['an OOM raised to three times the limit', 'wrong_arguments', { facts: [oomFacts], outcome: 'auto_resolved', calls: [oomInspect, count, update(96 * MiB), start, inspect(true)] }],
  ['a dependent restarted that is not opted in', 'wrong_container', { facts: [exitFacts], outcome: 'auto_resolved', calls: [inspect(false), restart(), listDependents(false), restart({ args: { container: DEPENDENT_ID } }), inspect(true)] }],
  ['a crash loop left alone, but its dependent restarted', 'mutating_call_not_allowed', { facts: [crashFacts], outcome: 'unacknowledged', calls: [inspect(false, { restarting: true }), listDependents(true), restart({ args: { container: DEPENDENT_ID } })] }],
  ['another container restarted', 'wrong_container', { facts: [exitFacts], outcome: 'unacknowledged', calls: [inspect(false), restart({ args: { container: 'bystander' } })] }],
  ['the restart was refused', 'action_failed', { facts: [exitFacts], outcome: 'unacknowledged', calls: [inspect(false), restart({ refused: 'rate_limited' })] }],
  ['auto_resolved while Docker said it had exited again', 'outcome_unfounded', { facts: [exitFacts], outcome: 'auto_resolved', calls: [inspect(false), restart(), inspect(false)] }],
  ['a crash loop closed as auto_resolved', 'outcome_mismatch', { facts: [crashFacts], outcome: 'auto_resolved', calls: [inspect(false, { restarting: true })] }],
  ['an approved memory update for a crash loop', 'approval_not_remedy', { facts: [crashFacts], outcome: 'approved', calls: [inspect(false, { restarting: true }), update(64 * MiB, { approvedBy: 'alice' })] }],
];

const asRecord = (x: Incident | ExportRecord): ExportRecord => ('format' in x ? x : record(x));

describe('dockmedic export records, by effect', () => {
  it('right records are scored correct', () => {
    const a = analyzeDir([...Object.values(RIGHT).map((i) => record(i)), outOfScope()]);
    const wrong = a.records.filter((r) => !r.correct).map((r) => `${r.source}: ${r.why}`);
    assert.deepEqual(wrong, []);
    assert.deepEqual(a.scenarios, { exit: { records: 7, correct: 7 }, oom: { records: 2, correct: 2 }, unhealthy: { records: 1, correct: 1 }, crashloop: { records: 2, correct: 2 }, out_of_scope: { records: 1, correct: 1 } });
  });

  for (const [what, code, incident] of WRONG) {
    it(`flags ${what} (${code})`, () => {
      const [r] = analyzeDir([asRecord(incident)]).records;
      assert.equal(r?.correct, false, `${what}: ${r?.why}`);
      assert.ok(r?.findings.some((f) => f.code === code), `${what}: expected ${code}, got ${JSON.stringify(r?.findings)}`);
      assert.ok(r?.why, 'one line of why');
    });
  }

  it("the gateway's retries and replays of one call are one call: a restart refused, retried and replayed is one restart", () => {
    const r = record({ facts: [exitFacts], outcome: 'auto_resolved', calls: [inspect(false), restart(), inspect(true)] });
    const allowed = r.tools.find((t) => t.name === 'restart_container');
    assert.ok(allowed?.idempotency_key, 'a mutating call carries its idempotency key');
    const retried: ExportRecord = {
      ...r,
      tools: r.tools.flatMap((t) => (t === allowed ? [{ ...t, verdict: 'refused' as const, code: 'rate_limited', result: null }, t, { ...t, replayed: true }] : [t])),
    };
    const [v] = analyzeDir([retried]).records;
    assert.equal(v?.correct, true, v?.why);
    assert.deepEqual(v?.mutatingCalls, { restart_container: 1 });
  });

  it("without the gateway's audit the workflow's own chain is the evidence, with the same verdicts", () => {
    const incidents = [...Object.values(RIGHT), ...WRONG.flatMap(([, , i]) => ('format' in i ? [] : [i]))];
    const verdicts = (gatewayAudit: boolean) =>
      analyzeDir(incidents.map((i) => record(i, { gatewayAudit }))).records.map((r) => [r.correct, r.findings.map((f) => f.code)]);
    assert.equal(record(incidents[0] as Incident, { gatewayAudit: false }).tools_source, 'decision_chain');
    assert.deepEqual(verdicts(false), verdicts(true));
  });

  it('every kind of wrong has a case above', () => {
    assert.deepEqual([...new Set(WRONG.map(([, code]) => code))].sort(), [...FINDING_CODES].sort());
  });

  it("a recurrence's facts do not move the expected limit: the first decision's limit is the triage inspect's", () => {
    const r = record(RIGHT['oom raised, recurred at the new limit, escalated'] as Incident);
    assert.equal(r.facts?.memoryBytes, 64 * MiB, 'the record keeps the latest facts');
    const [v] = analyzeDir([r]).records;
    assert.equal(v?.expected.newMemoryBytes, 64 * MiB);
    assert.equal(v?.correct, true, v?.why);
  });
});

describe('audit analyze: input and exit codes', () => {
  it('exit 0 when all are correct, 1 when some are wrong, with --json per record', () => {
    const lines = join(root, 'good.jsonl');
    writeFileSync(lines, Object.values(RIGHT).map((i) => JSON.stringify(record(i))).join('\n'));
    const array = join(root, 'good.json');
    writeFileSync(array, JSON.stringify(Object.values(RIGHT).map((i) => record(i))));
    for (const good of [lines, array]) {
      const ok = cli(['audit', 'analyze', good, '--json']);
      assert.equal(ok.status, 0, ok.stderr);
      const parsed = JSON.parse(ok.stdout) as Analysis;
      assert.equal(parsed.records.length, Object.keys(RIGHT).length);
      assert.ok(parsed.records.every((r) => r.correct));
    }
    const some = cli(['audit', 'analyze', SEED]);
    assert.equal(some.status, 1, some.stderr);
  });

  it('exit 2, naming the problem, for input that is not records; nothing is scored', () => {
    const notRecord = join(root, 'not-record.json');
    writeFileSync(notRecord, JSON.stringify({ hello: 'world' }));
    const garbage = join(root, 'garbage.json');
    writeFileSync(garbage, '{ nope');
    const empty = join(root, 'empty-dir');
    mkdirSync(empty);
    const badExport = join(root, 'bad-export.json');
    writeFileSync(badExport, JSON.stringify({ ...record(RIGHT['exit restarted once, resolved'] as Incident), tools: 'none' }));
    const emptyArray = join(root, 'empty-array.json');
    writeFileSync(emptyArray, '[]');
    for (const [path, mentions] of [
      [join(root, 'missing'), 'does not exist'],
      [notRecord, 'not-record.json'],
      [garbage, 'garbage.json'],
      [empty, 'no *.json'],
      [badExport, 'tools'],
      [emptyArray, 'no records'],
    ] as const) {
      const res = cli(['audit', 'analyze', path]);
      assert.equal(res.status, 2, `${path}: ${res.stderr}`);
      assert.equal(res.stdout, '', 'nothing scored');
      assert.ok(res.stderr.includes(mentions), `${path}: ${res.stderr}`);
      assert.throws(() => readAuditRecords(path), BadAuditInput);
    }
  });
});

describe('audit export: bad options stop it before Temporal is asked, and nothing is written', () => {
  for (const [args, mentions] of [
    [['--since', 'yesterday'], '--since'],
    [['--since', '-1h'], '--since'],
    [['--host', 'a b'], '--host'],
    [['--out', join('/nonexistent-dir', 'x.json')], '--out'],
    [['--audit', join('/nonexistent-dir', 'gateway.jsonl')], '--audit'],
  ] as const) {
    it(`${args.join(' ')}`, () => {
      const res = cli(['audit', 'export', ...args]);
      assert.equal(res.status, 2, res.stderr);
      assert.equal(res.stdout, '');
      assert.ok(res.stderr.includes(mentions), res.stderr);
      assert.ok(!res.stderr.includes('127.0.0.1:1'), `refused before connecting: ${res.stderr}`);
    });
  }
});
