import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import type { ExportRecord } from '../../contract/audit-record';
import { ExportRecordSchema } from '../../contract/audit-record';
import { HostName } from '../../contract/container';
import type { AuditRecord } from '../../gateway/audit/record';
import { connectTemporal } from '../../runtime/temporal';
import { exportRecord } from '../../audit/export-record';
import { CliError } from '../errors';
import { listClosedRuns, runInput, runState } from '../incident-runs';
import { fromSchema, sinceTime } from '../options';
import { auditCommand } from './audit';
import { EXIT } from '../exit-codes';

/** The gateway's audit log, or null (with why) when it cannot be read: the export then falls back to the workflow's own record. */
function readGatewayAudit(file: string): { records: AuditRecord[] | null; why: string | null } {
  if (!existsSync(file)) return { records: null, why: `${file} does not exist` };
  try {
    const records = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as AuditRecord);
    return { records, why: null };
  } catch (err) {
    return { records: null, why: `${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
}

type Target = { kind: 'stdout' } | { kind: 'dir'; path: string } | { kind: 'file'; path: string; array: boolean };

/**
 * `--out DIR` (an existing directory, or a path ending in `/`): one file per run. Otherwise a
 * file: a JSON array for `*.json`, JSON Lines for anything else. Checked before Temporal is
 * asked anything, so a wrong path fails at once and writes nothing.
 */
function target(out: string | undefined): Target {
  if (out === undefined) return { kind: 'stdout' };
  if (out.endsWith('/') || (existsSync(out) && statSync(out).isDirectory())) return { kind: 'dir', path: out };
  const parent = dirname(out);
  if (!existsSync(parent) || !statSync(parent).isDirectory()) throw new CliError(`--out: ${parent} is not a directory`, EXIT.badInput, 'invalid_argument');
  return { kind: 'file', path: out, array: out.endsWith('.json') };
}

function write(records: ExportRecord[], to: Target): string {
  const lines = records.map((r) => `${JSON.stringify(r)}\n`).join('');
  if (to.kind === 'stdout') {
    process.stdout.write(lines);
    return 'stdout';
  }
  if (to.kind === 'dir') {
    mkdirSync(to.path, { recursive: true });
    for (const r of records) writeFileSync(join(to.path, `${r.incident_id}--${r.run_id}.json`), `${JSON.stringify(r, null, 2)}\n`);
    return `${records.length} files in ${to.path}`;
  }
  writeFileSync(to.path, to.array ? `${JSON.stringify(records, null, 2)}\n` : lines);
  return to.path;
}

/** `dockmedic audit export`: closed incidents as audit records, for `audit analyze` or any reader of the reference format. */
export function registerAuditExport(program: Command): void {
  auditCommand(program)
    .command('export')
    .description(
      'Write one audit record per closed incident run (the reference format plus facts, policy settings, decision, outcome, the gateway-audited tool calls, MTTR). Drill incidents are left out unless --drills',
    )
    .option('--since <when>', 'only runs closed since then: a duration (24h, 30m, 7d) or an ISO-8601 time', sinceTime('--since'))
    .option('--out <path>', 'a directory (existing, or ending in /) for one file per run; a *.json file for a JSON array; any other file for JSON Lines (default: JSON Lines on stdout)')
    .option('--host <name>', 'only incidents of this dockmedic host (DOCKMEDIC_HOST of the watcher that opened them)', fromSchema('--host', HostName))
    .option('--drills', 'include drill incidents (search attribute DockmedicDrill)')
    .option('--audit <file>', 'the gateway audit log to join calls from (default: DOCKMEDIC_AUDIT_FILE or <state>/audit/gateway.jsonl)')
    .action(async (opts: { since?: Date; host?: string; out?: string; drills?: boolean; audit?: string }) => {
      const to = target(opts.out);
      const config = loadConfig();
      const auditFile = opts.audit ?? config.gateway.auditFile;
      const audit = readGatewayAudit(auditFile);
      if (opts.audit && !audit.records) throw new CliError(`--audit: ${audit.why ?? auditFile}`, EXIT.badInput, 'unreadable');
      if (audit.why) process.stderr.write(`warning: the gateway audit ${audit.why}; tool calls come from the workflows' own records (tools_source decision_chain)\n`);
      const client = await connectTemporal(config);
      const records: ExportRecord[] = [];
      const skipped: string[] = [];
      try {
        for (const closed of await listClosedRuns(client, { ...(opts.since ? { since: opts.since } : {}), ...(opts.host ? { host: opts.host } : {}) })) {
          if (closed.drill && !opts.drills) continue;
          const label = `${closed.run.workflowId} (run ${closed.run.runId})`;
          const [input, state] = await Promise.all([runInput(client, closed.run), runState(client, closed)]);
          if (!input) {
            skipped.push(`${label}: its start input is not an incident input`);
            continue;
          }
          if (!state) {
            skipped.push(`${label}: closed as ${closed.status.toLowerCase()} and no worker answered the state query`);
            continue;
          }
          // Built by code, checked by the schema readers use: an export that fails it is a bug, never written.
          records.push(ExportRecordSchema.parse(exportRecord({ state, input, run: closed.run, audit: audit.records, drill: closed.drill })));
        }
      } finally {
        await client.connection.close();
      }
      for (const s of skipped) process.stderr.write(`skipped ${s}\n`);
      const where = write(records, to);
      process.stderr.write(`exported ${records.length} incident run(s) to ${where}${skipped.length ? `, skipped ${skipped.length}` : ''}\n`);
    });
}
