import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The intake's bearer token (docs/architecture.md §1): one line in a 0600 file, made on first
 * start when missing, so Alertmanager's `http_config.authorization.credentials_file` can point
 * at a copy of it. The token is never logged.
 */
export function ensureIntakeToken(path: string): void {
  try {
    readFileSync(path, 'utf8');
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // `wx`: two processes starting at once never overwrite each other's token.
  try {
    writeFileSync(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  chmodSync(path, 0o600);
}

/** The token as it is now in the file (read per request, so replacing the file rotates it); null when unreadable or empty. */
export function readIntakeToken(path: string): string | null {
  try {
    const token = readFileSync(path, 'utf8').trim();
    return token.length > 0 ? token : null;
  } catch {
    return null;
  }
}

/** Whether `Authorization: Bearer <t>` carries the token; compared in constant time over digests (no length leak). */
export function bearerMatches(header: string | undefined, token: string | null): boolean {
  if (token === null || header === undefined) return false;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  if (!m?.[1]) return false;
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(m[1]), digest(token));
}
