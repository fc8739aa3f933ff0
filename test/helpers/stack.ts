import { Connection } from '@temporalio/client';
import Docker from 'dockerode';
import { connect } from 'node:net';
import { processAlive } from './processes';
import { SEARCH_ATTRIBUTE_NAMES } from '../../src/contract/search-attributes';

/** The image every scenario and test container runs (built by scripts/build-image.sh). */
export const SCENARIO_IMAGE = 'dockmedic/scenario:1';
/** Every container a test creates carries this label, so clean-up can find them all. */
export const TEST_LABEL = 'dockmedic.test';
export const REDIS_HOST = '127.0.0.1';
export const REDIS_PORT = 6379;
export const TEMPORAL_ADDRESS = '127.0.0.1:7233';

const SOCKET = process.env.DOCKER_SOCKET || '/var/run/docker.sock';
let client: Docker | undefined;

/** One Docker client per test process, on the local engine's socket. */
export function docker(): Docker {
  client ??= new Docker({ socketPath: SOCKET });
  return client;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `+PONG` from Redis over a raw socket: no client library, no reconnect loop to wait out. */
function pingRedis(timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: REDIS_HOST, port: REDIS_PORT });
    let reply = '';
    const done = (err?: Error) => {
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`no answer within ${timeoutMs} ms`)));
    socket.once('error', done);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') ? undefined : new Error(`answered ${JSON.stringify(reply.trim())}`));
    });
  });
}

async function checkDocker(): Promise<string | undefined> {
  try {
    await docker().ping();
  } catch (err) {
    return `Docker engine at ${SOCKET} does not answer (${errorText(err)})`;
  }
  try {
    await docker().getImage(SCENARIO_IMAGE).inspect();
  } catch {
    return `image ${SCENARIO_IMAGE} is missing (scripts/build-image.sh builds it)`;
  }
  return undefined;
}

async function checkRedis(): Promise<string | undefined> {
  try {
    await pingRedis(3_000);
    return undefined;
  } catch (err) {
    return `Redis at ${REDIS_HOST}:${REDIS_PORT} does not answer PING (${errorText(err)})`;
  }
}

async function checkTemporal(): Promise<string | undefined> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address: TEMPORAL_ADDRESS, connectTimeout: 3_000 });
    const health = await connection.healthService.check({});
    // 1 = SERVING in grpc.health.v1.
    if (health.status !== 1) return `Temporal at ${TEMPORAL_ADDRESS} is not serving (health status ${String(health.status)})`;
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    const missing = SEARCH_ATTRIBUTE_NAMES.filter((name) => !(name in (customAttributes ?? {})));
    if (missing.length) return `Temporal at ${TEMPORAL_ADDRESS} lacks the search attributes ${missing.join(', ')}`;
    return undefined;
  } catch (err) {
    return `Temporal at ${TEMPORAL_ADDRESS} does not answer (${errorText(err)})`;
  } finally {
    await connection?.close();
  }
}

/**
 * Fail loudly unless the real stack is up: Docker (with the scenario image), Redis on
 * 127.0.0.1:6379 and Temporal on 127.0.0.1:7233 with dockmedic's search attributes.
 * Tests call it in `before()`; they never skip silently when something is missing.
 */
export async function requireStack(): Promise<void> {
  const problems = (await Promise.all([checkDocker(), checkRedis(), checkTemporal()])).filter((p): p is string => p !== undefined);
  if (problems.length) {
    throw new Error(`the test stack is not ready:\n  - ${problems.join('\n  - ')}\nrun \`make setup\` (scripts/setup.sh) and try again`);
  }
}

/** The process that created a test container; its containers are its own to remove. */
export const OWNER_PID_LABEL = 'dockmedic.test.pid';

/**
 * Remove test containers (label `dockmedic.test`) that this process made, or whose maker is
 * gone (an interrupted earlier run). Containers of a test process still running are left alone,
 * so test files and benchmarks that share the engine do not pull containers from under each other.
 * `all` removes every test container. Returns how many were removed.
 */
export async function cleanupTestContainers(opts: { all?: boolean } = {}): Promise<number> {
  const containers = await docker().listContainers({ all: true, filters: { label: [TEST_LABEL] } });
  const mine = containers.filter((c) => {
    if (opts.all) return true;
    const owner = Number(c.Labels?.[OWNER_PID_LABEL]);
    return !Number.isInteger(owner) || owner === process.pid || !processAlive(owner);
  });
  await Promise.all(
    mine.map(async (c) => {
      try {
        await docker().getContainer(c.Id).remove({ force: true, v: true });
      } catch (err) {
        // Already gone (another clean-up, --rm) is fine; anything else is not.
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      }
    }),
  );
  return mine.length;
}
