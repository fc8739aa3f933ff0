import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { E2eStack } from './harness';
import { startE2eStack, waitUntil } from './harness';

/**
 * A healer that watches itself (docs/architecture.md §1) on the real stack: a local HTTP server
 * stands in for healthchecks.io and records the pings. Watcher and worker up → pings; the
 * worker killed → the success pings stop (`/fail` is pinged instead) and /healthz turns 503;
 * a worker again → 200 and pings again.
 */

const SECRET = `hc-${Math.random().toString(16).slice(2)}`;

interface Ping {
  path: string;
  at: number;
}

describe('heartbeat and /healthz follow the event stream and the worker', { timeout: 420_000 }, () => {
  let stack: E2eStack;
  let monitor: Server;
  const pings: Ping[] = [];
  const ok = () => pings.filter((p) => p.path === `/ping/${SECRET}`);
  const failed = () => pings.filter((p) => p.path === `/ping/${SECRET}/fail`);
  const healthz = async () => {
    const res = await fetch(`${stack.listenerUrl()}/healthz`);
    return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, { ok: boolean; detail: string }> } };
  };

  before(async () => {
    monitor = createServer((req, res) => {
      pings.push({ path: req.url ?? '', at: Date.now() });
      res.end('OK');
    });
    await new Promise<void>((resolve) => monitor.listen(0, '127.0.0.1', resolve));
    const { port } = monitor.address() as AddressInfo;
    stack = await startE2eStack({ DOCKMEDIC_HEARTBEAT_URL: `http://127.0.0.1:${port}/ping/${SECRET}`, DOCKMEDIC_HEARTBEAT_INTERVAL_SECONDS: '1' });
  });

  after(async () => {
    await stack?.close();
    await new Promise<void>((resolve) => monitor.close(() => resolve()));
  });

  it('pings while both hold; stops when the worker dies; resumes when it is back', async () => {
    await waitUntil('two success pings', async () => ok().length >= 2, 30_000);
    const up = await healthz();
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.equal(up.body.checks.docker_events?.ok, true);
    assert.equal(up.body.checks.worker?.ok, true);

    await stack.stopWorker();
    // Temporal records a poll when it starts and an idle long poll lasts about a minute: a dead worker shows within ~75 s of its last poll.
    const down = await waitUntil('/healthz to turn 503', async () => {
      const h = await healthz();
      return h.status === 503 ? h : undefined;
    }, 180_000, 1000);
    assert.equal(down.body.checks.worker?.ok, false, JSON.stringify(down.body));
    assert.equal(down.body.checks.docker_events?.ok, true, 'the event stream is still live');
    // After one more interval no success ping arrives any more, and /fail does.
    await new Promise((r) => setTimeout(r, 1500));
    const okBefore = ok().length;
    const failBefore = failed().length;
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(ok().length, okBefore, 'no success ping while no worker answers');
    assert.ok(failed().length > failBefore, 'the monitor is told of the failure');

    await stack.startWorker();
    const back = await waitUntil('/healthz to turn 200 again', async () => {
      const h = await healthz();
      return h.status === 200 ? h : undefined;
    }, 30_000, 500);
    assert.equal(back.body.checks.worker?.ok, true);
    const okAgain = ok().length;
    await waitUntil('success pings again', async () => ok().length > okAgain, 10_000);

    assert.ok(!stack.watcher.output().includes(SECRET), 'the heartbeat URL (its token) is never logged');
  });
});
