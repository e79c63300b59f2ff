import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { divideRoundHalfEven, formatScaled, Money, MoneyError, parseScaled } from '../src/index.js';

/** Independent half-even division: floor division, then compare twice the remainder. */
function referenceHalfEven(n: bigint, d: bigint): bigint {
  const floorDiv = (a: bigint, b: bigint): bigint => {
    const q = a / b;
    return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
  };
  const q = floorDiv(n, d);
  const r = n - q * d; // 0 <= r < |d| for d > 0
  const twice = 2n * r;
  if (twice < d) return q;
  if (twice > d) return q + 1n;
  return q % 2n === 0n ? q : q + 1n;
}

const amount = fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n });

describe('Money', () => {
  it('parses and formats exact decimals', () => {
    assert.equal(Money.parse('0.000000075').subunits, 75_000n);
    assert.equal(Money.parse('12').toDecimalString(), '12');
    assert.equal(Money.parse('-1.50').toDecimalString(), '-1.5');
    assert.equal(Money.parse('0.000000000001').subunits, 1n);
    assert.equal(Money.parse('1.0000000000000').subunits, 10n ** 12n);
  });

  it('refuses to parse what it would have to round or cannot read', () => {
    assert.throws(
      () => Money.parse('0.0000000000001'),
      (err: unknown) => err instanceof MoneyError && err.code === 'TOO_PRECISE',
    );
    for (const bad of ['1e-9', 'NaN', '', '1.2.3', '0x10', ' ', '+-1']) {
      assert.throws(
        () => Money.parse(bad),
        (err: unknown) => err instanceof MoneyError && err.code === 'INVALID_AMOUNT',
        bad,
      );
    }
    assert.throws(
      () => Money.parse('1', 'usd'),
      (err: unknown) => err instanceof MoneyError && err.code === 'INVALID_CURRENCY',
    );
  });

  it('never mixes currencies', () => {
    assert.throws(
      () => Money.parse('1', 'USD').add(Money.parse('1', 'EUR')),
      (err: unknown) => err instanceof MoneyError && err.code === 'CURRENCY_MISMATCH',
    );
  });

  it('sums in any order to the same exact amount (property)', () => {
    fc.assert(
      fc.property(fc.array(amount, { maxLength: 40 }), fc.integer(), (values, seed) => {
        const items = values.map((v) => Money.fromSubunits(v));
        const shuffled = [...items];
        let s = seed;
        for (let i = shuffled.length - 1; i > 0; i--) {
          s = (s * 1103515245 + 12345) & 0x7fffffff;
          const j = s % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        const forward = Money.sum(items);
        const backward = shuffled.reduce((acc, m) => m.add(acc), Money.zero());
        assert.equal(forward.subunits, backward.subunits);
        assert.equal(
          forward.subunits,
          values.reduce((a, b) => a + b, 0n),
        );
      }),
    );
  });

  it('round-trips through its decimal string (property)', () => {
    fc.assert(
      fc.property(amount, (v) => {
        const text = Money.fromSubunits(v).toDecimalString();
        assert.match(text, /^-?\d+(\.\d*[1-9])?$/);
        assert.equal(Money.parse(text).subunits, v);
        assert.equal(parseScaled(formatScaled(v, 12), 12), v);
      }),
    );
  });

  it('rounds half to even, matching an independent implementation (property)', () => {
    fc.assert(
      fc.property(amount, fc.bigInt({ min: 1n, max: 10n ** 15n }), fc.boolean(), (n, d, negateDivisor) => {
        const divisor = negateDivisor ? -d : d;
        const expected = negateDivisor ? referenceHalfEven(-n, d) : referenceHalfEven(n, d);
        assert.equal(divideRoundHalfEven(n, divisor), expected);
      }),
    );
  });

  it('rounds ties to even and everything else to nearest', () => {
    assert.equal(divideRoundHalfEven(5n, 2n), 2n);
    assert.equal(divideRoundHalfEven(7n, 2n), 4n);
    assert.equal(divideRoundHalfEven(-5n, 2n), -2n);
    assert.equal(divideRoundHalfEven(-7n, 2n), -4n);
    assert.equal(divideRoundHalfEven(10n, 3n), 3n);
    assert.equal(divideRoundHalfEven(11n, 3n), 4n);
    assert.equal(Money.parse('0.0000025').roundTo(6).toDecimalString(), '0.000002');
    assert.equal(Money.parse('0.0000035').roundTo(6).toDecimalString(), '0.000004');
    assert.equal(Money.parse('1.23456789').toFixed(6), '1.234568');
    assert.equal(Money.parse('-0.0000005').toFixed(6), '0.000000'); // a tie rounds to even zero, printed without a sign
    assert.equal(Money.parse('-0.0000015').toFixed(6), '-0.000002');
    assert.equal(Money.parse('3').toFixed(0), '3');
  });

  it('keeps roundTo within half a step of the exact amount (property)', () => {
    fc.assert(
      fc.property(amount, fc.integer({ min: 0, max: 12 }), (v, places) => {
        const step = 10n ** BigInt(12 - places);
        const rounded = Money.fromSubunits(v).roundTo(places).subunits;
        assert.equal(rounded % step, 0n);
        const diff = rounded > v ? rounded - v : v - rounded;
        assert.ok(2n * diff <= step);
      }),
    );
  });

  it('prices a ratio exactly: price × quantity / unit, one rounding', () => {
    // $2.50 per 1M tokens × 1234 tokens = $0.003085 exactly.
    assert.equal(Money.fromRatio(Money.parse('2.50'), 1234n, 1_000_000n).toDecimalString(), '0.003085');
    // $98.32 per hour for 1 second = 0.027311111111 (repeating), rounded at 12 places.
    assert.equal(Money.fromRatio(Money.parse('98.32'), 1n, 3600n).toDecimalString(), '0.027311111111');
  });
});
