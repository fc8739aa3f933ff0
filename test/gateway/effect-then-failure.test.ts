import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import Docker from 'dockerode';
import { restartEvents } from './helpers/containers';
import { GatewayFixture } from './helpers/fixture';
import { outcomeOf } from './helpers/outcome';

/**
 * A restart that took effect, followed by a failure to read the container's state back (the
 * engine hiccups between the two calls): the call is refused, and the idempotency claim is kept,
 * so the activity's retry is refused as in progress instead of restarting a second time.
 * The engine is real; only the read-back after the restart is made to fail, once.
 */
let f: GatewayFixture;
let failNextReadBack = false;

function faultyReadBack(): Docker {
  const real = new Docker({ socketPath: process.env.DOCKER_SOCKET ?? '/var/run/docker.sock' });
  const docker = Object.create(real) as Docker;
  let armed = false;
  docker.getContainer = (id: string) => {
    const c = real.getContainer(id);
    const restart = c.restart.bind(c) as (opts?: object) => Promise<unknown>;
    const inspect = c.inspect.bind(c) as (opts?: object) => Promise<Docker.ContainerInspectInfo>;
    c.restart = ((opts?: object) =>
      restart(opts).then((r) => {
        armed = failNextReadBack;
        failNextReadBack = false;
        return r;
      })) as typeof c.restart;
    c.inspect = ((opts?: object) => {
      if (!armed) return inspect(opts);
      armed = false;
      return Promise.reject(Object.assign(new Error('injected: the engine did not answer'), { statusCode: 500 }));
    }) as typeof c.inspect;
    return c;
  };
  return docker;
}

before(async () => {
  f = await GatewayFixture.start({ suite: 'effect', deps: { docker: faultyReadBack() } });
});
after(() => f?.close());

void it('the restart happened, reading its state failed: the retry with the same key does not restart again', async () => {
  const id = await f.containers.run('target');
  const container = f.containers.name('target');
  const client = f.client();
  const t0 = Date.now();
  failNextReadBack = true;
  assert.equal(await outcomeOf(client.call('restart_container', { container, timeoutSeconds: 0 }, { idempotencyKey: 'wf-e/restart' })), 'docker_error');
  assert.equal(await outcomeOf(client.call('restart_container', { container, timeoutSeconds: 0 }, { idempotencyKey: 'wf-e/restart' })), 'idempotency_in_progress');
  assert.equal(await restartEvents(id, t0, Date.now()), 1, 'restarted exactly once');
});
