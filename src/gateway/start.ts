import type { AddressInfo } from 'node:net';
import Docker from 'dockerode';
import type Redis from 'ioredis';
import type { Config, LlmUpstreamConfig, SlackGatewayConfig } from '../config';
import { ConfigError } from '../config';
import { Admission } from './admission';
import { loadOrCreateAuditKey } from './audit/audit-key';
import { AuditLog } from './audit/audit-log';
import type { AuditRecord } from './audit/record';
import { IdempotencyStore } from './idempotency';
import { Keyring } from './keyring';
import type { LlmProxy } from './llm-proxy';
import { createUpstreamLlmProxy } from './llm-upstream-proxy';
import type { PipelineDeps } from './pipeline';
import { RateLimiter } from './rate-limit';
import type { RequestTiming } from './server';
import { createGatewayServer } from './server';
import { createSlackRuntime } from './slack/slack-runtime';
import { connectStore, waitReady } from './store';
import { readAgentFile } from '../signing/key-files';
import { renderMetrics } from '../metrics/metrics-endpoint';
import type { ProcessMetrics } from '../metrics/process-metrics';

/** What can be supplied instead of built from config (tests, benchmarks, the `up` command). */
export interface GatewayDeps {
  docker?: Docker;
  /** Overrides `config.redisUrl`. */
  redisUrl?: string;
  /** How often the keys file is checked for changes; default 1000 ms. */
  keysReloadIntervalMs?: number;
  /** The LLM proxy (extension point); without it `/llm/...` answers `llm_not_configured`. */
  llmProxy?: LlmProxy;
  /**
   * The OpenAI-compatible upstream (`loadLlmUpstream()`: OPENAI_BASE_URL / OPENAI_API_KEY, read by
   * the gateway process only). With a base URL and no `llmProxy`, the gateway proxies to it.
   */
  llmUpstream?: LlmUpstreamConfig;
  /**
   * Slack buttons and pages (`loadSlackGateway()`: DOCKMEDIC_SLACK_*, read by the gateway process
   * only). Without it `/slack/interactivity` and `post_slack_page` answer slack_not_configured.
   */
  slack?: SlackGatewayConfig;
  /** Called with every audit record once answered (the CLI logs these to stderr). */
  onRecord?: (record: AuditRecord) => void;
  /** Internal hook: per-request timings (the overhead benchmark). */
  onTiming?: (timing: RequestTiming) => void;
  onError?: (err: unknown, requestId: string) => void;
  /** The process's metrics (docs/architecture.md §9): every answered request is counted there. */
  metrics?: ProcessMetrics;
  /** Serve them on `GET /metrics` of the gateway's port (default true; `up` serves its one endpoint on the listener). */
  serveMetrics?: boolean;
}

/** The timing hook, counting each request into the metrics too. */
function timingHook(deps: GatewayDeps): ((t: RequestTiming) => void) | undefined {
  const { metrics, onTiming } = deps;
  if (!metrics) return onTiming;
  return (t) => {
    metrics.gatewayRequest(t);
    onTiming?.(t);
  };
}

export interface RunningGateway {
  /** `http://host:port` actually bound (port 0 in config picks a free port). */
  url: string;
  port: number;
  auditFile: string;
  /** Whether Redis answered within the start-up wait (until it does, every call is refused with store_unavailable). */
  storeReadyAtStart: boolean;
  /** Re-read the keys file now (SIGHUP). */
  reloadKeys(): void;
  close(): Promise<void>;
}

/** The LLM proxy to the configured upstream, or none (policy mode: `/llm/...` answers `llm_not_configured`). */
function upstreamProxy(settings: Config['gateway'], upstream: LlmUpstreamConfig | undefined): LlmProxy | undefined {
  if (!upstream?.baseUrl) return undefined;
  try {
    return createUpstreamLlmProxy({ baseUrl: upstream.baseUrl, apiKey: upstream.apiKey, timeoutMs: settings.llmTimeoutSeconds * 1000 });
  } catch (err) {
    throw new ConfigError(`OPENAI_BASE_URL: ${(err as Error).message}`);
  }
}

/** The agents refused every mutating call: the configured ones, and in shadow mode this host's worker. */
function shadowAgentsOf(config: Config): string[] {
  if (config.mode !== 'shadow') return config.gateway.shadowAgents;
  return [...new Set([...config.gateway.shadowAgents, readAgentFile(config.agentKeyFile).agentId])];
}

/**
 * Start the gateway in this process: keys, audit chain, Redis, Docker, HTTP server.
 * Redis need not be up: requests fail closed (503) until it is, and succeed once it is back.
 */
export async function startGateway(config: Config, deps: GatewayDeps = {}): Promise<RunningGateway> {
  const settings = config.gateway;
  if (settings.nonceTtlSeconds < 2 * settings.clockSkewSeconds) {
    // A nonce forgotten while its timestamp is still acceptable could be replayed.
    throw new ConfigError(`DOCKMEDIC_NONCE_TTL_SECONDS (${settings.nonceTtlSeconds}) must be at least twice DOCKMEDIC_CLOCK_SKEW_SECONDS (${settings.clockSkewSeconds})`);
  }
  const keyring = new Keyring(settings.keysFile, deps.keysReloadIntervalMs ?? 1000, (err) => deps.onError?.(err, '-'));
  const audit = AuditLog.open(settings.auditFile, loadOrCreateAuditKey(settings.auditKeyFile).key);
  let redis: Redis | undefined;
  const slack = createSlackRuntime(config, deps.slack);
  try {
    redis = connectStore(deps.redisUrl ?? config.redisUrl);
    const docker = deps.docker ?? new Docker({ socketPath: config.dockerSocket });
    const idempotency = new IdempotencyStore(redis, settings.idempotencyTtlSeconds);
    idempotency.startHeartbeat();
    const pipeline: PipelineDeps = {
      settings: { ...settings, shadowAgents: shadowAgentsOf(config) },
      bounds: { memoryMaxFactor: config.policy.memoryMaxFactor, memoryCeilingBytes: config.policy.memoryCeilingBytes },
      keyring,
      store: redis,
      admission: new Admission(redis),
      limiter: new RateLimiter(redis),
      idempotency,
      docker,
      llmProxy: deps.llmProxy ?? upstreamProxy(settings, deps.llmUpstream),
      slack,
    };
    const store = redis;
    const server = createGatewayServer(pipeline, audit, {
      onRecord: deps.onRecord,
      onTiming: timingHook(deps),
      onError: deps.onError,
      ...(deps.metrics && deps.serveMetrics !== false ? { metrics: renderMetrics.bind(null, deps.metrics) } : {}),
      health: async () => {
        const dockerOk = await Promise.race([
          docker.ping().then(
            () => true,
            () => false,
          ),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000).unref()),
        ]);
        // Whether the LLM upstream is configured, never where or with what key.
        return {
          redis: store.status === 'ready',
          docker: dockerOk,
          llm: pipeline.llmProxy ? 'configured' : 'not_configured',
          // Which Slack parts are on (when any is), never with what.
          ...(slack ? { slack: { buttons: slack.signingSecret !== undefined, pages: slack.delivery?.via ?? 'not_configured' } } : {}),
        };
      },
    });
    const storeReadyAtStart = await waitReady(redis, 2000);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(settings.port, settings.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
    let closed = false;
    return {
      url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
      port,
      auditFile: settings.auditFile,
      storeReadyAtStart,
      reloadKeys: () => keyring.reload(),
      close: async () => {
        if (closed) return;
        closed = true;
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        idempotency.stopHeartbeat();
        store.disconnect();
        await slack?.close();
        audit.close();
      },
    };
  } catch (err) {
    redis?.disconnect();
    await slack?.close();
    audit.close();
    throw err;
  }
}
