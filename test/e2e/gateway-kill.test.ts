/**
 * Issue 12.1, the gateway's part of the fault suite: the gateway SIGKILLed after Docker began a
 * restart and before it answered, then started again. The killed process never stored the
 * outcome; its claim on the idempotency key is orphaned, and the retried activity is answered
 * from Docker's state (the container started after the claim) instead of restarting again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { runScenarioContainer } from '../helpers/scenario';
import { docker } from '../helpers/stack';
import type { E2eStack } from './harness';
import { auditRecordsFor, closedIncident, mutatingCallsFor, startE2eStack, waitUntil } from './harness';

let stack: E2eStack;
before(async () => {
  stack = await startE2eStack();
});
after(async () => {
  await stack?.close();
});

void describe('fault suite: the gateway killed mid-call', () => {
  void it('killed while Docker runs its restart: the retry gets the outcome from Docker, exactly one restart', async (t) => {
    const name = `${stack.runId}-gk`;
    const events = (await docker().getEvents({ filters: { type: ['container'], container: [name] } })) as unknown as Readable;
    const lines = createInterface({ input: events });
    const actions: string[] = [];
    lines.on('line', (line) => actions.push((JSON.parse(line) as { Action?: string }).Action ?? ''));
    try {
      // Unhealthy on its first run; ignores SIGTERM, so Docker's restart waits out the 10 s stop timeout.
      await runScenarioContainer({
        name,
        cmd: 'if [ -f /tmp/ran ]; then touch /tmp/healthy; else touch /tmp/ran; fi; trap "" TERM; while true; do sleep 1; done',
        health: { cmd: 'test -f /tmp/healthy', intervalMs: 1000, retries: 2 },
        labels: { 'dockmedic.enable': 'true' },
      });
      await waitUntil('Docker to start the restart (its first kill)', async () => actions.includes('kill'), 60_000, 20);
      await stack.killGateway();
      await new Promise((r) => setTimeout(r, 2000));
      await stack.startGateway();

      const state = await closedIncident(stack.client, stack.incidentId(name), 180_000);
      assert.equal(state.outcome, 'auto_resolved', JSON.stringify(state.notes));
      assert.equal(actions.filter((a) => a === 'restart').length, 1, `Docker restarted it once: ${actions.join(' ')}`);
      const audit = stack.audit();
      // The killed gateway died before its audit record; the new one executed nothing itself.
      assert.equal(mutatingCallsFor(audit, name).restart_container, 0, 'no second restart executed');
      const recovered = audit.filter((r) => r.tool === 'restart_container' && r.replayed && typeof r.result?.recoveredFrom === 'string');
      assert.equal(recovered.length, 1, `one retry answered from Docker's state: ${JSON.stringify(auditRecordsFor(audit, name).map((r) => [r.time, r.verdict, r.code, r.replayed, r.result]))}`);
      assert.equal(state.decisionChain.filter((c) => c.tool === 'restart_container' && c.ok).length, 1);
      t.diagnostic(JSON.stringify({ gateway_sigkill: { runs: 1, incidents: 1, completed: 1, duplicate_actions: 0, lost: 0, recovered_calls: recovered.length } }));
    } finally {
      lines.close();
      events.destroy();
    }
  });
});
