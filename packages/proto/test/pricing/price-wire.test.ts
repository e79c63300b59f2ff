import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bundledPriceSnapshot,
  overrideFromRecord,
  PRICE_UNITS,
  priceFromRecord,
  PRICING_MODELS,
  PricingError,
  RESOURCE_TYPES,
  SERVICE_TIERS,
  USAGE_KINDS,
} from '@costtrace/core';
import type { Override, Price, PriceUnit } from '@costtrace/core';
import { OverrideMessage, PriceMessage } from '../../src/index.js';
import type { PricingModelEnum, ResourceTypeEnum, ServiceTierEnum, UsageKindEnum } from '../../src/index.js';
import {
  overrideFromWire,
  overrideToWire,
  priceFromWire,
  priceToWire,
  priceUnits,
  pricingModels,
  resourceTypes,
  serviceTiers,
  timestampFromWire,
  timestampToWire,
  usageKinds,
} from '../../src/pricing/price-wire.js';

const viaBytes = (price: Price): Price =>
  priceFromWire(PriceMessage.decode(PriceMessage.encode(priceToWire(price)).finish()));
const overrideViaBytes = (o: Override): Override =>
  overrideFromWire(OverrideMessage.decode(OverrideMessage.encode(overrideToWire(o)).finish()));
const comparable = (p: Price) => ({ ...p, amount: p.amount.toString() });

/** Asserts `run` throws PricingError INVALID_ARGUMENT naming `field`. */
function rejects(run: () => unknown, field: string, message?: RegExp): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof PricingError, `not a PricingError: ${String(err)}`);
    assert.equal(err.code, 'INVALID_ARGUMENT');
    assert.equal(err.field, field);
    assert.ok(err.message.includes(field), `message names ${field}: ${err.message}`);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

const tokenPrice = (): PriceMessage =>
  priceToWire(
    priceFromRecord({
      provider: 'openai',
      resourceType: 'model',
      sku: 'gpt-4o',
      kind: 'input_tokens',
      unit: '1m_tokens',
      amount: '2.50',
      effectiveFrom: '2026-01-01',
      source: 'test',
    }),
  );

describe('price wire mapping', () => {
  it('maps every core enum value both ways', () => {
    for (const v of RESOURCE_TYPES) assert.equal(resourceTypes.toCore(resourceTypes.toWire(v), 'f'), v);
    for (const v of USAGE_KINDS) assert.equal(usageKinds.toCore(usageKinds.toWire(v), 'f'), v);
    for (const v of Object.keys(PRICE_UNITS) as PriceUnit[])
      assert.equal(priceUnits.toCore(priceUnits.toWire(v), 'f'), v);
    for (const v of SERVICE_TIERS) assert.equal(serviceTiers.toCore(serviceTiers.toWire(v), 'f'), v);
    for (const v of PRICING_MODELS) assert.equal(pricingModels.toCore(pricingModels.toWire(v), 'f'), v);
    assert.equal(usageKinds.optional(0, 'kind'), undefined, 'UNSPECIFIED is "any"');
    assert.equal(serviceTiers.optional(0, 'tier'), 'standard', 'a mapped 0 is its value');
    rejects(() => usageKinds.toCore(0, 'kind'), 'kind', /unknown usage kind 0/);
    rejects(
      () => resourceTypes.optional(99 as ResourceTypeEnum, 'resource_type'),
      'resource_type',
      /unknown resource type 99/,
    );
  });

  it('round-trips the bundled catalog, every resource type, tier and pricing model exactly', () => {
    const more = [
      { resourceType: 'storage', sku: 's3-standard', kind: 'storage', unit: 'gb_month', amount: '0.023' },
      { resourceType: 'egress', sku: 'internet', kind: 'egress', unit: 'gb', amount: '0.09', region: 'us-east-1' },
      {
        resourceType: 'gpu',
        sku: 'h100-80gb',
        kind: 'gpu_time',
        unit: 'gpu_second',
        amount: '0.001',
        pricingModel: 'spot',
      },
      {
        resourceType: 'gpu',
        sku: 'a100-80gb',
        kind: 'gpu_time',
        unit: 'gpu_hour',
        amount: '1.5',
        pricingModel: 'committed',
      },
      {
        resourceType: 'instance',
        sku: 'p5.48xlarge',
        kind: 'instance_time',
        unit: 'instance_second',
        amount: '0.0153',
        pricingModel: 'reserved',
        gpuType: 'h100-80gb',
        gpuCount: 8,
        description: '8 × H100',
      },
      {
        resourceType: 'model',
        sku: 'gpt-4o',
        kind: 'output_tokens',
        unit: 'token',
        amount: '0.00001',
        serviceTier: 'flex',
      },
      { resourceType: 'model', sku: 'gpt-4o', kind: 'images', unit: 'image', amount: '0.04', serviceTier: 'priority' },
      {
        resourceType: 'model',
        sku: 'gpt-4o',
        kind: 'requests',
        unit: 'request',
        amount: '0.01',
        pricingModel: 'internal',
      },
      {
        resourceType: 'model',
        sku: 'g',
        kind: 'input_tokens',
        unit: '1m_tokens',
        amount: '6',
        serviceTier: 'batch',
        aboveInputTokens: 200000,
      },
    ].map((r) => priceFromRecord({ provider: 'aws', effectiveFrom: '2026-01-01T12:34:56.789Z', source: 'test', ...r }));
    const prices = [...bundledPriceSnapshot().prices, ...more];
    const covered = (pick: (p: Price) => string) => new Set(prices.map(pick));
    assert.deepEqual(
      covered((p) => p.resourceType),
      new Set(RESOURCE_TYPES),
    );
    assert.deepEqual(
      covered((p) => p.serviceTier),
      new Set(SERVICE_TIERS),
    );
    assert.deepEqual(
      covered((p) => p.pricingModel),
      new Set(PRICING_MODELS),
    );
    for (const price of prices) assert.deepEqual(comparable(viaBytes(price)), comparable(price));
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

  it('round-trips overrides, with unspecified match fields as "any"', () => {
    const overrides = [
      overrideFromRecord({ id: 'd', provider: 'openai', discountPercent: '12.5' }),
      overrideFromRecord({ id: 'r', sku: 'h100-80gb', pricingModel: 'spot', rate: '2.10', rateUnit: 'gpu_hour' }),
      overrideFromRecord({
        id: 'w',
        description: 'window',
        resourceType: 'model',
        kind: 'input_tokens',
        region: 'eu-west-1',
        discountPercent: '0.000001',
        effectiveFrom: '2026-01-01',
        effectiveUntil: '2026-02-01T00:00:00.001Z',
      }),
    ];
    for (const o of overrides) assert.deepEqual(overrideViaBytes(o), o);
    assert.equal(overrideViaBytes(overrides[0]!).kind, '');
    assert.equal(overrideViaBytes(overrides[0]!).effectiveUntil, undefined);
  });

  it('round-trips timestamps, before the epoch too, and rejects bad ones naming the field', () => {
    for (const ms of [0, 1, -1, 1_767_225_600_123]) assert.equal(timestampFromWire(timestampToWire(ms), 'at', 0), ms);
    assert.equal(timestampFromWire(undefined, 'at', 42), 42);
    rejects(() => timestampFromWire({ seconds: 0n, nanos: 1_000_000_000 }, 'at', 0), 'at.nanos');
    rejects(() => timestampFromWire({ seconds: 10n ** 15n, nanos: 0 }, 'at', 0), 'at', /out of range/);
  });

  it('rejects a malformed price with INVALID_ARGUMENT naming the field', () => {
    rejects(() => priceFromWire({ ...tokenPrice(), kind: 99 as UsageKindEnum }), 'price.kind', /unknown usage kind 99/);
    rejects(() => priceFromWire({ ...tokenPrice(), resourceType: 0 }), 'price.resource_type');
    rejects(() => priceFromWire({ ...tokenPrice(), serviceTier: 7 as ServiceTierEnum }), 'price.service_tier');
    rejects(() => priceFromWire({ ...tokenPrice(), effectiveFrom: undefined }), 'price.effective_from', /required/);
    rejects(() => priceFromWire({ ...tokenPrice(), amount: undefined }), 'price.amount', /required/);
    rejects(() => priceFromWire({ ...tokenPrice(), amount: { amount: '1.2.3', currency: 'USD' } }), 'price.amount');
    rejects(() => priceFromWire({ ...tokenPrice(), amount: { amount: '-1', currency: 'USD' } }), 'price.amount');
    // Core's rules: the kind must fit the resource type, the unit the kind; provider is required.
    rejects(() => priceFromWire({ ...tokenPrice(), resourceType: resourceTypes.toWire('gpu') }), 'price.kind');
    rejects(() => priceFromWire({ ...tokenPrice(), unit: priceUnits.toWire('gb') }), 'price.unit');
    rejects(() => priceFromWire({ ...tokenPrice(), provider: '' }, 'prices[3]'), 'prices[3].provider');
    // An unset currency is USD.
    assert.equal(priceFromWire({ ...tokenPrice(), amount: { amount: '2.5', currency: '' } }).amount.currency, 'USD');
  });

  it('rejects a malformed override with INVALID_ARGUMENT naming the field', () => {
    const base = overrideToWire(overrideFromRecord({ id: 'o', discountPercent: '10' }));
    rejects(() => overrideFromWire({ ...base, kind: 99 as UsageKindEnum }), 'override.kind');
    rejects(() => overrideFromWire({ ...base, pricingModel: 9 as PricingModelEnum }), 'override.pricing_model');
    rejects(() => overrideFromWire({ ...base, discountPercent: undefined }), 'override.effect');
    rejects(() => overrideFromWire({ ...base, discountPercent: '101' }), 'override.discountPercent');
    rejects(
      () => overrideFromWire({ ...base, discountPercent: undefined, rate: { amount: '2', currency: 'USD' } }),
      'override.rate_unit',
    );
    rejects(
      () => overrideFromWire({ ...base, effectiveFrom: timestampToWire(10), effectiveUntil: timestampToWire(5) }),
      'override.effectiveUntil',
    );
    rejects(() => overrideFromWire({ ...base, id: '' }, 'overrides[2]'), 'overrides[2].id');
  });
});
