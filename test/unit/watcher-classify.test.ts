import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerEvent } from '../../src/watcher/classify';
import { EventClassifier, watchedLabels } from '../../src/watcher/classify';
import { loadConfig } from '../../src/config';

const settings = { crashLoopDeaths: 3, crashLoopWindowSeconds: 60, operatorStopGraceSeconds: 30 };
const optedIn = { 'dockmedic.enable': 'true', name: 'web' };

function ev(action: string, timeMs: number, attributes: Record<string, string> = {}): ContainerEvent {
  return { action, id: 'c1', name: 'web', attributes: { ...optedIn, ...attributes }, timeMs };
}

describe('watcher event classification', () => {
  it('opens an incident for a non-zero exit without a restart policy', () => {
    const v = new EventClassifier(settings).classify(ev('die', 1000, { exitCode: '1' }));
    assert.equal(v.kind, 'open');
    assert.equal(v.kind === 'open' && v.observation.exitCode, 1);
  });

  it('does not open incidents for exit 0', () => {
    assert.equal(new EventClassifier(settings).classify(ev('die', 1000, { exitCode: '0' })).kind, 'forward');
  });

  it('treats a die right after kill/stop as an operator stop', () => {
    const c = new EventClassifier(settings);
    c.classify(ev('kill', 1000, { signal: '15' }));
    const v = c.classify(ev('die', 1500, { exitCode: '143' }));
    assert.equal(v.kind, 'forward');
    assert.equal(v.kind === 'forward' && v.observation.operatorStop, true);
  });

  it('an exit after a stop it heard is no missed failure for the reconciliation (dockerd stopping its containers)', () => {
    const c = new EventClassifier(settings);
    // Heard the kill and the death: the death is remembered as a stop.
    c.classify(ev('kill', 1000, { signal: '15' }));
    c.classify(ev('die', 11_000, { exitCode: '137' }));
    assert.equal(c.alreadyHeard('c1', 11_000), true);
    // Heard only the kill (the stream dropped before the death).
    const d = new EventClassifier(settings);
    d.classify(ev('kill', 1000, { signal: '15' }));
    assert.equal(d.alreadyHeard('c1', 11_000), true);
    // A failure nobody stopped, or one long after the stop, was missed.
    assert.equal(new EventClassifier(settings).alreadyHeard('c1', 11_000), false);
    assert.equal(d.alreadyHeard('c1', 1000 + 31_000), false);
  });

  it('a stop long before a death does not excuse it', () => {
    const c = new EventClassifier(settings);
    c.classify(ev('stop', 1000));
    assert.equal(c.classify(ev('die', 1000 + 31_000, { exitCode: '1' })).kind, 'open');
  });

  it('ignores containers that are not opted in or belong to the stack', () => {
    const c = new EventClassifier(settings);
    assert.equal(c.classify({ ...ev('die', 1, { exitCode: '1' }), attributes: { name: 'x', exitCode: '1' } }).kind, 'drop');
    assert.equal(c.classify(ev('oom', 1, { 'dockmedic.stack': 'true' })).kind, 'drop');
    assert.equal(c.classify(ev('die', 1, { 'dockmedic.enable': 'false', exitCode: '1' })).kind, 'drop');
  });

  it('waits for a loop before opening an incident when Docker restarts the container itself', () => {
    const c = new EventClassifier(settings);
    assert.equal(c.classify(ev('die', 1000, { exitCode: '1' }), 'always').kind, 'forward');
    assert.equal(c.classify(ev('die', 2000, { exitCode: '1' }), 'always').kind, 'forward');
    const third = c.classify(ev('die', 3000, { exitCode: '1' }), 'always');
    assert.equal(third.kind, 'open');
    assert.equal(third.kind === 'open' && third.observation.kind, 'crashloop');
    assert.equal(third.kind === 'open' && third.observation.deathsInWindow, 3);
  });

  it('deaths outside the crash-loop window do not count', () => {
    const c = new EventClassifier(settings);
    c.classify(ev('die', 0, { exitCode: '1' }), 'always');
    c.classify(ev('die', 1000, { exitCode: '1' }), 'always');
    assert.equal(c.classify(ev('die', 70_000, { exitCode: '1' }), 'always').kind, 'forward');
  });

  it('an OOM under a restart policy opens an incident at once', () => {
    const c = new EventClassifier(settings);
    assert.equal(c.classify(ev('oom', 1000)).kind, 'open');
    assert.equal(c.classify(ev('die', 1100, { exitCode: '137' }), 'always').kind, 'open');
  });

  it('unhealthy opens, healthy only informs an open incident', () => {
    const c = new EventClassifier(settings);
    const bad = c.classify(ev('health_status: unhealthy', 1000));
    assert.equal(bad.kind, 'open');
    assert.equal(bad.kind === 'open' && bad.observation.health, 'unhealthy');
    assert.equal(c.classify(ev('health_status: healthy', 2000)).kind, 'forward');
  });
});

describe('watch selector', () => {
  it('always requires the opt-in label and adds the configured selector', () => {
    assert.deepEqual(watchedLabels([]), ['dockmedic.enable=true']);
    assert.deepEqual(watchedLabels(['team=payments']), ['dockmedic.enable=true', 'team=payments']);
  });

  it('DOCKMEDIC_WATCH_SELECTOR is parsed, and a malformed one stops start-up naming the variable', () => {
    assert.deepEqual(loadConfig({ DOCKMEDIC_WATCH_SELECTOR: 'team=payments, tier=web' }).watch.selector, ['team=payments', 'tier=web']);
    assert.deepEqual(loadConfig({}).watch.selector, []);
    assert.throws(() => loadConfig({ DOCKMEDIC_WATCH_SELECTOR: 'no spaces allowed=x y' }), /DOCKMEDIC_WATCH_SELECTOR/);
  });
});
