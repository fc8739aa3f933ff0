#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerAudit } from './commands/audit';
import { registerAuditAnalyze } from './commands/audit-analyze';
import { registerAuditExport } from './commands/audit-export';
import { registerDoctor } from './commands/doctor';
import { registerDrill } from './commands/drill';
import { registerGateway } from './commands/gateway';
import { registerIncidents } from './commands/incidents';
import { registerKeys } from './commands/keys';
import { registerMcp } from './commands/mcp';
import { registerReplay } from './commands/replay';
import { registerRespond } from './commands/respond';
import { registerUp } from './commands/up';
import { registerWorkerAndWatcher } from './commands/worker';
import { isExpectedError } from './errors';

/**
 * The dockmedic CLI: a thin registry. Each command lives in src/cli/commands/<name>.ts and
 * exports `register<Name>(program)`; add yours to this list.
 */
const COMMANDS: ((program: Command) => void)[] = [
  registerUp,
  registerGateway,
  registerWorkerAndWatcher,
  registerIncidents,
  registerRespond,
  registerAudit,
  registerAuditExport,
  registerAuditAnalyze,
  registerDrill,
  registerReplay,
  registerKeys,
  registerDoctor,
  registerMcp,
];

export function buildProgram(): Command {
  const program = new Command()
    .name('dockmedic')
    .description('Safe, durable remediation of failing Docker containers on Temporal')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (str, write) => write(str) });
  for (const register of COMMANDS) register(program);
  return program;
}

function fail(err: unknown): never {
  const e = err as Error;
  const expected = isExpectedError(err);
  if (!expected && process.env.DOCKMEDIC_DEBUG) process.stderr.write(`${e?.stack ?? String(err)}\n`);
  process.stderr.write(`error: ${e?.message ?? String(err)}\n`);
  if (!expected && !process.env.DOCKMEDIC_DEBUG) process.stderr.write('(set DOCKMEDIC_DEBUG=1 for a stack trace)\n');
  process.exit(typeof (err as { exitCode?: unknown }).exitCode === 'number' ? (err as { exitCode: number }).exitCode : 1);
}

if (require.main === module) {
  const program = buildProgram().exitOverride();
  program.parseAsync(process.argv).catch((err: unknown) => {
    // Commander already printed usage errors; --help and --version are not failures.
    if (err instanceof CommanderError) process.exit(err.exitCode);
    fail(err);
  });
}
