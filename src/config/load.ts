import type { z } from 'zod';
import { Config, LlmUpstreamConfig, SlackGatewayConfig } from './schema';

/** A configuration value that cannot be used; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  // Empty strings count as unset, the way shells and compose files pass "VAR=".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** Parse dockmedic's configuration from the environment, once, at start-up. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return parseEnv(Config, env);
}

/** Only the gateway calls this: the LLM API key stays in its process. */
export function loadLlmUpstream(env: NodeJS.ProcessEnv = process.env): LlmUpstreamConfig {
  return parseEnv(LlmUpstreamConfig, env);
}

/** Only the gateway calls this: the Slack signing secret and bot token stay in its process. */
export function loadSlackGateway(env: NodeJS.ProcessEnv = process.env): SlackGatewayConfig {
  return parseEnv(SlackGatewayConfig, env);
}
