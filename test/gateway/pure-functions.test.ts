import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { canonicalJson } from '../../src/gateway/audit';
import { planMemoryUpdate } from '../../src/gateway/bounds';
import { capLines, collectTail } from '../../src/gateway/logs/collect';
import { nonceTtl } from '../../src/gateway/pipeline';
import { redactSecrets, sanitizeLine } from '../../src/gateway/logs/sanitize';
import { Refusal } from '../../src/gateway/refusal';

/**
 * The gateway's pure, security-relevant pieces, on inputs a live container would rarely
 * produce: Docker log frames split across chunks, endless lines, secrets at a cut edge, and
 * the memory bounds arithmetic. (Everything else runs against the real Redis and Docker.)
 */
const MiB = 1024 * 1024;

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** A stream that delivers `data` in chunks of `size` bytes, splitting frames and characters anywhere. */
function chunked(data: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts);
}

void describe('collectTail (Docker log framing)', () => {
  void it('demultiplexes frames split across chunks, keeps stdout and stderr lines whole, decodes UTF-8 split mid-character', async () => {
    const data = Buffer.concat([frame(1, 'héllo wo'), frame(2, 'err line\n'), frame(1, 'rld\nsecond ✓\n')]);
    for (const size of [1, 3, 7, 64]) {
      const { lines, dropped } = await collectTail(chunked(data, size), { multiplexed: true, maxBytes: 1024 });
      assert.deepEqual(lines, ['err line', 'héllo world', 'second ✓'], `chunk size ${size}`);
      assert.equal(dropped, false);
    }
  });

  void it('keeps only the most recent lines within the byte budget', async () => {
    const data = Buffer.concat(Array.from({ length: 1000 }, (_, i) => frame(1, `line ${i}\n`)));
    const { lines, dropped } = await collectTail(chunked(data, 100), { multiplexed: true, maxBytes: 200 });
    assert.equal(dropped, true);
    assert.equal(lines.at(-1), 'line 999');
    assert.ok(Buffer.byteLength(lines.join('')) <= 200);
  });

  void it('an endless line is bounded and loses its partial first token (no half-secret survives the cut)', async () => {
    const data = Buffer.from(`${'x'.repeat(5000)}password=hunter2 ${'y'.repeat(100)} tail-token\n`);
    const { lines, dropped } = await collectTail(chunked(data, 512), { multiplexed: false, maxBytes: 1024 });
    assert.equal(dropped, true);
    assert.equal(lines.length, 1);
    assert.ok(Buffer.byteLength(lines[0]!) <= 1024 + 512);
    assert.ok(!lines[0]!.startsWith('x'), 'the cut token is dropped');
    assert.ok(lines[0]!.endsWith('tail-token'));
  });
});

void describe('sanitizeLine', () => {
  const cases: [string, string[]][] = [
    ['password=hunter2 user=bob', ['hunter2']],
    ['DB_PASSWORD: "s3cr3t!"', ['s3cr3t!']],
    ['Authorization: Bearer abc.def.ghi', ['abc.def.ghi']],
    ['curl -H "authorization: Basic dXNlcjpwYXNz"', ['dXNlcjpwYXNz']],
    ['postgres://app:pa55word@db/app', ['pa55word']],
    ['key AKIAIOSFODNN7EXAMPLE in env', ['AKIAIOSFODNN7EXAMPLE']],
    ['aws_secret_access_key = wJalrXUtnFEMI/K7MDENG', ['wJalrXUtnFEMI']],
    ['using sk-proj-0123456789abcdefghijklmnop', ['0123456789abcdefghij']],
    ['token ghp_0123456789abcdefghijklmnopqrstuvwxyz01', ['ghp_0123456789']],
    ['{"api_key":"k-123456"}', ['k-123456']],
    ['X-Auth: 0xdeadbeef', ['0xdeadbeef']],
    ['PASSWORD="correct horse battery"', ['correct', 'horse', 'battery']],
    ["secret: 'two words'", ['two', 'words']],
    ['DB_PASS=hunter2', ['hunter2']],
    ['mysqldump --password hunter2 app', ['hunter2']],
    ['cli --token=abcdef123', ['abcdef123']],
    ['password=hun\u00adter2', ['hunter2', 'ter2']],
  ];
  for (const [line, secrets] of cases) {
    void it(`redacts ${JSON.stringify(line)}`, () => {
      const { line: out, redactions } = sanitizeLine(line);
      for (const s of secrets) assert.ok(!out.includes(s), out);
      assert.ok(redactions >= 1);
    });
  }

  void it('leaves ordinary lines alone', () => {
    for (const line of ['GET /health 200 3ms', 'token bucket refilled', 'OOM: out of memory, killing process 42', 'author: jane', 'bypass=1 compass: north', 'passed: 12 tests']) {
      assert.deepEqual(redactSecrets(line), { line, count: 0 });
    }
  });

  void it('strips Unicode line separators and invisible format characters', () => {
    assert.equal(sanitizeLine('a\u2028b\u2029c\u00add\u2060e').line, 'abcde');
  });

  void it('strips ANSI escapes, C0/C1 controls and bidi overrides, keeps tabs', () => {
    const { line } = sanitizeLine('\x1b[31mred\x1b[0m\tok\x07\x00\u202eevil\u202c \x9b31m');
    assert.equal(line, 'red\tokevil 31m');
  });
});

void describe('capLines', () => {
  void it('keeps the newest lines within the budget; an over-long last line keeps its end from a token boundary', () => {
    assert.deepEqual(capLines(['a', 'b', 'c'], 4), { lines: ['b', 'c'], truncated: true });
    const { lines } = capLines([`${'z'.repeat(50)} keep this end`], 20);
    assert.deepEqual(lines, ['keep this end']);
  });
});

void describe('planMemoryUpdate', () => {
  const policy = { memoryMaxFactor: 2, memoryCeilingBytes: 1024 * MiB };
  const code = (fn: () => unknown) => {
    try {
      fn();
      return 'ok';
    } catch (err) {
      return err instanceof Refusal ? err.code : 'thrown';
    }
  };
  void it('refuses down, equal, beyond the factor, above the ceiling, and unlimited', () => {
    const cur = { memoryBytes: 64 * MiB, memorySwapBytes: 128 * MiB };
    assert.equal(code(() => planMemoryUpdate(cur, 32 * MiB, policy)), 'memory_not_raised');
    assert.equal(code(() => planMemoryUpdate(cur, 64 * MiB, policy)), 'memory_not_raised');
    assert.equal(code(() => planMemoryUpdate(cur, 128 * MiB + 1, policy)), 'memory_factor_exceeded');
    assert.equal(code(() => planMemoryUpdate({ memoryBytes: 768 * MiB, memorySwapBytes: -1 }, 1536 * MiB, policy)), 'memory_above_ceiling');
    assert.equal(code(() => planMemoryUpdate({ memoryBytes: 0, memorySwapBytes: 0 }, 64 * MiB, policy)), 'memory_unlimited');
  });
  void it('keeps the swap policy: -1 stays -1, a finite swap keeps its amount, no swap setting sends memory only', () => {
    assert.equal(planMemoryUpdate({ memoryBytes: 64 * MiB, memorySwapBytes: -1 }, 128 * MiB, policy).memorySwapBytes, -1);
    assert.equal(planMemoryUpdate({ memoryBytes: 64 * MiB, memorySwapBytes: 96 * MiB }, 128 * MiB, policy).memorySwapBytes, 160 * MiB);
    assert.equal(planMemoryUpdate({ memoryBytes: 64 * MiB, memorySwapBytes: 0 }, 128 * MiB, policy).memorySwapBytes, undefined);
  });
});

void describe('canonicalJson', () => {
  void it('sorts keys at every level and drops undefined, so equal values hash equally', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
  });
});

void describe('nonceTtl', () => {
  const settings = { nonceTtlSeconds: 600, clockSkewSeconds: 300 };
  const now = 1_800_000_000;
  void it('the configured TTL when it already covers the timestamp window', () => {
    assert.equal(nonceTtl(settings, now, now), 600);
    assert.equal(nonceTtl(settings, now - 300, now), 600);
  });
  void it('longer than the time the timestamp stays acceptable, for a request stamped ahead', () => {
    for (const ahead of [1, 150, 299, 300]) {
      const acceptableFor = now + ahead + settings.clockSkewSeconds - now;
      assert.ok(nonceTtl(settings, now + ahead, now) > acceptableFor, `ahead ${ahead} s`);
    }
  });
});
