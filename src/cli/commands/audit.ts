import { accessSync, constants, statSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { AuditKeyError, readAuditKey, verifyAuditFile } from '../../gateway/audit';
import type { AuditKey } from '../../gateway/audit';
import { CliError } from '../errors';
import { printJson } from '../table';
import { EXIT } from '../exit-codes';

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
export const VERIFY_EXIT = { intact: EXIT.ok, broken: EXIT.failed, unreadable: EXIT.badInput } as const;

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
    .description('Verify the hash chain of a gateway audit log and its .head sidecar: detects edits, deleted lines, a cut tail, and (keyed chains) a file rewritten without the audit key. Exit 0 intact, 1 broken, 2 unreadable or the key missing')
    .argument('<file>', 'the audit log (JSON Lines); its sidecar is <file>.head')
    .option('--key <file>', 'the audit key (default: DOCKMEDIC_AUDIT_KEY_FILE, $DOCKMEDIC_STATE_DIR/keys/audit-key); needed for keyed chains')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean; key?: string }) => {
      const why = unreadable(file);
      if (why) throw new CliError(why, VERIFY_EXIT.unreadable, 'unreadable');
      const keyFile = opts.key ?? loadConfig().gateway.auditKeyFile;
      let key: AuditKey | undefined;
      try {
        key = readAuditKey(keyFile);
      } catch (err) {
        // Named with --key, it must be usable; the default may be absent (an unkeyed log, another host's file).
        if (opts.key !== undefined && err instanceof AuditKeyError) throw new CliError(err.message, VERIFY_EXIT.unreadable, 'audit_key_unreadable');
      }
      const result = await verifyAuditFile(file, key);
      if (result.keyMissing) throw new CliError(`${file} is a keyed chain and the audit key ${keyFile} cannot be read: nothing past record ${result.records} was checked`, VERIFY_EXIT.unreadable, 'audit_key_missing');
      if (opts.json) printJson(result);
      else if (result.ok && result.unkeyed === 0) process.stdout.write(`ok: ${result.records} records, chain intact and keyed (last hash ${result.lastHash?.slice(0, 16)}…)\n`);
      else if (result.ok)
        process.stdout.write(
          `ok: ${result.records} records, chain intact (last hash ${result.lastHash?.slice(0, 16)}…)\nUNKEYED: ${result.unkeyed} records are linked by plain sha256 (written before the audit key existed); anyone who can write the file could have rewritten them consistently\n`,
        );
      else process.stdout.write(`BROKEN at line ${result.error?.line}: ${result.error?.reason}\n${result.records} records verified before it\n`);
      process.exitCode = result.ok ? VERIFY_EXIT.intact : VERIFY_EXIT.broken;
    });
}
