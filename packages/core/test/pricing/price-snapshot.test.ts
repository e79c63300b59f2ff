import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  convertUnitPrice,
  diffSnapshots,
  Money,
  priceFromRecord,
  PriceSnapshot,
  PricingError,
} from '../../src/index.js';
import { samplePrices, T0 } from './fixtures.js';

describe('PriceSnapshot', () => {
  const snap = new PriceSnapshot(1n, samplePrices(), [], T0);

  it('falls back from a region to the global price, and not the other way', () => {
    const q = { provider: 'reference', sku: 'h100-80gb', kind: 'gpu_time', at: T0 } as const;
    assert.equal(snap.find({ ...q, region: 'eu-west-1' })?.amount.toDecimalString(), '3');
    assert.equal(
      snap.find({ provider: 'aws', sku: 'p5.48xlarge', kind: 'instance_time', at: T0 })?.amount.toDecimalString(),
      undefined,
    );
  });

  it('has no price before the first effective date', () => {
    assert.equal(
      snap.find({ provider: 'openai', sku: 'gpt-x', kind: 'input_tokens', at: Date.parse('2025-05-31') }),
      undefined,
    );
  });

  it('lists the current version per key, or every version', () => {
    const now = snap.list({ provider: 'openai', skuContains: 'GPT', kind: 'input_tokens', at: T0 + 86_400_000 });
    assert.deepEqual(
      now.map((p) => [p.serviceTier, p.amount.toDecimalString()]),
      [
        ['batch', '1.25'],
        ['standard', '2'],
      ],
    );
    assert.equal(snap.list({ provider: 'openai', skuContains: 'gpt', kind: 'input_tokens' }).length, 3);
  });

  it('rejects duplicate price ids', () => {
    const prices = samplePrices();
    assert.throws(() => new PriceSnapshot(1n, [...prices, prices[0]!], [], T0), PricingError);
  });

  it('diffs by price id', () => {
    const prices = samplePrices();
    const changed = priceFromRecord({
      provider: 'openai',
      resourceType: 'model',
      sku: 'gpt-x',
      kind: 'output_tokens',
      unit: '1m_tokens',
      amount: '8',
      effectiveFrom: '2026-02-01',
      source: 'test',
    });
    const next = new PriceSnapshot(2n, [...prices.slice(1), changed], [], T0);
    const diff = diffSnapshots(snap, next);
    assert.deepEqual(
      diff.upserted.map((p) => p.id),
      [changed.id],
    );
    assert.deepEqual(diff.removedIds, [prices[0]!.id]);
    assert.equal(diff.overridesChanged, false);
  });

  it('converts units exactly or half-even', () => {
    assert.equal(convertUnitPrice(Money.parse('2.5'), '1m_tokens', 'token').toDecimalString(), '0.0000025');
    // 98.32 / 3600 = 0.0273111… → 12 places
    assert.equal(convertUnitPrice(Money.parse('98.32'), 'gpu_hour', 'gpu_second').toDecimalString(), '0.027311111111');
    assert.throws(() => convertUnitPrice(Money.parse('1'), 'gpu_hour', 'token'), PricingError);
  });

  it('rejects malformed catalog records naming the field', () => {
    assert.throws(
      () =>
        priceFromRecord({
          provider: 'x',
          resourceType: 'model',
          sku: 'y',
          kind: 'gpu_time',
          unit: 'gpu_hour',
          amount: '1',
          effectiveFrom: '2025-01-01',
          source: 's',
        }),
      (err: unknown) => err instanceof PricingError && err.code === 'INVALID_CATALOG' && err.field === 'kind',
    );
    assert.throws(
      () =>
        priceFromRecord({
          provider: 'x',
          resourceType: 'model',
          sku: 'y',
          kind: 'input_tokens',
          unit: '1m_tokens',
          amount: '-1',
          effectiveFrom: '2025-01-01',
          source: 's',
        }),
      (err: unknown) => err instanceof PricingError && err.field === 'amount',
    );
  });
});

describe('diffSnapshots with overrides', () => {
  it('notices a changed discount (overrides hold bigints) and ignores an identical set', async () => {
    const { overrideFromRecord } = await import('../../src/index.js');
    const a = overrideFromRecord({ id: 'd', provider: 'openai', discountPercent: '10' });
    const b = overrideFromRecord({ id: 'd', provider: 'openai', discountPercent: '12' });
    const prices = samplePrices();
    const base = new PriceSnapshot(1n, prices, [a], T0);
    assert.equal(diffSnapshots(base, new PriceSnapshot(2n, prices, [b], T0)).overridesChanged, true);
    assert.equal(diffSnapshots(base, new PriceSnapshot(2n, prices, [a], T0)).overridesChanged, false);
  });
});
