import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ExportRecord, ReferenceRecord } from '../contract/audit-record';
import { AUDIT_RECORD_FORMAT, ExportRecordSchema, ReferenceRecordSchema } from '../contract/audit-record';

/**
 * Reads what `audit analyze` is given (docs/architecture.md §6): a file holding one record, a
 * JSON array of records or JSON Lines, or a directory of such files (`*.json`, `*.jsonl`; other
 * files, such as the reference's results.csv, are not records). Any record that is neither
 * format stops the whole run: a score over part of the input would read as a score of all of it.
 */

export type ParsedRecord = { source: string; kind: 'dockmedic'; record: ExportRecord } | { source: string; kind: 'reference'; record: ReferenceRecord };

/** The input cannot be scored; the message names the file, the record and the field. */
export class BadAuditInput extends Error {
  override name = 'BadAuditInput';
}

function values(file: string, text: string): { source: string; value: unknown }[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new BadAuditInput(`${file} is empty`);
  try {
    const whole: unknown = JSON.parse(trimmed);
    if (Array.isArray(whole)) return whole.map((value, i) => ({ source: `${file}[${i}]`, value }));
    return [{ source: file, value: whole }];
  } catch {
    // Not one JSON document: JSON Lines, one record a line.
  }
  return trimmed.split('\n').flatMap((line, i) => {
    if (line.trim() === '') return [];
    try {
      return [{ source: `${file}:${i + 1}`, value: JSON.parse(line) as unknown }];
    } catch {
      throw new BadAuditInput(`${file}:${i + 1} is not JSON (expected a record, a JSON array of records, or JSON Lines)`);
    }
  });
}

function classify(source: string, value: unknown): ParsedRecord {
  const ours = typeof value === 'object' && value !== null && (value as { format?: unknown }).format === AUDIT_RECORD_FORMAT;
  const parsed = ours ? ExportRecordSchema.safeParse(value) : ReferenceRecordSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || '(record)'}: ${i.message}`);
    throw new BadAuditInput(`${source} is not ${ours ? `a valid ${AUDIT_RECORD_FORMAT} record` : 'an audit record (neither dockmedic export nor the reference format)'}: ${issues.join('; ')}`);
  }
  return ours ? { source, kind: 'dockmedic', record: parsed.data as ExportRecord } : { source, kind: 'reference', record: parsed.data as ReferenceRecord };
}

function filesOf(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BadAuditInput(code === 'ENOENT' ? `${path} does not exist` : `${path} cannot be read (${code ?? (err as Error).message})`);
  }
  if (st.isFile()) return [path];
  if (!st.isDirectory()) throw new BadAuditInput(`${path} is neither a file nor a directory`);
  const files = readdirSync(path)
    .filter((f) => f.endsWith('.json') || f.endsWith('.jsonl'))
    .sort()
    .map((f) => join(path, f));
  if (files.length === 0) throw new BadAuditInput(`${path} holds no *.json or *.jsonl files`);
  return files;
}

export function readAuditRecords(path: string): ParsedRecord[] {
  const out: ParsedRecord[] = [];
  for (const file of filesOf(path)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new BadAuditInput(`${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    for (const { source, value } of values(file, text)) out.push(classify(source, value));
  }
  if (out.length === 0) throw new BadAuditInput(`${path} holds no records`);
  return out;
}
