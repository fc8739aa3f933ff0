import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GatewayRefusal } from '../../src/gateway-client';
import { LABELS } from '../../src/contract/container';
import type { DependentsResult } from '../../src/contract/gateway';
import { GatewayFixture } from './helpers/fixture';

/**
 * list_dependents on the real engine (docs/architecture.md §3): who shares a container's network
 * namespace or names it in dockmedic.depends-on, sorted by name, opted in by dockmedic.enable=true
 * and the caller's (the watcher's) selector; scoped and audited like every read.
 */
let f: GatewayFixture;
let mainId = '';

before(async () => {
  f = await GatewayFixture.start({ suite: 'dependents' });
  mainId = await f.containers.run('main');
  await f.containers.run('z-net', { networkOf: mainId, labels: { team: 'web' } });
  await f.containers.run('b-label', { labels: { [LABELS.dependsOn]: `other,${f.containers.name('main')}` } });
  await f.containers.run('a-off', { optIn: false, labels: { [LABELS.dependsOn]: f.containers.name('main'), team: 'web' } });
  await f.containers.run('bystander', { labels: { [LABELS.dependsOn]: 'someone-else' } });
  await f.containers.run('lonely', { optIn: false });
});

after(() => f?.close());

const list = (container: string, selector: string[] = []) => f.client().call<'list_dependents', DependentsResult>('list_dependents', { container, selector });

void describe('list_dependents', () => {
  void it('finds namespace sharers (Docker stores the id) and depends-on labels, by name, with opt-in', async () => {
    const { result } = await list(f.containers.name('main'));
    assert.deepEqual(
      result.dependents.map((d) => [d.name, d.via, d.optedIn]),
      [
        [f.containers.name('a-off'), ['label'], false],
        [f.containers.name('b-label'), ['label'], true],
        [f.containers.name('z-net'), ['network'], true],
      ],
    );
    assert.equal(result.truncated, false);
    // The same answer when the container is named by id.
    assert.deepEqual((await list(mainId)).result.dependents.map((d) => d.name), result.dependents.map((d) => d.name));
  });

  void it("the selector narrows opt-in the way it narrows the watcher's", async () => {
    const { result } = await list(f.containers.name('main'), ['team=web']);
    assert.deepEqual(result.dependents.map((d) => [d.name, d.optedIn]), [
      [f.containers.name('a-off'), false],
      [f.containers.name('b-label'), false],
      [f.containers.name('z-net'), true],
    ]);
  });

  void it('a container not opted in → container_not_opted_in, audited as refused', async () => {
    const err = await list(f.containers.name('lonely')).then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof GatewayRefusal);
    assert.equal(err.code, 'container_not_opted_in');
    const rec = f.audit().filter((r) => r.tool === 'list_dependents' && r.target?.name === f.containers.name('lonely'));
    assert.deepEqual(rec.map((r) => [r.verdict, r.code]), [['refused', 'container_not_opted_in']]);
  });

  void it('a malformed selector → invalid_arguments', async () => {
    const err = await f
      .client()
      .call('list_dependents', { container: f.containers.name('main'), selector: ['no equals sign'] })
      .then(
        () => assert.fail('expected a refusal'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof GatewayRefusal);
    assert.equal(err.code, 'invalid_arguments');
  });
});
