import { createHash } from 'node:crypto';
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

/** An entry as written: its position in the chain and the hashes that link it. */
export interface AuditRecord extends AuditEntry {
  seq: number;
  prev: string;
  hash: string;
}

/** sha256 over the previous hash and the record's canonical JSON (everything but `hash`). */
export function recordHash(record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(record.prev).update('\n').update(canonicalJson(record)).digest('hex');
}

/** The sidecar `<file>.head`: how many records the file must have and the last hash, so a cut tail shows. */
export interface AuditHead {
  count: number;
  hash: string;
}

/** Fixed width, so the sidecar is overwritten in place with one write. */
export const HEAD_BYTES = 128;

export function formatHead(head: AuditHead): string {
  const json = JSON.stringify(head);
  return json.padEnd(HEAD_BYTES - 1, ' ') + '\n';
}

export function parseHead(text: string): AuditHead | null {
  try {
    const v = JSON.parse(text) as Partial<AuditHead>;
    if (typeof v.count === 'number' && Number.isInteger(v.count) && v.count >= 0 && typeof v.hash === 'string' && /^[0-9a-f]{64}$/.test(v.hash)) {
      return { count: v.count, hash: v.hash };
    }
  } catch {
    /* fall through */
  }
  return null;
}

export function headPath(auditFile: string): string {
  return `${auditFile}.head`;
}
