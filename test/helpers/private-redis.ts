import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from '../../src/runtime/free-port';
import type { Spawned } from './processes';
import { spawnTracked } from './processes';

/**
 * A redis-server of a test's own (its own port and directory, append-only like the stack's), for
 * faults that must not touch the shared one: `kill()` is a crash, `start()` brings it back with
 * the same data. Not started yet: start it after startE2eStack, which ends every process an
 * earlier run recorded (this one's too); the gateway waits for its store.
 */
export interface PrivateRedis {
  url: string;
  kill(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freeLoopbackPort();
  const dir = mkdtempSync(join(tmpdir(), 'dockmedic-redis-'));
  let proc: Spawned | undefined;
  const start = async () => {
    proc = spawnTracked(`redis-${port}`, 'redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--save', '']);
    await proc.waitFor(/Ready to accept connections/, 15_000);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    kill: async () => proc?.stop('SIGKILL'),
    start,
    close: async () => {
      await proc?.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
