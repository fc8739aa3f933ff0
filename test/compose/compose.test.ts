import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { z } from 'zod';
import { repoRoot } from '../helpers/paths';
import { SEARCH_ATTRIBUTE_NAMES } from '../../src/contract/search-attributes';

// docker-compose.yml cannot run on the test machine (no compose plugin, no registry), so its
// wiring is checked here as data: who holds the Docker socket and the LLM key, who talks to
// whom, what is published, what is labelled. Short and long compose syntax both count.

const StringMap = z.union([
  z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  z.array(z.string()),
]);
const Service = z
  .object({
    image: z.string().optional(),
    build: z.union([z.string(), z.object({ context: z.string() }).passthrough()]).optional(),
    command: z.union([z.string(), z.array(z.string())]).optional(),
    entrypoint: z.union([z.string(), z.array(z.string())]).optional(),
    environment: StringMap.optional(),
    labels: StringMap.optional(),
    volumes: z.array(z.union([z.string(), z.object({ source: z.string().optional(), target: z.string(), read_only: z.boolean().optional() }).passthrough()])).optional(),
    ports: z.array(z.union([z.string(), z.number(), z.object({ target: z.number(), published: z.union([z.string(), z.number()]).optional(), host_ip: z.string().optional() }).passthrough()])).optional(),
    expose: z.array(z.union([z.string(), z.number()])).optional(),
    depends_on: z.union([z.array(z.string()), z.record(z.string(), z.object({ condition: z.string().optional() }).passthrough())]).optional(),
    healthcheck: z.object({ test: z.union([z.string(), z.array(z.string())]) }).passthrough().optional(),
    user: z.string().optional(),
  })
  .passthrough();
type Service = z.infer<typeof Service>;
const ComposeFile = z.object({ services: z.record(z.string(), Service), volumes: z.record(z.string(), z.unknown()).optional() }).passthrough();

const compose = ComposeFile.parse(parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')));
const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');

const DOCKER_SOCKET = '/var/run/docker.sock';
const DOCKMEDIC_SERVICES = ['gateway', 'worker', 'watcher'] as const;

function service(name: string): Service {
  const s = compose.services[name];
  assert.ok(s, `docker-compose.yml has no service "${name}"`);
  return s;
}

function toMap(value: z.infer<typeof StringMap> | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (Array.isArray(value)) {
    for (const item of value) {
      const eq = item.indexOf('=');
      out.set(eq < 0 ? item : item.slice(0, eq), eq < 0 ? '' : item.slice(eq + 1));
    }
  } else if (value) {
    for (const [k, v] of Object.entries(value)) out.set(k, v === null ? '' : String(v));
  }
  return out;
}

const env = (name: string) => toMap(service(name).environment);
const labels = (name: string) => toMap(service(name).labels);

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}
function mounts(name: string): Mount[] {
  return (service(name).volumes ?? []).map((v) => {
    if (typeof v !== 'string') return { source: v.source ?? '', target: v.target, readOnly: v.read_only === true };
    const [source = '', target = '', mode = ''] = v.split(':');
    return { source, target, readOnly: mode.split(',').includes('ro') };
  });
}

interface Published {
  hostIp: string;
  hostPort: string;
  containerPort: string;
}
function ports(name: string): Published[] {
  return (service(name).ports ?? []).map((p) => {
    if (typeof p === 'object') return { hostIp: p.host_ip ?? '', hostPort: String(p.published ?? ''), containerPort: String(p.target) };
    const parts = String(p).replace(/\/tcp$/, '').split(':');
    const containerPort = parts.pop() ?? '';
    const hostPort = parts.pop() ?? '';
    return { hostIp: parts.join(':'), hostPort, containerPort };
  });
}

function dependsOn(name: string): Map<string, string> {
  const d = service(name).depends_on;
  if (!d) return new Map();
  if (Array.isArray(d)) return new Map(d.map((s) => [s, 'service_started']));
  return new Map(Object.entries(d).map(([s, v]) => [s, v.condition ?? 'service_started']));
}

const argv = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : value.split(/\s+/).filter(Boolean));

/** The hostname and port of a URL or a host:port address. */
function hostPort(address: string): { host: string; port: string } {
  const url = new URL(address.includes('://') ? address : `tcp://${address}`);
  return { host: url.hostname, port: url.port };
}

void describe('docker-compose.yml', () => {
  void test('has the Temporal server and UI, Redis, and dockmedic gateway, worker and watcher', () => {
    for (const name of ['temporal', 'temporal-ui', 'redis', ...DOCKMEDIC_SERVICES]) service(name);
    assert.match(service('temporal-ui').image ?? '', /^temporalio\/ui:/);
    assert.match(service('temporal').image ?? '', /^temporalio\//);
    assert.match(service('redis').image ?? '', /^redis:/);
  });

  void test('dockmedic services are built from the repository Dockerfile and pick their role by command', () => {
    for (const name of DOCKMEDIC_SERVICES) {
      const s = service(name);
      const context = typeof s.build === 'string' ? s.build : s.build?.context;
      assert.equal(context, '.', `${name} must build from the repository root`);
      assert.deepEqual(argv(s.command), [name], `${name} runs \`dockmedic ${name}\``);
    }
    assert.match(dockerfile, /^FROM node:20-slim\b/m);
    assert.match(dockerfile, /^RUN (npm ci|scripts\/npm-install\.sh)\b/m, 'installs from the lock');
    assert.match(dockerfile, /\btsc\b/);
    assert.match(dockerfile, /^ENTRYPOINT \["node", "dist\/src\/cli\/main\.js"\]$/m);
  });

  void test('only the gateway holds the Docker socket read-write; the worker has no socket at all', () => {
    const socketOf = (name: string) => mounts(name).filter((m) => m.source === DOCKER_SOCKET || m.target === DOCKER_SOCKET);

    const gateway = socketOf('gateway');
    assert.equal(gateway.length, 1, 'the gateway mounts the Docker socket');
    assert.equal(gateway[0]?.readOnly, false);

    assert.deepEqual(socketOf('worker'), [], 'the worker must never mount the Docker socket');
    assert.ok(!mounts('worker').some((m) => /docker\.sock/.test(m.source + m.target)), 'no docker.sock of any path on the worker');
    assert.ok(!env('worker').has('DOCKER_HOST') && !env('worker').has('DOCKER_SOCKET'), 'the worker is not pointed at a Docker engine');

    const watcher = socketOf('watcher');
    assert.equal(watcher.length, 1, 'the watcher reads Docker events from the socket');
    assert.equal(watcher[0]?.readOnly, true, 'the watcher mounts the socket read-only');

    for (const name of Object.keys(compose.services)) {
      if (name !== 'gateway' && name !== 'watcher') assert.deepEqual(socketOf(name), [], `${name} must not mount the Docker socket`);
    }
  });

  void test('the LLM API key reaches the gateway only', () => {
    assert.ok(env('gateway').has('OPENAI_API_KEY'));
    for (const name of Object.keys(compose.services)) {
      if (name !== 'gateway') assert.ok(!env(name).has('OPENAI_API_KEY'), `${name} must not see OPENAI_API_KEY`);
    }
  });

  void test('the Slack secrets reach the gateway only; the worker pages through it', () => {
    const SLACK_SECRETS = ['DOCKMEDIC_SLACK_SIGNING_SECRET', 'DOCKMEDIC_SLACK_BOT_TOKEN', 'DOCKMEDIC_SLACK_WEBHOOK_URL'];
    for (const key of SLACK_SECRETS) assert.ok(env('gateway').has(key), `the gateway reads ${key}`);
    for (const name of Object.keys(compose.services)) {
      if (name === 'gateway') continue;
      for (const key of SLACK_SECRETS) assert.ok(!env(name).has(key), `${name} must not see ${key}`);
    }
    assert.ok(env('worker').has('DOCKMEDIC_SLACK_VIA_GATEWAY'));
  });

  void test("the watcher's listener (intake, /healthz, /metrics) and the worker's /metrics are published on loopback, on the ports they listen on", () => {
    const listens = (name: string, hostKey: string, portKey: string) => {
      assert.equal(env(name).get(hostKey), '0.0.0.0', `${name} listens beyond its own loopback so the published port reaches it`);
      const port = env(name).get(portKey);
      assert.deepEqual(ports(name), [{ hostIp: '127.0.0.1', hostPort: port, containerPort: port }], name);
    };
    listens('watcher', 'DOCKMEDIC_INTAKE_HOST', 'DOCKMEDIC_INTAKE_PORT');
    listens('worker', 'DOCKMEDIC_METRICS_HOST', 'DOCKMEDIC_METRICS_PORT');
    const token = env('watcher').get('DOCKMEDIC_INTAKE_TOKEN_FILE') ?? '';
    const volume = mounts('watcher').find((m) => token.startsWith(`${m.target}/`));
    assert.ok(volume && compose.volumes && volume.source in compose.volumes, "the intake token lives in a named volume of the watcher's");
    assert.notEqual(volume.readOnly, true, 'the watcher makes the token on first start');
  });

  void test('worker and watcher reach Temporal at temporal:7233; the UI does too', () => {
    for (const name of ['worker', 'watcher', 'temporal-ui']) assert.equal(env(name).get('TEMPORAL_ADDRESS'), 'temporal:7233', name);
    const args = argv(service('temporal').command).join(' ');
    assert.match(args, /--port[= ]7233\b/);
    assert.match(args, /--ip[= ]0\.0\.0\.0\b/, 'the server listens beyond its own loopback so other services reach it');
  });

  void test('the worker calls the gateway over the compose network, on the port the gateway listens on', () => {
    const gw = env('gateway');
    assert.equal(gw.get('DOCKMEDIC_GATEWAY_HOST'), '0.0.0.0', 'inside compose the gateway listens on all interfaces');
    const url = env('worker').get('DOCKMEDIC_GATEWAY_URL');
    assert.equal(url, 'http://gateway:7801');
    const { host, port } = hostPort(url);
    assert.ok(compose.services[host], `DOCKMEDIC_GATEWAY_URL names service "${host}"`);
    assert.equal(gw.get('DOCKMEDIC_GATEWAY_PORT') ?? '7801', port);
  });

  void test('the gateway keeps its limits, nonces and idempotency records in the redis service', () => {
    const url = env('gateway').get('REDIS_URL');
    assert.equal(url, 'redis://redis:6379');
    assert.ok(compose.services[hostPort(url).host]);
    assert.equal(dependsOn('gateway').get('redis'), 'service_healthy');
    assert.ok(service('redis').healthcheck, 'redis has a health check to wait on');
  });

  void test('gateway and worker share the keys volume where the configuration looks for the key files', () => {
    const keysMount = (name: string) => {
      const state = env(name).get('DOCKMEDIC_STATE_DIR') ?? '/var/lib/dockmedic';
      return mounts(name).find((m) => m.target === `${state}/keys`);
    };
    const gw = keysMount('gateway');
    const worker = keysMount('worker');
    assert.ok(gw && worker, 'both mount a volume at $DOCKMEDIC_STATE_DIR/keys');
    assert.equal(gw.source, worker.source, 'the same volume');
    assert.ok(compose.volumes && gw.source in compose.volumes, `"${gw.source}" is a named volume`);
    assert.equal(worker.readOnly, true, 'the worker only reads its key');
  });

  void test('keys-init creates the keys with `dockmedic keys init` (the image entrypoint) into the volume gateway and worker read', () => {
    const init = service('keys-init') as { entrypoint?: unknown; command?: unknown };
    assert.equal(init.entrypoint, undefined, 'no entrypoint override: the image runs the dockmedic CLI');
    assert.deepEqual(init.command, ['keys', 'init']);
    const state = env('keys-init').get('DOCKMEDIC_STATE_DIR') ?? '/var/lib/dockmedic';
    const mount = mounts('keys-init').find((m) => m.target === `${state}/keys`);
    const gw = mounts('gateway').find((m) => m.target.endsWith('/keys'));
    assert.ok(mount && gw, 'keys-init mounts a volume at $DOCKMEDIC_STATE_DIR/keys');
    assert.equal(mount.source, gw.source, 'the volume the gateway reads');
    assert.notEqual(mount.readOnly, true);
  });

  void test('start order waits on health: worker after Temporal and the gateway, watcher after Temporal', () => {
    assert.equal(dependsOn('worker').get('temporal'), 'service_healthy');
    assert.ok(dependsOn('worker').has('gateway'));
    assert.equal(dependsOn('watcher').get('temporal'), 'service_healthy');
    for (const [name] of Object.entries(compose.services)) {
      for (const [dep, condition] of dependsOn(name)) {
        assert.ok(compose.services[dep], `${name} depends on unknown service ${dep}`);
        if (condition === 'service_healthy') assert.ok(service(dep).healthcheck, `${name} waits for ${dep} to be healthy, which has no health check`);
      }
    }
  });

  void test('every service of the stack is labelled dockmedic.stack=true, so it is never remediated', () => {
    for (const name of Object.keys(compose.services)) assert.equal(labels(name).get('dockmedic.stack'), 'true', name);
    assert.match(dockerfile, /^LABEL dockmedic\.stack="?true"?$/m, 'the image carries the label too');
  });

  void test('the Temporal UI is published on 127.0.0.1:8233; the gateway is not published at all', () => {
    const ui = ports('temporal-ui');
    assert.deepEqual(ui, [{ hostIp: '127.0.0.1', hostPort: '8233', containerPort: '8080' }]);
    assert.deepEqual(ports('gateway'), [], 'the gateway is reachable only inside the compose network');
    for (const name of Object.keys(compose.services)) {
      for (const p of ports(name)) assert.equal(p.hostIp, '127.0.0.1', `${name} publishes ${p.hostPort} beyond loopback`);
    }
  });

  void test("Temporal registers exactly the workflows' search attributes, as does scripts/stack.sh", () => {
    const registered = argv(service('temporal').command)
      .join(' ')
      .match(/--search-attribute[= ](\w+)=Keyword/g)
      ?.map((flag) => flag.replace(/^--search-attribute[= ]/, '').replace(/=Keyword$/, ''));
    assert.deepEqual([...(registered ?? [])].sort(), [...SEARCH_ATTRIBUTE_NAMES].sort());

    const stack = readFileSync(join(repoRoot, 'scripts/stack.sh'), 'utf8');
    const line = /^SEARCH_ATTRIBUTES=\(([^)]*)\)/m.exec(stack);
    assert.ok(line?.[1], 'scripts/stack.sh declares SEARCH_ATTRIBUTES=(...)');
    assert.deepEqual(line[1].trim().split(/\s+/).sort(), [...SEARCH_ATTRIBUTE_NAMES].sort());
  });
});
