import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StormDetector } from '../../src/watcher/storm-detector';

const m = (name: string) => ({ workflowId: `incident-h-${name}`, container: name, containerId: name.padEnd(64, '0') });

void describe('StormDetector (docs/architecture.md §3)', () => {
  void it('the count-th different container within the window starts a storm with all of them; later ones join it', () => {
    const d = new StormDetector(3, 30_000);
    assert.equal(d.opened(m('a'), 0).kind, 'none');
    assert.equal(d.opened(m('b'), 1000).kind, 'none');
    const started = d.opened(m('c'), 2000);
    assert.equal(started.kind, 'start');
    assert.deepEqual(started.kind === 'start' ? started.members.map((x) => x.container) : [], ['a', 'b', 'c']);
    // Openings keep coming within the window of the last one: they join, however long the storm lasts.
    assert.equal(d.opened(m('d'), 31_000).kind, 'join');
    assert.equal(d.opened(m('e'), 60_000).kind, 'join');
  });

  void it('openings spread wider than the window never make a storm', () => {
    const d = new StormDetector(3, 30_000);
    const kinds = ['a', 'b', 'c', 'd', 'e'].map((n, i) => d.opened(m(n), i * 16_000).kind);
    assert.deepEqual(kinds, ['none', 'none', 'none', 'none', 'none']);
  });

  void it('one container failing again and again is one incident, not a storm', () => {
    const d = new StormDetector(3, 30_000);
    const kinds = [0, 1, 2, 3, 4].map((i) => d.opened(m('a'), i * 100).kind);
    assert.deepEqual(kinds, ['none', 'none', 'none', 'none', 'none']);
  });

  void it('after a quiet window the next burst is a new storm; count 0 turns storms off', () => {
    const d = new StormDetector(2, 10_000);
    assert.equal(d.opened(m('a'), 0).kind, 'none');
    assert.equal(d.opened(m('b'), 1).kind, 'start');
    assert.equal(d.opened(m('c'), 20_000).kind, 'none');
    assert.equal(d.opened(m('d'), 20_001).kind, 'start');
    const off = new StormDetector(0, 10_000);
    assert.deepEqual(['a', 'b', 'c'].map((n) => off.opened(m(n), 0).kind), ['none', 'none', 'none']);
  });

  void it('after endStorm (the storm closed) the next openings count afresh instead of joining', () => {
    const d = new StormDetector(2, 10_000);
    d.opened(m('a'), 0);
    assert.equal(d.opened(m('b'), 1).kind, 'start');
    d.endStorm();
    assert.equal(d.opened(m('c'), 2).kind, 'none');
    assert.equal(d.opened(m('d'), 3).kind, 'start');
  });
});
