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

/** Error classes whose message is enough for the user (no stack trace). Others print a stack with DOCKMEDIC_DEBUG=1. */
export const EXPECTED_ERRORS = new Set(['CliError', 'ConfigError', 'KeyFileError', 'AuditChainError', 'GatewayRefusal', 'GatewayUnavailable', 'NotWaitingError']);
