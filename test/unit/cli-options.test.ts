import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command, Option } from 'commander';
import { InvalidArgumentError } from 'commander';
import { fromSchema, nonNegativeInt, positiveInt } from '../../src/cli/options';
import { buildProgram } from '../../src/cli/main';
import { AgentId, readAgentFile, readGatewayKeysFile } from '../../src/signing';
import { repoRoot } from '../helpers/paths';

const CLI = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const BAD_NUMBERS = ['abc', '', ' ', '-1', '-5', '2.5', '1e3', '0x10', '+3', '3abc', '99999999999999999999'];

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'dockmedic-cli-options-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A fresh, empty state directory under this file's temp root. */
function stateDir(): string {
  return mkdtempSync(join(root, 'state-'));
}

/**
 * Run the compiled CLI with an environment pointing nowhere useful: if a command got past its
 * option checks, it would fail on a connection (a different message) or write into the state dir.
 */
function runCli(args: string[], state: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      PATH: process.env.PATH ?? '',
      DOCKMEDIC_STATE_DIR: state,
      DOCKMEDIC_HOST: 'unit-test',
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      REDIS_URL: 'redis://127.0.0.1:1',
      DOCKER_SOCKET: join(state, 'no-docker.sock'),
      DOCKMEDIC_GATEWAY_PORT: '0',
      ...env,
    },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertRejected(parse: (v: string) => unknown, value: string, name: string): void {
  assert.throws(
    () => parse(value),
    (err: unknown) => err instanceof InvalidArgumentError && err.message.includes(name),
    `${JSON.stringify(value)} must be refused, naming ${name}`,
  );
}

describe('numeric option parsers', () => {
  it('positiveInt accepts whole numbers ≥ 1 given as digits', () => {
    const p = positiveInt('--limit');
    assert.equal(p('1'), 1);
    assert.equal(p('50'), 50);
    assert.equal(p('007'), 7);
  });

  it('positiveInt refuses 0, negatives, fractions, blanks and non-digits, naming the flag', () => {
    const p = positiveInt('--limit');
    for (const v of ['0', ...BAD_NUMBERS]) assertRejected(p, v, '--limit');
  });

  it('nonNegativeInt accepts 0 and refuses the rest the same way', () => {
    const p = nonNegativeInt('--reconcile-window');
    assert.equal(p('0'), 0);
    assert.equal(p('3600'), 3600);
    for (const v of BAD_NUMBERS) assertRejected(p, v, '--reconcile-window');
  });

  it('fromSchema(AgentId) applies the key files’ agent id rule', () => {
    const p = fromSchema('--agent', AgentId);
    assert.equal(p('worker'), 'worker');
    assert.equal(p('dockmedic-worker.2_b'), 'dockmedic-worker.2_b');
    for (const v of ['', 'a b', ' worker', 'a/b', 'x'.repeat(65)]) assertRejected(p, v, '--agent');
  });

  it('every option with a numeric default in every command refuses a bad value when parsed', () => {
    const numeric: string[] = [];
    const visit = (cmd: Command, path: string) => {
      for (const opt of cmd.options as readonly Option[]) {
        if (typeof opt.defaultValue !== 'number') continue;
        numeric.push(`${path} ${opt.long}`);
        assert.ok(opt.parseArg, `${path} ${opt.long} has no argument parser`);
        for (const v of ['abc', '-5', '2.5', ' ']) {
          assert.throws(() => opt.parseArg!(v, opt.defaultValue), InvalidArgumentError, `${path} ${opt.long} accepted ${JSON.stringify(v)}`);
        }
      }
      for (const sub of cmd.commands) visit(sub, `${path} ${sub.name()}`);
    };
    visit(buildProgram(), 'dockmedic');
    // The three known ones; a new numeric option is covered by the loop above.
    for (const known of ['dockmedic up --reconcile-window', 'dockmedic watcher --reconcile-window', 'dockmedic incidents list --limit']) {
      assert.ok(numeric.includes(known), `${known} not found among ${numeric.join(', ')}`);
    }
  });
});

describe('the CLI refuses bad numeric flags before doing anything', () => {
  const cases: [string[], string][] = [
    [['watcher', '--reconcile-window', 'abc'], '--reconcile-window'],
    [['watcher', '--reconcile-window', '-5'], '--reconcile-window'],
    [['up', '--reconcile-window', 'abc'], '--reconcile-window'],
    [['up', '--reconcile-window', '-5'], '--reconcile-window'],
    [['incidents', 'list', '--limit', 'abc'], '--limit'],
    [['incidents', 'list', '--limit', '0'], '--limit'],
    [['incidents', 'list', '--limit', '-1'], '--limit'],
    [['incidents', 'list', '--limit', '2.5'], '--limit'],
  ];
  for (const [args, flag] of cases) {
    it(`dockmedic ${args.join(' ')}`, () => {
      const state = stateDir();
      const r = runCli(args, state);
      assert.notEqual(r.status, 0, `exit code (stderr: ${r.stderr})`);
      assert.match(r.stderr, new RegExp(`option '${flag}\\b[^']*' argument '${args.at(-1)!.replace('.', '\\.')}' is invalid`));
      assert.match(r.stderr, new RegExp(`${flag} must be a whole number`));
      assert.deepEqual(readdirSync(state), [], 'nothing may be written to the state dir');
    });
  }
});

describe('keys init', () => {
  for (const agent of ['', 'a b']) {
    it(`refuses --agent ${JSON.stringify(agent)} and writes nothing`, () => {
      const state = stateDir();
      const r = runCli(['keys', 'init', '--agent', agent], state);
      assert.notEqual(r.status, 0, `exit code (stdout: ${r.stdout})`);
      assert.match(r.stderr, /option '--agent <id>' argument '[^']*' is invalid\. --agent: agent id must be/);
      assert.deepEqual(readdirSync(state), [], 'nothing may be written to the state dir');
    });
  }

  it('checks both destinations first: an agent file whose parent is a regular file writes no keys file', () => {
    const state = stateDir();
    const blocker = join(state, 'not-a-dir');
    writeFileSync(blocker, '');
    const keysFile = join(state, 'keys', 'gateway-keys.json');
    const agentFile = join(blocker, 'agent.json');
    const r = runCli(['keys', 'init', '--keys-file', keysFile, '--agent-file', agentFile], state);
    assert.notEqual(r.status, 0);
    assert.equal(existsSync(keysFile), false, 'the gateway keys file must not be written');
    assert.deepEqual(readdirSync(state), ['not-a-dir']);
    assert.match(r.stderr, new RegExp(`cannot create the agent key file .*: .*not-a-dir is not a directory; nothing was written`));
    assert.doesNotMatch(r.stderr, /EEXIST|ENOTDIR|DOCKMEDIC_DEBUG/);
  });

  it('the same check applies to the gateway keys file', () => {
    const state = stateDir();
    const blocker = join(state, 'not-a-dir');
    writeFileSync(blocker, '');
    const agentFile = join(state, 'keys', 'agent.json');
    const r = runCli(['keys', 'init', '--keys-file', join(blocker, 'sub', 'gw.json'), '--agent-file', agentFile], state);
    assert.notEqual(r.status, 0);
    assert.equal(existsSync(agentFile), false);
    assert.match(r.stderr, /cannot create the gateway keys file .*not-a-dir is not a directory/);
  });

  it('rolls the gateway keys file back when writing the agent file fails anyway', () => {
    const state = stateDir();
    const keysFile = join(state, 'keys', 'gateway-keys.json');
    // Its directory can be created, but the file name is too long for the file system.
    const agentFile = join(state, 'keys', `${'a'.repeat(300)}.json`);
    const r = runCli(['keys', 'init', '--keys-file', keysFile, '--agent-file', agentFile], state);
    assert.notEqual(r.status, 0);
    assert.equal(existsSync(keysFile), false, 'half a pair was left behind');
    assert.doesNotMatch(r.stderr, /DOCKMEDIC_DEBUG/);
  });

  it('refuses one path for both files', () => {
    const state = stateDir();
    const file = join(state, 'keys.json');
    const r = runCli(['keys', 'init', '--keys-file', file, '--agent-file', file], state);
    assert.notEqual(r.status, 0);
    assert.equal(existsSync(file), false);
    assert.match(r.stderr, /must be two files/);
  });

  it('with a valid agent id, writes a pair that later commands accept', () => {
    const state = stateDir();
    const r = runCli(['keys', 'init', '--agent', 'unit-agent'], state);
    assert.equal(r.status, 0, r.stderr);
    const agent = readAgentFile(join(state, 'keys', 'agent.json'));
    assert.equal(agent.agentId, 'unit-agent');
    assert.ok(readGatewayKeysFile(join(state, 'keys', 'gateway-keys.json')).agents['unit-agent']);
    const list = runCli(['keys', 'list', '--json'], state);
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual((JSON.parse(list.stdout) as { agentId: string; inUse: boolean }[]).map((k) => [k.agentId, k.inUse]), [['unit-agent', true]]);
  });
});
