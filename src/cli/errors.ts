import { CommanderError } from 'commander';
import { EXIT } from './exit-codes';
import type { ExitCode } from './exit-codes';
import { ConfigError } from '../config/load';
import { AuditChainError } from '../gateway/audit/audit-log';
import { GatewayRefusal, GatewayUnavailable } from '../gateway-client/errors';
import { TemporalUnavailable } from '../runtime/temporal';
import { KeyFileError } from '../signing/key-files';

/**
 * An error the user can act on: main.ts prints `error: <message>` and exits 1, without a
 * stack trace. Commands throw it (or another known error class) for expected failures.
 */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failed,
    /** Stable, for scripts (`{"error":{"code"}}` under --json); defaults from the exit code. */
    readonly code: string = DEFAULT_CODE[exitCode],
  ) {
    super(message);
  }
}

const DEFAULT_CODE: Record<ExitCode, string> = { 0: 'ok', 1: 'failed', 2: 'invalid_input', 3: 'unavailable', 4: 'skipped' };

/** A response the incident is not waiting for: nothing is sent. */
export class NotWaitingError extends Error {
  override name = 'NotWaitingError';
  readonly code = 'not_waiting';
}

/** Errors whose message is enough for the user (no stack trace); others print a stack with DOCKMEDIC_DEBUG=1. */
const EXPECTED_ERRORS = [CliError, NotWaitingError, ConfigError, KeyFileError, AuditChainError, GatewayRefusal, GatewayUnavailable, TemporalUnavailable] as const;

/** Recognised by class (instanceof), never by a name string that any error could carry. */
export function isExpectedError(err: unknown): boolean {
  return EXPECTED_ERRORS.some((type) => err instanceof type);
}

/** What `--json` prints on stdout for a failed command, and the exit code that goes with it. */
export interface CliFailure {
  body: { error: { code: string; message: string } };
  exitCode: ExitCode;
}

/** One mapping from every error a command can end with to its stable code and exit code (README "Exit codes"). */
export function cliFailure(err: unknown): CliFailure {
  const at = (code: string, exitCode: ExitCode, message = (err as Error)?.message ?? String(err)): CliFailure => ({ body: { error: { code, message } }, exitCode });
  if (err instanceof CliError) return at(err.code, err.exitCode);
  if (err instanceof NotWaitingError) return at(err.code, EXIT.failed);
  if (err instanceof GatewayRefusal) return at(err.code, EXIT.failed);
  if (err instanceof GatewayUnavailable) return at('gateway_unavailable', EXIT.unavailable);
  if (err instanceof TemporalUnavailable) return at('temporal_unavailable', EXIT.unavailable);
  if (err instanceof ConfigError) return at('config_invalid', EXIT.badInput);
  if (err instanceof KeyFileError) return at('key_file_invalid', EXIT.badInput);
  if (err instanceof AuditChainError) return at('audit_chain_broken', EXIT.failed);
  if (err instanceof CommanderError) return at(err.code === 'commander.invalidArgument' ? 'invalid_argument' : 'usage', EXIT.badInput, err.message.replace(/^error: /, ''));
  return at('internal_error', EXIT.failed);
}
