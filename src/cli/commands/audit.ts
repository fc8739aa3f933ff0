import { accessSync, constants, statSync } from 'node:fs';
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

/** Exit codes of `audit verify`: a script must tell a broken chain from a file it could not read. */
export const VERIFY_EXIT = { intact: 0, broken: 1, unreadable: 2 } as const;

/** Why `file` cannot be verified at all, or null. */
function unreadable(file: string): string | null {
  try {
    if (!statSync(file).isFile()) return `${file} is not a regular file`;
    accessSync(file, constants.R_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${file} does not exist` : `${file} cannot be read (${code ?? (err as Error).message})`;
  }
}

/** `dockmedic audit verify FILE`: exit 0 when the hash chain is intact, 1 when it is not (and where), 2 when the file cannot be read. */
export function registerAudit(program: Command): void {
  auditCommand(program)
    .command('verify')
    .description('Verify the hash chain of a gateway audit log and its .head sidecar: detects edits, deleted lines and a cut tail. Exit 0 intact, 1 broken, 2 unreadable')
    .argument('<file>', 'the audit log (JSON Lines); its sidecar is <file>.head')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const why = unreadable(file);
      if (why) {
        if (opts.json) printJson({ ok: false, records: 0, unreadable: why });
        process.stderr.write(`error: ${why}\n`);
        process.exitCode = VERIFY_EXIT.unreadable;
        return;
      }
      const result = await verifyAuditFile(file);
      if (opts.json) printJson(result);
      else if (result.ok) process.stdout.write(`ok: ${result.records} records, chain intact (last hash ${result.lastHash?.slice(0, 16)}…)\n`);
      else process.stdout.write(`BROKEN at line ${result.error?.line}: ${result.error?.reason}\n${result.records} records verified before it\n`);
      process.exitCode = result.ok ? VERIFY_EXIT.intact : VERIFY_EXIT.broken;
    });
}
