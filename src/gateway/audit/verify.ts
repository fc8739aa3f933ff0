import { createReadStream, existsSync, readFileSync } from 'node:fs';
import type { AuditRecord } from './record';
import { GENESIS_HASH, headPath, parseHead, recordHash } from './record';

export interface AuditVerifyResult {
  ok: boolean;
  /** Records that verified before the first problem (all of them when ok). */
  records: number;
  /** The first problem: 1-based line number (records + 1 for a problem after the last line) and why. */
  error?: { line: number; reason: string };
  lastHash?: string;
}

/**
 * Check an audit file end to end: every line is JSON, numbered in order, links to the previous
 * record's hash and hashes to what it says; the file ends with a complete line; and the `.head`
 * sidecar agrees on the count and the last hash. Detects a changed byte, an inserted or deleted
 * line (middle or tail) and a truncated tail. Streams the file, so size does not matter.
 */
export async function verifyAuditFile(path: string): Promise<AuditVerifyResult> {
  if (!existsSync(path)) return { ok: false, records: 0, error: { line: 0, reason: `${path} does not exist` } };
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
    const { hash, ...rest } = rec;
    if (recordHash(rest) !== hash) {
      error = { line: lineNo, reason: 'hash does not match the record (the record was changed)' };
      return false;
    }
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
  if (error) return { ok: false, records, error };
  if (carry !== '') {
    return { ok: false, records, error: { line: lineNo + 1, reason: 'the last line is incomplete (the file was truncated)' } };
  }

  const hp = headPath(path);
  if (!existsSync(hp)) return { ok: false, records, error: { line: records + 1, reason: `head sidecar ${hp} is missing, so a cut tail cannot be ruled out` } };
  const head = parseHead(readFileSync(hp, 'utf8'));
  if (!head) return { ok: false, records, error: { line: records + 1, reason: `head sidecar ${hp} is unreadable` } };
  if (head.count !== records || head.hash !== prev) {
    const reason =
      head.count > records
        ? `the head says ${head.count} records but the file has ${records}: trailing records were deleted`
        : `the head says ${head.count} records ending in ${head.hash.slice(0, 12)}…, the file has ${records} ending in ${prev.slice(0, 12)}…`;
    return { ok: false, records, error: { line: records + 1, reason } };
  }
  return { ok: true, records, lastHash: prev };
}
