import { createReadStream, existsSync, readFileSync } from 'node:fs';
import type { AuditRecord } from './record';
import type { AuditKey } from './audit-key';
import { GENESIS_HASH, KEYED_CHAIN, headMac, headPath, parseHead, recordHash } from './record';

export interface AuditVerifyResult {
  ok: boolean;
  /** Records that verified before the first problem (all of them when ok). */
  records: number;
  /** The first problem: 1-based line number (records + 1 for a problem after the last line) and why. */
  error?: { line: number; reason: string };
  lastHash?: string;
  /** Records linked by the audit key (HMAC) and by plain sha256: an unkeyed chain could be rewritten consistently by anyone who can write the file. */
  keyed: number;
  unkeyed: number;
  /** The chain has keyed records and no key was given: nothing could be checked past them. */
  keyMissing?: boolean;
}

/**
 * Check an audit file end to end: every line is JSON, numbered in order, links to the previous
 * record's hash and hashes to what it says; the file ends with a complete line; and the `.head`
 * sidecar agrees on the count and the last hash. Detects a changed byte, an inserted or deleted
 * line (middle or tail) and a truncated tail. Streams the file, so size does not matter.
 */
export async function verifyAuditFile(path: string, auditKey?: AuditKey): Promise<AuditVerifyResult> {
  const key = auditKey?.key;
  let lastTime = '';
  let keyed = 0;
  let unkeyed = 0;
  let keyMissing = false;
  const result = (r: Pick<AuditVerifyResult, 'ok' | 'records' | 'error' | 'lastHash'>): AuditVerifyResult => ({ ...r, keyed, unkeyed, ...(keyMissing ? { keyMissing } : {}) });
  if (!existsSync(path)) return result({ ok: false, records: 0, error: { line: 0, reason: `${path} does not exist` } });
  let prev = GENESIS_HASH;
  let lineNo = 0;
  let records = 0;
  let carry = '';
  let error: { line: number; reason: string } | undefined;

  const checkLine = (line: string): boolean => {
    lineNo++;
    let rec: AuditRecord;
    try {
      rec = JSON.parse(line) as AuditRecord;
    } catch {
      error = { line: lineNo, reason: line === '' ? 'empty line' : 'not valid JSON (edited or truncated)' };
      return false;
    }
    if (rec === null || typeof rec !== 'object' || typeof rec.hash !== 'string') {
      error = { line: lineNo, reason: 'not an audit record' };
      return false;
    }
    if (rec.seq !== records) {
      error = { line: lineNo, reason: `record number ${String(rec.seq)} where ${records} was expected (a line was deleted or inserted)` };
      return false;
    }
    if (rec.prev !== prev) {
      error = { line: lineNo, reason: 'prev does not match the hash of the previous record (a line was deleted, inserted or reordered)' };
      return false;
    }
    const isKeyed = rec.chain === KEYED_CHAIN;
    if (!isKeyed && keyed > 0) {
      // Once keyed, a chain stays keyed: an unkeyed record after keyed ones is a downgrade.
      error = { line: lineNo, reason: 'an unkeyed record after keyed ones (the file was rewritten without the audit key)' };
      return false;
    }
    if (isKeyed && !key) {
      keyMissing = true;
      error = { line: lineNo, reason: 'this record is keyed and no audit key was given (DOCKMEDIC_AUDIT_KEY_FILE or --key)' };
      return false;
    }
    const { hash, ...rest } = rec;
    if (recordHash(rest, key) !== hash) {
      error = { line: lineNo, reason: isKeyed ? 'hash does not match the record under the audit key (the record was changed, or rewritten without the key)' : 'hash does not match the record (the record was changed)' };
      return false;
    }
    if (isKeyed) keyed++;
    else unkeyed++;
    lastTime = typeof rec.time === 'string' ? rec.time : '';
    prev = hash;
    records++;
    return true;
  };

  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  outer: for await (const chunk of stream as AsyncIterable<string>) {
    carry += chunk;
    let nl: number;
    while ((nl = carry.indexOf('\n')) !== -1) {
      const line = carry.slice(0, nl);
      carry = carry.slice(nl + 1);
      if (!checkLine(line)) break outer;
    }
  }
  stream.destroy();
  if (error) return result({ ok: false, records, error });
  if (carry !== '') {
    return result({ ok: false, records, error: { line: lineNo + 1, reason: 'the last line is incomplete (the file was truncated)' } });
  }

  const hp = headPath(path);
  if (!existsSync(hp)) return result({ ok: false, records, error: { line: records + 1, reason: `head sidecar ${hp} is missing, so a cut tail cannot be ruled out` } });
  const head = parseHead(readFileSync(hp, 'utf8'));
  if (!head) return result({ ok: false, records, error: { line: records + 1, reason: `head sidecar ${hp} is unreadable` } });
  if (head.count !== records || head.hash !== prev) {
    const reason =
      head.count > records
        ? `the head says ${head.count} records but the file has ${records}: trailing records were deleted`
        : `the head says ${head.count} records ending in ${head.hash.slice(0, 12)}…, the file has ${records} ending in ${prev.slice(0, 12)}…`;
    return result({ ok: false, records, error: { line: records + 1, reason } });
  }
  if (auditKey) {
    // The head is signed by a keyed gateway; without that, only a log that ends before the key existed is an honest unkeyed one.
    if (head.mac !== undefined && head.mac !== headMac(head, auditKey.key)) {
      return result({ ok: false, records, error: { line: records + 1, reason: `head sidecar ${hp} is not signed by this audit key (rewritten, or another gateway's key)` } });
    }
    if (head.mac === undefined && keyed > 0) return result({ ok: false, records, error: { line: records + 1, reason: `head sidecar ${hp} of a keyed chain carries no MAC (rewritten without the key)` } });
    if (head.mac === undefined && records > 0 && !(Date.parse(lastTime) < auditKey.created.getTime())) {
      return result({ ok: false, records, error: { line: records, reason: `unkeyed records written after the audit key was made (${auditKey.created.toISOString()}): the file was rewritten without the key` } });
    }
  }
  return result({ ok: true, records, lastHash: prev });
}
