import { statSync } from 'node:fs';
import type { Command } from 'commander';
import Docker from 'dockerode';
import Redis from 'ioredis';
import type { Config } from '../../config';
import { loadConfig } from '../../config';
import { connectTemporal } from '../../runtime/temporal';
import { readAgentFile, readGatewayKeysFile } from '../../signing';
import { GatewayClient, GatewayRefusal } from '../../gateway-client';
import { printJson } from '../table';
import { SEARCH_ATTRIBUTE_NAMES } from '../../contract/search-attributes';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

type Probe = (config: Config) => Promise<Omit<Check, 'name'>>;

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms).unref())]);

function privateFile(path: string): string | null {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    return `${path} does not exist`;
  }
  return mode & 0o077 ? `${path} is readable by others (mode ${mode.toString(8)}); chmod 600 it` : null;
}

const PROBES: Record<string, Probe> = {
  docker: async (config) => {
    try {
      const docker = new Docker({ socketPath: config.dockerSocket });
      const v = await withTimeout(docker.version(), 3000, 'docker');
      return { ok: true, detail: `engine ${v.Version} at ${config.dockerSocket}` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message, fix: 'run `make setup` (installs docker.io and starts dockerd), or set DOCKER_SOCKET' };
    }
  },
  redis: async (config) => {
    const where = config.redisUrl.replace(/\/\/[^@]*@/, '//***@');
    const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 2000, retryStrategy: () => null });
    // The first connection error says why (ECONNREFUSED…); the rejection itself only says "Connection is closed".
    let cause: string | null = null;
    redis.on('error', (err: Error) => (cause ??= err.message));
    try {
      await withTimeout(redis.connect(), 3000, 'redis');
      const pong = await redis.ping();
      return { ok: pong === 'PONG', detail: `${where} answered ${pong}` };
    } catch (err) {
      return { ok: false, detail: `${where}: ${cause ?? (err as Error).message}`, fix: 'run `make setup` (starts redis-server on 127.0.0.1:6379), or set REDIS_URL' };
    } finally {
      redis.disconnect();
    }
  },
  temporal: async (config) => {
    try {
      const client = await withTimeout(connectTemporal(config, { connectTimeoutMs: 3000 }), 4000, 'temporal');
      try {
        const res = await client.connection.operatorService.listSearchAttributes({ namespace: config.temporal.namespace });
        const have = new Set(Object.keys(res.customAttributes ?? {}));
        const missing = SEARCH_ATTRIBUTE_NAMES.filter((n) => !have.has(n));
        if (missing.length) {
          return { ok: false, detail: `namespace ${config.temporal.namespace} lacks search attributes ${missing.join(', ')}`, fix: `temporal operator search-attribute create ${missing.map((m) => `--name ${m} --type Keyword`).join(' ')}` };
        }
        return { ok: true, detail: `${config.temporal.address} namespace ${config.temporal.namespace}, search attributes registered` };
      } finally {
        await client.connection.close();
      }
    } catch (err) {
      return { ok: false, detail: (err as Error).message, fix: 'run `make setup` (starts the Temporal dev server), or set TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE' };
    }
  },
  keys: async (config) => {
    const problems = [privateFile(config.agentKeyFile), privateFile(config.gateway.keysFile)].filter((p): p is string => p !== null);
    if (problems.length) return { ok: false, detail: problems.join('; '), fix: 'run `make setup` to create keys, or set DOCKMEDIC_AGENT_KEY_FILE / DOCKMEDIC_GATEWAY_KEYS_FILE' };
    try {
      const agent = readAgentFile(config.agentKeyFile);
      const keys = readGatewayKeysFile(config.gateway.keysFile);
      const key = keys.agents[agent.agentId]?.find((k) => k.keyId === agent.keyId);
      if (!key) return { ok: false, detail: `the gateway does not know key ${agent.keyId} of agent ${agent.agentId}`, fix: '`dockmedic keys list` and rotate or restore the agent key' };
      if (key.status !== 'live') return { ok: false, detail: `agent key ${agent.keyId} is retired`, fix: '`dockmedic keys rotate` to issue a live key' };
      return { ok: true, detail: `agent ${agent.agentId} signs with live key ${agent.keyId}` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message, fix: 'restore the key files or remove them and run `make setup`' };
    }
  },
  gateway: async (config) => {
    try {
      const client = new GatewayClient({ baseUrl: config.gateway.url, credentials: readAgentFile(config.agentKeyFile), timeoutMs: 3000 });
      // A signed call for a container that cannot exist proves signature, replay store and limits work.
      await client.call('inspect_container', { container: 'dockmedic-doctor-probe-does-not-exist' });
      return { ok: true, detail: `${config.gateway.url} accepted a signed call` };
    } catch (err) {
      if (err instanceof GatewayRefusal && err.code === 'container_not_found') return { ok: true, detail: `${config.gateway.url} verified a signed call` };
      return { ok: false, detail: (err as Error).message, fix: 'start it with `dockmedic gateway` (or `dockmedic up`), check DOCKMEDIC_GATEWAY_URL and the keys' };
    }
  },
  advisor: async (config) => {
    // The gateway alone knows the upstream (OPENAI_BASE_URL / OPENAI_API_KEY); it says whether it has one, never which.
    let upstream: 'configured' | 'not_configured' | 'unknown' = 'unknown';
    try {
      const res = await withTimeout(fetch(`${config.gateway.url.replace(/\/+$/, '')}/healthz`, { signal: AbortSignal.timeout(3000) }), 3500, 'gateway');
      const llm = ((await res.json()) as { llm?: unknown }).llm;
      if (llm === 'configured' || llm === 'not_configured') upstream = llm;
    } catch {
      /* the gateway check reports an unreachable gateway */
    }
    if (!config.llm.model) {
      const also = upstream === 'configured' ? ' (the gateway has an LLM upstream, but no model is named for the worker)' : '';
      return { ok: true, detail: `policy mode: DOCKMEDIC_MODEL is not set, the policy alone decides${also}` };
    }
    const mode = `advisor mode: model ${config.llm.model} through the gateway's LLM proxy (max ${config.llm.maxTurns} turns, ${config.llm.maxTokens} tokens, ${config.llm.timeoutSeconds} s per call); the policy still decides`;
    if (upstream === 'not_configured') {
      return {
        ok: false,
        detail: `DOCKMEDIC_MODEL is ${config.llm.model}, but the gateway at ${config.gateway.url} has no LLM upstream (OPENAI_BASE_URL is not set for it): every diagnosis fails and the policy decides alone`,
        fix: 'set OPENAI_BASE_URL (and OPENAI_API_KEY if the endpoint needs one) in the gateway\'s environment and restart it, or unset DOCKMEDIC_MODEL for policy mode',
      };
    }
    if (upstream === 'unknown') return { ok: false, detail: `${mode}; the gateway did not say whether it has an LLM upstream`, fix: 'start the gateway (see the gateway check) and run doctor again' };
    return { ok: true, detail: `${mode}; the gateway has an LLM upstream` };
  },
};

export async function runDoctor(config: Config): Promise<Check[]> {
  const checks: Check[] = [];
  for (const [name, probe] of Object.entries(PROBES)) checks.push({ name, ...(await probe(config)) });
  return checks;
}

/** `dockmedic doctor`: is everything ready? Exit 0 only when it is. */
export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('Check Docker, Redis, Temporal, keys, the gateway and config; say what is wrong and how to fix it')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      let checks: Check[];
      try {
        checks = await runDoctor(loadConfig());
      } catch (err) {
        checks = [{ name: 'config', ok: false, detail: (err as Error).message, fix: 'correct the variable named above (see README: Configuration)' }];
      }
      const ready = checks.every((c) => c.ok);
      if (opts.json) printJson({ ready, checks });
      else {
        for (const c of checks) {
          process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(8)} ${c.detail}\n`);
          if (!c.ok && c.fix) process.stdout.write(`      ${''.padEnd(8)} fix: ${c.fix}\n`);
        }
        process.stdout.write(ready ? 'ready\n' : 'not ready\n');
      }
      process.exitCode = ready ? 0 : 1;
    });
}
