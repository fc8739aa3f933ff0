import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';

/** Temporal's frontend did not answer: nothing was read or sent. */
export class TemporalUnavailable extends Error {
  override name = 'TemporalUnavailable';
}

/** Connect a Temporal client with the configured address and namespace. */
export async function connectTemporal(config: Config, opts: { connectTimeoutMs?: number } = {}): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address: config.temporal.address,
      connectTimeout: opts.connectTimeoutMs ?? 5_000,
    });
  } catch (err) {
    // The SDK's message ("Failed to connect before the deadline") does not say where it tried.
    throw new TemporalUnavailable(`Temporal at ${config.temporal.address} (TEMPORAL_ADDRESS) did not answer: ${(err as Error).message}`, { cause: err });
  }
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** The Temporal UI page of one workflow. */
export function workflowUiUrl(config: Config, workflowId: string): string {
  return `${config.temporal.uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
