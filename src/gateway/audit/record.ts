import { createHash, createHmac } from 'node:crypto';
import type { Target } from '../context';
import { canonicalJson } from './canonical-json';

/** The `prev` of the first record in a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** One audited request, allowed or refused. Never carries secrets: tool arguments only, no headers, no LLM prompts. */
export interface AuditEntry {
  time: string;
  requestId: string;
  agent: string | null;
  keyId: string | null;
  method: string;
  path: string;
  tool: string | null;
  args: unknown;
  target: Target | null;
  verdict: 'allowed' | 'refused';
  code: string | null;
  status: number;
  result: Record<string, unknown> | null;
  replayed: boolean;
  durationMs: number;
  idempotencyKey: string | null;
  workflowId: string | null;
}

/** How a keyed record's hash is made; a record without `chain` is from an unkeyed (older) log. */
export const KEYED_CHAIN = 'hmac-sha256';

/** An entry as written: its position in the chain and the hashes that link it. */
export interface AuditRecord extends AuditEntry {
  seq: number;
  prev: string;
  /** Present on keyed records, and part of what is hashed, so it cannot be stripped unseen. */
  chain?: typeof KEYED_CHAIN;
  hash: string;
}

/**
 * The record's link: HMAC-SHA256 under the audit key for a keyed record (so a file rewritten
 * without the key does not verify), plain sha256 for an unkeyed one — over the previous hash and
 * the record's canonical JSON (everything but `hash`).
 */
export function recordHash(record: Omit<AuditRecord, 'hash'>, key?: Buffer): string {
  if (record.chain === KEYED_CHAIN && !key) throw new Error('a keyed audit record needs the audit key');
  const h = record.chain === KEYED_CHAIN && key ? createHmac('sha256', key) : createHash('sha256');
  return h.update(record.prev).update('\n').update(canonicalJson(record)).digest('hex');
}

/** The sidecar `<file>.head`: how many records the file must have and the last hash, so a cut tail shows. */
export interface AuditHead {
  count: number;
  hash: string;
  /** HMAC of count and hash under the audit key: a head rewritten without the key shows. */
  mac?: string;
}

export function headMac(head: Pick<AuditHead, 'count' | 'hash'>, key: Buffer): string {
  return createHmac('sha256', key).update(`audit-head\n${head.count}\n${head.hash}`).digest('hex');
}

/** Fixed width, so the sidecar is overwritten in place with one write. */
export const HEAD_BYTES = 256;

export function formatHead(head: AuditHead, key?: Buffer): string {
  const json = JSON.stringify(key ? { count: head.count, hash: head.hash, mac: headMac(head, key) } : { count: head.count, hash: head.hash });
  return json.padEnd(HEAD_BYTES - 1, ' ') + '\n';
}

export function parseHead(text: string): AuditHead | null {
  try {
    const v = JSON.parse(text) as Partial<AuditHead>;
    if (typeof v.count === 'number' && Number.isInteger(v.count) && v.count >= 0 && typeof v.hash === 'string' && /^[0-9a-f]{64}$/.test(v.hash)) {
      if (v.mac === undefined) return { count: v.count, hash: v.hash };
      if (typeof v.mac === 'string' && /^[0-9a-f]{64}$/.test(v.mac)) return { count: v.count, hash: v.hash, mac: v.mac };
    }
  } catch {
    /* fall through */
  }
  return null;
}

export function headPath(auditFile: string): string {
  return `${auditFile}.head`;
}
