import type { RefusalCode } from '../contract/gateway';
import { REFUSALS } from '../contract/gateway';

/**
 * A request the gateway will not carry out. Thrown by any pipeline step; the server turns it
 * into a `RefusalBody` with the code's HTTP status, audits it, and executes nothing.
 */
export class Refusal extends Error {
  override name = 'Refusal';
  constructor(
    readonly code: RefusalCode,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }

  get status(): number {
    return REFUSALS[this.code];
  }
}

export function isRefusal(err: unknown): err is Refusal {
  return err instanceof Refusal;
}
