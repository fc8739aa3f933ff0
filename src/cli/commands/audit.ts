import type { Command } from 'commander';
import { verifyAuditFile } from '../../gateway/audit';
import { printJson } from '../table';

/**
 * The `audit` command group, created once; other commands (`audit export`, `audit analyze`)
 * attach to the same group through this function.
 */
export function auditCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'audit') ??
    program.command('audit').description('Gateway audit log and incident audit records')
  );
}

/** `dockmedic audit verify FILE`: exit 0 when the hash chain is intact, 1 when it is not (and where). */
export function registerAudit(program: Command): void {
  auditCommand(program)
    .command('verify')
    .description('Verify the hash chain of a gateway audit log and its .head sidecar: detects edits, deleted lines and a cut tail')
    .argument('<file>', 'the audit log (JSON Lines); its sidecar is <file>.head')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const result = await verifyAuditFile(file);
      if (opts.json) printJson(result);
      else if (result.ok) process.stdout.write(`ok: ${result.records} records, chain intact (last hash ${result.lastHash?.slice(0, 16)}…)\n`);
      else process.stdout.write(`BROKEN at line ${result.error?.line}: ${result.error?.reason}\n${result.records} records verified before it\n`);
      process.exitCode = result.ok ? 0 : 1;
    });
}
