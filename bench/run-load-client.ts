import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LoadClientInput } from './load-client';

/** Run the load client in its worker thread against `input.url` until it has made every call. */
export async function runLoadClient(input: LoadClientInput): Promise<void> {
  const worker = new Worker(join(__dirname, 'load-client.js'), { workerData: input });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
      worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`load client exited with ${code}`))));
    });
  } finally {
    await worker.terminate();
  }
}
