import { ConfigError } from '../config/load';
import { AuditChainError } from '../gateway/audit/audit-log';
import { GatewayRefusal, GatewayUnavailable } from '../gateway-client/errors';
import { KeyFileError } from '../signing/key-files';

/**
 * An error the user can act on: main.ts prints `error: <message>` and exits 1, without a
 * stack trace. Commands throw it (or another known error class) for expected failures.
 */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** A response the incident is not waiting for: nothing is sent. */
export class NotWaitingError extends Error {
  override name = 'NotWaitingError';
  readonly code = 'not_waiting';
}

/** Errors whose message is enough for the user (no stack trace); others print a stack with DOCKMEDIC_DEBUG=1. */
const EXPECTED_ERRORS = [CliError, NotWaitingError, ConfigError, KeyFileError, AuditChainError, GatewayRefusal, GatewayUnavailable] as const;

/** Recognised by class (instanceof), never by a name string that any error could carry. */
export function isExpectedError(err: unknown): boolean {
  return EXPECTED_ERRORS.some((type) => err instanceof type);
}
