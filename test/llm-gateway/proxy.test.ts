/**
 * The gateway's LLM proxy (issue 4, docs/architecture.md §4 "LLM proxy") on real HTTP: the real `openai`
 * client signs through the gateway, which runs the shared pipeline against a real Redis, checks
 * the per-agent token window, and forwards to a scripted OpenAI-compatible upstream with the
 * key only the gateway holds. Asserted by effect: what the upstream received, what the caller
 * got, what the audit holds (and does not hold: prompts, keys).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type OpenAI from 'openai';
import { APIError } from 'openai';
import type { AuditRecord } from '../../src/gateway';
import { GatewayFixture } from '../gateway/helpers/fixture';
import { rawCall } from '../gateway/helpers/raw-request';
import type { RecordedRequest, ScriptedLlm, ScriptStep } from '../helpers/scripted-llm';
import { startScriptedLlm } from '../helpers/scripted-llm';
import { createOpenAiClient, gatewaySignedFetch, PLACEHOLDER_API_KEY } from '../../src/llm';

const API_KEY = `sk-test-proxy-${Date.now().toString(36)}-0123456789abcdef`;
/** A string only prompts carry: it must never reach the audit. */
const PROMPT_MARKER = 'PROMPT-TEXT-7f3a9c-must-not-be-audited';
const TOKEN_LIMIT = 5000;
const REQUEST_LIMIT = 20;
const LLM_PATH = '/llm/v1/chat/completions';

let f: GatewayFixture;
let llm: ScriptedLlm;
/** What the upstream answers next; each test sets it. */
let answer: (request: RecordedRequest) => ScriptStep = () => ({ reply: { ok: true } });

before(async () => {
  llm = await startScriptedLlm((request) => answer(request));
  f = await GatewayFixture.start({
    suite: 'llmproxy',
    agents: { worker: 1, greedy: 1, burst: 1 },
    env: {
      DOCKMEDIC_RL_LLM_TOKENS: String(TOKEN_LIMIT),
      DOCKMEDIC_RL_LLM_REQUESTS: String(REQUEST_LIMIT),
      DOCKMEDIC_LLM_TIMEOUT_SECONDS: '1',
      DOCKMEDIC_LLM_MAX_BODY_BYTES: String(256 * 1024),
    },
    deps: { llmUpstream: { baseUrl: llm.url, apiKey: API_KEY } },
  });
});
after(async () => {
  await f?.close();
  await llm?.close();
});

function client(agent = 'worker'): OpenAI {
  return createOpenAiClient({ baseURL: `${f.url}/llm/v1`, signedFetch: gatewaySignedFetch(f.client(`${agent}-k1`)), timeoutMs: 10_000 });
}

function ask(openai: OpenAI, content = `hello ${PROMPT_MARKER}`) {
  return openai.chat.completions.create({ model: 'scripted-model', messages: [{ role: 'user', content }] });
}

/** The audit record of the newest LLM request. */
function lastLlmRecord(): AuditRecord {
  const r = f.audit().filter((x) => x.tool === 'llm.chat.completions').at(-1);
  assert.ok(r, 'an audit record for the LLM request');
  return r;
}

async function refusalOf(p: Promise<unknown>): Promise<APIError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof APIError, `expected an APIError, got ${String(err)}`);
    return err;
  }
  assert.fail('the request was not refused');
}

void describe('gateway LLM proxy', () => {
  void it('forwards the signed request to the upstream with the server-side key; the answer comes back unchanged', async () => {
    answer = () => ({ reply: { verdict: 'fine' }, usage: { prompt_tokens: 40, completion_tokens: 2 } });
    const before = llm.completions().length;
    const completion = await ask(client());
    assert.equal(completion.choices[0]?.message.content, JSON.stringify({ verdict: 'fine' }));
    assert.equal(completion.usage?.total_tokens, 42);

    const seen = llm.completions().slice(before);
    assert.equal(seen.length, 1);
    const up = seen[0]!;
    assert.equal(up.path, '/v1/chat/completions');
    assert.equal(up.headers.authorization, `Bearer ${API_KEY}`, 'the gateway adds its key');
    for (const h of Object.keys(up.headers)) assert.ok(!h.startsWith('x-dockmedic-') && h !== 'idempotency-key', `signature header ${h} is not forwarded`);
    assert.ok(!JSON.stringify(up.headers).includes(PLACEHOLDER_API_KEY), 'the worker placeholder key never reaches the upstream');
    assert.equal(up.body?.model, 'scripted-model');
    assert.ok(up.rawBody.includes(PROMPT_MARKER), 'the prompt is forwarded as sent');

    const rec = lastLlmRecord();
    assert.equal(rec.verdict, 'allowed');
    assert.equal(rec.status, 200);
    assert.equal(rec.agent, 'worker');
    assert.deepEqual(rec.args, { model: 'scripted-model', messages: 1, tools: 0, maxCompletionTokens: null });
    assert.deepEqual(rec.result?.tokens, { prompt: 40, completion: 2, total: 42 });
    assert.equal(rec.result?.upstreamStatus, 200);
  });

  void it('the upstream receives the request as validated: duplicate keys cannot smuggle `"stream": true` past the check', async () => {
    answer = () => ({ reply: { ok: true } });
    const before = llm.completions().length;
    const body = '{"model":"scripted-model","stream":true,"n":5,"messages":[{"role":"user","content":"hi"}],"stream":false,"n":1}';
    const res = await rawCall(f.url, f.cred('worker-k1'), { path: LLM_PATH, body });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const up = llm.completions().slice(before)[0];
    assert.ok(up, 'forwarded');
    assert.equal((up.rawBody.match(/"stream"/g) ?? []).length, 1, up.rawBody);
    assert.equal((up.rawBody.match(/"n"/g) ?? []).length, 1, up.rawBody);
    const sent = JSON.parse(up.rawBody) as { stream?: boolean; n?: number };
    assert.deepEqual([sent.stream, sent.n], [false, 1]);
  });

  void it("a caller's own Authorization header is never forwarded", async () => {
    answer = () => ({ reply: { ok: 1 } });
    const before = llm.completions().length;
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    const res = await rawCall(f.url, f.cred('worker-k1'), { path: LLM_PATH, body, headers: { authorization: 'Bearer sk-attacker-supplied-0000000000' } });
    assert.equal(res.status, 200);
    const up = llm.completions().slice(before)[0];
    assert.equal(up?.headers.authorization, `Bearer ${API_KEY}`);
  });

  void it('unsigned, replayed or badly signed requests never reach the upstream', async () => {
    answer = () => ({ reply: { ok: 1 } });
    const before = llm.completions().length;
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    const unsigned = await fetch(`${f.url}${LLM_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` }, body });
    assert.equal(unsigned.status, 401);
    const forged = await rawCall(f.url, f.cred('worker-k1'), { path: LLM_PATH, body, secret: 'ab'.repeat(32) });
    assert.equal(forged.code, 'bad_signature');
    const nonce = `llm-proxy-replay-${Date.now()}`;
    assert.equal((await rawCall(f.url, f.cred('worker-k1'), { path: LLM_PATH, body, nonce })).status, 200);
    assert.equal((await rawCall(f.url, f.cred('worker-k1'), { path: LLM_PATH, body, nonce })).code, 'replayed_nonce');
    assert.equal(llm.completions().length - before, 1, 'only the one valid request was forwarded');
  });

  void it('the per-agent token window is charged with usage.total_tokens and refuses with 429 rate_limited once spent', async () => {
    answer = () => ({ reply: { ok: 1 }, usage: { prompt_tokens: 3000, completion_tokens: 1000 } });
    const greedy = client('greedy');
    const before = llm.completions().length;
    await ask(greedy);
    assert.equal(lastLlmRecord().result?.tokenWindowUsed, 4000);
    await ask(greedy); // 4000 < 5000: admitted, and the window now holds 8000
    assert.equal(lastLlmRecord().result?.tokenWindowUsed, 8000);
    const refused = await refusalOf(ask(greedy));
    assert.equal(refused.status, 429);
    assert.equal(refused.code, 'rate_limited');
    assert.ok(Number(refused.headers?.get('retry-after')) >= 1, 'Retry-After is set');
    assert.equal(llm.completions().length - before, 2, 'the refused request never reached the upstream');
    const rec = lastLlmRecord();
    assert.equal(rec.verdict, 'refused');
    assert.equal(rec.code, 'rate_limited');
    // Another agent's window is its own.
    answer = () => ({ reply: { ok: 1 }, usage: { prompt_tokens: 10, completion_tokens: 1 } });
    await ask(client());
  });

  void it('without usage in the answer, the window is charged an estimate', async () => {
    answer = () => ({ reply: { ok: 1 }, usage: null });
    await ask(client('burst'));
    const tokens = lastLlmRecord().result?.tokens as { total: number; estimated?: boolean };
    assert.equal(tokens.estimated, true);
    assert.ok(tokens.total > 0);
  });

  void it('the per-agent request window refuses the request past the limit', async () => {
    answer = () => ({ reply: { ok: 1 }, usage: { prompt_tokens: 1, completion_tokens: 1 } });
    const burst = client('burst');
    // One request of this agent was made by the test before.
    for (let i = 1; i < REQUEST_LIMIT; i++) await ask(burst);
    const refused = await refusalOf(ask(burst));
    assert.equal(refused.status, 429);
    assert.equal(refused.code, 'rate_limited');
    assert.match(refused.message, /llm_requests/);
  });

  void it('upstream 429 → 429 llm_upstream_rate_limited with its Retry-After; 5xx → 502 llm_upstream_error', async () => {
    answer = () => ({ status: 429, retryAfterSeconds: 7 });
    const limited = await refusalOf(ask(client()));
    assert.equal(limited.status, 429);
    assert.equal(limited.code, 'llm_upstream_rate_limited');
    assert.equal(limited.headers?.get('retry-after'), '7');
    assert.equal(lastLlmRecord().result?.upstreamStatus, 429);

    answer = () => ({ status: 503 });
    const failed = await refusalOf(ask(client()));
    assert.equal(failed.status, 502);
    assert.equal(failed.code, 'llm_upstream_error');
    assert.equal(lastLlmRecord().code, 'llm_upstream_error');
  });

  void it('upstream 401 (bad key) → 422 llm_upstream_rejected; the key the upstream echoed is scrubbed', async () => {
    answer = () => ({ status: 401, message: `Incorrect API key provided: ${API_KEY}` });
    const rejected = await refusalOf(ask(client()));
    assert.equal(rejected.status, 422);
    assert.equal(rejected.code, 'llm_upstream_rejected');
    assert.ok(!rejected.message.includes(API_KEY), rejected.message);
    assert.match(rejected.message, /\[redacted\]/);
  });

  void it('an upstream slower than DOCKMEDIC_LLM_TIMEOUT_SECONDS → 504 llm_upstream_timeout at the timeout', async () => {
    answer = () => ({ delayMs: 5_000 });
    const started = Date.now();
    const slow = await refusalOf(ask(client()));
    assert.equal(slow.status, 504);
    assert.equal(slow.code, 'llm_upstream_timeout');
    assert.ok(Date.now() - started < 3_000, 'gave up at the gateway timeout (1 s)');
    assert.equal(lastLlmRecord().result?.upstreamStatus, 'timeout');
  });

  void it('an upstream answer that is not JSON → 502 llm_upstream_error', async () => {
    answer = () => ({ httpBody: '<html>bad gateway</html>' });
    const bad = await refusalOf(ask(client()));
    assert.equal(bad.status, 502);
    assert.equal(bad.code, 'llm_upstream_error');
  });

  void it('requests are validated before anything is forwarded: not JSON, streaming, no messages', async () => {
    const before = llm.completions().length;
    const notJson = await rawCall(f.url, f.cred('worker-k1'), { path: LLM_PATH, body: '{"model": "m", messages' });
    assert.equal(notJson.code, 'malformed_json');
    const stream = await rawCall(f.url, f.cred('worker-k1'), { path: LLM_PATH, body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] }) });
    assert.equal(stream.code, 'invalid_arguments');
    const empty = await rawCall(f.url, f.cred('worker-k1'), { path: LLM_PATH, body: JSON.stringify({ model: 'm', messages: [] }) });
    assert.equal(empty.code, 'invalid_arguments');
    assert.equal(llm.completions().length, before);
  });

  void it('body limit: LLM requests have their own (larger) limit; above it → 413, never forwarded', async () => {
    answer = () => ({ reply: { ok: 1 }, usage: { prompt_tokens: 1, completion_tokens: 1 } });
    const before = llm.completions().length;
    // 100 KiB: above the tool-call limit (64 KiB), within the LLM limit (256 KiB here).
    await ask(client(), `${PROMPT_MARKER} ${'x'.repeat(100 * 1024)}`);
    assert.equal(llm.completions().length - before, 1);
    const big = await refusalOf(ask(client(), 'y'.repeat(300 * 1024)));
    assert.equal(big.status, 413);
    assert.equal(big.code, 'body_too_large');
    assert.equal(llm.completions().length - before, 1);
  });

  void it('GET /healthz says the LLM is configured, not where or with which key', async () => {
    const text = await (await fetch(`${f.url}/healthz`)).text();
    assert.equal((JSON.parse(text) as { llm: string }).llm, 'configured');
    assert.ok(!text.includes(API_KEY) && !text.includes(llm.url));
  });

  void it('the audit holds no prompt text and no key, over every request above', () => {
    const text = readFileSync(f.auditFile, 'utf8');
    assert.ok(f.audit().filter((r) => r.tool === 'llm.chat.completions').length >= 10);
    assert.ok(!text.includes(PROMPT_MARKER), 'prompt text is never audited');
    assert.ok(!text.includes(API_KEY), 'the key is never audited');
    // Positive control: the upstream did receive both.
    assert.ok(llm.completions().some((r) => r.rawBody.includes(PROMPT_MARKER) && r.headers.authorization === `Bearer ${API_KEY}`));
  });

  void it('an unreachable upstream → 502 llm_upstream_error', async () => {
    await llm.close();
    const down = await refusalOf(ask(client()));
    assert.equal(down.status, 502);
    assert.equal(down.code, 'llm_upstream_error');
    assert.equal(lastLlmRecord().result?.upstreamStatus, 'unreachable');
  });
});
