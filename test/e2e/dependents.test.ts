import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import type { AuditRecord } from '../../src/gateway/audit/record';
import { LABELS } from '../../src/contract/container';
import type { DependentsResult } from '../../src/contract/gateway';
import { docker } from '../helpers/stack';
import { runScenarioContainer } from '../helpers/scenario';
import type { E2eStack } from './harness';
import { auditRecordsFor, closedIncident, mutatingCallsFor, startE2eStack } from './harness';

/**
 * Dependent containers on the real stack (docs/architecture.md §3): a container that exits,
 * one sharing its network namespace and one labelled dockmedic.depends-on (both opted in), and
 * one labelled but not opted in. After the incident: the main container restarted, both opted-in
 * dependents restarted exactly once after it (gateway audit order, Docker's StartedAt), the
 * namespace sharer in the main container's new namespace, the other one untouched.
 */

let stack: E2eStack;
before(async () => {
  stack = await startE2eStack();
});
after(async () => {
  await stack?.close();
});

const IDLE = 'trap "exit 0" TERM; sleep 100000 & wait';
const OPT_IN = { [LABELS.enable]: 'true' };

async function inspect(id: string) {
  return docker().getContainer(id).inspect();
}

/** The network namespace a running container's process is in (the test runs as root beside dockerd). */
function netns(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch (err) {
    throw new Error(`cannot read /proc/${pid}/ns/net (this test needs to run as root on the Docker host): ${(err as Error).message}`);
  }
}

void describe('dependent containers', () => {
  void it('restarts opted-in dependents once each, after the container, in name order; leaves the rest alone', async () => {
    const main = `${stack.runId}-depmain`;
    const net = `${main}-a-net`;
    const labelled = `${main}-b-label`;
    const off = `${main}-c-off`;
    // Fails (exit 1) on its first run only, after the dependents had time to join it.
    const mainId = await runScenarioContainer({ name: main, cmd: `if [ -f /tmp/ran ]; then ${IDLE}; else touch /tmp/ran; sleep 4; exit 1; fi`, labels: OPT_IN });
    const netId = await runScenarioContainer({ name: net, cmd: IDLE, networkOf: mainId, labels: OPT_IN });
    const labelledId = await runScenarioContainer({ name: labelled, cmd: IDLE, labels: { ...OPT_IN, [LABELS.dependsOn]: main } });
    const offId = await runScenarioContainer({ name: off, cmd: IDLE, labels: { [LABELS.dependsOn]: main } });
    const firstStart = {
      main: (await inspect(mainId)).State.StartedAt,
      net: (await inspect(netId)).State.StartedAt,
      labelled: (await inspect(labelledId)).State.StartedAt,
      off: (await inspect(offId)).State.StartedAt,
    };

    const state = await closedIncident(stack.client, stack.incidentId(main), 90_000);
    assert.equal(state.outcome, 'auto_resolved', `notes: ${state.notes.join(' | ')}`);

    // The gateway allowed exactly one restart of each, main first, then by name.
    const audit = stack.audit();
    for (const name of [main, net, labelled]) assert.equal(mutatingCallsFor(audit, name).restart_container, 1, `${name}: one restart`);
    const restarts = audit.filter((r: AuditRecord) => r.tool === 'restart_container' && r.verdict === 'allowed').map((r) => r.target?.name);
    assert.deepEqual(restarts, [main, net, labelled]);
    assert.deepEqual(auditRecordsFor(audit, off), [], 'the not-opted-in dependent: no call about it');

    // Docker's own times agree: each dependent started again, after the main container did.
    const now = { main: await inspect(mainId), net: await inspect(netId), labelled: await inspect(labelledId), off: await inspect(offId) };
    assert.ok(now.main.State.Running && now.net.State.Running && now.labelled.State.Running);
    assert.ok(now.main.State.StartedAt > firstStart.main);
    for (const k of ['net', 'labelled'] as const) {
      assert.ok(now[k].State.StartedAt > firstStart[k], `${k} restarted`);
      assert.ok(now[k].State.StartedAt > now.main.State.StartedAt, `${k} restarted after the main container`);
    }
    assert.equal(now.off.State.StartedAt, firstStart.off, 'the not-opted-in dependent was not restarted');
    // The namespace sharer is in the main container's new namespace, not the one that died with it.
    assert.equal(netns(now.net.State.Pid), netns(now.main.State.Pid));

    // The incident records it: the listing (with why and who is opted in) and each restart.
    const listed = state.decisionChain.find((r) => r.tool === 'list_dependents');
    const deps = (listed?.result as Pick<DependentsResult, 'dependents'> | undefined)?.dependents ?? [];
    assert.deepEqual(
      deps.map((d) => [d.name, d.via, d.optedIn]),
      [
        [net, ['network'], true],
        [labelled, ['label'], true],
        [off, ['label'], false],
      ],
    );
    assert.deepEqual(
      state.decisionChain.filter((r) => r.tool === 'restart_container' && r.ok).map((r) => (r.args as { container: string }).container),
      [mainId, netId, labelledId],
    );
  });
});
