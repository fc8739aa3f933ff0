import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runScenarioContainer } from '../helpers/scenario';
import { docker } from '../helpers/stack';
import type { E2eStack } from './harness';
import { closedIncident, mutatingCallsFor, startE2eStack, waitUntil } from './harness';

/**
 * `POST /alertmanager` on the watcher's listener (docs/architecture.md §1), on the real stack,
 * with messages in Alertmanager's webhook format (version 4, as its notify/webhook sends them).
 * The failing container fails while no watcher listens and the new watcher does not reconcile,
 * so the only way an incident can open is the alert.
 */

let stack: E2eStack;
let token: string;
let url: string;

function alert(labels: Record<string, string>, status: 'firing' | 'resolved' = 'firing') {
  return {
    status,
    labels: { alertname: 'ContainerDown', severity: 'critical', ...labels },
    annotations: { summary: `container ${labels.container ?? '?'} is down` } as Record<string, string>,
    startsAt: new Date(Date.now() - 60_000).toISOString(),
    endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus.example:9090/graph?g0.expr=up+%3D%3D+0',
    fingerprint: Math.random().toString(16).slice(2, 18).padEnd(16, '0'),
  };
}

function message(alerts: ReturnType<typeof alert>[]) {
  return {
    receiver: 'dockmedic',
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts,
    groupLabels: { alertname: 'ContainerDown' },
    commonLabels: { alertname: 'ContainerDown' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example:9093',
    version: '4',
    groupKey: '{}:{alertname="ContainerDown"}',
    truncatedAlerts: 0,
  };
}

interface Answer {
  status: number;
  body: { alerts?: { outcome: string; reason: string; container?: string; workflowId?: string }[]; error?: { code: string } };
}

async function post(body: string | object, auth: string | null = `Bearer ${token}`): Promise<Answer> {
  const res = await fetch(`${url}/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

async function noIncident(container: string): Promise<void> {
  const { count } = await stack.client.workflow.count(`WorkflowId = '${stack.incidentId(container)}'`);
  assert.equal(count, 0, `no incident for ${container}`);
  await assert.rejects(stack.client.workflow.getHandle(stack.incidentId(container)).describe(), `no workflow for ${container}`);
}

describe('Alertmanager intake: alerts trigger incidents; Docker supplies the facts', { timeout: 240_000 }, () => {
  let failing: string;
  let bystander: string;

  before(async () => {
    stack = await startE2eStack();
    const tokenFile = join(stack.stateDir, 'keys', 'intake-token');
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600, 'the token file is made 0600');
    token = readFileSync(tokenFile, 'utf8').trim();
    assert.ok(token.length >= 32, 'a token was generated');
    // Fails once, then runs: one restart fixes it (its file system survives the restart).
    await stack.killWatcher();
    failing = `${stack.runId}-am-exit`;
    const id = await runScenarioContainer({ name: failing, cmd: 'if [ -f /tmp/failed-once ]; then exec sleep 3600; fi; touch /tmp/failed-once; exit 3', labels: { 'dockmedic.enable': 'true' } });
    await waitUntil('the container to exit', async () => (await docker().getContainer(id).inspect()).State.Status === 'exited', 15_000);
    await stack.startWatcher({}, ['--reconcile-window', '0']);
    url = stack.listenerUrl();
    bystander = `${stack.runId}-am-not-opted-in`;
    await runScenarioContainer({ name: bystander, cmd: 'exit 4' });
  });

  after(async () => {
    for await (const info of stack.client.workflow.list({ query: `DockmedicHost = '${stack.host}' AND ExecutionStatus = 'Running'` })) {
      await stack.client.workflow.getHandle(info.workflowId).terminate('test finished');
    }
    await stack?.close();
  });

  it('refuses a missing or wrong token with 401 and starts nothing', async () => {
    const body = message([alert({ container: failing })]);
    assert.equal((await post(body, null)).status, 401);
    assert.equal((await post(body, `Bearer ${token}x`)).status, 401);
    assert.equal((await post(body, `Basic ${Buffer.from(`u:${token}`).toString('base64')}`)).status, 401);
    await new Promise((r) => setTimeout(r, 1000));
    await noIncident(failing);
  });

  it('answers 400 to what is not a version 4 message, and 413 to an oversized one', async () => {
    assert.equal((await post('{"version":"4",')).status, 400, 'not JSON');
    const { version: _v, ...noVersion } = message([alert({ container: failing })]);
    assert.equal((await post(noVersion)).status, 400, 'no version');
    assert.equal((await post({ ...message([alert({ container: failing })]), version: '3' })).status, 400, 'another version');
    const badStatus = message([{ ...alert({ container: failing }), status: 'burning' as 'firing' }]);
    const answer = await post(badStatus);
    assert.equal(answer.status, 400, 'an alert status Alertmanager never sends');
    assert.equal(answer.body.error?.code, 'invalid_payload');
    const huge = message([{ ...alert({ container: failing }), annotations: { description: 'x'.repeat(300 * 1024) } }]);
    assert.equal((await post(huge)).status, 413);
    await noIncident(failing);
  });

  it('answers 202 with a reason per alert for unknown, not opted-in, unlabelled and other hosts’ containers, and opens nothing', async () => {
    const answer = await post(
      message([
        alert({ container: `${stack.runId}-no-such-container` }),
        alert({ container: bystander }),
        alert({ job: 'node' }),
        alert({ container: failing, host: 'some-other-host' }),
        alert({ container: failing, instance: 'some-other-host:9100' }),
      ]),
    );
    assert.equal(answer.status, 202);
    const outcomes = answer.body.alerts ?? [];
    assert.equal(outcomes.length, 5);
    assert.ok(outcomes.every((o) => o.outcome === 'ignored' && o.reason.length > 0), JSON.stringify(outcomes));
    await noIncident(bystander);
    await noIncident(failing);
    assert.deepEqual(mutatingCallsFor(stack.audit(), bystander), { restart_container: 0, start_container: 0, update_container_resources: 0 });
    assert.equal((await docker().getContainer(bystander).inspect()).State.Status, 'exited', 'the not-opted-in container is left alone');
  });

  it('a firing alert for an exited opted-in container opens its incident, which restarts it by the policy', async () => {
    const answer = await post(message([alert({ container: failing, instance: `${stack.host}:8080` })]));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.alerts?.[0]?.outcome, 'started', JSON.stringify(answer.body));
    const state = await closedIncident(stack.client, stack.incidentId(failing), 90_000);
    assert.equal(state.decision?.rule, 'exit-restart', `notes: ${state.notes.join(' | ')}`);
    assert.equal(state.outcome, 'auto_resolved');
    assert.deepEqual(mutatingCallsFor(stack.audit(), failing), { restart_container: 1, start_container: 0, update_container_resources: 0 }, 'one restart, through the gateway');
    assert.equal((await docker().getContainer(failing).inspect()).State.Running, true, 'the container runs again');

    // The alert is no fact: firing again for a container Docker shows running opens nothing.
    const stillFiring = await post(message([alert({ container: failing })]));
    assert.equal(stillFiring.status, 202, JSON.stringify(stillFiring.body));
    assert.equal(stillFiring.body.alerts?.[0]?.outcome, 'ignored');

    // Resolved now, and Docker agrees: a resolved alert observes only, and never starts an incident.
    const resolved = await post(message([alert({ container: failing }, 'resolved')]));
    assert.equal(resolved.status, 202);
    assert.equal(resolved.body.alerts?.[0]?.outcome, 'ignored');
    const { count } = await stack.client.workflow.count(`WorkflowId = '${stack.incidentId(failing)}'`);
    assert.equal(count, 1, 'still the one incident');
    assert.equal(mutatingCallsFor(stack.audit(), failing).restart_container, 1, 'and no second restart');
  });
});
