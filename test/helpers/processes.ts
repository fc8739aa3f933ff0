import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths';

/** Pid files of processes tests started, so a later run can end what an interrupted one left. */
const PID_DIR = '/tmp/dockmedic-test-pids';

export interface Spawned {
  name: string;
  child: ChildProcess;
  /** Everything the process wrote, stdout and stderr interleaved. */
  output: () => string;
  /** Resolves when a line matching `re` appears in the output. */
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<void>;
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

/** Whether a process with this pid exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Kill processes recorded by an earlier, interrupted test run: those whose owning test process
 * is gone. A concurrent run's processes (owner alive) are left alone.
 */
export function killLeftoverProcesses(): number {
  mkdirSync(PID_DIR, { recursive: true });
  let killed = 0;
  for (const file of readdirSync(PID_DIR)) {
    const [pid, owner] = readFileSync(join(PID_DIR, file), 'utf8').trim().split(/\s+/).map(Number);
    if (owner !== undefined && Number.isInteger(owner) && owner !== process.pid && processAlive(owner)) continue;
    if (pid !== undefined && Number.isInteger(pid) && pid > 1 && pid !== process.pid && processAlive(pid)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      killed++;
    }
    rmSync(join(PID_DIR, file), { force: true });
  }
  return killed;
}

/** Start `node dist/src/cli/main.js <args>` as its own process group, recorded for clean-up. */
export function spawnDockmedic(name: string, args: string[], env: NodeJS.ProcessEnv): Spawned {
  mkdirSync(PID_DIR, { recursive: true });
  const child = spawn(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pidFile = join(PID_DIR, `${name}-${child.pid}`);
  writeFileSync(pidFile, `${child.pid} ${process.pid}`);
  let out = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    if (process.env.DOCKMEDIC_TEST_VERBOSE) process.stderr.write(`[${name}] ${chunk.toString()}`);
    for (const w of [...waiters]) {
      if (w.re.test(out)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => rmSync(pidFile, { force: true }));
  return {
    name,
    child,
    output: () => out,
    waitFor: (re, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(out)) return resolve();
        const timer = setTimeout(() => reject(new Error(`${name}: no output matching ${re} within ${timeoutMs} ms; output so far:\n${out.slice(-3000)}`)), timeoutMs);
        waiters.push({ re, resolve: () => (clearTimeout(timer), resolve()) });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (code ${child.exitCode}) before printing ${re}; output:\n${out.slice(-3000)}`));
        });
      }),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-(child.pid ?? 0), signal);
      } catch {
        child.kill(signal);
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-(child.pid ?? 0), 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
