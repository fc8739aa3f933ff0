import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker } from '../helpers/stack';
import { runScenarioContainer } from '../helpers/scenario';
import { PrivateRedis } from '../gateway/helpers/redis-server';
import type { WebhookRecorder } from '../helpers/webhook';
import { startWebhookRecorder } from '../helpers/webhook';
import type { E2eStack } from './harness';
import { closedIncident, incidentPhase, mutatingCallsFor, startE2eStack, waitUntil } from './harness';
import { GatewayClient, GatewayRefusal } from '../../src/gateway-client';
import { readAgentFile } from '../../src/signing';

/**
 * A fix that held is not paged because the store blinked (docs/architecture.md §3): the
 * gateway's Redis (a private one, so the shared stack is untouched) is down for 27 s while five
 * restarted containers sit in their stabilisation window. The verifying inspects retry until it
 * is back, every incident resolves, nobody is paged; a mutating call meanwhile is refused
 * (fail closed).
 */
let redis: PrivateRedis;
let stack: E2eStack;
let hook: WebhookRecorder;
const N = 5;

before(async () => {
  hook = await startWebhookRecorder();
  redis = await PrivateRedis.allocate('blink');
  stack = await startE2eStack({
    REDIS_URL: redis.url,
    DOCKMEDIC_WEBHOOK_URL: hook.url,
    DOCKMEDIC_STABILIZATION_SECONDS: '20',
    DOCKMEDIC_LADDER: 'level-1:3',
  });
  await redis.start();
});

after(async () => {
  await stack?.close();
  await redis?.stop();
  await hook?.close();
});

void describe("the gateway's store down during verification", () => {
  void it('restarted containers that hold resolve after Redis comes back; no page; mutations fail closed meanwhile', async () => {
    const names = Array.from({ length: N }, (_, i) => `${stack.runId}-blink-${i}`);
    // Each fails once; the restart holds.
    const ids = await Promise.all(names.map((name) => runScenarioContainer({ name, cmd: '[ -f /ran ] && exec sleep 300; touch /ran; exit 7', labels: { 'dockmedic.enable': 'true' } })));
    await waitUntil('every container to be restarted', async () => names.every((n) => mutatingCallsFor(stack.audit(), n).restart_container === 1), 60_000);
    await waitUntil('all five inside their stabilisation window', async () => (await Promise.all(names.map((n) => incidentPhase(stack.client, stack.incidentId(n))))).every((p) => p === 'verify'), 10_000, 100);

    await redis.stop();
    const downAt = Date.now();
    const client = new GatewayClient({ baseUrl: `http://127.0.0.1:${stack.env.DOCKMEDIC_GATEWAY_PORT}`, credentials: readAgentFile(join(stack.stateDir, 'keys', 'agent.json')), timeoutMs: 10_000 });
    const startedBefore = (await docker().getContainer(ids[0] ?? '').inspect()).State.StartedAt;
    await assert.rejects(client.call('restart_container', { container: ids[0] ?? '' }), (err: unknown) => err instanceof GatewayRefusal && err.code === 'store_unavailable', 'a mutating call fails closed');
    // Past the end of every stabilisation window (20 s), and past the old retry budget of a read (about 4 s).
    await new Promise((r) => setTimeout(r, Math.max(0, 27_000 - (Date.now() - downAt))));
    await redis.start();

    for (const name of names) {
      const state = await closedIncident(stack.client, stack.incidentId(name), 150_000);
      assert.equal(state.outcome, 'auto_resolved', `${name}: ${JSON.stringify(state.notes)}`);
      assert.equal(mutatingCallsFor(stack.audit(), name).restart_container, 1, `${name}: restarted once`);
    }
    assert.equal((await docker().getContainer(ids[0] ?? '').inspect()).State.StartedAt, startedBefore, 'the refused call restarted nothing');
    assert.deepEqual(hook.pages, [], 'nobody is paged');
  });
});
