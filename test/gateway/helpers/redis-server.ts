import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';

/** Shared with test/helpers/processes.ts: pid files of processes tests started. */
const PID_DIR = '/tmp/dockmedic-test-pids';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function ping(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (c) => {
      reply += c.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/** Fail (never skip) when redis-server is not installed. */
export function requireRedisServer(): void {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error('redis-server is not installed (the gateway tests start their own private Redis): apt-get install redis-server, or run `make setup`');
  }
}

/** End redis-server processes an interrupted run of this suite left behind (checked by command line, so a reused pid is spared). */
export function killLeftoverRedis(suite: string): void {
  mkdirSync(PID_DIR, { recursive: true });
  for (const file of readdirSync(PID_DIR)) {
    if (!file.startsWith(`gateway-redis-${suite}-`)) continue;
    const pid = Number(readFileSync(join(PID_DIR, file), 'utf8').trim().split(/\s+/)[0]);
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server')) process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    rmSync(join(PID_DIR, file), { force: true });
  }
}

/**
 * A private redis-server on a free loopback port, owned by one test file, so a test can stop
 * and restart it without disturbing anyone else. No persistence, like the real stack's Redis.
 */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private pidFile: string | null = null;

  private constructor(
    readonly suite: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(suite: string): Promise<PrivateRedis> {
    const r = await PrivateRedis.allocate(suite);
    await r.start();
    return r;
  }

  /**
   * Its port and URL, not started yet: an end-to-end stack is given the URL first, then the
   * server is started (startE2eStack ends every process an earlier run of this process recorded).
   */
  static async allocate(suite: string): Promise<PrivateRedis> {
    requireRedisServer();
    killLeftoverRedis(suite);
    return new PrivateRedis(suite, await freePort());
  }

  async start(): Promise<void> {
    if (this.child) return;
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    this.child = child;
    mkdirSync(PID_DIR, { recursive: true });
    this.pidFile = join(PID_DIR, `gateway-redis-${this.suite}-${child.pid}`);
    // `<pid> <owner>`, the format test/helpers/processes.ts reads: a concurrent run's clean-up spares a live owner's server.
    writeFileSync(this.pidFile, `${child.pid} ${process.pid}`);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`redis-server on port ${this.port} exited: ${stderr.slice(-500)}`);
      if (await ping(this.port, 200)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING within 5 s`);
  }

  /** Freeze the server (SIGSTOP): connections stay open but nothing answers — a hung store. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    }
    if (this.pidFile) rmSync(this.pidFile, { force: true });
  }
}
