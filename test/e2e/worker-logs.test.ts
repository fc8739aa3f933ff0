import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { before, it } from 'node:test';
import { repoRoot } from '../helpers/paths';
import { requireStack } from '../helpers/stack';

/**
 * `dockmedic worker` logs one JSON object per line on stderr and nothing on stdout, including
 * what the Temporal SDK itself says (the workflow bundler's webpack report, the Rust core's
 * warnings): a log shipper parsing the worker's output must never meet a line it cannot read.
 */
before(() => requireStack());

async function runWorker(env: NodeJS.ProcessEnv, ms: number): Promise<{ stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'worker'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGTERM'), ms);
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  clearTimeout(timer);
  return { stdout, stderr };
}

function assertJsonLines(stderr: string): void {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  assert.ok(lines.length > 0, 'the worker logged something');
  // The CLI's own fatal error line (`error: …`) is for people and is the process's last word.
  for (const line of lines.filter((l) => !l.startsWith('error: ') && !l.startsWith('(set DOCKMEDIC_DEBUG'))) {
    assert.doesNotThrow(() => JSON.parse(line), `not a JSON line: ${line.slice(0, 160)}`);
  }
}

void it('a worker that starts and runs: only JSON lines (no webpack report), nothing on stdout', async () => {
  const out = await runWorker({ DOCKMEDIC_TASK_QUEUE: `logs-${randomBytes(4).toString('hex')}` }, 12_000);
  assert.equal(out.stdout, '');
  assertJsonLines(out.stderr);
});

void it('a worker whose namespace does not exist: the SDK core’s warnings do not reach stdout', async () => {
  const out = await runWorker({ TEMPORAL_NAMESPACE: `nope-${randomBytes(4).toString('hex')}` }, 12_000);
  assert.equal(out.stdout, '');
  assertJsonLines(out.stderr);
});
