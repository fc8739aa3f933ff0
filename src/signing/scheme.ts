import { createHash, createHmac, randomBytes } from 'node:crypto';

/** Headers of a signed gateway request (docs/architecture.md §4). */
export const HEADERS = {
  keyId: 'x-dockmedic-key-id',
  timestamp: 'x-dockmedic-timestamp',
  nonce: 'x-dockmedic-nonce',
  signature: 'x-dockmedic-signature',
  idempotencyKey: 'idempotency-key',
} as const;

export const SIGNATURE_VERSION = 'v1';

/** What the canonical string holds when a request carries no idempotency key (so `-` itself is never a key). */
export const NO_IDEMPOTENCY_KEY = '-';

export interface SignedParts {
  method: string;
  /** Path including the query string, exactly as sent. */
  path: string;
  /** Unix seconds. */
  timestamp: number;
  nonce: string;
  keyId: string;
  idempotencyKey?: string | undefined;
  body: Buffer | string;
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `v1`, method, path, timestamp, nonce, key id, idempotency key or NO_IDEMPOTENCY_KEY, hex SHA-256 of the raw body. */
export function canonicalString(p: SignedParts): string {
  return [
    SIGNATURE_VERSION,
    p.method.toUpperCase(),
    p.path,
    String(p.timestamp),
    p.nonce,
    p.keyId,
    p.idempotencyKey ?? NO_IDEMPOTENCY_KEY,
    sha256Hex(p.body),
  ].join('\n');
}

/** The hex HMAC-SHA256 of the canonical string. */
export function computeSignature(secret: Buffer, p: SignedParts): string {
  return createHmac('sha256', secret).update(canonicalString(p)).digest('hex');
}

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/** Headers for a request; the caller sends `body` byte for byte as signed. */
export function signRequest(secret: Buffer, p: Omit<SignedParts, 'timestamp' | 'nonce'> & { timestamp?: number; nonce?: string }): Record<string, string> {
  const parts: SignedParts = { ...p, timestamp: p.timestamp ?? Math.floor(Date.now() / 1000), nonce: p.nonce ?? newNonce() };
  const headers: Record<string, string> = {
    [HEADERS.keyId]: parts.keyId,
    [HEADERS.timestamp]: String(parts.timestamp),
    [HEADERS.nonce]: parts.nonce,
    [HEADERS.signature]: `${SIGNATURE_VERSION}=${computeSignature(secret, parts)}`,
  };
  if (parts.idempotencyKey !== undefined) headers[HEADERS.idempotencyKey] = parts.idempotencyKey;
  return headers;
}
