import type { RefusalCode } from '../contract/gateway';

/** The gateway refused a call. `code` is the gateway's stable refusal code. */
export class GatewayRefusal extends Error {
  override name = 'GatewayRefusal';
  constructor(
    readonly code: RefusalCode,
    readonly status: number,
    message: string,
    readonly retryAfterSeconds?: number,
    /** The gateway's request id (its audit record's `requestId`). */
    readonly requestId?: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** The gateway could not be reached or answered something that is not the protocol. */
export class GatewayUnavailable extends Error {
  override name = 'GatewayUnavailable';
}
