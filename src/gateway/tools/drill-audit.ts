import { open } from 'node:fs/promises';
import { Refusal } from '../refusal';
import type { AuditRecord } from '../audit/record';
import { defineTool } from './tool';
import type { DrillAuditEntry } from '../../contract/drill';
import { DrillContainerArgs } from '../../contract/drill';

/** A drill lasts minutes: its records are in the audit file's recent tail. */
const TAIL_BYTES = 16 * 1024 * 1024;

async function readTail(file: string): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const start = Math.max(0, size - TAIL_BYTES);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    const text = buf.toString('utf8');
    // A tail cut mid-record starts after the first newline.
    return start > 0 ? text.slice(text.indexOf('\n') + 1) : text;
  } finally {
    await fh.close();
  }
}

/**
 * Read-only: the gateway's own audit records about one of this host's drill containers, so the
 * drill checks the calls that really reached Docker (docs/architecture.md §6), by the worker
 * that never reads the gateway's files.
 */
export const drillAudit = defineTool({
  name: 'drill_audit',
  description: "The gateway's audit records about one of this host's drill containers.",
  schema: DrillContainerArgs,
  mutating: false,
  target: 'drill',
  execute: async (_args, target, _plan, env) => {
    let text: string;
    try {
      text = await readTail(env.auditFile);
    } catch (err) {
      throw new Refusal('internal_error', `the audit file cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const records: DrillAuditEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line.includes(target.Id)) continue;
      let r: AuditRecord;
      try {
        r = JSON.parse(line) as AuditRecord;
      } catch {
        continue;
      }
      if (r.target?.id !== target.Id) continue;
      records.push({ time: r.time, tool: r.tool, agent: r.agent, verdict: r.verdict, code: r.code, replayed: r.replayed, workflowId: r.workflowId });
    }
    return { result: { records }, summary: { records: records.length } };
  },
});
