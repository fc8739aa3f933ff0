import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditEntry, AuditHead, AuditRecord } from './record';
import { GENESIS_HASH, KEYED_CHAIN, formatHead, headPath, parseHead, recordHash } from './record';

/** The audit file cannot be continued safely; the message says what to do. */
export class AuditChainError extends Error {
  override name = 'AuditChainError';
}

function writeAll(fd: number, data: string, position?: number): void {
  const buf = Buffer.from(data);
  let off = 0;
  while (off < buf.length) {
    off += writeSync(fd, buf, off, buf.length - off, position === undefined ? null : position + off);
  }
}

/** The last complete line of a file, read from its end (the file may be large). */
function lastLine(fd: number): { line: string; endsWithNewline: boolean } | null {
  const size = fstatSync(fd).size;
  if (size === 0) return null;
  let chunk = 64 * 1024;
  for (;;) {
    const start = Math.max(0, size - chunk);
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    const text = buf.toString('utf8');
    const endsWithNewline = text.endsWith('\n');
    const body = endsWithNewline ? text.slice(0, -1) : text;
    const nl = body.lastIndexOf('\n');
    if (nl !== -1 || start === 0) return { line: body.slice(nl + 1), endsWithNewline };
    chunk *= 4;
  }
}

const HOW_TO_RESTART = 'run `dockmedic audit verify <file>` to see what happened, then move the file and its .head aside to start a new chain';

/**
 * The gateway's hash-chained audit log (JSON Lines). Each record carries its sequence number,
 * the previous record's hash and its own; appends are synchronous, so the order in the file is
 * the order of the chain. The `.head` sidecar holds the count and last hash, so deleting whole
 * trailing lines is detected too. On open it continues the existing chain — and refuses to
 * when the file and its head disagree, rather than paper over a truncation.
 */
export class AuditLog {
  private prev: string;
  private seq: number;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly headFd: number,
    head: AuditHead,
    private readonly key: Buffer | undefined,
  ) {
    this.prev = head.hash;
    this.seq = head.count;
  }

  /**
   * `key`: the audit key (the gateway always passes it); records appended are then keyed. An
   * unkeyed chain left by an older gateway is continued with keyed records, never the reverse.
   */
  static open(path: string, key?: Buffer): AuditLog {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const hp = headPath(path);
    const fd = openSync(path, 'a+', 0o600);
    let head: AuditHead | null = null;
    let headFd: number;
    try {
      const last = lastLine(fd);
      const headText = existsSync(hp) ? readFileSync(hp, 'utf8') : null;
      const stored = headText === null ? null : parseHead(headText);
      if (headText !== null && stored === null) throw new AuditChainError(`audit head ${hp} is unreadable; ${HOW_TO_RESTART}`);
      if (!last) {
        if (stored && stored.count > 0) throw new AuditChainError(`audit file ${path} is empty but its head says ${stored.count} records; ${HOW_TO_RESTART}`);
        head = { count: 0, hash: GENESIS_HASH };
      } else {
        if (!last.endsWithNewline) throw new AuditChainError(`audit file ${path} ends in an incomplete line; ${HOW_TO_RESTART}`);
        let rec: AuditRecord;
        try {
          rec = JSON.parse(last.line) as AuditRecord;
        } catch {
          throw new AuditChainError(`the last line of audit file ${path} is not JSON; ${HOW_TO_RESTART}`);
        }
        if (!stored) throw new AuditChainError(`audit file ${path} has records but no head ${hp}; ${HOW_TO_RESTART}`);
        if (stored.count === rec.seq + 1 && stored.hash === rec.hash) head = stored;
        // A crash between appending the line and updating the head: the head is one behind and links to it.
        else if (stored.count === rec.seq && stored.hash === rec.prev) head = { count: rec.seq + 1, hash: rec.hash };
        else throw new AuditChainError(`audit file ${path} does not match its head (head: ${stored.count} records, file ends at record ${rec.seq + 1}); ${HOW_TO_RESTART}`);
      }
      headFd = openSync(hp, existsSync(hp) ? 'r+' : 'w+', 0o600);
      writeAll(headFd, formatHead(head, key), 0);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return new AuditLog(path, fd, headFd, head, key);
  }

  /** Number of records in the chain. */
  get count(): number {
    return this.seq;
  }

  get lastHash(): string {
    return this.prev;
  }

  /** Append one record (synchronously) and move the head. */
  append(entry: AuditEntry): AuditRecord {
    const unhashed: Omit<AuditRecord, 'hash'> = { ...entry, seq: this.seq, prev: this.prev, ...(this.key ? { chain: KEYED_CHAIN } : {}) };
    const record: AuditRecord = { ...unhashed, hash: recordHash(unhashed, this.key) };
    writeAll(this.fd, JSON.stringify(record) + '\n');
    this.seq += 1;
    this.prev = record.hash;
    writeAll(this.headFd, formatHead({ count: this.seq, hash: this.prev }, this.key), 0);
    return record;
  }

  close(): void {
    closeSync(this.fd);
    closeSync(this.headFd);
  }
}
