import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { overrideFromRecord } from '@costtrace/core';
import { PriceMessage } from '@costtrace/proto';
import { bundledCatalogDir, overrideToWire, priceFromWire, priceToWire, readCatalogs } from '../src/index.js';

describe('wire mapping', () => {
  it('round-trips every bundled price through the protobuf encoding exactly', async () => {
    const { prices } = await readCatalogs(bundledCatalogDir());
    for (const price of prices) {
      const bytes = PriceMessage.encode(priceToWire(price)).finish();
      const back = priceFromWire(PriceMessage.decode(bytes));
      assert.deepEqual({ ...back, amount: back.amount.toString() }, { ...price, amount: price.amount.toString() });
    }
  });

  it('writes discounts as decimal percent strings and rates as Money', () => {
    const discount = overrideToWire(overrideFromRecord({ id: 'd', provider: 'openai', discountPercent: '12.5' }));
    assert.equal(discount.discountPercent, '12.5');
    assert.equal(discount.rate, undefined);
    const rate = overrideToWire(
      overrideFromRecord({ id: 'r', sku: 'h100-80gb', pricingModel: 'spot', rate: '2.10', rateUnit: 'gpu_hour' }),
    );
    assert.deepEqual(rate.rate, { amount: '2.1', currency: 'USD' });
    assert.equal(rate.discountPercent, undefined);
  });
});
