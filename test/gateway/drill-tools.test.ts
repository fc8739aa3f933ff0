import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { docker, SUITE_LABEL } from './helpers/containers';
import { snapshot } from './helpers/containers';
import { GatewayFixture } from './helpers/fixture';
import { outcomeOf } from './helpers/outcome';
import { rawCall } from './helpers/raw-request';
import { LABELS } from '../../src/contract/container';
import type { DrillAuditEntry, DrillContainer, DrillContainerInfo, DrillEvent } from '../../src/contract/drill';
import { DRILL_HOST_LABEL, DRILL_LABEL, DRILL_SCENARIO_LABEL, drillContainerName } from '../../src/contract/drill';
import type { RefusalCode, ToolArgs, ToolName } from '../../src/contract/gateway';
import { REFUSALS } from '../../src/contract/gateway';
import type { CallOptions } from '../../src/gateway-client';
import { OWNER_PID_LABEL, SCENARIO_IMAGE, TEST_LABEL } from '../helpers/stack';

/**
 * The drill tools (docs/architecture.md §6) on the real engine and Redis: a drill container is
 * built from the catalogue only, only drill containers of this host can be stopped, read or
 * removed, every refusal is audited and changes nothing, and drill mutations are charged to the
 * drill budget — exhausting it leaves the real incidents' budget untouched, and a real
 * container's calls can never be moved onto it.
 */
const SUITE = 'drill-tools';
const HOST = `gwdrill${process.pid}`;
const MiB = 1024 * 1024;
const AGENT_MUTATING = 2;
const DRILL_MUTATING = 12;
let f: GatewayFixture;
let drillId = 'd1';

const call = <T extends ToolName, R = unknown>(tool: T, args: ToolArgs<T>, opts: CallOptions = {}) => f.client().call<T, R>(tool, args, opts);
const outcome = <T extends ToolName>(tool: T, args: ToolArgs<T>, opts: CallOptions = {}) => outcomeOf(call(tool, args, opts));

/** Refused with `code`, audited as refused, and no container changed. */
async function expectRefused(send: () => Promise<unknown>, code: RefusalCode, watch: string[]): Promise<void> {
  const before0 = await Promise.all(watch.map((id) => snapshot(id)));
  const auditBefore = f.audit().length;
  assert.equal(await outcomeOf(send()), code);
  const records = f.audit().slice(auditBefore);
  assert.equal(records.length, 1, 'one audit record');
  assert.equal(records[0]?.verdict, 'refused');
  assert.equal(records[0]?.code, code);
  assert.equal(records[0]?.status, REFUSALS[code]);
  assert.deepEqual(await Promise.all(watch.map((id) => snapshot(id))), before0, 'no container changed');
}

async function exists(ref: string): Promise<boolean> {
  try {
    await docker().getContainer(ref).inspect();
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  f = await GatewayFixture.start({
    suite: SUITE,
    env: {
      DOCKMEDIC_HOST: HOST,
      // The suite's own labels, so its cleanup (and an interrupted run's) finds the drill containers too.
      DOCKMEDIC_DRILL_LABELS: `${TEST_LABEL}=true,${SUITE_LABEL}=${SUITE},${OWNER_PID_LABEL}=${process.pid}`,
      DOCKMEDIC_RL_AGENT_MUTATING: String(AGENT_MUTATING),
      DOCKMEDIC_RL_DRILL_MUTATING: String(DRILL_MUTATING),
      DOCKMEDIC_RL_CONTAINER_MUTATING: '100',
    },
  });
  drillId = `t${process.pid}`;
});

after(async () => {
  await f?.containers.cleanup();
  await f?.close();
});

void describe('create_drill_container', () => {
  void it('builds the scenario from the catalogue: fixed image, --network none, memory ≤ 256 MiB, the drill labels; a retry returns the same container', async () => {
    const made = (await call<'create_drill_container', DrillContainer>('create_drill_container', { scenario: 'oom', drillId }, { budget: 'drill' })).result;
    assert.equal(made.name, drillContainerName(drillId, 'oom'));
    const info = await docker().getContainer(made.id).inspect();
    assert.equal(info.Config.Image, SCENARIO_IMAGE);
    assert.equal(info.HostConfig.NetworkMode, 'none');
    assert.equal(info.HostConfig.Memory, 32 * MiB);
    assert.equal(info.HostConfig.Privileged, false);
    assert.deepEqual(info.HostConfig.CapAdd ?? [], []);
    assert.deepEqual(info.Mounts, []);
    const l = info.Config.Labels;
    assert.equal(l[LABELS.enable], 'true');
    assert.equal(l[DRILL_LABEL], drillId);
    assert.equal(l[DRILL_HOST_LABEL], HOST);
    assert.equal(l[DRILL_SCENARIO_LABEL], 'oom');

    const again = (await call<'create_drill_container', DrillContainer>('create_drill_container', { scenario: 'oom', drillId })).result;
    assert.equal(again.id, made.id, 'a retried create finds its own container');

    const crash = (await call<'create_drill_container', DrillContainer>('create_drill_container', { scenario: 'not-opted-in', drillId })).result;
    const ci = await docker().getContainer(crash.id).inspect();
    assert.equal(ci.HostConfig.Memory, 256 * MiB, 'a scenario without a limit still gets the 256 MiB cap');
    assert.equal(ci.Config.Labels[LABELS.enable], undefined, 'not-opted-in carries no opt-in');
  });

  void it('refuses anything but a catalogue scenario and a drill id, and a name taken by another container', async () => {
    const viaRaw = async (args: unknown, code: RefusalCode) => {
      const before0 = f.audit().length;
      const r = await rawCall(f.url, f.cred(), { path: '/v1/tools/create_drill_container', body: JSON.stringify({ args }) });
      assert.equal(r.code, code, JSON.stringify(r.json));
      const recs = f.audit().slice(before0);
      assert.equal(recs.length, 1);
      assert.equal(recs[0]?.code, code);
    };
    const countBefore = (await docker().listContainers({ all: true, filters: { label: [`${DRILL_HOST_LABEL}=${HOST}`] } })).length;
    await viaRaw({ scenario: 'no-such-scenario', drillId }, 'invalid_arguments');
    await viaRaw({ scenario: 'oom', drillId, image: 'alpine' }, 'invalid_arguments');
    await viaRaw({ scenario: 'oom', drillId, cmd: 'rm -rf /' }, 'invalid_arguments');
    await viaRaw({ scenario: 'oom', drillId: '../x' }, 'invalid_arguments');
    assert.equal((await docker().listContainers({ all: true, filters: { label: [`${DRILL_HOST_LABEL}=${HOST}`] } })).length, countBefore, 'nothing created');

    // A container that is not this drill's holds the name the create would use.
    const squatter = await f.containers.run('squat', { name: drillContainerName(`${drillId}x`, 'oom') });
    await expectRefused(() => call('create_drill_container', { scenario: 'oom', drillId: `${drillId}x` }), 'drill_container_conflict', [squatter]);
  });
});

void describe('only this host’s drill containers', () => {
  void it('remove, stop, events and audit refuse a real container and another host’s drill; each refusal is audited and changes nothing', async () => {
    const real = await f.containers.run('real');
    const foreign = await f.containers.run('foreign', { labels: { [DRILL_LABEL]: drillId, [DRILL_HOST_LABEL]: 'elsewhere' } });
    for (const target of [real, foreign]) {
      await expectRefused(() => call('remove_drill_container', { container: target }), 'not_a_drill_container', [real, foreign]);
      await expectRefused(() => call('stop_drill_container', { container: target }), 'not_a_drill_container', [real, foreign]);
      await expectRefused(() => call('drill_container_events', { container: target, since: new Date(Date.now() - 60_000).toISOString() }), 'not_a_drill_container', [real, foreign]);
      await expectRefused(() => call('drill_audit', { container: target }), 'not_a_drill_container', [real, foreign]);
    }
    assert.ok(await exists(real));
    assert.ok(await exists(foreign));
    await expectRefused(() => call('remove_drill_container', { container: real, force: true } as never), 'invalid_arguments', [real]);

    const listed = (await call<'list_drill_containers', { containers: DrillContainerInfo[] }>('list_drill_containers', {})).result.containers;
    assert.ok(listed.length >= 2);
    assert.ok(listed.every((c) => c.id !== foreign && c.id !== real), 'another host’s drill is not listed');
  });

  void it('stop, events (Docker’s own times), audit and remove work on a drill container', async () => {
    const t0 = new Date(Date.now() - 1000).toISOString();
    const made = (await call<'create_drill_container', DrillContainer>('create_drill_container', { scenario: 'operator-stop', drillId })).result;
    await call('stop_drill_container', { container: made.id });
    assert.equal((await docker().getContainer(made.id).inspect()).State.Running, false);
    const events = (await call<'drill_container_events', { events: DrillEvent[] }>('drill_container_events', { container: made.id, since: t0 })).result.events;
    const actions = events.map((e) => e.action);
    assert.ok(actions.includes('start') && actions.includes('die'), `events: ${actions.join(',')}`);
    assert.ok(events.every((e, i) => i === 0 || BigInt(e.timeNano) >= BigInt(events[i - 1]!.timeNano)), 'oldest first');
    const records = (await call<'drill_audit', { records: DrillAuditEntry[] }>('drill_audit', { container: made.id })).result.records;
    assert.deepEqual(
      records.filter((r) => r.verdict === 'allowed').map((r) => r.tool),
      ['create_drill_container', 'stop_drill_container', 'drill_container_events'],
    );
    await call('remove_drill_container', { container: made.id });
    assert.equal(await exists(made.id), false);
  });
});

void describe('the drill budget', () => {
  void it('drill mutations never use up the real budget, and a real container cannot be moved onto the drill budget', async () => {
    const real = await f.containers.run('budget-real');
    const drill = (await call<'create_drill_container', DrillContainer>('create_drill_container', { scenario: 'exit-transient', drillId: `${drillId}b` })).result;
    // A drill container's mutation off the drill budget is refused: it would be charged to real incidents.
    await expectRefused(() => call('restart_container', { container: drill.id, timeoutSeconds: 0 }), 'drill_budget_required', [real]);
    // A real container's mutation on the drill budget is refused: it would escape the real window.
    await expectRefused(() => call('restart_container', { container: real, timeoutSeconds: 0 }, { budget: 'drill' }), 'not_a_drill_container', [real]);

    // Use up the drill window (the earlier tests' creates, stop and remove count against it too).
    let seen = '';
    for (let i = 0; i < DRILL_MUTATING + 2 && seen !== 'rate_limited'; i++) {
      seen = await outcome('restart_container', { container: drill.id, timeoutSeconds: 0 }, { budget: 'drill' });
    }
    assert.equal(seen, 'rate_limited', 'the drill window is finite');
    // The real window is untouched: both of its restarts still run.
    assert.equal(await outcome('restart_container', { container: real, timeoutSeconds: 0 }), 'executed');
    assert.equal(await outcome('restart_container', { container: real, timeoutSeconds: 0 }), 'executed');
    assert.equal(await outcome('restart_container', { container: real, timeoutSeconds: 0 }), 'rate_limited', 'and the real window still counts');
  });
});
