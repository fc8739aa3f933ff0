import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** The audit key cannot be used; the message says which file and why (never its content). */
export class AuditKeyError extends Error {
  override name = 'AuditKeyError';
}

const KEY_TEXT = /^[0-9a-f]{64}$/;

/** The key and when it was made: unkeyed records written after that cannot be the gateway's own. */
export interface AuditKey {
  key: Buffer;
  created: Date;
}

/**
 * The audit chain's own key (docs/architecture.md §4, "Audit"): 32 random bytes, hex, in a
 * file only the gateway reads (0600, in a 0700 directory). Separate from the agents' HMAC keys:
 * rotating an agent key must not break the chain, and an agent must never be able to forge it.
 */
export function readAuditKey(path: string): AuditKey {
  let parsed: { key?: unknown; created?: unknown };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as typeof parsed;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AuditKeyError(`the audit key ${path} cannot be read (${code ?? 'not JSON'})`);
  }
  const created = typeof parsed?.created === 'string' ? new Date(parsed.created) : new Date(Number.NaN);
  if (typeof parsed?.key !== 'string' || !KEY_TEXT.test(parsed.key) || Number.isNaN(created.getTime())) {
    throw new AuditKeyError(`the audit key ${path} is not {"key": 64 hex digits, "created": an ISO time}`);
  }
  return { key: Buffer.from(parsed.key, 'hex'), created };
}

/** The key at `path`, made first when there is none (exclusive create: two gateways starting at once agree on one). */
export function loadOrCreateAuditKey(path: string): AuditKey {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, `${JSON.stringify({ key: randomBytes(32).toString('hex'), created: new Date().toISOString() })}\n`);
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new AuditKeyError(`the audit key ${path} cannot be created (${(err as Error).message})`);
    }
  }
  return readAuditKey(path);
}
