import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { Config, ConfigError, loadConfig } from '../../src/config';
import { INCIDENT_LIMITS, incidentInputProblems } from '../../src/contract/incident-input';
import { incidentInputFrom } from '../../src/watcher/incident-starter';
import { repoRoot } from '../helpers/paths';

const CLI = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

function assertConfigError(env: Record<string, string>, variable: string, message?: RegExp): void {
  assert.throws(
    () => loadConfig(env),
    (err: unknown) => err instanceof ConfigError && err.message.includes(`${variable}:`) && (!message || message.test(err.message)),
    `${JSON.stringify(env)} must be refused, naming ${variable}`,
  );
}

/** Every variable of the schema whose default is a number. */
const NUMERIC_VARS: string[] = Object.entries(Config.in.shape)
  .filter(([, schema]) => schema instanceof z.ZodDefault && typeof schema.def.defaultValue === 'number')
  .map(([name]) => name);

describe('DOCKMEDIC_GATEWAY_PORT', () => {
  it('accepts 0 (a free port the OS chooses), 1 and 65535; an empty value means the default', () => {
    assert.equal(loadConfig({ DOCKMEDIC_GATEWAY_PORT: '0' }).gateway.port, 0);
    assert.equal(loadConfig({ DOCKMEDIC_GATEWAY_PORT: '1' }).gateway.port, 1);
    assert.equal(loadConfig({ DOCKMEDIC_GATEWAY_PORT: '65535' }).gateway.port, 65535);
    assert.equal(loadConfig({ DOCKMEDIC_GATEWAY_PORT: '' }).gateway.port, 7801);
    assert.equal(loadConfig({}).gateway.port, 7801);
  });

  it('refuses ports above 65535, naming the variable', () => {
    assertConfigError({ DOCKMEDIC_GATEWAY_PORT: '70000' }, 'DOCKMEDIC_GATEWAY_PORT', /0–65535/);
    assertConfigError({ DOCKMEDIC_GATEWAY_PORT: '65536' }, 'DOCKMEDIC_GATEWAY_PORT', /0–65535/);
  });

  it('refuses a blank value instead of reading it as port 0', () => {
    for (const v of [' ', '   ', '\t']) assertConfigError({ DOCKMEDIC_GATEWAY_PORT: v }, 'DOCKMEDIC_GATEWAY_PORT', /digits only/);
  });

  it('refuses anything but digits', () => {
    for (const v of ['-1', '80.5', '1e3', '0x10', '+80', ' 80', '80 ', 'http']) assertConfigError({ DOCKMEDIC_GATEWAY_PORT: v }, 'DOCKMEDIC_GATEWAY_PORT');
  });

  it('`dockmedic gateway` stops before listening, naming the variable', () => {
    const state = mkdtempSync(join(tmpdir(), 'dockmedic-config-validation-'));
    try {
      for (const v of ['70000', ' ']) {
        const r = spawnSync(process.execPath, [CLI, 'gateway'], {
          encoding: 'utf8',
          timeout: 30_000,
          env: { PATH: process.env.PATH ?? '', DOCKMEDIC_STATE_DIR: state, DOCKMEDIC_GATEWAY_PORT: v, REDIS_URL: 'redis://127.0.0.1:1', DOCKER_SOCKET: join(state, 'no-docker.sock') },
        });
        assert.notEqual(r.status, 0, `port ${JSON.stringify(v)}: exit code`);
        assert.match(r.stderr, /invalid configuration:\n\s+DOCKMEDIC_GATEWAY_PORT: /);
        assert.doesNotMatch(r.stderr, /DOCKMEDIC_DEBUG/);
        assert.deepEqual(readdirSync(state), [], 'nothing may be written to the state dir');
      }
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
});

describe('numeric variables', () => {
  it('the schema has the numeric variables this test walks through', () => {
    assert.ok(NUMERIC_VARS.length >= 20, NUMERIC_VARS.join(', '));
    for (const v of ['DOCKMEDIC_GATEWAY_PORT', 'DOCKMEDIC_CLOCK_SKEW_SECONDS', 'DOCKMEDIC_MEMORY_FACTOR', 'DOCKMEDIC_LLM_MAX_TURNS']) assert.ok(NUMERIC_VARS.includes(v), v);
  });

  it('every one refuses a blank value, naming the variable', () => {
    for (const name of NUMERIC_VARS) assertConfigError({ [name]: ' ' }, name);
  });

  it('every one refuses hex, exponents, signs, Infinity and trailing garbage', () => {
    for (const name of NUMERIC_VARS) for (const v of ['0x10', '1e3', '-1', '+5', 'Infinity', '5abc']) assertConfigError({ [name]: v }, name);
  });

  it('every one still takes its default as digits', () => {
    const defaults = loadConfig({});
    for (const name of NUMERIC_VARS) {
      const schema = Config.in.shape[name as keyof typeof Config.in.shape] as z.ZodDefault;
      assert.deepEqual(loadConfig({ [name]: String(schema.def.defaultValue) }), defaults, name);
    }
  });

  it('factors may be decimals; whole-number settings may not', () => {
    assert.equal(loadConfig({ DOCKMEDIC_MEMORY_FACTOR: '1.5' }).policy.memoryFactor, 1.5);
    assertConfigError({ DOCKMEDIC_MEMORY_FACTOR: '1.' }, 'DOCKMEDIC_MEMORY_FACTOR');
    assertConfigError({ DOCKMEDIC_CLOCK_SKEW_SECONDS: '1.5' }, 'DOCKMEDIC_CLOCK_SKEW_SECONDS');
  });

  it('numbers beyond the safe integer range are refused', () => {
    assertConfigError({ DOCKMEDIC_MEMORY_CEILING_BYTES: '99999999999999999999' }, 'DOCKMEDIC_MEMORY_CEILING_BYTES');
  });

  it('ladder seconds are digits too', () => {
    assert.deepEqual(loadConfig({ DOCKMEDIC_LADDER: 'a:30, b: 40' }).escalation.ladder, [
      { name: 'a', timeoutSeconds: 30 },
      { name: 'b', timeoutSeconds: 40 },
    ]);
    for (const v of ['a:1e3', 'a:0x10', 'a: ', 'a:', 'a:-5', 'a:2.5']) assertConfigError({ DOCKMEDIC_LADDER: v }, 'DOCKMEDIC_LADDER');
  });
});

describe('settings the incident workflow would refuse stop the process at start-up', () => {
  const container = { name: 'web', id: 'a'.repeat(64) };
  const trigger = { kind: 'die', time: '2026-01-01T00:00:00.000Z', exitCode: 1 } as const;

  it('the LLM turn budget and timeout are bounded by the incident input limits, naming the variable', () => {
    assertConfigError({ DOCKMEDIC_LLM_MAX_TURNS: String(INCIDENT_LIMITS.llmMaxTurns.max + 5) }, 'DOCKMEDIC_LLM_MAX_TURNS');
    assertConfigError({ DOCKMEDIC_LLM_MAX_TURNS: '0' }, 'DOCKMEDIC_LLM_MAX_TURNS');
    assertConfigError({ DOCKMEDIC_LLM_TIMEOUT_SECONDS: String(INCIDENT_LIMITS.llmTimeoutSeconds.max + 1) }, 'DOCKMEDIC_LLM_TIMEOUT_SECONDS');
    assertConfigError({ DOCKMEDIC_LADDER: `${'n'.repeat(INCIDENT_LIMITS.ladderLevelName.max + 1)}:60` }, 'DOCKMEDIC_LADDER');
    assertConfigError({ TEMPORAL_UI_URL: `http://127.0.0.1/${'u'.repeat(INCIDENT_LIMITS.uiUrlChars)}` }, 'TEMPORAL_UI_URL');
  });

  it('every configuration the schema accepts, at its bounds, gives an incident input the workflow accepts', () => {
    const edges: Record<string, string>[] = [
      {},
      { DOCKMEDIC_MODEL: 'm', DOCKMEDIC_LLM_MAX_TURNS: String(INCIDENT_LIMITS.llmMaxTurns.max), DOCKMEDIC_LLM_TIMEOUT_SECONDS: String(INCIDENT_LIMITS.llmTimeoutSeconds.max) },
      { DOCKMEDIC_MODEL: 'm', DOCKMEDIC_LLM_MAX_TURNS: String(INCIDENT_LIMITS.llmMaxTurns.min), DOCKMEDIC_LLM_TIMEOUT_SECONDS: String(INCIDENT_LIMITS.llmTimeoutSeconds.min) },
      { DOCKMEDIC_LADDER: `${'n'.repeat(INCIDENT_LIMITS.ladderLevelName.max)}:1`, DOCKMEDIC_RESOLVE_TIMEOUT_SECONDS: '1', DOCKMEDIC_HOST: 'h'.repeat(63) },
      { TEMPORAL_UI_URL: `http://127.0.0.1/${'u'.repeat(INCIDENT_LIMITS.uiUrlChars - 17)}` },
      Object.fromEntries(NUMERIC_VARS.filter((n) => n.startsWith('DOCKMEDIC_MEMORY') || n.includes('RECURRENCE') || n.includes('CRASHLOOP') || n === 'DOCKMEDIC_STABILIZATION_SECONDS').map((n) => [n, n === 'DOCKMEDIC_CRASHLOOP_DEATHS' ? '2' : '1'])),
    ];
    for (const env of edges) {
      const input = incidentInputFrom(loadConfig(env), container, trigger);
      assert.deepEqual(incidentInputProblems(input), [], JSON.stringify(env));
    }
  });

  it('`dockmedic worker` with DOCKMEDIC_LLM_MAX_TURNS=25 exits before connecting, naming the variable', () => {
    const state = mkdtempSync(join(tmpdir(), 'dockmedic-config-validation-'));
    try {
      const r = spawnSync(process.execPath, [CLI, 'worker'], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { PATH: process.env.PATH ?? '', DOCKMEDIC_STATE_DIR: state, DOCKMEDIC_LLM_MAX_TURNS: '25', DOCKMEDIC_MODEL: 'm', TEMPORAL_ADDRESS: '127.0.0.1:1' },
      });
      assert.notEqual(r.status, 0, 'exit code');
      assert.match(r.stderr, /invalid configuration:\n\s+DOCKMEDIC_LLM_MAX_TURNS: /);
      assert.deepEqual(readdirSync(state), [], 'nothing may be written to the state dir');
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
});

describe('DOCKMEDIC_STORM_COUNT', () => {
  it('defaults to 5 within 30 s; 0 turns storms off; 1 (every incident a storm) and non-digits are refused', () => {
    assert.deepEqual(loadConfig({}).escalation.storm, { count: 5, windowSeconds: 30 });
    assert.equal(loadConfig({ DOCKMEDIC_STORM_COUNT: '0' }).escalation.storm.count, 0);
    assertConfigError({ DOCKMEDIC_STORM_COUNT: '1' }, 'DOCKMEDIC_STORM_COUNT', /0 \(off\) or at least 2/);
    assertConfigError({ DOCKMEDIC_STORM_COUNT: 'five' }, 'DOCKMEDIC_STORM_COUNT');
    assertConfigError({ DOCKMEDIC_STORM_WINDOW_SECONDS: '0' }, 'DOCKMEDIC_STORM_WINDOW_SECONDS');
  });
});
