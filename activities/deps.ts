import type { Client } from '@temporalio/client';
import type { GatewayClient } from '../src/gateway-client';
import type { Notifier } from './notifier';

/** What the activities need, handed in by whoever builds the worker (and by tests). */
export interface ActivityDeps {
  /** The signed gateway client: the only way activities reach Docker. */
  gateway: Pick<GatewayClient, 'call'>;
  /** A Temporal client, for visibility queries (past incidents of a container). */
  temporal: Pick<Client, 'workflow'>;
  /** Where escalations go (webhook + structured log). */
  notifier: Notifier;
  settings?: ActivitySettings;
}

export interface ActivitySettings {
  /** Temporal UI base URL, e.g. http://127.0.0.1:8233; the incident's input may also carry one. */
  uiUrl?: string;
  /** Log lines kept from one fetch (the last ones). */
  logMaxLines?: number;
  /** Characters kept per log line. */
  logMaxLineChars?: number;
  /** Characters kept over all lines: history stays small. */
  logMaxChars?: number;
}

export const DEFAULT_ACTIVITY_SETTINGS = {
  logMaxLines: 40,
  logMaxLineChars: 240,
  logMaxChars: 4096,
} as const;
