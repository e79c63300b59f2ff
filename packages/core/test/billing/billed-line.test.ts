import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BillingImportError, emptyNotes, exactDecimal, utcDay, utcSeconds } from '../../src/index.js';

const where = { file: 'bill.csv', line: 7, field: 'BilledCost' };

describe('exactDecimal', () => {
  it('reads plain, signed and exponent forms exactly', () => {
    const notes = emptyNotes();
    assert.equal(exactDecimal('12', where, notes), '12');
    assert.equal(exactDecimal('-0.50', where, notes), '-0.5');
    assert.equal(exactDecimal('+3.', where, notes), '3');
    assert.equal(exactDecimal('.25', where, notes), '0.25');
    assert.equal(exactDecimal('1.5E-7', where, notes), '0.00000015');
    assert.equal(exactDecimal('2e3', where, notes), '2000');
    assert.equal(exactDecimal(' 0.000000000001 ', where, notes), '0.000000000001');
    assert.equal(notes.rounded, 0);
  });

  it('rounds beyond 12 decimals half to even, once, and counts it', () => {
    const notes = emptyNotes();
    assert.equal(exactDecimal('0.0000000000005', where, notes), '0');
    assert.equal(exactDecimal('0.0000000000015', where, notes), '0.000000000002');
    assert.equal(exactDecimal('1.234567890123456', where, notes), '1.234567890123');
    assert.equal(exactDecimal('-0.0000000000025', where, notes), '-0.000000000002');
    assert.equal(notes.rounded, 4);
  });

  it('refuses what is not a decimal number, naming where', () => {
    // Decimal(38, 12) holds at most 26 integer digits.
    for (const bad of ['', '-', '1,5', '0x10', 'NaN', '1e', '1.2.3', '1e99999', '1e26']) {
      assert.throws(
        () => exactDecimal(bad, where, emptyNotes()),
        (err: unknown) =>
          err instanceof BillingImportError &&
          err.code === 'INVALID_VALUE' &&
          err.message.startsWith('bill.csv, line 7, field BilledCost: '),
        bad,
      );
    }
  });

  it('agrees with integer arithmetic on random decimals', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 26n) + 1n, max: 10n ** 26n - 1n }),
        fc.integer({ min: 0, max: 12 }),
        (n, scale) => {
          const negative = n < 0n;
          const digits = (negative ? -n : n).toString().padStart(scale + 1, '0');
          const text = `${negative ? '-' : ''}${digits.slice(0, digits.length - scale)}${scale > 0 ? `.${digits.slice(-scale)}` : ''}`;
          const value = exactDecimal(text, where, emptyNotes());
          const [whole = '0', fraction = ''] = value.replace('-', '').split('.');
          const back =
            BigInt(whole) * 10n ** BigInt(scale) + BigInt((fraction.padEnd(scale, '0') || '0').slice(0, scale) || '0');
          assert.equal(value.startsWith('-') ? -back : back, n);
        },
      ),
    );
  });
});

describe('utcSeconds', () => {
  it('reads RFC 3339, dates and zone-less times as UTC', () => {
    assert.equal(utcSeconds('2026-11-01T00:00:00Z', where), Date.UTC(2026, 10, 1) / 1000);
    assert.equal(utcSeconds('2026-11-01T01:30:00+01:30', where), Date.UTC(2026, 10, 1) / 1000);
    assert.equal(utcSeconds('2026-11-01 12:00:00.123', where), Date.UTC(2026, 10, 1, 12) / 1000);
    assert.equal(utcSeconds('2026-11-01', where), Date.UTC(2026, 10, 1) / 1000);
    assert.equal(utcSeconds('2026-11-01T00:00:00-0500', where), Date.UTC(2026, 10, 1, 5) / 1000);
  });

  it('refuses impossible dates and times', () => {
    for (const bad of ['2026-02-30', '2025-13-01T00:00:00Z', '2026-11-01T24:00:00Z', '01/11/2026', '1796083200']) {
      assert.throws(
        () => utcSeconds(bad, where),
        (err: unknown) => err instanceof BillingImportError && err.code === 'INVALID_VALUE',
        bad,
      );
    }
  });

  it('puts a charge period in the UTC day it starts in', () => {
    assert.equal(utcDay(Date.UTC(2026, 10, 1, 23, 59, 59) / 1000), Date.UTC(2026, 10, 1) / 1000);
  });
});
