import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapBounded } from '../../src/runtime/bounded';

void describe('mapBounded (the start-up reconciliation opens incidents a few at a time)', () => {
  void it('keeps the items’ order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapBounded([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n * 3));
      running--;
      return n * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30, 0, 60]);
    assert.equal(peak, 3);
  });

  void it('rejects with the first failure, after every other item has run', async () => {
    const done: number[] = [];
    await assert.rejects(
      mapBounded([1, 2, 3, 4], 2, async (n) => {
        await new Promise((r) => setTimeout(r, n));
        if (n === 2) throw new Error('two');
        done.push(n);
      }),
      /two/,
    );
    assert.deepEqual(done.sort(), [1, 3, 4]);
  });
});
