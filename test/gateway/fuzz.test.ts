import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { generateSecret, HEADERS, signRequest } from '../../src/signing';
import { restartEvents, snapshot } from './helpers/containers';
import { GatewayFixture } from './helpers/fixture';
import type { RawResponse } from './helpers/raw-request';
import { parse, toolBody } from './helpers/raw-request';
import { prng } from '../helpers/prng';
import { REFUSALS } from '../../src/contract/gateway';

/**
 * At least 1,000 randomised hostile requests — forged, tampered, expired, from the future,
 * replayed byte for byte, or reusing a nonce — against a live gateway with real Redis and
 * Docker: not one is accepted, and the target container is not touched.
 */
const N = 1200;
const SEED = Number(process.env.DOCKMEDIC_FUZZ_SEED ?? Date.now() % 1_000_000);
let f: GatewayFixture;
let targetId = '';


interface Captured {
  method: string;
  path: string;
  body: string;
  headers: Record<string, string>;
}

async function sendCaptured(c: Captured, override: Partial<Captured> = {}): Promise<RawResponse> {
  const m = { ...c, ...override };
  return parse(await fetch(f.url + m.path, { method: m.method, headers: { 'content-type': 'application/json', ...m.headers }, body: m.method === 'GET' ? undefined : m.body }));
}

function capture(secret: string, keyId: string, method: string, path: string, body: string, extra: { timestamp?: number; nonce?: string; idempotencyKey?: string } = {}): Captured {
  return { method, path, body, headers: signRequest(Buffer.from(secret, 'hex'), { method, path, keyId, body, ...extra }) };
}

before(async () => {
  f = await GatewayFixture.start({ suite: 'fuzz' });
  targetId = await f.containers.run('target', { memory: 32 * 1024 * 1024 });
});

after(() => f?.close());

void it(`${N} randomised forged, tampered, expired and replayed requests: zero accepted, target untouched (seed ${SEED})`, async () => {
  const cred = f.cred();
  const target = f.containers.name('target');
  const restartPath = '/v1/tools/restart_container';
  const restartBody = toolBody({ container: target, timeoutSeconds: 0 });

  // Legitimate traffic an attacker has captured: one restart (sent, so it happened once) and a few reads.
  const legitRestart = capture(cred.secret, cred.keyId, 'POST', restartPath, restartBody, { idempotencyKey: 'wf-fuzz/act-1' });
  const ok = await sendCaptured(legitRestart);
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  const legitReads: Captured[] = [];
  for (let i = 0; i < 5; i++) {
    const c = capture(cred.secret, cred.keyId, 'POST', '/v1/tools/inspect_container', toolBody({ container: target }));
    assert.equal((await sendCaptured(c)).status, 200);
    legitReads.push(c);
  }
  const baseline = await snapshot(targetId);
  const fuzzStart = Date.now();
  const auditBefore = f.audit().length;

  const rnd = prng(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const now = () => Math.floor(Date.now() / 1000);
  const randomHex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(rnd() * 16)]).join('');
  const mutatingBodies = [
    restartBody,
    toolBody({ container: target, timeoutSeconds: 1 }),
    toolBody({ container: targetId }),
    toolBody({ container: target, memoryBytes: 64 * 1024 * 1024 }),
  ];
  const paths = [restartPath, '/v1/tools/start_container', '/v1/tools/update_container_resources'];

  const attacks: { kind: string; run: () => Promise<RawResponse> }[] = [
    { kind: 'forged (random secret)', run: () => sendCaptured(capture(generateSecret(), cred.keyId, 'POST', pick(paths), pick(mutatingBodies))) },
    { kind: 'unknown key id', run: () => sendCaptured(capture(generateSecret(), `k-${randomHex(8)}`, 'POST', pick(paths), pick(mutatingBodies))) },
    {
      kind: 'one signature digit changed',
      run: () => {
        const c = capture(cred.secret, cred.keyId, 'POST', restartPath, restartBody);
        const sig = c.headers[HEADERS.signature]!;
        const i = 3 + Math.floor(rnd() * 64);
        const flipped = sig.slice(0, i) + ((parseInt(sig[i]!, 16) ^ (1 + Math.floor(rnd() * 15))).toString(16)) + sig.slice(i + 1);
        return sendCaptured(c, { headers: { ...c.headers, [HEADERS.signature]: flipped } });
      },
    },
    {
      kind: 'tampered body',
      run: () => {
        const c = capture(cred.secret, cred.keyId, 'POST', '/v1/tools/update_container_resources', toolBody({ container: target, memoryBytes: 40 * 1024 * 1024 }));
        return sendCaptured(c, { body: toolBody({ container: target, memoryBytes: Math.floor(rnd() * 2 ** 40) }) });
      },
    },
    {
      kind: 'tampered path',
      run: () => {
        const c = capture(cred.secret, cred.keyId, 'POST', '/v1/tools/inspect_container', toolBody({ container: target }));
        return sendCaptured(c, { path: pick(paths) });
      },
    },
    {
      kind: 'tampered method',
      run: () => {
        const c = capture(cred.secret, cred.keyId, pick(['PUT', 'PATCH', 'DELETE']), restartPath, restartBody);
        return sendCaptured(c, { method: 'POST' });
      },
    },
    {
      kind: 'tampered idempotency key',
      run: () => {
        const c = capture(cred.secret, cred.keyId, 'POST', restartPath, restartBody, { idempotencyKey: 'wf-x/1' });
        return sendCaptured(c, { headers: { ...c.headers, [HEADERS.idempotencyKey]: `wf-x/${randomHex(6)}` } });
      },
    },
    { kind: 'expired', run: () => sendCaptured(capture(cred.secret, cred.keyId, 'POST', restartPath, restartBody, { timestamp: now() - 301 - Math.floor(rnd() * 10_000_000) })) },
    { kind: 'from the future', run: () => sendCaptured(capture(cred.secret, cred.keyId, 'POST', restartPath, restartBody, { timestamp: now() + 301 + Math.floor(rnd() * 10_000_000) })) },
    { kind: 'replay of the captured restart', run: () => sendCaptured(legitRestart) },
    { kind: 'replay of a captured read', run: () => sendCaptured(pick(legitReads)) },
    {
      kind: 'nonce of the captured restart, freshly signed',
      run: () => sendCaptured(capture(cred.secret, cred.keyId, 'POST', restartPath, restartBody, { nonce: legitRestart.headers[HEADERS.nonce]! })),
    },
    {
      kind: 'garbage signature',
      run: () => {
        const c = capture(cred.secret, cred.keyId, 'POST', restartPath, restartBody);
        return sendCaptured(c, { headers: { ...c.headers, [HEADERS.signature]: pick(['', 'v1=', `v1=${randomHex(63)}`, `sha256=${randomHex(64)}`, randomBytes(40).toString('base64')]) } });
      },
    },
  ];

  const results: { kind: string; res: RawResponse }[] = [];
  const BATCH = 40;
  for (let i = 0; i < N; i += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, N - i) }, () => pick(attacks));
    results.push(...(await Promise.all(batch.map(async (a) => ({ kind: a.kind, res: await a.run() })))));
  }

  const accepted = results.filter((r) => r.res.status < 400);
  assert.deepEqual(
    accepted.map((r) => r.kind),
    [],
    'no hostile request is accepted',
  );
  for (const { kind, res } of results) {
    assert.ok(res.code && res.code in REFUSALS, `${kind}: a stable refusal code (got ${res.status} ${JSON.stringify(res.json)})`);
    assert.equal(res.status, REFUSALS[res.code as keyof typeof REFUSALS]);
  }
  const byKind = new Map<string, Set<string>>();
  for (const { kind, res } of results) byKind.set(kind, (byKind.get(kind) ?? new Set()).add(res.code!));
  // Each kind of attack is refused for the reason it deserves.
  const expected: Record<string, string[]> = {
    'forged (random secret)': ['bad_signature'],
    'unknown key id': ['unknown_key'],
    'one signature digit changed': ['bad_signature'],
    'tampered body': ['bad_signature'],
    'tampered path': ['bad_signature'],
    'tampered method': ['bad_signature'],
    'tampered idempotency key': ['bad_signature'],
    expired: ['timestamp_stale'],
    'from the future': ['timestamp_future'],
    'replay of the captured restart': ['replayed_nonce'],
    'replay of a captured read': ['replayed_nonce'],
    'nonce of the captured restart, freshly signed': ['replayed_nonce'],
    'garbage signature': ['malformed_header', 'missing_header'],
  };
  for (const [kind, codes] of byKind) assert.deepEqual([...codes].filter((c) => !expected[kind]!.includes(c)), [], `${kind} refused as ${[...codes].join(', ')}`);
  assert.ok(byKind.size >= 12, `most attack kinds were drawn (${byKind.size})`);

  // The target did not move: same start time, restart count, memory; no restart event during the fuzz.
  assert.deepEqual(await snapshot(targetId), baseline);
  assert.equal(await restartEvents(targetId, fuzzStart, Date.now()), 0);
  const refused = f.audit().slice(auditBefore);
  assert.equal(refused.length, N, 'every hostile request is audited');
  assert.ok(refused.every((r) => r.verdict === 'refused'));
});
