/**
 * The incident input schema (src/contract/incident-input.ts) keeps the limits the workflow has
 * always applied: integers as Number.isInteger sees them, lengths as String.length counts them.
 * A running incident's input must never start failing validation after an upgrade.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncidentInput } from '../../src/contract/incident';
import { incidentInputProblems, isObservation, isResponse } from '../../src/contract/incident-input';
import { loadConfig } from '../../src/config';
import { incidentInputFrom } from '../../src/watcher/incident-starter';

const base: IncidentInput = incidentInputFrom(loadConfig({}), { name: 'web', id: 'a'.repeat(64) }, { kind: 'die', time: '2026-01-01T00:00:00.000Z', exitCode: 1 });

void describe('incident input schema', () => {
  void it("carries the watcher's selector, so dependents are opted in by the same rule (docs/architecture.md §3)", () => {
    const input = incidentInputFrom(loadConfig({ DOCKMEDIC_WATCH_SELECTOR: 'team=web,tier=1' }), { name: 'web', id: 'a'.repeat(64) }, { kind: 'die', time: '2026-01-01T00:00:00.000Z', exitCode: 1 });
    assert.deepEqual(input.watchSelector, ['team=web', 'tier=1']);
    assert.deepEqual(incidentInputProblems(input), []);
    assert.equal(base.watchSelector, undefined, 'no selector: the input is as before');
    assert.deepEqual(incidentInputProblems({ ...base, watchSelector: ['not a pair'] }), ['watchSelector.0']);
    assert.throws(() => loadConfig({ DOCKMEDIC_WATCH_SELECTOR: Array.from({ length: 17 }, (_, i) => `k${i}=v`).join(',') }), /DOCKMEDIC_WATCH_SELECTOR/);
  });

  void it('integers beyond 2^53 are integers (as before: Number.isInteger)', () => {
    const input = { ...base, escalation: { ladder: [{ name: 'oncall', timeoutSeconds: 2 ** 60 }], resolveTimeoutSeconds: 1e20 } };
    assert.deepEqual(incidentInputProblems(input), []);
    assert.equal(isObservation({ kind: 'die', time: 't', exitCode: 2 ** 60 }), true);
    assert.equal(isObservation({ kind: 'die', time: 't', exitCode: 1.5 }), false);
  });

  void it('lengths are String.length: 33 emoji are 66 units, over the 64 a ladder name may have', () => {
    const emoji = '😀'.repeat(33);
    assert.deepEqual(incidentInputProblems({ ...base, escalation: { ...base.escalation, ladder: [{ name: emoji, timeoutSeconds: 1 }] } }), ['escalation.ladder.0.name']);
    assert.equal(isResponse({ action: 'approve', by: emoji, at: 't' }), false);
    assert.equal(isResponse({ action: 'approve', by: 'x'.repeat(64), at: 't' }), true);
  });

  void it('a leading slash on the container name is Docker’s and accepted; the LLM block is checked only when a model advises', () => {
    assert.deepEqual(incidentInputProblems({ ...base, container: '/web' }), []);
    assert.deepEqual(incidentInputProblems({ ...base, llm: { enabled: false, maxTurns: 99 } }), []);
    assert.deepEqual(incidentInputProblems({ ...base, llm: { enabled: true, maxTurns: 21 } }), ['llm.maxTurns']);
  });
});
