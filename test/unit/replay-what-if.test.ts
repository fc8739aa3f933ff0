/**
 * `replay --what-if` over recorded facts: the saved incident histories (test/workflows/histories)
 * are read back the way the CLI reads a downloaded history, and re-decided under settings parsed
 * from an env file by the config schema. Each case names the incidents that must change, derived
 * from what the histories recorded, and requires that no other decision changes.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PolicyConfig } from '../../src/contract/policy';
import { configWithEnvFile } from '../../src/replay/env-file';
import type { RecordedDecision } from '../../src/replay/recorded';
import { isRecorded, recordedDecision } from '../../src/replay/recorded';
import { changedSettings, groupChanges, reDecide } from '../../src/replay/what-if';
import { historyFromJson } from '../workflows/history-json';
import { repoRoot } from '../helpers/paths';

const HISTORIES_DIR = join(repoRoot, 'test', 'workflows', 'histories');
const tmp = mkdtempSync(join(tmpdir(), 'dockmedic-what-if-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function recordedIncidents(): RecordedDecision[] {
  const files = readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 10, `expected the saved histories in ${HISTORIES_DIR}`);
  return files.map((f) => {
    const history = historyFromJson(JSON.parse(readFileSync(join(HISTORIES_DIR, f), 'utf8')));
    const r = recordedDecision({ workflowId: f.replace(/\.json$/, ''), runId: 'saved', status: 'COMPLETED', closedAt: null, history });
    assert.ok(isRecorded(r), `${f}: ${'why' in r ? r.why : ''}`);
    return r;
  });
}

/** The policy an env file gives over an empty environment (the production defaults), as the CLI parses it. */
function policyFrom(lines: string): PolicyConfig {
  const file = join(tmp, `${Math.random().toString(36).slice(2)}.env`);
  writeFileSync(file, lines);
  return configWithEnvFile(file, {}).config.policy;
}

/** Ids whose decision changes, with the change as `from→to`. */
function changes(records: RecordedDecision[], policy: PolicyConfig): Record<string, string> {
  return Object.fromEntries(records.map((r) => reDecide(r, policy)).filter((v) => v.changed).map((v) => [v.workflowId, `${v.recorded.action}→${v.whatIf?.action}`]));
}

const records = recordedIncidents();
const ids = (pred: (r: RecordedDecision) => boolean): string[] => records.filter(pred).map((r) => r.workflowId);

void describe('replay --what-if over the saved histories', () => {
  void it('reads back every saved incident: its policy, facts and the decision the table gives on them', () => {
    const defaults = policyFrom('');
    for (const r of records) {
      assert.deepEqual(r.policy, defaults, `${r.workflowId}: recorded under the default settings`);
      const v = reDecide(r, r.policy);
      assert.ok(v.whatIf, `${r.workflowId}: re-decided (${v.note ?? ''})`);
      assert.equal(v.whatIf.rule, r.decision.rule, `${r.workflowId}: same rule under the same settings`);
    }
  });

  void it('the same settings change nothing, and report no changed setting', () => {
    const policy = policyFrom('# the defaults, spelled out\nDOCKMEDIC_MEMORY_MAX_FACTOR=2\n');
    assert.deepEqual(changes(records, policy), {});
    assert.deepEqual(changedSettings(records, policy), []);
  });

  void it('a lower memory cap: exactly the OOM incidents that raised memory would escalate (oom-cap), nothing else', () => {
    const raised = ids((r) => r.decision.action === 'raise_memory');
    assert.deepEqual(raised, ['oom-raise'], 'the saved histories hold one OOM that raised memory');
    const policy = policyFrom('DOCKMEDIC_MEMORY_MAX_FACTOR=1.5\n');
    assert.deepEqual(changes(records, policy), Object.fromEntries(raised.map((id) => [id, 'raise_memory→escalate'])));
    const verdict = reDecide(records.find((r) => r.workflowId === 'oom-raise') as RecordedDecision, policy);
    assert.equal(verdict.whatIf?.rule, 'oom-cap');
    assert.deepEqual(
      groupChanges(records.map((r) => reDecide(r, policy))).map((g) => g.sentence),
      ['1 OOM incident would have escalated instead of raising memory'],
    );
    assert.deepEqual(changedSettings(records, policy), [{ variable: 'DOCKMEDIC_MEMORY_MAX_FACTOR', recorded: [2], whatIf: 1.5 }]);
  });

  void it('a ceiling below the doubled limit escalates the same OOM; a larger factor within the cap raises it further', () => {
    const oom = records.find((r) => r.workflowId === 'oom-raise') as RecordedDecision;
    const doubled = oom.facts.memoryBytes * 2;
    assert.deepEqual(changes(records, policyFrom(`DOCKMEDIC_MEMORY_CEILING_BYTES=${doubled - 1}\n`)), { 'oom-raise': 'raise_memory→escalate' });
    assert.deepEqual(changes(records, policyFrom(`DOCKMEDIC_MEMORY_CEILING_BYTES=${doubled}\n`)), {}, 'a ceiling at the doubled limit still allows it');
    const bigger = policyFrom('DOCKMEDIC_MEMORY_FACTOR=3\nDOCKMEDIC_MEMORY_MAX_FACTOR=4\n');
    assert.deepEqual(changes(records, bigger), { 'oom-raise': 'raise_memory→raise_memory' });
    assert.equal(reDecide(oom, bigger).whatIf?.newMemoryBytes, oom.facts.memoryBytes * 3);
  });

  void it('a higher OOM recurrence count keeps the OOM that failed again after dockmedic acted escalated', () => {
    // oom-recurrence-in-window escalated because it recurred after the raise, not by count.
    assert.deepEqual(changes(records, policyFrom('DOCKMEDIC_OOM_RECURRENCE_COUNT=100\n')), {});
  });

  void it('a crash-loop threshold changes the incidents with that many deaths, and only those', () => {
    // The saved exit incidents died once; a copy with two deaths shows the threshold at work.
    const once = records.find((r) => r.workflowId === 'exit-restart-resolved') as RecordedDecision;
    assert.equal(once.facts.deathsInWindow, 1);
    const twice: RecordedDecision = { ...once, workflowId: 'exit-two-deaths', facts: { ...once.facts, deathsInWindow: 2 } };
    const all = [...records, twice];
    assert.equal(reDecide(twice, twice.policy).whatIf?.rule, 'exit-restart', 'two deaths are not a crash loop at the default of 3');
    assert.deepEqual(changes(all, policyFrom('DOCKMEDIC_CRASHLOOP_DEATHS=2\n')), { 'exit-two-deaths': 'restart→escalate' });
    // Raising it does not undo the crash loops that Docker reported as Restarting.
    assert.deepEqual(changes(all, policyFrom('DOCKMEDIC_CRASHLOOP_DEATHS=10\n')), {});
  });

  void it('the ladder and other settings that decide() does not read change no decision', () => {
    const policy = policyFrom('DOCKMEDIC_LADDER=ops:60\nDOCKMEDIC_WEBHOOK_URL=http://127.0.0.1:9/hook\n');
    assert.deepEqual(changes(records, policy), {});
    assert.deepEqual(changedSettings(records, policy), []);
  });

  void it("a recurrence the table would ignore (our own restart's stop) is re-decided as the workflow took it: the failure's recurrence row", () => {
    const fixed = records.find((r) => r.workflowId === 'unhealthy-restart-resolved') as RecordedDecision;
    const after = { ...fixed.facts, recurrenceAfterAction: true, operatorStop: true };
    const recurred: RecordedDecision = {
      ...fixed,
      workflowId: 'unhealthy-recurred',
      earlier: [{ facts: fixed.facts, decision: fixed.decision }],
      facts: after,
      decision: { action: 'escalate', failure: 'unhealthy', rule: 'unhealthy-recurrence', expected: 'escalated', reason: 'unhealthy again' },
    };
    const v = reDecide(recurred, recurred.policy);
    assert.deepEqual([v.changed, v.step, v.whatIf?.rule, v.note], [false, 1, 'unhealthy-recurrence', undefined]);
    // A lower crash-loop threshold does not reach the first decision (no deaths), nor the escalation.
    assert.equal(reDecide(recurred, policyFrom('DOCKMEDIC_CRASHLOOP_DEATHS=2\n')).changed, false);
  });

  void it('a decision the workflow made outside the table is reported as not re-decided, never as a change', () => {
    const oom = records.find((r) => r.workflowId === 'oom-raise') as RecordedDecision;
    const uncounted: RecordedDecision = { ...oom, decision: { action: 'escalate', failure: 'oom', rule: 'uncertain', expected: 'escalated', reason: 'past OOM incidents could not be counted' } };
    const v = reDecide(uncounted, policyFrom('DOCKMEDIC_MEMORY_MAX_FACTOR=1.5\n'));
    assert.equal(v.changed, false);
    assert.equal(v.whatIf, null);
    assert.match(v.note ?? '', /uncertain/);
  });
});
