import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { KeyFileError } from '../signing';

/**
 * The HTTP transport's bearer token (docs/architecture.md §4): 256 random bits in hex, in a file
 * of the state dir created 0600 on first use. It is never logged or printed; clients read it
 * from the file.
 */

const TOKEN = /^[A-Za-z0-9._~+/=-]{32,512}$/;

export function ensureMcpToken(path: string): { token: string; created: boolean } {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      // Exclusive create: a second server starting at the same moment reads the first one's token.
      writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(path, 0o600);
      return { token: readMcpToken(path), created: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new KeyFileError(`cannot create the MCP token file ${path}: ${(err as Error).message}`);
    }
  }
  return { token: readMcpToken(path), created: false };
}

function readMcpToken(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new KeyFileError(`cannot read the MCP token file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!TOKEN.test(text)) throw new KeyFileError(`the MCP token file ${path} does not hold a token (32–512 characters of A–Z a–z 0–9 . _ ~ + / = -); remove it to have a new one made`);
  return text;
}

/** Why a request is not authorised, or null when its `Authorization: Bearer` matches (compared in constant time). */
export function bearerRefusal(req: IncomingMessage, token: string): { code: 'missing_token' | 'bad_token'; message: string } | null {
  const header = req.headers.authorization;
  const m = header ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
  if (!m?.[1]) return { code: 'missing_token', message: 'an Authorization: Bearer <token> header is required (the token is in the MCP token file of the state dir)' };
  // Hashing first gives equal lengths, so the comparison leaks neither the token nor its length.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  if (!timingSafeEqual(digest(m[1]), digest(token))) return { code: 'bad_token', message: 'the bearer token does not match' };
  return null;
}
