/**
 * Every command fails the same way for scripts (README "Exit codes"): under --json a failure is
 * `{"error":{"code","message"}}` on stdout, and the exit code says what kind of failure it was.
 * Run as a user would: the compiled CLI in a child process, Temporal pointing nowhere, so a
 * command that got past its input checks would fail as unavailable instead.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Command } from 'commander';
import { EXIT } from '../../src/cli/exit-codes';
import { buildProgram } from '../../src/cli/main';
import { repoRoot } from '../helpers/paths';

const state = mkdtempSync(join(tmpdir(), 'dm-cli-errors-'));
after(() => rmSync(state, { recursive: true, force: true }));

/** The compiled CLI (or `dockmedic` from PATH, with `onPath`), every service it could reach pointing nowhere. */
function cli(args: string[], opts: { env?: Record<string, string>; onPath?: boolean } = {}): { status: number | null; stdout: string; stderr: string } {
  const env = { PATH: process.env.PATH ?? '', DOCKMEDIC_STATE_DIR: state, TEMPORAL_ADDRESS: '127.0.0.1:1', REDIS_URL: 'redis://127.0.0.1:1', DOCKMEDIC_GATEWAY_URL: 'http://127.0.0.1:1', ...opts.env };
  const [cmd, prefix] = opts.onPath ? ['dockmedic', []] : [process.execPath, [join(repoRoot, 'dist/src/cli/main.js')]];
  const r = spawnSync(cmd, [...prefix, ...args], { encoding: 'utf8', timeout: 30_000, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function jsonError(stdout: string): { code: string; message: string } {
  const parsed = JSON.parse(stdout) as { error?: { code?: unknown; message?: unknown } };
  assert.equal(typeof parsed.error?.code, 'string', stdout);
  assert.equal(typeof parsed.error?.message, 'string', stdout);
  return parsed.error as { code: string; message: string };
}

/** Leaf commands with a --json option, as `['drill', 'run']`. */
function jsonCommands(cmd: Command, path: string[] = []): string[][] {
  const here = cmd.options.some((o) => o.long === '--json') ? [path] : [];
  return [...here, ...cmd.commands.flatMap((sub) => jsonCommands(sub, [...path, sub.name()]))];
}

describe('--json failures are uniform across every command', () => {
  const commands = jsonCommands(buildProgram());
  it('finds the commands that print JSON', () => {
    assert.ok(commands.length >= 12, commands.map((c) => c.join(' ')).join(', '));
  });
  for (const path of commands) {
    it(`${path.join(' ')}: an unknown option → exit 2, {"error":{"code":"usage"}}`, () => {
      const r = cli([...path, '--json', '--no-such-option']);
      assert.equal(r.status, EXIT.badInput, r.stderr);
      assert.equal(jsonError(r.stdout).code, 'usage');
    });
  }
});

describe('each kind of failure has its code and exit code', () => {
  const cases: [string, string[], number, string][] = [
    ['a bad option value', ['incidents', 'list', '--limit', '0', '--json'], EXIT.badInput, 'invalid_argument'],
    ['an unknown answer', ['respond', 'incident-x-y', 'maybe', '--by', 'a', '--json'], EXIT.badInput, 'invalid_argument'],
    ['an unknown drill scenario', ['drill', 'run', 'no-such-scenario', '--json'], EXIT.badInput, 'unknown_scenario'],
    ['a missing audit file', ['audit', 'verify', join(state, 'missing.jsonl'), '--json'], EXIT.badInput, 'unreadable'],
    ['a bad setting', ['incidents', 'list', '--json'], EXIT.badInput, 'config_invalid'],
    ['Temporal down', ['incidents', 'list', '--json'], EXIT.unavailable, 'temporal_unavailable'],
  ];
  for (const [what, args, exit, code] of cases) {
    it(what, () => {
      const r = cli(args, what === 'a bad setting' ? { env: { DOCKMEDIC_GATEWAY_PORT: 'lots' } } : {});
      assert.equal(r.status, exit, r.stderr);
      assert.equal(jsonError(r.stdout).code, code);
    });
  }
  it('without --json nothing is printed on stdout, and the exit code is the same', () => {
    const r = cli(['respond', 'incident-x-y', 'maybe', '--by', 'a']);
    assert.equal(r.status, EXIT.badInput);
    assert.equal(r.stdout, '');
  });
});

describe('dockmedic on PATH (installed by make setup)', () => {
  it('runs this checkout from any directory', () => {
    const which = spawnSync('sh', ['-c', 'command -v dockmedic'], { encoding: 'utf8' });
    assert.equal(which.status, 0, 'dockmedic is not on PATH: run `make setup` (scripts/setup.sh installs it)');
    const r = cli(['respond', 'incident-x-y', 'maybe', '--by', 'a', '--json'], { onPath: true });
    assert.equal(r.status, EXIT.badInput, r.stderr);
    assert.equal(jsonError(r.stdout).code, 'invalid_argument');
    const launcher = spawnSync('cat', [which.stdout.trim()], { encoding: 'utf8' }).stdout;
    assert.ok(launcher.includes(join(repoRoot, 'dist/src/cli/main.js')), `the launcher on PATH runs another checkout:\n${launcher}`);
  });
});
