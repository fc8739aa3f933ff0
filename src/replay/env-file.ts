import { readFileSync } from 'node:fs';
import type { Config } from '../config';
import { Config as ConfigSchema, ConfigError, loadConfig } from '../config';

/** An env file that cannot be used: unreadable, a malformed line, an unknown setting or a bad value (named). */
export class EnvFileError extends Error {
  override name = 'EnvFileError';
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Every variable the config schema reads: a DOCKMEDIC_ name outside it is a typo that would silently change nothing. */
const KNOWN = new Set(Object.keys(ConfigSchema.in.shape));

/**
 * `KEY=VALUE` lines, the way compose and systemd env files write them: blank lines and `#`
 * comments are skipped, an `export ` prefix is allowed, and a value in matching single or
 * double quotes is taken as written inside them. Anything else on a line is an error naming it.
 */
export function parseEnvFile(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const body = line.startsWith('export ') ? line.slice('export '.length).trimStart() : line;
    const eq = body.indexOf('=');
    const key = eq > 0 ? body.slice(0, eq).trim() : '';
    if (!KEY.test(key)) throw new EnvFileError(`${file}:${i + 1}: expected KEY=VALUE, got ${JSON.stringify(raw.slice(0, 80))}`);
    if (key.startsWith('DOCKMEDIC_') && !KNOWN.has(key)) throw new EnvFileError(`${file}:${i + 1}: ${key} is not a dockmedic setting (see README.md, Configuration)`);
    let value = body.slice(eq + 1).trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) value = value.slice(1, -1);
    out[key] = value;
  });
  return out;
}

/**
 * The configuration the current environment would have with the env file's lines on top,
 * parsed by the same schema as at start-up (docs/architecture.md §7, convention 8), so a value
 * the worker would refuse is refused here too, naming the variable.
 */
export function configWithEnvFile(file: string, env: NodeJS.ProcessEnv = process.env): { config: Config; overrides: Record<string, string> } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new EnvFileError(`${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const overrides = parseEnvFile(text, file);
  try {
    return { config: loadConfig({ ...env, ...overrides }), overrides };
  } catch (err) {
    if (err instanceof ConfigError) throw new EnvFileError(`${file} (over the current environment): ${err.message}`);
    throw err;
  }
}
