import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../../src/config';
import { loadConfig } from '../../../src/config';
import type { AuditRecord, GatewayDeps, RunningGateway } from '../../../src/gateway';
import { startGateway } from '../../../src/gateway';
import { writePrivateJson } from '../../../src/gateway/key-files';
import { GatewayClient } from '../../../src/gateway-client';
import type { AgentCredentials, GatewayKeys } from '../../../src/signing';
import { generateSecret } from '../../../src/signing';
import { requireDocker, SuiteContainers } from './containers';
import { PrivateRedis } from './redis-server';

export interface FixtureOptions {
  suite: string;
  /** Agents and how many live keys each gets (default: one agent `worker` with one key). */
  agents?: Record<string, number>;
  /** Extra environment for loadConfig (limits, ceiling…), as the real process would get it. */
  env?: Record<string, string>;
  deps?: GatewayDeps;
}

/**
 * One test file's world: a private redis-server, a temp dir with a keys file and an audit
 * file, the gateway running in-process on a free port, and a signing client per key.
 * Requires the real Docker engine and redis-server and fails (never skips) without them.
 */
export class GatewayFixture {
  gateway!: RunningGateway;
  config!: Config;
  readonly dir: string;
  readonly keysFile: string;
  readonly auditFile: string;
  readonly agentFile: string;
  readonly credentials: AgentCredentials[] = [];
  readonly containers: SuiteContainers;
  redis!: PrivateRedis;

  private constructor(readonly opts: FixtureOptions) {
    this.dir = mkdtempSync(join(tmpdir(), `dmgw-${opts.suite}-`));
    this.keysFile = join(this.dir, 'keys', 'gateway-keys.json');
    this.auditFile = join(this.dir, 'audit', 'gateway.jsonl');
    this.agentFile = join(this.dir, 'keys', 'agent.json');
    this.containers = new SuiteContainers(opts.suite);
  }

  static async start(opts: FixtureOptions): Promise<GatewayFixture> {
    const f = new GatewayFixture(opts);
    await requireDocker();
    await f.containers.cleanup();
    f.redis = await PrivateRedis.start(opts.suite);
    const keys: GatewayKeys = { agents: {} };
    for (const [agentId, n] of Object.entries(opts.agents ?? { worker: 1 })) {
      keys.agents[agentId] = [];
      for (let i = 1; i <= n; i++) {
        const cred = { agentId, keyId: `${agentId}-k${i}`, secret: generateSecret() };
        f.credentials.push(cred);
        keys.agents[agentId].push({ keyId: cred.keyId, secret: cred.secret, status: 'live' });
      }
    }
    writePrivateJson(f.keysFile, keys);
    writePrivateJson(f.agentFile, f.credentials[0]);
    f.config = loadConfig({
      DOCKMEDIC_STATE_DIR: f.dir,
      DOCKMEDIC_GATEWAY_HOST: '127.0.0.1',
      DOCKMEDIC_GATEWAY_PORT: '0',
      DOCKMEDIC_GATEWAY_KEYS_FILE: f.keysFile,
      DOCKMEDIC_AGENT_KEY_FILE: f.agentFile,
      DOCKMEDIC_AUDIT_FILE: f.auditFile,
      REDIS_URL: f.redis.url,
      ...(process.env.DOCKER_SOCKET ? { DOCKER_SOCKET: process.env.DOCKER_SOCKET } : {}),
      ...opts.env,
    });
    await f.restartGateway();
    return f;
  }

  /** (Re)start the in-process gateway on the same files and wait until it reaches Redis (the gateway itself serves at once and fails closed until then). */
  async restartGateway(): Promise<void> {
    await this.gateway?.close();
    this.gateway = await startGateway(this.config, { keysReloadIntervalMs: 0, ...this.opts.deps });
    await this.waitForStore();
  }

  async waitForStore(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const health = (await (await fetch(`${this.url}/healthz`)).json()) as { redis?: boolean };
      if (health.redis) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the gateway did not reach its Redis at ${this.redis.url} within ${timeoutMs} ms`);
  }

  get url(): string {
    return this.gateway.url;
  }

  cred(keyId?: string): AgentCredentials {
    const c = keyId ? this.credentials.find((k) => k.keyId === keyId) : this.credentials[0];
    if (!c) throw new Error(`no test key ${keyId}`);
    return c;
  }

  client(keyId?: string): GatewayClient {
    return new GatewayClient({ baseUrl: this.url, credentials: this.cred(keyId), timeoutMs: 60_000 });
  }

  /** Every audit record so far. */
  audit(): AuditRecord[] {
    return readFileSync(this.auditFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditRecord);
  }

  auditFor(requestId: string): AuditRecord | undefined {
    return this.audit().find((r) => r.requestId === requestId);
  }

  async close(): Promise<void> {
    await this.gateway?.close();
    await this.redis?.stop();
    await this.containers.cleanup();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
