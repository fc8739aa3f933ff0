import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { AgentCredentials, GatewayKeys } from './keys';

/** A key file that is missing or invalid, or an operation on it that cannot be done; the message says what to do. */
export class KeyFileError extends Error {
  override name = 'KeyFileError';
}

function readKeyFile<S extends z.ZodType>(path: string, schema: S, what: string, hint: string): z.output<S> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KeyFileError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (${hint})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KeyFileError(`${what} ${path} is not JSON`);
  }
  const parsed = schema.safeParse(json);
  // Issue paths and messages only: zod's messages never quote the secret's value.
  if (!parsed.success) throw new KeyFileError(`${what} ${path} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** The gateway's keys file: every agent and its keys. */
export function readGatewayKeysFile(path: string): GatewayKeys {
  return readKeyFile(path, GatewayKeys, 'gateway keys file', 'create it with `dockmedic keys init` or set DOCKMEDIC_GATEWAY_KEYS_FILE');
}

/** An agent's key file: the key it signs with. */
export function readAgentFile(path: string): AgentCredentials {
  return readKeyFile(path, AgentCredentials, 'agent key file', 'create it with `dockmedic keys init` or set DOCKMEDIC_AGENT_KEY_FILE');
}
