import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { AlertmanagerWebhook } from '../../src/intake/alertmanager-payload';
import { alertHost } from '../../src/intake/alert-trigger';
import { dockerState } from '../../src/intake/docker-state';
import { bearerMatches, ensureIntakeToken, readIntakeToken } from '../../src/intake/intake-token';
import { failUrl, redactUrl } from '../../src/runtime/heartbeat';
import { isWatched } from '../../src/watcher/classify';

/** A message as Alertmanager's notify/webhook sends it (version 4), including fields dockmedic does not read. */
const SAMPLE = {
  receiver: 'dockmedic',
  status: 'firing',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'ContainerUnhealthy', container: 'web', instance: 'web-1:8080', severity: 'critical' },
      annotations: { summary: 'web is unhealthy' },
      startsAt: '2026-02-06T13:08:45.828Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example:9090/graph?g0.expr=x',
      fingerprint: '1a30ba71cca2921f',
    },
  ],
  groupLabels: { alertname: 'ContainerUnhealthy' },
  commonLabels: { alertname: 'ContainerUnhealthy' },
  commonAnnotations: {},
  externalURL: 'http://alertmanager.example:9093',
  version: '4',
  groupKey: '{}/{severity="critical"}:{alertname="ContainerUnhealthy"}',
  truncatedAlerts: 0,
};

function info(state: Partial<Docker.ContainerInspectInfo['State']>): Docker.ContainerInspectInfo {
  return { State: { Running: false, Restarting: false, OOMKilled: false, ExitCode: 0, FinishedAt: '2026-01-01T00:00:00Z', Status: 'exited', ...state } } as Docker.ContainerInspectInfo;
}

describe('Alertmanager intake: the pure parts', () => {
  it('accepts a real version 4 message and refuses other versions and statuses', () => {
    assert.equal(AlertmanagerWebhook.safeParse(SAMPLE).success, true);
    assert.equal(AlertmanagerWebhook.safeParse({ ...SAMPLE, version: '3' }).success, false);
    assert.equal(AlertmanagerWebhook.safeParse({ ...SAMPLE, alerts: [{ ...SAMPLE.alerts[0], status: 'pending' }] }).success, false);
    assert.equal(AlertmanagerWebhook.safeParse({ ...SAMPLE, alerts: [{ ...SAMPLE.alerts[0], labels: { container: 7 } }] }).success, false);
  });

  it('reads the host from `host`, else from `instance` without its port', () => {
    assert.equal(alertHost({ host: 'a', instance: 'b:1' }), 'a');
    assert.equal(alertHost({ instance: 'web-1:9100' }), 'web-1');
    assert.equal(alertHost({ instance: '[::1]:9100' }), '::1');
    assert.equal(alertHost({}), undefined);
  });

  it('takes only Docker’s state into the observation', () => {
    assert.deepEqual(dockerState(info({ ExitCode: 3 })), { failing: true, observation: { kind: 'reconcile', time: '2026-01-01T00:00:00.000Z', exitCode: 3 }, summary: 'exited, exit 3' });
    assert.equal(dockerState(info({ ExitCode: 0 })).failing, false);
    assert.equal(dockerState(info({ ExitCode: 143 })).failing, false, 'a docker stop');
    assert.equal(dockerState(info({ ExitCode: 137, OOMKilled: true })).failing, true);
    assert.equal(dockerState(info({ Running: true, Restarting: true, ExitCode: 1 })).failing, true);
    const unhealthy = dockerState(info({ Running: true, Health: { Status: 'unhealthy' } as Docker.ContainerInspectInfo['State']['Health'] }), 0);
    assert.deepEqual(unhealthy.observation, { kind: 'reconcile', time: new Date(0).toISOString(), health: 'unhealthy' });
    const fine = dockerState(info({ Running: true }), 0);
    assert.equal(fine.failing, false);
    assert.deepEqual(fine.observation, { kind: 'reconcile', time: new Date(0).toISOString() });
  });

  it('selects with the watcher’s own rule: opt-in, selector, not the stack', () => {
    assert.equal(isWatched({ 'dockmedic.enable': 'true', team: 'a' }, ['team=a']), true);
    assert.equal(isWatched({ 'dockmedic.enable': 'true', team: 'b' }, ['team=a']), false);
    assert.equal(isWatched({ 'dockmedic.enable': 'true', 'dockmedic.stack': 'x' }, []), false);
    assert.equal(isWatched({}, []), false);
  });

  it('makes a 0600 token once and checks the bearer header', () => {
    const dir = mkdtempSync(join(tmpdir(), 'intake-token-'));
    try {
      const path = join(dir, 'keys', 'intake-token');
      ensureIntakeToken(path);
      const token = readIntakeToken(path);
      assert.ok(token && token.length >= 32);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      ensureIntakeToken(path);
      assert.equal(readFileSync(path, 'utf8').trim(), token, 'an existing token is kept');
      assert.equal(bearerMatches(`Bearer ${token}`, token), true);
      assert.equal(bearerMatches(`bearer ${token}`, token), true);
      assert.equal(bearerMatches(`Bearer ${token}x`, token), false);
      assert.equal(bearerMatches(token, token), false);
      assert.equal(bearerMatches(undefined, token), false);
      assert.equal(bearerMatches('Bearer x', null), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never shows the heartbeat URL’s token, and pings /fail the healthchecks way', () => {
    assert.equal(redactUrl('https://hc-ping.com/0f1e2d3c-uuid?x=1'), 'https://hc-ping.com/…');
    assert.equal(failUrl('https://hc-ping.com/abc/'), 'https://hc-ping.com/abc/fail');
    assert.equal(failUrl('https://hc-ping.com/abc?rid=1'), 'https://hc-ping.com/abc/fail?rid=1');
  });
});
