/**
 * `doctor`'s advisor check against real gateways: which mode is on and why. The worker's side
 * names the model (DOCKMEDIC_MODEL); whether an upstream is configured only the gateway knows,
 * and says on /healthz (never where, never the key).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runDoctor } from '../../src/cli/commands/doctor';
import type { Check } from '../../src/cli/commands/doctor';
import { loadConfig } from '../../src/config';
import { GatewayFixture } from '../gateway/helpers/fixture';

let bare: GatewayFixture;
let proxied: GatewayFixture;

before(async () => {
  bare = await GatewayFixture.start({ suite: 'doctorbare' });
  proxied = await GatewayFixture.start({ suite: 'doctorllm', deps: { llmUpstream: { baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-test-doctor-0000000000000000' } } });
});
after(async () => {
  await bare?.close();
  await proxied?.close();
});

async function advisor(f: GatewayFixture, model?: string): Promise<Check> {
  const config = loadConfig({
    DOCKMEDIC_STATE_DIR: f.dir,
    DOCKMEDIC_GATEWAY_URL: f.url,
    DOCKMEDIC_AGENT_KEY_FILE: f.agentFile,
    DOCKMEDIC_GATEWAY_KEYS_FILE: f.keysFile,
    ...(model ? { DOCKMEDIC_MODEL: model } : {}),
  });
  const check = (await runDoctor(config)).find((c) => c.name === 'advisor');
  assert.ok(check);
  return check;
}

void describe('doctor: advisor or policy mode, and why', () => {
  void it('no model named → policy mode (ok)', async () => {
    const c = await advisor(bare);
    assert.equal(c.ok, true);
    assert.match(c.detail, /^policy mode: DOCKMEDIC_MODEL is not set/);
  });

  void it('a model named but the gateway has no upstream → not ok, says so and how to fix it', async () => {
    const c = await advisor(bare, 'gpt-test');
    assert.equal(c.ok, false);
    assert.match(c.detail, /no LLM upstream/);
    assert.match(c.fix ?? '', /OPENAI_BASE_URL/);
  });

  void it('a model named and the gateway has an upstream → advisor mode (ok)', async () => {
    const c = await advisor(proxied, 'gpt-test');
    assert.equal(c.ok, true);
    assert.match(c.detail, /^advisor mode: model gpt-test/);
    assert.ok(!c.detail.includes('sk-test-doctor') && !c.detail.includes('127.0.0.1:9'), 'neither the key nor the upstream URL');
  });

  void it('no model named while the gateway has an upstream → policy mode, and it says the model is what is missing', async () => {
    const c = await advisor(proxied);
    assert.equal(c.ok, true);
    assert.match(c.detail, /policy mode.*no model is named/);
  });
});
