import { blankFacts } from '../../src/audit/evidence';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { prng } from '../helpers/prng';
import { loadConfig } from '../../src/config';
import type { Action, Decision, Facts, PolicyConfig } from '../../src/contract/policy';
import { ACTIONS } from '../../src/contract/policy';
import { decide, gate, POLICY_TABLE, raisedMemory } from '../../src/policy';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** The production defaults, from the one config schema. */
const config: PolicyConfig = loadConfig({}).policy;

/** An opted-in container that is fine: every fixture below changes only what its row needs. */
const healthy: Facts = blankFacts({ running: true, memoryBytes: 64 * MiB });
const f = (over: Partial<Facts>): Facts => ({ ...healthy, ...over });
const oomed = { oomKilled: true, running: false, exitCode: 137 } satisfies Partial<Facts>;
const exited1 = { running: false, exitCode: 1, deathsInWindow: 1 } satisfies Partial<Facts>;

/**
 * Facts made for each row of the table, and what the row must decide. Keyed by row id so that a
 * row added to the table without a fixture here fails the test below.
 */
const ROW_CASES: Record<string, { facts: Facts; action: Action; expected: Decision['expected']; newMemoryBytes?: number }[]> = {
  'out-of-scope': [
    { facts: f({ ...exited1, optedIn: false }), action: 'ignore', expected: 'ignored' },
    { facts: f({ ...oomed, stackMember: true }), action: 'ignore', expected: 'ignored' },
  ],
  'operator-stop': [{ facts: f({ running: false, exitCode: 143, operatorStop: true }), action: 'ignore', expected: 'ignored' }],
  'oom-recurrence': [
    { facts: f({ ...oomed, priorOomIncidents: 3 }), action: 'escalate', expected: 'escalated' },
    { facts: f({ ...oomed, recurrenceAfterAction: true }), action: 'escalate', expected: 'escalated' },
  ],
  'oom-cap': [
    { facts: f({ ...oomed, memoryBytes: 6 * GiB }), action: 'escalate', expected: 'escalated' },
    { facts: f({ ...oomed, memoryBytes: 0 }), action: 'escalate', expected: 'escalated' },
  ],
  'oom-raise': [
    { facts: f({ ...oomed, memoryBytes: 32 * MiB }), action: 'raise_memory', expected: 'auto_resolved', newMemoryBytes: 64 * MiB },
    { facts: f({ ...oomed, memoryBytes: 4 * GiB, priorOomIncidents: 2 }), action: 'raise_memory', expected: 'auto_resolved', newMemoryBytes: 8 * GiB },
  ],
  'clean-exit': [{ facts: f({ running: false, exitCode: 0 }), action: 'ignore', expected: 'ignored' }],
  crashloop: [
    { facts: f({ ...exited1, deathsInWindow: 3 }), action: 'escalate', expected: 'escalated' },
    { facts: f({ running: false, restarting: true, exitCode: 1 }), action: 'escalate', expected: 'escalated' },
  ],
  'exit-recurrence': [{ facts: f({ ...exited1, recurrenceAfterAction: true }), action: 'escalate', expected: 'escalated' }],
  'exit-restart': [{ facts: f(exited1), action: 'restart', expected: 'auto_resolved' }],
  'unhealthy-recurrence': [{ facts: f({ health: 'unhealthy', recurrenceAfterAction: true }), action: 'escalate', expected: 'escalated' }],
  'unhealthy-restart': [{ facts: f({ health: 'unhealthy' }), action: 'restart', expected: 'auto_resolved' }],
  uncertain: [
    { facts: f({}), action: 'escalate', expected: 'escalated' },
    { facts: f({ health: 'starting' }), action: 'escalate', expected: 'escalated' },
  ],
};

void describe('policy table: every row is reached by facts made for it', () => {
  void it('has a fixture for every row and no fixture for a row that does not exist', () => {
    const ids = POLICY_TABLE.map((r) => r.id);
    assert.deepEqual([...ids].sort(), Object.keys(ROW_CASES).sort());
    assert.equal(new Set(ids).size, ids.length, 'row ids are unique');
    assert.equal(POLICY_TABLE.at(-1)?.id, 'uncertain', 'the table ends with the catch-all');
  });

  for (const row of POLICY_TABLE) {
    for (const [i, c] of (ROW_CASES[row.id] ?? []).entries()) {
      void it(`${row.id} #${i + 1}: ${row.action} → ${row.expected}`, () => {
        const d = decide(c.facts, config);
        assert.equal(d.rule, row.id);
        assert.equal(d.action, c.action);
        assert.equal(d.action, row.action);
        assert.equal(d.expected, c.expected);
        assert.equal(d.failure, row.failure);
        assert.equal(d.newMemoryBytes, c.newMemoryBytes);
        assert.ok(d.reason.length > 0);
      });
    }
  }
});

void describe('policy table: ordering and edge cases', () => {
  void it('OOM beats crash loop: an OOM under a restart policy gets memory, not a page', () => {
    const d = decide(f({ ...oomed, restarting: true, deathsInWindow: 5, memoryBytes: 32 * MiB }), config);
    assert.equal(d.rule, 'oom-raise');
    assert.equal(d.newMemoryBytes, 64 * MiB);
  });

  void it('OOM beats crash loop also when it must escalate: the reason is the OOM cap', () => {
    assert.equal(decide(f({ ...oomed, restarting: true, deathsInWindow: 5, memoryBytes: 8 * GiB }), config).rule, 'oom-cap');
  });

  void it('an OOM kill is never taken for an operator stop', () => {
    assert.equal(decide(f({ ...oomed, operatorStop: true, memoryBytes: 32 * MiB }), config).rule, 'oom-raise');
  });

  void it('exit 0 under a restart policy is not an incident (restarting or already running again)', () => {
    assert.equal(decide(f({ running: false, restarting: true, exitCode: 0 }), config).rule, 'clean-exit');
    assert.equal(decide(f({ running: true, exitCode: 0 }), config).rule, 'clean-exit');
  });

  void it('exit 0 while the health check says unhealthy is still an incident', () => {
    assert.equal(decide(f({ running: false, exitCode: 0, health: 'unhealthy' }), config).rule, 'unhealthy-restart');
  });

  void it('unlimited memory (0) escalates instead of inventing a limit', () => {
    const d = decide(f({ ...oomed, memoryBytes: 0 }), config);
    assert.equal(d.action, 'escalate');
    assert.equal(d.newMemoryBytes, undefined);
  });

  void it('recurrence: K-1 prior OOM incidents still raise, K escalate', () => {
    assert.equal(decide(f({ ...oomed, priorOomIncidents: config.oomRecurrenceCount - 1 }), config).action, 'raise_memory');
    assert.equal(decide(f({ ...oomed, priorOomIncidents: config.oomRecurrenceCount }), config).rule, 'oom-recurrence');
  });

  void it('crash loop at exactly N deaths, not at N-1', () => {
    assert.equal(decide(f({ ...exited1, deathsInWindow: config.crashLoopDeaths - 1 }), config).rule, 'exit-restart');
    assert.equal(decide(f({ ...exited1, deathsInWindow: config.crashLoopDeaths }), config).rule, 'crashloop');
  });

  void it('a crash loop is never restarted even when it is also unhealthy', () => {
    assert.equal(decide(f({ restarting: true, health: 'unhealthy', running: false, exitCode: 1 }), config).action, 'escalate');
  });

  void it('memory bounds: the new limit never exceeds the factor or the ceiling', () => {
    assert.equal(raisedMemory(f({ memoryBytes: 4 * GiB }), config), 8 * GiB);
    assert.equal(raisedMemory(f({ memoryBytes: 4 * GiB + 1 }), config), null);
    assert.equal(raisedMemory(f({ memoryBytes: 64 * MiB }), { ...config, memoryFactor: 3 }), null, 'factor above the gateway bound');
    assert.equal(raisedMemory(f({ memoryBytes: 64 * MiB }), { ...config, memoryFactor: 1 }), null, 'a factor of 1 raises nothing');
    assert.equal(raisedMemory(f({ memoryBytes: 64 * MiB }), { ...config, memoryFactor: 1.5 }), 96 * MiB);
  });

  void it('is pure: the same facts give the same decision and the facts are not changed', () => {
    const facts = f({ ...oomed, memoryBytes: 32 * MiB });
    const copy = structuredClone(facts);
    assert.deepEqual(decide(facts, config), decide(facts, config));
    assert.deepEqual(facts, copy);
  });
});


function randomFacts(r: () => number): Facts {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const running = r() < 0.4;
  return {
    optedIn: r() < 0.9,
    stackMember: r() < 0.05,
    oomKilled: r() < 0.3,
    exitCode: running && r() < 0.7 ? null : pick([0, 1, 2, 137, 143, 255]),
    restarting: r() < 0.15,
    deathsInWindow: Math.floor(r() * 6),
    health: pick([null, 'healthy', 'unhealthy', 'starting'] as const),
    operatorStop: r() < 0.15,
    running,
    memoryBytes: pick([0, 16 * MiB, 32 * MiB, 512 * MiB, 4 * GiB, 5 * GiB, 8 * GiB]),
    priorOomIncidents: Math.floor(r() * 5),
    recurrenceAfterAction: r() < 0.2,
  };
}

const MUTATING: ReadonlySet<Action> = new Set(['restart', 'raise_memory']);

void describe('the model can only make a decision more conservative', () => {
  void it('for every policy action × every proposal, the gate never returns a mutating action the policy did not choose', () => {
    for (const policy of ACTIONS) {
      for (const proposed of [...ACTIONS, null, undefined]) {
        const g = gate(policy, proposed);
        if (MUTATING.has(g)) assert.equal(g, policy, `${policy} × ${String(proposed)}`);
        if (g === 'ignore') assert.equal(policy, 'ignore', `${policy} × ${String(proposed)}`);
        assert.ok(g === policy || g === 'escalate', `${policy} × ${String(proposed)} gave ${g}`);
      }
    }
  });

  void it('escalate stays escalate whatever the model proposes', () => {
    for (const proposed of [...ACTIONS, null, undefined]) {
      const g = gate('escalate', proposed);
      assert.equal(g, 'escalate');
    }
  });

  void it('agreement follows the policy; any disagreement on an actionable incident escalates', () => {
    assert.equal(gate('restart', 'restart'), 'restart');
    assert.equal(gate('restart', 'raise_memory'), 'escalate');
    assert.equal(gate('raise_memory', 'restart'), 'escalate');
    assert.equal(gate('raise_memory', 'ignore'), 'escalate');
  });

  void it('a proposal outside the action enum (a hallucinated tool) can only escalate', () => {
    for (const policy of ACTIONS) {
      const g = gate(policy, 'delete_container' as Action);
      assert.ok(g === 'escalate' || (policy === 'ignore' && g === 'ignore'));
    }
  });

  void it('property: over 5,000 random incidents and proposals, decide+gate never acts where the policy alone would not', () => {
    const r = prng(0xd0c4);
    for (let i = 0; i < 5000; i++) {
      const facts = randomFacts(r);
      const d = decide(facts, config);
      const proposed = ACTIONS[Math.floor(r() * ACTIONS.length)] as Action;
      const g = gate(d.action, proposed);
      const ctx = JSON.stringify({ facts, policy: d.action, proposed, final: g });
      if (MUTATING.has(g)) {
        assert.equal(g, d.action, ctx);
        assert.equal(proposed, d.action, ctx);
      }
      if (d.action === 'escalate') assert.equal(g, 'escalate', ctx);
      // Invariants of decide itself on the same random facts.
      if (!facts.optedIn || facts.stackMember) assert.equal(d.action, 'ignore', ctx);
      if (d.action === 'raise_memory') {
        assert.ok(d.newMemoryBytes !== undefined && d.newMemoryBytes > facts.memoryBytes, ctx);
        assert.ok(d.newMemoryBytes <= Math.min(facts.memoryBytes * config.memoryMaxFactor, config.memoryCeilingBytes), ctx);
      }
      if (facts.recurrenceAfterAction && facts.optedIn && !facts.stackMember) assert.notEqual(d.action, 'restart', ctx);
      if (facts.oomKilled && facts.optedIn && !facts.stackMember) assert.ok(d.action === 'raise_memory' || d.action === 'escalate', ctx);
    }
  });
});
