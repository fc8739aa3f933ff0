/**
 * The benchmark's caller, run in a worker thread: its own event loop and heap, as a real
 * worker process would be, so its signing, parsing and garbage collection do not land in the
 * gateway's server-side timings.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GatewayClient } from '../src/gateway-client';
import type { AgentCredentials } from '../src/signing';

export interface LoadClientInput {
  url: string;
  credentials: AgentCredentials;
  container: string;
  calls: number;
}

async function main(): Promise<void> {
  const input = workerData as LoadClientInput;
  const client = new GatewayClient({ baseUrl: input.url, credentials: input.credentials });
  let refused = 0;
  for (let i = 0; i < input.calls; i++) {
    try {
      await client.call('inspect_container', { container: input.container });
    } catch {
      refused++;
    }
  }
  parentPort?.postMessage({ refused });
}

void main();
