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
import { cliFailure, isExpectedError } from './errors';

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
    .configureOutput({ outputError: (str, write) => write(str) })
    // Set before the commands are added so that they inherit it: every usage error reaches fail().
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** `--json` anywhere before `--`: a failure is then also a JSON object on stdout, for scripts. */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

function fail(err: unknown, json: boolean): never {
  const e = err as Error;
  const failure = cliFailure(err);
  if (json) process.stdout.write(`${JSON.stringify(failure.body)}\n`);
  const expected = isExpectedError(err);
  if (!expected && process.env.DOCKMEDIC_DEBUG) process.stderr.write(`${e?.stack ?? String(err)}\n`);
  if (!(err instanceof CommanderError)) process.stderr.write(`error: ${e?.message ?? String(err)}\n`);
  if (!expected && !(err instanceof CommanderError) && !process.env.DOCKMEDIC_DEBUG) process.stderr.write('(set DOCKMEDIC_DEBUG=1 for a stack trace)\n');
  process.exit(failure.exitCode);
}

if (require.main === module) {
  const json = wantsJson(process.argv.slice(2));
  const program = buildProgram();
  program.parseAsync(process.argv).catch((err: unknown) => {
    // --help and --version are not failures; commander already printed a usage error's text.
    if (err instanceof CommanderError && err.exitCode === 0) process.exit(0);
    fail(err, json);
  });
}
