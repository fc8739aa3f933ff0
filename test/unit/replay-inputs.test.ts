/**
 * What `dockmedic replay` accepts from people: the --what-if env file (parsed over the current
 * environment by the start-up config schema), the --since window, and the line it prints for a
 * history that no longer replays.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorLine } from '../../src/replay/determinism';
import { configWithEnvFile, EnvFileError, parseEnvFile } from '../../src/replay/env-file';
import { closedIncidentQuery } from '../../src/replay/incident-histories';
import { parseSince } from '../../src/replay/since';

const tmp = mkdtempSync(join(tmpdir(), 'dockmedic-replay-inputs-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function envFile(text: string): string {
  const file = join(tmp, `${Math.random().toString(36).slice(2)}.env`);
  writeFileSync(file, text);
  return file;
}

function refused(text: string, env: NodeJS.ProcessEnv, names: RegExp): void {
  assert.throws(() => configWithEnvFile(envFile(text), env), (err: unknown) => err instanceof EnvFileError && names.test(err.message), `${JSON.stringify(text)} must be refused, matching ${names}`);
}

void describe('the --what-if env file', () => {
  void it('reads KEY=VALUE lines with comments, blank lines, export and quotes', () => {
    assert.deepEqual(parseEnvFile('# lower cap\n\nexport DOCKMEDIC_MEMORY_MAX_FACTOR = 1.5\nDOCKMEDIC_LADDER="a:1,b:2"\nDOCKMEDIC_MODEL=\'m # x\'\nOTHER=x=y\r\n', 'f'), {
      DOCKMEDIC_MEMORY_MAX_FACTOR: '1.5',
      DOCKMEDIC_LADDER: 'a:1,b:2',
      DOCKMEDIC_MODEL: 'm # x',
      OTHER: 'x=y',
    });
  });

  void it('applies over the current environment: the file wins, the rest of the environment stays', () => {
    const { config } = configWithEnvFile(envFile('DOCKMEDIC_MEMORY_MAX_FACTOR=1.5\n'), { DOCKMEDIC_MEMORY_MAX_FACTOR: '3', DOCKMEDIC_CRASHLOOP_DEATHS: '5' });
    assert.equal(config.policy.memoryMaxFactor, 1.5);
    assert.equal(config.policy.crashLoopDeaths, 5);
  });

  void it('refuses a bad value through the start-up schema, naming the variable and the file', () => {
    refused('DOCKMEDIC_MEMORY_MAX_FACTOR=abc\n', {}, /\.env \(over the current environment\)[\s\S]*DOCKMEDIC_MEMORY_MAX_FACTOR:/);
    refused('DOCKMEDIC_CRASHLOOP_DEATHS=1\n', {}, /DOCKMEDIC_CRASHLOOP_DEATHS:/);
    refused('DOCKMEDIC_LADDER=nobody\n', {}, /DOCKMEDIC_LADDER:/);
  });

  void it('refuses a malformed line and a DOCKMEDIC_ name the schema does not know, with the line number', () => {
    refused('DOCKMEDIC_MEMORY_FACTOR=2\njust words\n', {}, /\.env:2: expected KEY=VALUE/);
    refused('=1\n', {}, /\.env:1: expected KEY=VALUE/);
    refused('\nDOCKMEDIC_MEMORY_FACTR=3\n', {}, /\.env:2: DOCKMEDIC_MEMORY_FACTR is not a dockmedic setting/);
  });

  void it('refuses a file that cannot be read', () => {
    assert.throws(() => configWithEnvFile(join(tmp, 'missing.env'), {}), (err: unknown) => err instanceof EnvFileError && /missing\.env cannot be read \(ENOENT\)/.test(err.message));
  });
});

void describe('--since', () => {
  const now = new Date('2026-12-03T12:00:00Z');
  void it('takes a window back from now, or an ISO-8601 time', () => {
    assert.deepEqual(parseSince('24h', now), new Date('2026-12-02T12:00:00Z'));
    assert.deepEqual(parseSince('7d', now), new Date('2026-11-26T12:00:00Z'));
    assert.deepEqual(parseSince('90s', now), new Date('2026-12-03T11:58:30Z'));
    assert.deepEqual(parseSince('2026-12-01T00:00:00Z', now), new Date('2026-12-01T00:00:00Z'));
    assert.deepEqual(parseSince('2026-12-01', now), new Date('2026-12-01T00:00:00Z'));
  });
  void it('says what is wrong with anything else', () => {
    for (const bad of ['yesterday', '0h', '-1d', '24', '1.5h', '2026-13-45', '']) {
      const r = parseSince(bad, now);
      assert.equal(typeof r, 'string', `${JSON.stringify(bad)} must be refused`);
      assert.match(r as string, /^--since /);
    }
  });
  void it('selects closed incident runs of the incident workflow type, by id, host and close time', () => {
    assert.equal(
      closedIncidentQuery({ since: new Date('2026-12-01T00:00:00Z'), id: 'incident-h-web', host: 'h' }),
      "WorkflowType = 'incidentWorkflow' AND ExecutionStatus != 'Running' AND WorkflowId = 'incident-h-web' AND DockmedicHost = 'h' AND CloseTime >= '2026-12-01T00:00:00.000Z'",
    );
  });
});

void describe('the line printed for a history that no longer replays', () => {
  void it("is the core's own nondeterminism message, not the SDK's explanation or its debug dump", () => {
    const sdk =
      'Replay failed with a nondeterminism error. This means that the workflow code as written is not compatible with the history that was fed in. Details: Workflow activation completion failed: Failure { failure: Some(Failure { message: "[TMPRL1100] Nondeterminism error: Activity type of scheduled event \'inspectContainer\' does not match activity type of activity command \'restartContainer\'", source: "" }) }';
    assert.equal(errorLine(sdk), "[TMPRL1100] Nondeterminism error: Activity type of scheduled event 'inspectContainer' does not match activity type of activity command 'restartContainer'");
    assert.equal(errorLine('\nWorkflow type incidentWorkflow is not registered\n  at stack'), 'Workflow type incidentWorkflow is not registered');
  });
});
