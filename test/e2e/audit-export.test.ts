import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Analysis } from '../../src/audit/analyze';
import type { ExportRecord } from '../../src/contract/audit-record';
import { ExportRecordSchema } from '../../src/contract/audit-record';
import type { Scenario } from '../../src/drills/scenarios';
import { SCENARIOS } from '../../src/drills/scenarios';
import { runCatalogueScenario } from '../helpers/scenario';
import type { E2eStack } from './harness';
import { closedIncident, runCli, startE2eStack } from './harness';

/**
 * docs/architecture.md §6, the analyzer: real incidents on the real stack are exported with
 * `audit export`, and `audit analyze` scores them by effect. An edited record is flagged.
 */

const CHOSEN = ['oom', 'oom-recurring', 'crashloop', 'exit-transient', 'exit-persistent', 'unhealthy', 'unhealthy-persistent'] as const;

let stack: E2eStack;
let dir: string;
const records = new Map<string, ExportRecord>();
/** Runs the quiet period held back (a crash loop dying again after its incident closed). */
const suppressed: ExportRecord[] = [];

function scenario(name: (typeof CHOSEN)[number]): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  assert.ok(s, `scenario ${name} is in the catalogue`);
  return s;
}

async function incidentOf(s: Scenario): Promise<{ container: string; id: string }> {
  const name = `${stack.runId}-${s.name}`;
  const id = await runCatalogueScenario(s, name);
  await closedIncident(stack.client, stack.incidentId(name), 90_000);
  return { container: name, id };
}

function analyze(path: string): { code: number; analysis: Analysis } {
  const res = runCli(stack, ['audit', 'analyze', path, '--json']);
  assert.ok(res.stdout.trim().startsWith('{'), `analyze --json prints JSON (stderr: ${res.stderr})`);
  return { code: res.code, analysis: JSON.parse(res.stdout) as Analysis };
}

/** A copy of the scenario's exported record, edited, written alone to a file. */
function edited(name: (typeof CHOSEN)[number], edit: (r: ExportRecord) => void): string {
  const r = structuredClone(records.get(name));
  assert.ok(r, `a record was exported for ${name}`);
  edit(r);
  const file = join(dir, `edited-${name}.json`);
  writeFileSync(file, JSON.stringify(r));
  return file;
}

describe('audit export → audit analyze on the real stack', { timeout: 300_000 }, () => {
  before(async () => {
    stack = await startE2eStack();
    dir = mkdtempSync(join(tmpdir(), 'dockmedic-audit-export-'));
    const since = new Date(Date.now() - 1000).toISOString();
    const made = await Promise.all(CHOSEN.map(async (n) => ({ n, ...(await incidentOf(scenario(n))) })));
    const out = join(dir, 'export/');
    const res = runCli(stack, ['audit', 'export', '--since', since, '--host', stack.host, '--out', out]);
    assert.equal(res.code, 0, `export exits 0 (stderr: ${res.stderr})`);
    for (const f of readdirSync(out)) {
      const r = ExportRecordSchema.parse(JSON.parse(readFileSync(join(out, f), 'utf8')));
      const m = made.find((x) => x.container === r.container);
      // A crash loop that keeps dying after its incident closed opens more runs, held back by the
      // quiet period (docs/architecture.md §3): the scenario's own record is the one that acted or paged.
      if (m && r.outcome === 'suppressed') suppressed.push(r);
      else if (m) records.set(m.n, r);
    }
  });
  after(async () => {
    await stack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exports one record per incident, with the gateway-audited calls joined by run', () => {
    assert.deepEqual([...records.keys()].sort(), [...CHOSEN].sort());
    for (const [name, r] of records) {
      assert.equal(r.tools_source, 'gateway_audit', `${name}: calls come from the gateway's audit`);
      assert.equal(r.drill, false);
      assert.ok(r.facts, `${name}: facts recorded`);
      const restarts = r.tools.filter((t) => t.name === 'restart_container' && t.verdict === 'allowed');
      assert.equal(restarts.length, scenario(name as (typeof CHOSEN)[number]).expect.mutatingCalls?.restart_container ?? 0, `${name}: restarts the gateway allowed`);
      for (const t of restarts) assert.equal(t.arguments.container, r.container_id, `${name}: the restart named the incident's container`);
    }
    const oom = records.get('oom');
    const update = oom?.tools.find((t) => t.name === 'update_container_resources');
    assert.equal(update?.arguments.memoryBytes, (scenario('oom').container.memoryBytes ?? 0) * 2, 'the OOM update asked for twice the limit');
    // The recurring OOM: the record's facts are the re-taken ones (the raised limit), and the analyzer must still expect one raise from 32 MiB.
    const recurring = records.get('oom-recurring');
    assert.equal(recurring?.facts?.memoryBytes, (scenario('oom-recurring').container.memoryBytes ?? 0) * 2);
    assert.equal(recurring?.facts?.recurrenceAfterAction, true);
    assert.equal(recurring?.tools.filter((t) => t.name === 'update_container_resources' && t.verdict === 'allowed').length, 1);
    const fixed = records.get('exit-transient');
    assert.equal(fixed?.outcome, 'auto_resolved');
    assert.ok(typeof fixed?.mttr_ms === 'number' && fixed.mttr_ms > 0, `MTTR measured from Docker's event times (${String(fixed?.mttr_ms)})`);
    assert.equal(records.get('crashloop')?.mttr_ms, null, 'no MTTR without an automatic fix');
  });

  it('analyze scores every exported record correct by effect', () => {
    const { code, analysis } = analyze(join(dir, 'export'));
    const wrong = analysis.records.filter((r) => !r.correct).map((r) => `${r.id}: ${r.why}`);
    assert.deepEqual(wrong, []);
    assert.equal(code, 0);
    assert.equal(analysis.total.records, CHOSEN.length + suppressed.length);
    for (const r of suppressed) assert.deepEqual(r.tools.filter((t) => t.mutating && t.verdict === 'allowed'), [], `${r.run_id}: nothing done in the quiet period`);
    assert.deepEqual(Object.keys(analysis.scenarios).sort(), ['crashloop', 'exit', 'oom', 'unhealthy']);
  });

  it('an edited record is flagged: a second restart, a restart in a crash loop, a wrong limit, an unfounded outcome', () => {
    const cases: [string, string][] = [
      [
        edited('exit-transient', (r) => {
          const restart = r.tools.find((t) => t.name === 'restart_container');
          assert.ok(restart);
          // A second activity: its own idempotency key (a retry of the first would share it).
          r.tools.push({ ...restart, time: new Date().toISOString(), idempotency_key: `${r.incident_id}/${r.run_id}/99` });
        }),
        'action_repeated',
      ],
      [
        edited('crashloop', (r) => {
          r.tools.push({ name: 'restart_container', arguments: { container: r.container_id }, verdict: 'allowed', code: null, result: null, time: new Date().toISOString(), replayed: false, mutating: true, approved_by: null, idempotency_key: `${r.incident_id}/${r.run_id}/99` });
        }),
        'mutating_call_not_allowed',
      ],
      [
        edited('oom', (r) => {
          const update = r.tools.find((t) => t.name === 'update_container_resources');
          assert.ok(update);
          update.arguments = { ...update.arguments, memoryBytes: (update.arguments.memoryBytes as number) * 2 };
        }),
        'wrong_arguments',
      ],
      [
        edited('exit-persistent', (r) => {
          r.outcome = 'auto_resolved';
        }),
        'outcome_unfounded',
      ],
    ];
    for (const [file, code] of cases) {
      const res = analyze(file);
      assert.equal(res.code, 1, `${file}: exit 1 (some wrong)`);
      const [only] = res.analysis.records;
      assert.equal(only?.correct, false);
      assert.ok(only?.findings.some((f) => f.code === code), `${file}: flagged ${code}, got ${JSON.stringify(only?.findings)}`);
    }
  });
});
