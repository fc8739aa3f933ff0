import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { HostName, LABEL_PAIR_PATTERN } from '../contract/container';
import { AgentId } from '../signing/keys';
import { INCIDENT_LIMITS } from '../contract/incident-input';

/**
 * Numbers are given as decimal digits. `z.coerce.number()` would read a blank or whitespace
 * value as 0 and accept `0x10`, `1e3` or `Infinity`; these are errors naming the variable.
 * (An empty value counts as unset: src/config/load.ts drops it before parsing.)
 */
const DIGITS = /^[0-9]+$/;
const DECIMAL = /^[0-9]+(\.[0-9]+)?$/;
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(DIGITS, 'expected a whole number (digits only)')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(def);
const num = (def: number, min = 0) =>
  z
    .string()
    .regex(DECIMAL, 'expected a number (digits, optionally with a decimal point)')
    .transform(Number)
    .pipe(z.number().min(min))
    .default(def);
/** A TCP port; 0 lets the OS choose a free one (tests use it). */
const port = (def: number) =>
  z
    .string()
    .regex(DIGITS, 'expected a port number 0–65535 (digits only)')
    .transform(Number)
    .pipe(z.number().int().min(0).max(65_535, 'expected a port number 0–65535'))
    .default(def);
/** An optional TCP port: unset means the thing it opens is not opened. */
const optionalPort = z
  .string()
  .regex(DIGITS, 'expected a port number 0–65535 (digits only)')
  .transform(Number)
  .pipe(z.number().int().min(0).max(65_535, 'expected a port number 0–65535'))
  .optional();
/** `name:seconds,name:seconds` — who is paged at each escalation level and for how long. */
const ladder = (def: string) =>
  z
  .string()
  .default(def)
  .transform((s, ctx) => {
    const levels = s.split(',').map((part) => part.trim()).filter(Boolean).map((part) => {
      const [name, seconds] = part.split(':');
      const digits = (seconds ?? '').trim();
      return { name: (name ?? '').trim(), timeoutSeconds: DIGITS.test(digits) ? Number(digits) : Number.NaN };
    });
    if (levels.length === 0 || levels.some((l) => !/^[\w.@-]+$/.test(l.name) || l.name.length > INCIDENT_LIMITS.ladderLevelName.max || !Number.isInteger(l.timeoutSeconds) || l.timeoutSeconds < 1)) {
      ctx.addIssue({ code: 'custom', message: `expected name:seconds[,name:seconds…]: names of at most ${INCIDENT_LIMITS.ladderLevelName.max} characters, whole seconds ≥ 1` });
      return z.NEVER;
    }
    return levels;
  });

/** `key=value[,key=value…]`: label pairs (the watch selector; the labels put on drill containers). */
const labelPairs = z
  .string()
  .default('')
  .transform((s, ctx) => {
    const pairs = s.split(',').map((p) => p.trim()).filter(Boolean);
    if (pairs.some((p) => !LABEL_PAIR_PATTERN.test(p))) {
      ctx.addIssue({ code: 'custom', message: 'expected key=value[,key=value…] label pairs' });
      return z.NEVER;
    }
    return pairs;
  });

/**
 * Every setting dockmedic reads, by environment variable, with production defaults.
 * Parsed once at start-up (src/config/load.ts); the README lists the same variables.
 */
export const Config = z
  .object({
    DOCKMEDIC_STATE_DIR: z.string().min(1).default('/var/lib/dockmedic'),
    DOCKMEDIC_HOST: HostName.default(hostname().split('.')[0] ?? 'localhost'),

    TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().default('default'),
    TEMPORAL_UI_URL: z.string().url().max(INCIDENT_LIMITS.uiUrlChars).default('http://127.0.0.1:8233'),
    DOCKMEDIC_TASK_QUEUE: z.string().min(1).default('dockmedic'),

    REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
    DOCKER_SOCKET: z.string().default('/var/run/docker.sock'),

    DOCKMEDIC_GATEWAY_HOST: z.string().default('127.0.0.1'),
    DOCKMEDIC_GATEWAY_PORT: port(7801),
    DOCKMEDIC_GATEWAY_URL: z.string().url().optional(),
    DOCKMEDIC_INTAKE_HOST: z.string().default('127.0.0.1'),
    DOCKMEDIC_INTAKE_PORT: port(7802),
    DOCKMEDIC_METRICS_HOST: z.string().default('127.0.0.1'),
    DOCKMEDIC_METRICS_PORT: optionalPort,
    DOCKMEDIC_INTAKE_TOKEN_FILE: z.string().min(1).optional(),
    DOCKMEDIC_INTAKE_CONTAINER_LABEL: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'expected a Prometheus label name').default('container'),
    DOCKMEDIC_INTAKE_MAX_BODY_BYTES: int(256 * 1024, 1024),
    DOCKMEDIC_HEARTBEAT_URL: z.string().url().optional(),
    DOCKMEDIC_HEARTBEAT_INTERVAL_SECONDS: int(60, 1),
    DOCKMEDIC_HEARTBEAT_POLLER_MAX_AGE_SECONDS: int(75, 1),
    DOCKMEDIC_GATEWAY_KEYS_FILE: z.string().optional(),
    DOCKMEDIC_AGENT_KEY_FILE: z.string().optional(),
    DOCKMEDIC_AUDIT_FILE: z.string().optional(),
    DOCKMEDIC_AUDIT_KEY_FILE: z.string().optional(),
    DOCKMEDIC_MAX_BODY_BYTES: int(64 * 1024, 256),
    DOCKMEDIC_CLOCK_SKEW_SECONDS: int(300, 1),
    DOCKMEDIC_NONCE_TTL_SECONDS: int(600, 1),
    DOCKMEDIC_IDEMPOTENCY_TTL_SECONDS: int(86_400, 60),
    DOCKMEDIC_LOG_TAIL_MAX: int(500, 1),
    DOCKMEDIC_LOG_BYTES_MAX: int(16 * 1024, 256),

    DOCKMEDIC_RL_AGENT_CALLS: int(600, 1),
    DOCKMEDIC_RL_AGENT_WINDOW_SECONDS: int(60, 1),
    DOCKMEDIC_RL_AGENT_MUTATING: int(30, 1),
    DOCKMEDIC_RL_AGENT_MUTATING_WINDOW_SECONDS: int(600, 1),
    DOCKMEDIC_RL_CONTAINER_MUTATING: int(3, 1),
    DOCKMEDIC_RL_CONTAINER_WINDOW_SECONDS: int(600, 1),
    DOCKMEDIC_RL_LLM_REQUESTS: int(60, 1),
    DOCKMEDIC_RL_LLM_TOKENS: int(200_000, 1),
    DOCKMEDIC_RL_LLM_WINDOW_SECONDS: int(3600, 1),

    DOCKMEDIC_MEMORY_FACTOR: num(2, 1),
    DOCKMEDIC_MEMORY_MAX_FACTOR: num(2, 1),
    DOCKMEDIC_MEMORY_CEILING_BYTES: int(8 * 1024 ** 3, 1),
    DOCKMEDIC_OOM_RECURRENCE_COUNT: int(3, 1),
    DOCKMEDIC_OOM_RECURRENCE_WINDOW_SECONDS: int(7 * 86_400, 1),
    DOCKMEDIC_CRASHLOOP_DEATHS: int(3, 2),
    DOCKMEDIC_CRASHLOOP_WINDOW_SECONDS: int(300, 1),
    DOCKMEDIC_STABILIZATION_SECONDS: int(120, 1),
    DOCKMEDIC_LADDER: ladder('oncall-primary:300,oncall-secondary:600,engineering-manager:900'),
    DOCKMEDIC_RESOLVE_TIMEOUT_SECONDS: int(4 * 3600, 1),
    DOCKMEDIC_REPAGE_QUIET_SECONDS: int(3600, 0),
    DOCKMEDIC_STORM_COUNT: int(5, 0).refine((n) => n === 0 || n >= 2, 'expected 0 (off) or at least 2'),
    DOCKMEDIC_STORM_WINDOW_SECONDS: int(30, 1),
    DOCKMEDIC_WEBHOOK_URL: z.string().url().optional(),
    /** The worker hands each page to the gateway's post_slack_page tool (the gateway holds the Slack credentials). */
    DOCKMEDIC_SLACK_VIA_GATEWAY: z.enum(['true', 'false']).default('false'),
    DOCKMEDIC_MODE: z.enum(['act', 'shadow']).default('act'),
    DOCKMEDIC_SHADOW_AGENTS: z.string().default(''),
    DOCKMEDIC_WATCH_SELECTOR: labelPairs.refine((pairs) => pairs.length <= 16, 'at most 16 key=value label pairs'),

    DOCKMEDIC_DRILL_IMAGE: z.string().min(1).max(256).default('dockmedic/scenario:1'),
    DOCKMEDIC_DRILL_LABELS: labelPairs,
    DOCKMEDIC_RL_DRILL_MUTATING: int(200, 1),
    DOCKMEDIC_RL_DRILL_MUTATING_WINDOW_SECONDS: int(600, 1),
    DOCKMEDIC_DRILL_STABILIZATION_SECONDS: int(5, 1),
    DOCKMEDIC_DRILL_LADDER: ladder('drill:20'),
    DOCKMEDIC_DRILL_WEBHOOK_URL: z.string().url().optional(),

    DOCKMEDIC_MODEL: z.string().min(1).optional(),
    DOCKMEDIC_LLM_MAX_TURNS: int(3, INCIDENT_LIMITS.llmMaxTurns.min, INCIDENT_LIMITS.llmMaxTurns.max),
    DOCKMEDIC_LLM_MAX_TOKENS: int(16_000, 100),
    DOCKMEDIC_LLM_TIMEOUT_SECONDS: int(30, INCIDENT_LIMITS.llmTimeoutSeconds.min, INCIDENT_LIMITS.llmTimeoutSeconds.max),
    DOCKMEDIC_LLM_MAX_BODY_BYTES: int(512 * 1024, 1024),

    DOCKMEDIC_MCP_ALLOW_MUTATING: z.enum(['true', 'false'], 'expected true or false').default('false'),
    DOCKMEDIC_MCP_AGENT_ID: AgentId.default('mcp'),
    DOCKMEDIC_MCP_AGENT_KEY_FILE: z.string().optional(),
    DOCKMEDIC_MCP_TOKEN_FILE: z.string().optional(),
    DOCKMEDIC_MCP_HOST: z.string().min(1).default('127.0.0.1'),
    DOCKMEDIC_MCP_PORT: port(7803),
  })
  .transform((env) => {
    const state = env.DOCKMEDIC_STATE_DIR;
    return {
      stateDir: state,
      host: env.DOCKMEDIC_HOST,
      temporal: {
        address: env.TEMPORAL_ADDRESS,
        namespace: env.TEMPORAL_NAMESPACE,
        uiUrl: env.TEMPORAL_UI_URL,
        taskQueue: env.DOCKMEDIC_TASK_QUEUE,
      },
      redisUrl: env.REDIS_URL,
      /** The worker/watcher side's listener (src/runtime/service-listener.ts): intake, /healthz, /metrics. */
      listener: { host: env.DOCKMEDIC_INTAKE_HOST, port: env.DOCKMEDIC_INTAKE_PORT },
      /**
       * `dockmedic worker` alone has no listener: with a port, it opens one for `/metrics` only
       * (docs/architecture.md §9). `up` and `watcher` serve /metrics on the listener above.
       */
      workerMetrics: env.DOCKMEDIC_METRICS_PORT === undefined ? null : { host: env.DOCKMEDIC_METRICS_HOST, port: env.DOCKMEDIC_METRICS_PORT },
      /** `POST /alertmanager` on that listener (docs/architecture.md §1): bearer token file, the label naming the container, body limit. */
      intake: {
        tokenFile: env.DOCKMEDIC_INTAKE_TOKEN_FILE ?? join(state, 'keys', 'intake-token'),
        containerLabel: env.DOCKMEDIC_INTAKE_CONTAINER_LABEL,
        maxBodyBytes: env.DOCKMEDIC_INTAKE_MAX_BODY_BYTES,
      },
      /**
       * The healer watching itself: `/healthz` and the heartbeat ping. A worker "answers" when it
       * polled the task queue within pollerMaxAgeSeconds (an idle long poll lasts about a minute).
       */
      heartbeat: {
        url: env.DOCKMEDIC_HEARTBEAT_URL,
        intervalSeconds: env.DOCKMEDIC_HEARTBEAT_INTERVAL_SECONDS,
        pollerMaxAgeSeconds: env.DOCKMEDIC_HEARTBEAT_POLLER_MAX_AGE_SECONDS,
      },
      dockerSocket: env.DOCKER_SOCKET,
      gateway: {
        host: env.DOCKMEDIC_GATEWAY_HOST,
        port: env.DOCKMEDIC_GATEWAY_PORT,
        url: env.DOCKMEDIC_GATEWAY_URL ?? `http://127.0.0.1:${env.DOCKMEDIC_GATEWAY_PORT}`,
        keysFile: env.DOCKMEDIC_GATEWAY_KEYS_FILE ?? join(state, 'keys', 'gateway-keys.json'),
        auditFile: env.DOCKMEDIC_AUDIT_FILE ?? join(state, 'audit', 'gateway.jsonl'),
        /** The audit chain's HMAC key (src/gateway/audit/audit-key.ts), made by the gateway on first start. */
        auditKeyFile: env.DOCKMEDIC_AUDIT_KEY_FILE ?? join(state, 'keys', 'audit-key'),
        maxBodyBytes: env.DOCKMEDIC_MAX_BODY_BYTES,
        /** Body limit of `POST /llm/v1/chat/completions` (prompts quote logs over several turns). */
        llmMaxBodyBytes: env.DOCKMEDIC_LLM_MAX_BODY_BYTES,
        /** Per upstream LLM call, at the gateway. */
        llmTimeoutSeconds: env.DOCKMEDIC_LLM_TIMEOUT_SECONDS,
        clockSkewSeconds: env.DOCKMEDIC_CLOCK_SKEW_SECONDS,
        nonceTtlSeconds: env.DOCKMEDIC_NONCE_TTL_SECONDS,
        idempotencyTtlSeconds: env.DOCKMEDIC_IDEMPOTENCY_TTL_SECONDS,
        logTailMax: env.DOCKMEDIC_LOG_TAIL_MAX,
        /**
         * Agents whose mutating calls this gateway refuses (shadow mode's second lock,
         * docs/architecture.md §4); with DOCKMEDIC_MODE=shadow the gateway adds the worker's own.
         */
        shadowAgents: env.DOCKMEDIC_SHADOW_AGENTS.split(',').map((s) => s.trim()).filter(Boolean),
        logBytesMax: env.DOCKMEDIC_LOG_BYTES_MAX,
        limits: {
          agentCalls: { limit: env.DOCKMEDIC_RL_AGENT_CALLS, windowSeconds: env.DOCKMEDIC_RL_AGENT_WINDOW_SECONDS },
          agentMutating: { limit: env.DOCKMEDIC_RL_AGENT_MUTATING, windowSeconds: env.DOCKMEDIC_RL_AGENT_MUTATING_WINDOW_SECONDS },
          containerMutating: { limit: env.DOCKMEDIC_RL_CONTAINER_MUTATING, windowSeconds: env.DOCKMEDIC_RL_CONTAINER_WINDOW_SECONDS },
          llmRequests: { limit: env.DOCKMEDIC_RL_LLM_REQUESTS, windowSeconds: env.DOCKMEDIC_RL_LLM_WINDOW_SECONDS },
          llmTokens: { limit: env.DOCKMEDIC_RL_LLM_TOKENS, windowSeconds: env.DOCKMEDIC_RL_LLM_WINDOW_SECONDS },
          drillMutating: { limit: env.DOCKMEDIC_RL_DRILL_MUTATING, windowSeconds: env.DOCKMEDIC_RL_DRILL_MUTATING_WINDOW_SECONDS },
        },
        drill: {
          /** The drill containers this gateway makes and may remove carry this host in dockmedic.drill.host. */
          host: env.DOCKMEDIC_HOST,
          image: env.DOCKMEDIC_DRILL_IMAGE,
          /** Extra labels on every drill container (tests tie them to their run; users to their own tooling). */
          labels: Object.fromEntries(env.DOCKMEDIC_DRILL_LABELS.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)])),
        },
      },
      agentKeyFile: env.DOCKMEDIC_AGENT_KEY_FILE ?? join(state, 'keys', 'agent.json'),
      policy: {
        memoryFactor: env.DOCKMEDIC_MEMORY_FACTOR,
        memoryMaxFactor: env.DOCKMEDIC_MEMORY_MAX_FACTOR,
        memoryCeilingBytes: env.DOCKMEDIC_MEMORY_CEILING_BYTES,
        oomRecurrenceCount: env.DOCKMEDIC_OOM_RECURRENCE_COUNT,
        oomRecurrenceWindowSeconds: env.DOCKMEDIC_OOM_RECURRENCE_WINDOW_SECONDS,
        crashLoopDeaths: env.DOCKMEDIC_CRASHLOOP_DEATHS,
        crashLoopWindowSeconds: env.DOCKMEDIC_CRASHLOOP_WINDOW_SECONDS,
        stabilizationSeconds: env.DOCKMEDIC_STABILIZATION_SECONDS,
      },
      /** shadow: decide and record, never act (docs/architecture.md §3). */
      mode: env.DOCKMEDIC_MODE,
      watch: { selector: env.DOCKMEDIC_WATCH_SELECTOR },
      escalation: {
        ladder: env.DOCKMEDIC_LADDER,
        resolveTimeoutSeconds: env.DOCKMEDIC_RESOLVE_TIMEOUT_SECONDS,
        repageQuietSeconds: env.DOCKMEDIC_REPAGE_QUIET_SECONDS,
        /** One page per storm (docs/architecture.md §3): this many incidents on the host within the window; 0 turns it off. */
        storm: { count: env.DOCKMEDIC_STORM_COUNT, windowSeconds: env.DOCKMEDIC_STORM_WINDOW_SECONDS },
        webhookUrl: env.DOCKMEDIC_WEBHOOK_URL,
        slackViaGateway: env.DOCKMEDIC_SLACK_VIA_GATEWAY === 'true',
      },
      /** Drill incidents (docs/architecture.md §6): a short window and ladder, and never the real pager. */
      drill: {
        stabilizationSeconds: env.DOCKMEDIC_DRILL_STABILIZATION_SECONDS,
        ladder: env.DOCKMEDIC_DRILL_LADDER,
        webhookUrl: env.DOCKMEDIC_DRILL_WEBHOOK_URL,
      },
      /** `dockmedic mcp` (docs/architecture.md §4): its own gateway agent, and the HTTP transport's address and bearer token. */
      mcp: {
        allowMutating: env.DOCKMEDIC_MCP_ALLOW_MUTATING === 'true',
        agentId: env.DOCKMEDIC_MCP_AGENT_ID,
        agentKeyFile: env.DOCKMEDIC_MCP_AGENT_KEY_FILE ?? join(state, 'keys', 'mcp-agent.json'),
        tokenFile: env.DOCKMEDIC_MCP_TOKEN_FILE ?? join(state, 'keys', 'mcp-token'),
        host: env.DOCKMEDIC_MCP_HOST,
        port: env.DOCKMEDIC_MCP_PORT,
      },
      llm: {
        model: env.DOCKMEDIC_MODEL,
        maxTurns: env.DOCKMEDIC_LLM_MAX_TURNS,
        maxTokens: env.DOCKMEDIC_LLM_MAX_TOKENS,
        timeoutSeconds: env.DOCKMEDIC_LLM_TIMEOUT_SECONDS,
      },
    };
  });
export type Config = z.output<typeof Config>;

/**
 * The LLM upstream is read by the gateway only: the worker never sees the API key.
 * `OPENAI_BASE_URL` / `OPENAI_API_KEY` are the ecosystem's usual names.
 */
export const LlmUpstreamConfig = z
  .object({
    OPENAI_BASE_URL: z.string().url().optional(),
    OPENAI_API_KEY: z.string().min(1).optional(),
  })
  .transform((env) => ({ baseUrl: env.OPENAI_BASE_URL, apiKey: env.OPENAI_API_KEY }));
export type LlmUpstreamConfig = z.output<typeof LlmUpstreamConfig>;

/** Slack's credentials never start with a space or hold one; the value is never echoed in an error. */
const slackSecret = z.string().regex(/^\S{8,512}$/, 'expected 8–512 characters without spaces');

/**
 * Slack buttons (docs/architecture.md §3): read by the gateway only, like the LLM upstream. The
 * signing secret verifies clicks at `POST /slack/interactivity` and puts buttons on pages; the bot
 * token (chat.postMessage into DOCKMEDIC_SLACK_CHANNEL) or the app's incoming webhook is how the
 * gateway posts the pages the worker hands it (DOCKMEDIC_SLACK_VIA_GATEWAY).
 */
export const SlackGatewayConfig = z
  .object({
    DOCKMEDIC_SLACK_SIGNING_SECRET: slackSecret.optional(),
    DOCKMEDIC_SLACK_BOT_TOKEN: slackSecret.optional(),
    DOCKMEDIC_SLACK_CHANNEL: z
      .string()
      .regex(/^[#A-Za-z0-9._-]{1,80}$/, 'expected a channel id (C0123…) or #name')
      .optional(),
    DOCKMEDIC_SLACK_WEBHOOK_URL: z.string().url().optional(),
    /** Where chat.postMessage is; tests point it at a local stand-in. */
    DOCKMEDIC_SLACK_API_URL: z.string().url().default('https://slack.com/api'),
  })
  .superRefine((env, ctx) => {
    if (env.DOCKMEDIC_SLACK_BOT_TOKEN && !env.DOCKMEDIC_SLACK_CHANNEL) ctx.addIssue({ code: 'custom', path: ['DOCKMEDIC_SLACK_CHANNEL'], message: 'required with DOCKMEDIC_SLACK_BOT_TOKEN' });
    if (env.DOCKMEDIC_SLACK_CHANNEL && !env.DOCKMEDIC_SLACK_BOT_TOKEN) ctx.addIssue({ code: 'custom', path: ['DOCKMEDIC_SLACK_BOT_TOKEN'], message: 'required with DOCKMEDIC_SLACK_CHANNEL' });
    if (env.DOCKMEDIC_SLACK_BOT_TOKEN && env.DOCKMEDIC_SLACK_WEBHOOK_URL) ctx.addIssue({ code: 'custom', path: ['DOCKMEDIC_SLACK_WEBHOOK_URL'], message: 'set either DOCKMEDIC_SLACK_BOT_TOKEN or DOCKMEDIC_SLACK_WEBHOOK_URL, not both' });
  })
  .transform((env) => ({
    signingSecret: env.DOCKMEDIC_SLACK_SIGNING_SECRET,
    delivery: env.DOCKMEDIC_SLACK_BOT_TOKEN
      ? ({ via: 'bot', token: env.DOCKMEDIC_SLACK_BOT_TOKEN, channel: env.DOCKMEDIC_SLACK_CHANNEL!, apiUrl: env.DOCKMEDIC_SLACK_API_URL } as const)
      : env.DOCKMEDIC_SLACK_WEBHOOK_URL
        ? ({ via: 'webhook', url: env.DOCKMEDIC_SLACK_WEBHOOK_URL } as const)
        : undefined,
  }));
export type SlackGatewayConfig = z.output<typeof SlackGatewayConfig>;
