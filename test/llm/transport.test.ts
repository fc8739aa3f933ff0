import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayClient } from '../../src/gateway-client/client';
import { HEADERS, computeSignature, generateKeyId, generateSecret } from '../../src/signing';
import { startScriptedLlm } from '../helpers/scripted-llm';
import { GOOD_PROPOSAL, fakeTools, input, scriptedServers } from './fixtures';
import { createOpenAiClient, diagnose, failureFromError, gatewaySignedFetch, LlmRateLimited, LlmTimeout, LlmUnavailable } from '../../src/llm';

const scripted = scriptedServers(after);

void describe('diagnose: transport failures throw typed errors for the activity to retry', () => {
  void it('429 → LlmRateLimited with Retry-After, after exactly one request (the client never retries)', async () => {
    const llm = await scripted([{ status: 429, retryAfterSeconds: 7 }]);
    await assert.rejects(diagnose(input(llm.url, fakeTools())), (err: unknown) => {
      assert.ok(err instanceof LlmRateLimited);
      assert.equal(err.retryAfterSeconds, 7);
      return true;
    });
    assert.equal(llm.completions().length, 1);
  });

  void it('500 → LlmUnavailable, one request', async () => {
    const llm = await scripted([{ status: 500 }]);
    await assert.rejects(diagnose(input(llm.url, fakeTools())), (err: unknown) => err instanceof LlmUnavailable && err.status === 500);
    assert.equal(llm.completions().length, 1);
  });

  void it('a reply slower than the client timeout → LlmTimeout, one request', async () => {
    const llm = await scripted([{ delayMs: 5_000 }]);
    const openai = createOpenAiClient({ baseURL: llm.url, signedFetch: (i, init) => fetch(i, init), timeoutMs: 200 });
    const started = Date.now();
    await assert.rejects(diagnose(input(llm.url, fakeTools(), { openai })), (err: unknown) => err instanceof LlmTimeout);
    assert.ok(Date.now() - started < 3_000, 'gave up at the timeout, not at the reply');
    assert.equal(llm.completions().length, 1);
  });

  void it('a refused connection → LlmUnavailable', async () => {
    const llm = await startScriptedLlm([]);
    const url = llm.url;
    await llm.close();
    await assert.rejects(diagnose(input(url, fakeTools())), (err: unknown) => err instanceof LlmUnavailable);
  });

  void it('a transport error after a tool turn still throws (the whole diagnosis is retried)', async () => {
    const llm = await scripted([{ toolCall: { name: 'inspect_container', args: { container: 'web' } } }, { status: 503 }]);
    await assert.rejects(diagnose(input(llm.url, fakeTools())), (err: unknown) => err instanceof LlmUnavailable && err.status === 503);
    assert.equal(llm.completions().length, 2);
  });

  void it('a non-retryable HTTP error (400) is a result, not a throw', async () => {
    const llm = await scripted([{ status: 400, message: 'model not found' }]);
    const result = await diagnose(input(llm.url, fakeTools()));
    assert.ok(!result.ok);
    assert.equal(result.reason, 'upstream_error');
  });

  void it("the caller's abort is rethrown as-is, not disguised as a timeout", async () => {
    const llm = await scripted([{ delayMs: 5_000 }]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(diagnose(input(llm.url, fakeTools(), { signal: controller.signal })), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.ok(!(err instanceof LlmTimeout) && !(err instanceof LlmUnavailable));
      return true;
    });
  });

  void it('failureFromError turns the final typed error into a result for the policy', () => {
    assert.equal(failureFromError(new LlmTimeout('t'))?.reason, 'timeout');
    assert.equal(failureFromError(new LlmRateLimited('r'))?.reason, 'rate_limited');
    assert.equal(failureFromError(new LlmUnavailable('u'))?.reason, 'upstream_error');
    assert.equal(failureFromError(new Error('bug')), null);
  });
});

void describe('gatewaySignedFetch', () => {
  void it('sends the exact body through the signing client and drops the placeholder Authorization', async () => {
    const llm = await scripted([{ reply: GOOD_PROPOSAL }]);
    const seen: Array<{ url: string; method?: string; body?: string; headers?: Record<string, string> }> = [];
    // Stands in for GatewayClient.fetch (which signs); forwards with plain fetch.
    const gateway: Pick<GatewayClient, 'fetch'> = {
      fetch: async (url, init = {}) => {
        seen.push({ url, method: init.method, body: init.body, headers: init.headers });
        return fetch(url, { method: init.method, body: init.body, headers: init.headers, signal: init.signal });
      },
    };
    const openai = createOpenAiClient({ baseURL: llm.url, signedFetch: gatewaySignedFetch(gateway), timeoutMs: 5_000 });
    const result = await diagnose(input(llm.url, fakeTools(), { openai }));

    assert.ok(result.ok);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.url, `${llm.url}/chat/completions`);
    assert.equal(seen[0]?.method, 'POST');
    // What was handed to the signer is byte for byte what the server received.
    assert.equal(seen[0]?.body, llm.completions()[0]?.rawBody);
    assert.equal(llm.completions()[0]?.headers.authorization, undefined);
  });

  void it('with the real GatewayClient, every model request carries a valid signature over its exact path and body', async () => {
    const llm = await scripted([{ toolCall: { name: 'inspect_container', args: { container: 'web' } } }, { reply: GOOD_PROPOSAL }]);
    const root = llm.url.replace(/\/v1$/, '');
    const credentials = { agentId: 'worker-test', keyId: generateKeyId(), secret: generateSecret() };
    const gateway = new GatewayClient({ baseUrl: root, credentials, timeoutMs: 5_000 });
    // The scripted server stands in for the gateway's proxy route here.
    const openai = createOpenAiClient({ baseURL: `${root}/llm/v1`, signedFetch: gatewaySignedFetch(gateway), timeoutMs: 5_000 });
    const result = await diagnose(input(llm.url, fakeTools(), { openai }));

    assert.ok(result.ok);
    const requests = llm.completions();
    assert.equal(requests.length, 2);
    const nonces = new Set<string>();
    for (const r of requests) {
      assert.equal(r.path, '/llm/v1/chat/completions');
      assert.equal(r.headers.authorization, undefined);
      const header = (name: string): string => String(r.headers[name]);
      nonces.add(header(HEADERS.nonce));
      const expected = computeSignature(Buffer.from(credentials.secret, 'hex'), {
        method: r.method,
        path: r.path,
        timestamp: Number(header(HEADERS.timestamp)),
        nonce: header(HEADERS.nonce),
        keyId: header(HEADERS.keyId),
        body: r.rawBody,
      });
      assert.equal(header(HEADERS.signature), `v1=${expected}`);
      assert.equal(header(HEADERS.keyId), credentials.keyId);
    }
    assert.equal(nonces.size, 2, 'a fresh nonce per model call');
  });

  void it('reports the openai client timeout through the signing client as a timeout', async () => {
    const llm = await scripted([{ delayMs: 5_000 }]);
    const gateway: Pick<GatewayClient, 'fetch'> = {
      // Like GatewayClient.fetch: every failure comes back wrapped in its own error type.
      fetch: async (url, init = {}) => {
        try {
          return await fetch(url, { method: init.method, body: init.body, headers: init.headers, signal: init.signal });
        } catch (err) {
          throw new Error(`gateway unreachable: ${(err as Error).message}`);
        }
      },
    };
    const openai = createOpenAiClient({ baseURL: llm.url, signedFetch: gatewaySignedFetch(gateway), timeoutMs: 200 });
    await assert.rejects(diagnose(input(llm.url, fakeTools(), { openai })), (err: unknown) => err instanceof LlmTimeout);
  });
});
