import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatPico, formatPicoNumber, picoToFloat } from '../../src/pricing/compiled-token-price.js';

/** Independent decimal formatting of pico-units with bigint and string operations only. */
function expected(pico: bigint): string {
  const whole = pico / 10n ** 12n;
  const frac = (pico % 10n ** 12n).toString().padStart(12, '0').replace(/0+$/, '');
  return frac === '' ? whole.toString() : `${whole}.${frac}`;
}

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

describe('formatPico', () => {
  it('formats every integer amount below 2^53 like the bigint reference', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX }), (pico) => {
        assert.equal(formatPicoNumber(Number(pico)), expected(pico));
        assert.equal(formatPico(Number(pico)), expected(pico));
        assert.equal(formatPico(pico), expected(pico));
      }),
      { numRuns: 5_000 },
    );
  });

  it('handles trailing zeros, whole units and the edges of the double range', () => {
    const cases: bigint[] = [0n, 1n, 10n, 100n, 1_000n, 10n ** 11n, 10n ** 12n - 1n, 10n ** 12n, 10n ** 12n + 1n];
    for (let zeros = 0; zeros <= 11; zeros++) cases.push(7n * 10n ** BigInt(zeros), 123n * 10n ** BigInt(zeros));
    for (let k = 1n; k <= 9000n; k *= 3n) cases.push(k * 10n ** 12n - 1n, k * 10n ** 12n, k * 10n ** 12n + 1n);
    cases.push(MAX, MAX - 1n, (MAX / 10n ** 12n) * 10n ** 12n);
    for (const pico of cases) assert.equal(formatPicoNumber(Number(pico)), expected(pico), String(pico));
    // Past 2^53 and negative amounts take the bigint path.
    assert.equal(formatPico(MAX + 2n), expected(MAX + 2n));
    assert.equal(formatPico(-1_500_000_000_000n), '-1.5');
  });

  it('refuses a number that is not an exact integer instead of formatting it wrongly', () => {
    assert.throws(() => formatPicoNumber(0.5), RangeError);
    assert.throws(() => formatPicoNumber(Number.NaN), RangeError);
  });

  it('gives the double nearest the exact decimal as the float copy', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX }), (pico) => {
        assert.equal(picoToFloat(Number(pico)), Number(expected(pico)));
      }),
      { numRuns: 2_000 },
    );
  });
});
