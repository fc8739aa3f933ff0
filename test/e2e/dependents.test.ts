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

/** A container that fails once, then its dependents; names sort as net < labelled < off. */
async function startFamily() {
  const main = `${stack.runId}-depmain`;
  const names = { main, net: `${main}-a-net`, labelled: `${main}-b-label`, off: `${main}-c-off` };
  // Fails (exit 1) on its first run only, after the dependents had time to join it.
  const mainId = await runScenarioContainer({ name: main, cmd: `if [ -f /tmp/ran ]; then ${IDLE}; else touch /tmp/ran; sleep 4; exit 1; fi`, labels: OPT_IN });
  const ids = {
    main: mainId,
    net: await runScenarioContainer({ name: names.net, cmd: IDLE, networkOf: mainId, labels: OPT_IN }),
    labelled: await runScenarioContainer({ name: names.labelled, cmd: IDLE, labels: { ...OPT_IN, [LABELS.dependsOn]: main } }),
    off: await runScenarioContainer({ name: names.off, cmd: IDLE, labels: { [LABELS.dependsOn]: main } }),
  };
  const started = {
    main: (await inspect(ids.main)).State.StartedAt,
    net: (await inspect(ids.net)).State.StartedAt,
    labelled: (await inspect(ids.labelled)).State.StartedAt,
    off: (await inspect(ids.off)).State.StartedAt,
  };
  return { names, ids, started };
}

void describe('dependent containers', () => {
  before(async () => {
    stack = await startE2eStack();
  });
  after(async () => {
    await stack?.close();
  });

  void it('restarts opted-in dependents once each, after the container, in name order; leaves the rest alone', async () => {
    const { names, ids, started: firstStart } = await startFamily();
    const { main, net, labelled, off } = names;
    const { main: mainId, net: netId, labelled: labelledId, off: offId } = ids;

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

void describe('dependent containers: charged to the same budgets', () => {
  before(async () => {
    // Two mutating calls per agent: the container's restart and the first dependent's.
    stack = await startE2eStack({ DOCKMEDIC_RL_AGENT_MUTATING: '2' });
  });
  after(async () => {
    await stack?.close();
  });

  void it('a dependent refused by the rate limit is recorded, the incident escalates, and it is not restarted', async () => {
    const { names, ids, started } = await startFamily();
    const state = await closedIncident(stack.client, stack.incidentId(names.main), 90_000);
    assert.equal(state.finalAction, 'escalate', `notes: ${state.notes.join(' | ')}`);
    assert.equal(state.outcome, 'unacknowledged');
    const refused = state.decisionChain.find((r) => r.tool === 'restart_container' && (r.args as { container: string }).container === ids.labelled);
    assert.equal(refused?.ok, false);
    assert.equal(refused?.error?.code, 'rate_limited');

    const audit = stack.audit();
    assert.equal(mutatingCallsFor(audit, names.main).restart_container, 1);
    assert.equal(mutatingCallsFor(audit, names.net).restart_container, 1);
    // The container, the first dependent, then the refusal (charged before the gateway reads the arguments).
    assert.deepEqual(
      audit.filter((r) => r.tool === 'restart_container').map((r) => [r.verdict, r.code]),
      [
        ['allowed', null],
        ['allowed', null],
        ['refused', 'rate_limited'],
      ],
    );
    assert.equal((await inspect(ids.labelled)).State.StartedAt, started.labelled, 'the refused dependent was not restarted');
    assert.ok((await inspect(ids.net)).State.StartedAt > started.net);
  });
});
