import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { overrideFromRecord, parseQuantity, PriceSnapshot, PricingError, quoteUsage } from '../../src/index.js';
import { ownedGpuHourlyRate } from '../../src/pricing/owned-gpu-rate.js';
import type { OverrideRecord } from '../../src/index.js';
import { DAY, samplePrices, T0 } from './fixtures.js';

const snapshot = (overrides: OverrideRecord[] = []) =>
  new PriceSnapshot(
    7n,
    samplePrices(),
    overrides.map((o) => overrideFromRecord(o)),
    T0,
  );

/** Independent arithmetic: price (decimal string, per `per` units) × quantity, in 10^-12 USD, half-even. */
function expected(price: string, quantity: bigint, per: bigint): bigint {
  const [whole = '0', frac = ''] = price.split('.');
  const pico = BigInt(whole) * 10n ** 12n + BigInt(frac.padEnd(12, '0'));
  const num = pico * quantity;
  const q = num / per;
  const r = num % per;
  return 2n * r > per || (2n * r === per && q % 2n === 1n) ? q + 1n : q;
}

describe('quoteUsage: tokens', () => {
  it('prices each token kind once and sums exactly', () => {
    const q = quoteUsage(snapshot(), {
      at: T0 + 3_600_000,
      models: [
        { provider: 'openai', model: 'gpt-x', inputTokens: 1_234_567n, cacheReadTokens: 1_000n, outputTokens: 333n },
      ],
    });
    const input = expected('2.50', 1_233_567n, 1_000_000n);
    const cache = expected('1.25', 1_000n, 1_000_000n);
    const output = expected('10', 333n, 1_000_000n);
    assert.deepEqual(
      q.lines.map((l) => [l.kind, l.listCost.subunits]),
      [
        ['input_tokens', input],
        ['cache_read_tokens', cache],
        ['output_tokens', output],
      ],
    );
    assert.equal(q.listCost.subunits, input + cache + output);
    assert.equal(q.listCost.toDecimalString(), '3.0884975');
    assert.equal(q.effectiveCost.subunits, q.listCost.subunits);
    assert.equal(q.snapshotVersion, 7n);
    assert.equal(q.lines[0]?.priceId, 'openai/gpt-x/global/input_tokens@2025-06-01');
  });

  it('prices usage before a mid-day price change at the old rate and after it at the new one', () => {
    const usage = (at: number) => ({ at, models: [{ provider: 'openai', model: 'gpt-x', inputTokens: 1_000_000n }] });
    const morning = quoteUsage(snapshot(), usage(T0 + 11 * 3_600_000));
    const evening = quoteUsage(snapshot(), usage(T0 + 13 * 3_600_000));
    assert.equal(morning.listCost.toDecimalString(), '2.5');
    assert.equal(evening.listCost.toDecimalString(), '2');
    assert.notEqual(morning.lines[0]?.priceId, evening.lines[0]?.priceId);
  });

  it('resolves dated model variants and uses batch tier prices', () => {
    const q = quoteUsage(snapshot(), {
      at: T0,
      models: [
        {
          provider: 'openai',
          model: 'gpt-x-2025-08-07',
          serviceTier: 'batch',
          inputTokens: 2_000_000n,
          outputTokens: 1n,
        },
      ],
    });
    assert.equal(q.lines[0]?.sku, 'gpt-x');
    assert.equal(q.listCost.subunits, expected('1.25', 2_000_000n, 1_000_000n) + expected('5', 1n, 1_000_000n));
  });

  it('bills reasoning tokens separately only where the model prices them', () => {
    const q = quoteUsage(snapshot(), {
      at: T0,
      models: [{ provider: 'openai', model: 'o-think', inputTokens: 10n, outputTokens: 100n, reasoningTokens: 60n }],
    });
    assert.deepEqual(
      q.lines.map((l) => [l.kind, l.quantity / 1_000_000_000n]),
      [
        ['input_tokens', 10n],
        ['output_tokens', 40n],
        ['reasoning_tokens', 60n],
      ],
    );
  });

  it('switches every line to the long-context tier above the threshold (Anthropic counts excluding cache)', () => {
    const small = quoteUsage(snapshot(), {
      at: T0,
      models: [
        {
          provider: 'anthropic',
          model: 'claude-s',
          inputTokens: 150_000n,
          cacheReadTokens: 50_000n,
          outputTokens: 1000n,
        },
      ],
    });
    const large = quoteUsage(snapshot(), {
      at: T0,
      models: [
        {
          provider: 'anthropic',
          model: 'claude-s',
          inputTokens: 150_001n,
          cacheReadTokens: 50_000n,
          outputTokens: 1000n,
        },
      ],
    });
    assert.equal(
      small.listCost.subunits,
      expected('3', 150_000n, 1_000_000n) + expected('0.30', 50_000n, 1_000_000n) + expected('15', 1000n, 1_000_000n),
    );
    // 200_001 prompt tokens: input and output move to the >200k prices; cache read has no tier of its own.
    assert.equal(
      large.listCost.subunits,
      expected('6', 150_001n, 1_000_000n) +
        expected('0.30', 50_000n, 1_000_000n) +
        expected('22.50', 1000n, 1_000_000n),
    );
    assert.equal(large.lines.find((l) => l.kind === 'input_tokens')?.aboveInputTokens, 200_000n);
  });

  it('adds per-request and per-image fees where priced', () => {
    const q = quoteUsage(snapshot(), {
      at: T0,
      models: [
        { provider: 'openai', model: 'search-1', inputTokens: 1n, requests: 3n },
        { provider: 'openai', model: 'gpt-x', inputTokens: 1n, requests: 3n },
        { provider: 'openai', model: 'img-1', images: 2n },
      ],
    });
    const fee = q.lines.filter((l) => l.kind === 'requests');
    assert.equal(fee.length, 1, 'gpt-x has no request fee: no line');
    assert.equal(fee[0]?.listCost.subunits, expected('25', 3n, 1000n));
    assert.equal(q.lines.find((l) => l.kind === 'images')?.listCost.toDecimalString(), '0.08');
  });
});

describe('quoteUsage: compute, storage, egress', () => {
  it('prices instance, GPU, storage and egress usage with fractional quantities', () => {
    const q = quoteUsage(snapshot(), {
      at: T0,
      instances: [
        { provider: 'aws', instanceType: 'p5.48xlarge', region: 'us-east-1', seconds: parseQuantity('90.5', 's') },
      ],
      gpus: [{ gpuType: 'h100-80gb', gpuCount: 8, seconds: parseQuantity('1.25', 's') }],
      storage: [
        { provider: 'aws', storageClass: 's3-standard', region: 'us-east-1', gbMonths: parseQuantity('12.5', 'g') },
      ],
      egress: [{ provider: 'aws', egressClass: 'internet', region: 'us-east-1', gb: parseQuantity('3', 'g') }],
    });
    const got = Object.fromEntries(q.lines.map((l) => [l.kind, l.listCost.subunits]));
    assert.equal(got.gpu_time, expected('3.00', 10n, 3600n)); // 8 × 1.25 s = 10 GPU-seconds
    assert.equal(got.instance_time, expected('55.04', 905n, 36_000n)); // 90.5 s
    assert.equal(got.storage, expected('0.023', 125n, 10n));
    assert.equal(got.egress, expected('0.09', 3n, 1n));
  });
});

describe('quoteUsage: overrides and pricing models', () => {
  it('applies a negotiated discount to effective cost only, and names it', () => {
    const q = quoteUsage(
      snapshot([{ id: 'edp', description: 'EDP 12.5%', provider: 'openai', discountPercent: '12.5' }]),
      {
        at: T0,
        models: [{ provider: 'openai', model: 'gpt-x', inputTokens: 1_000_001n }],
      },
    );
    const line = q.lines[0]!;
    assert.equal(line.listCost.subunits, expected('2.50', 1_000_001n, 1_000_000n));
    // 2.50 × 0.875 = 2.1875 per 1M
    assert.equal(line.effectiveCost.subunits, expected('2.1875', 1_000_001n, 1_000_000n));
    assert.deepEqual(line.overrides, [{ id: 'edp', description: 'EDP 12.5%', pricingModel: 'on_demand' }]);
  });

  it('uses the catalog reserved price for reserved usage, with on-demand as list cost', () => {
    const q = quoteUsage(snapshot(), {
      at: T0,
      instances: [
        {
          provider: 'aws',
          instanceType: 'p5.48xlarge',
          region: 'us-east-1',
          seconds: 3600n * 1_000_000_000n,
          pricingModel: 'reserved',
        },
      ],
    });
    assert.equal(q.listCost.toDecimalString(), '55.04');
    assert.equal(q.effectiveCost.toDecimalString(), '36.186');
    assert.match(q.lines[0]!.effectivePriceId, /reserved/);
  });

  it('prices owned GPUs at the amortised TCO rate and spot usage at an override rate', () => {
    const tco = {
      purchasePrice: '30000',
      lifetimeMonths: 36,
      hostingPerMonth: '100',
      powerKw: '1',
      pue: '1.5',
      electricityPerKwh: '0.10',
      utilizationPercent: '80',
    };
    // (30000 / (36 × 730) + 100 / 730 + 1 × 1.5 × 0.10) / 0.8
    // = (1.141552511415525… + 0.136986301369863… + 0.15) / 0.8 = 1.785673515981735… per GPU-hour
    const rate = ownedGpuHourlyRate(tco);
    assert.equal(rate.toDecimalString(), '1.785673515982');
    const snap = snapshot([
      { id: 'owned-h100', sku: 'h100-80gb', ownedGpu: tco },
      { id: 'spot', provider: 'reference', kind: 'gpu_time', pricingModel: 'spot', rate: '1.10', rateUnit: 'gpu_hour' },
    ]);
    const q = quoteUsage(snap, {
      at: T0,
      gpus: [
        { gpuType: 'h100-80gb', gpuCount: 2, seconds: 1800n * 1_000_000_000n, pricingModel: 'internal' },
        { gpuType: 'h100-80gb', seconds: 3600n * 1_000_000_000n, pricingModel: 'spot' },
      ],
    });
    assert.equal(q.lines[0]!.listCost.toDecimalString(), '3');
    assert.equal(q.lines[0]!.effectiveCost.subunits, rate.subunits); // 2 GPUs × 0.5 h
    assert.equal(q.lines[0]!.overrides[0]?.id, 'owned-h100');
    assert.equal(q.lines[1]!.effectiveCost.toDecimalString(), '1.1');
    assert.equal(q.effectiveCost.subunits, rate.subunits + 1_100_000_000_000n);
  });

  it('refuses spot usage with neither a spot price nor a spot override', () => {
    assert.throws(
      () => quoteUsage(snapshot(), { at: T0, gpus: [{ gpuType: 'h100-80gb', seconds: 1n, pricingModel: 'spot' }] }),
      (err: unknown) => err instanceof PricingError && err.code === 'NOT_FOUND' && /spot/.test(err.message),
    );
  });

  it('ignores overrides outside their validity window', () => {
    const snap = snapshot([
      {
        id: 'promo',
        provider: 'openai',
        discountPercent: '50',
        effectiveFrom: '2026-02-01',
        effectiveUntil: '2026-03-01',
      },
    ]);
    const usage = (at: number) => ({ at, models: [{ provider: 'openai', model: 'gpt-x', outputTokens: 1_000_000n }] });
    assert.equal(quoteUsage(snap, usage(T0)).effectiveCost.toDecimalString(), '10');
    assert.equal(quoteUsage(snap, usage(T0 + 40 * DAY)).effectiveCost.toDecimalString(), '5');
    assert.equal(quoteUsage(snap, usage(T0 + 70 * DAY)).effectiveCost.toDecimalString(), '10');
  });
});

describe('quoteUsage: bad input', () => {
  it('NOT_FOUND names the closest known models', () => {
    assert.throws(
      () => quoteUsage(snapshot(), { at: T0, models: [{ provider: 'openai', model: 'gpt-y', inputTokens: 1n }] }),
      (err: unknown) =>
        err instanceof PricingError &&
        err.code === 'NOT_FOUND' &&
        err.suggestions[0] === 'gpt-x' &&
        err.field === 'models[0]',
    );
  });

  it('INVALID_ARGUMENT names the field', () => {
    assert.throws(
      () => quoteUsage(snapshot(), { at: T0, models: [{ provider: '', model: 'gpt-x' }] }),
      (err: unknown) =>
        err instanceof PricingError && err.code === 'INVALID_ARGUMENT' && err.field === 'models[0].provider',
    );
    assert.throws(
      () => parseQuantity('1e3', 'gpus[0].seconds'),
      (err: unknown) => err instanceof PricingError && err.field === 'gpus[0].seconds',
    );
    assert.throws(
      () =>
        quoteUsage(snapshot(), {
          at: T0,
          models: [{ provider: 'openai', model: 'gpt-x', inputTokens: 5n, cacheReadTokens: 10n }],
        }),
      (err: unknown) => err instanceof PricingError && err.code === 'INVALID_ARGUMENT',
    );
  });
});
