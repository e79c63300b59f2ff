import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeHistory, priceFromRecord } from '../../src/index.js';

const p = (amount: string, effectiveFrom = '1970-01-01', sku = 'm') =>
  priceFromRecord({
    provider: 'litellm-like',
    resourceType: 'model',
    sku,
    kind: 'input_tokens',
    unit: '1m_tokens',
    amount,
    effectiveFrom,
    source: 'test',
  });

describe('mergeHistory (sources without effective dates)', () => {
  const now = Date.parse('2026-03-01T10:30:00Z');

  it('keeps the previous version when the amount did not change', () => {
    const previous = [p('1')];
    assert.deepEqual(mergeHistory(previous, [p('1')], now), previous);
  });

  it('re-dates a changed amount to now and keeps the old one as history', () => {
    const merged = mergeHistory([p('1')], [p('0.8')], now);
    assert.deepEqual(
      merged.map((x) => [x.amount.toDecimalString(), new Date(x.effectiveFrom).toISOString()]),
      [
        ['1', '1970-01-01T00:00:00.000Z'],
        ['0.8', '2026-03-01T10:30:00.000Z'],
      ],
    );
    assert.equal(merged[1]?.id, 'litellm-like/m/global/input_tokens@2026-03-01T10:30:00.000Z');
  });

  it('takes later-dated prices as given and drops keys the source no longer lists', () => {
    const merged = mergeHistory([p('1'), p('5', '1970-01-01', 'gone')], [p('2', '2026-02-01')], now);
    assert.deepEqual(
      merged.map((x) => [x.sku, x.amount.toDecimalString()]),
      [
        ['m', '1'],
        ['m', '2'],
      ],
    );
  });
});
