import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import Docker from 'dockerode';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../src/config';
import { Watcher } from '../../src/watcher';
import { RUN_LABEL, runScenarioContainer } from '../helpers/scenario';
import { cleanupTestContainers, docker, requireStack, TEMPORAL_ADDRESS } from '../helpers/stack';
import { waitUntil } from './harness';
import { incidentWorkflowId } from '../../src/contract/incident';
import { ProcessMetrics } from '../../src/metrics/process-metrics';
import { parsePrometheusText, sampleSum } from '../helpers/prometheus-text';

/**
 * The real watcher against the real Docker engine, reached through a Unix-socket proxy that the
 * test can cut: the event stream drops, a container fails while nobody listens, and the watcher
 * must reconnect and open the incident. (No worker runs: an opened incident is all that is checked.)
 */

class CuttableProxy {
  private readonly server: Server;
  private readonly open = new Set<Socket>();
  private refusing = false;
  constructor(
    readonly path: string,
    target: string,
  ) {
    this.server = createServer((client) => {
      if (this.refusing) return void client.destroy();
      const upstream = connect(target);
      this.open.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.open.delete(client);
        this.open.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
  }
  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.path, resolve));
  }
  /** Cut every connection and refuse new ones, as a restarting daemon would. */
  cut(): void {
    this.refusing = true;
    for (const s of this.open) s.destroy();
    this.open.clear();
  }
  restore(): void {
    this.refusing = false;
  }
  get connections(): number {
    return this.open.size;
  }
  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('watcher: the Docker event stream drops', { timeout: 120_000 }, () => {
  const runId = `wr${randomBytes(3).toString('hex')}`;
  const proxyPath = `/tmp/dockmedic-test-proxy-${process.pid}.sock`;
  let proxy: CuttableProxy;
  let watcher: Watcher;
  let connection: Connection;
  let client: Client;
  const metrics = new ProcessMetrics();
  const reconnects = async () => sampleSum(parsePrometheusText(await metrics.registry.metrics()), 'dockmedic_watcher_reconnects_total');

  before(async () => {
    await requireStack();
    await cleanupTestContainers();
    rmSync(proxyPath, { force: true });
    proxy = new CuttableProxy(proxyPath, '/var/run/docker.sock');
    await proxy.listen();
    connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
    client = new Client({ connection });
    const config = loadConfig({ DOCKMEDIC_HOST: runId, DOCKMEDIC_TASK_QUEUE: `no-worker-${runId}`, DOCKMEDIC_WATCH_SELECTOR: `${RUN_LABEL}=${runId}` });
    watcher = new Watcher({ docker: new Docker({ socketPath: proxyPath }), temporal: client, config, log: () => {}, metrics });
    process.env.DOCKMEDIC_TEST_RUN = runId;
    await watcher.start();
  });

  after(async () => {
    await watcher?.stop();
    await proxy?.close();
    rmSync(proxyPath, { force: true });
    delete process.env.DOCKMEDIC_TEST_RUN;
    for await (const info of client.workflow.list({ query: `DockmedicHost = '${runId}' AND ExecutionStatus = 'Running'` })) {
      await client.workflow.getHandle(info.workflowId).terminate('test finished');
    }
    await connection?.close();
    await cleanupTestContainers();
  });

  it('reconnects and opens the incident for a failure that happened while the stream was down', async () => {
    await waitUntil('the watcher to hold an event stream', async () => proxy.connections > 0, 10_000);
    assert.equal(await reconnects(), 0, 'no reconnect counted while the stream holds');
    assert.equal(watcher.eventStreamLive, true, 'live while subscribed (what /healthz and the heartbeat report)');
    proxy.cut();
    await waitUntil('the watcher to notice the stream is gone', async () => !watcher.eventStreamLive, 10_000);
    const name = `${runId}-during-outage`;
    const id = await runScenarioContainer({ name, cmd: 'exit 7', labels: { 'dockmedic.enable': 'true' } });
    await waitUntil('the container to exit', async () => (await docker().getContainer(id).inspect()).State.Status === 'exited', 10_000);
    const workflowId = incidentWorkflowId(runId, name);
    await new Promise((r) => setTimeout(r, 1500));
    await assert.rejects(client.workflow.getHandle(workflowId).describe(), 'no incident while the watcher cannot hear Docker');

    proxy.restore();
    await waitUntil('the stream to be live again', async () => watcher.eventStreamLive, 30_000);
    const desc = await waitUntil('the incident to be opened after the reconnect', async () => client.workflow.getHandle(workflowId).describe(), 30_000);
    assert.equal(desc.status.name, 'RUNNING');
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const signalled = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'observe');
    assert.ok(signalled.length >= 1, 'the failure reached the incident as an observation');
    // docs/architecture.md §9: each drop (and each failed attempt while Docker refused) is one reconnect.
    assert.ok((await reconnects()) >= 1, 'dockmedic_watcher_reconnects_total counted the drop');
  });
});
