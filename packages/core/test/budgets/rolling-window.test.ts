import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RollingWindow } from '../../src/index.js';

describe('rolling window', () => {
  it('keeps exact totals to the bucket and ages spend out', () => {
    const w = new RollingWindow(60_000); // 1 s buckets
    assert.equal(w.bucketMs, 1000);
    w.add(10_500, 7n, 10_500);
    w.add(11_200, 5n, 11_200);
    assert.equal(w.total(11_999), 12n);
    assert.equal(w.total(69_999), 12n, 'bucket 10 still in the window ending in bucket 69');
    assert.equal(w.total(70_000), 5n, 'bucket 10 left');
    assert.equal(w.total(71_000), 0n);
    assert.equal(w.add(5_000, 1n, 71_000), false, 'too old');
  });

  it('matches a brute-force sum for random traffic (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5_000 }), fc.bigInt({ min: 0n, max: 10n ** 15n })), {
          maxLength: 200,
        }),
        (steps) => {
          const w = new RollingWindow(120_000); // 2 s buckets
          let now = 0;
          const events: [number, bigint][] = [];
          for (const [dt, amount] of steps) {
            now += dt;
            const t = now - (dt % 3_000); // some late events
            if (w.add(t, amount, now)) events.push([Math.min(t, now), amount]);
            const oldest = (Math.floor(now / 2000) - 59) * 2000;
            const expected = events.filter(([ts]) => ts >= oldest).reduce((a, [, v]) => a + v, 0n);
            assert.equal(w.total(now), expected);
          }
        },
      ),
    );
  });

  it('snapshots and restores, predicts when spend ages out, and keeps memory fixed', () => {
    const w = new RollingWindow(600_000); // 10 s buckets
    for (let i = 0; i < 100_000; i++) w.add(i * 7, 1n, i * 7);
    assert.ok(w.buckets().length <= 61);
    const now = 700_000;
    const copy = new RollingWindow(600_000);
    copy.restore(w.buckets(), now);
    assert.equal(copy.total(now), w.total(now));
    const level = w.total(now) / 2n;
    const at = w.dropsToAt(level, now);
    assert.equal(w.recent(now, 10_000) <= w.total(now), true);
    assert.ok(copy.total(at - 1) > level, 'not yet one millisecond before');
    assert.ok(w.total(at) <= level);
  });
});
