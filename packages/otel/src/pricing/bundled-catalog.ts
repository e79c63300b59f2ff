import { BUNDLED_TOKEN_PRICES, BUNDLED_TOKEN_PRICES_VERSION, PriceSnapshot, priceFromRecord } from '@costtrace/core';
import type { PriceRecord } from '@costtrace/core';
import { PricingView, REFERENCE_PROVIDER } from './pricing-view.js';

/** Version stamped on spans priced from the bundled catalog. */
export const BUNDLED_CATALOG_VERSION = BUNDLED_TOKEN_PRICES_VERSION;

const EFFECTIVE_FROM = '2026-11-01';

/**
 * Per-GPU-hour reference rates, used when a span names a GPU type but no provider with its own
 * rate. Round figures in the range of 2026 on-demand cloud GPU pricing, meant as a starting
 * point: set real rates (negotiated, reserved, or an internal amortised rate for owned hardware)
 * in pricing-cache.
 */
const GPU_REFERENCE_RATES: readonly (readonly [string, string])[] = [
  ['h200-141gb', '4.00'],
  ['h100-80gb', '3.00'],
  ['a100-80gb', '1.80'],
  ['a100-40gb', '1.40'],
  ['l40s-48gb', '1.20'],
  ['a10g-24gb', '0.75'],
  ['l4-24gb', '0.70'],
  ['t4-16gb', '0.35'],
];

/** Linux on-demand list prices per instance-hour (AWS us-east-1, GCP us-central1). */
const INSTANCE_RATES: readonly (readonly [string, string, string, string])[] = [
  ['aws', 'p4d.24xlarge', 'us-east-1', '32.7726'],
  ['aws', 'g5.xlarge', 'us-east-1', '1.006'],
  ['aws', 'g5.12xlarge', 'us-east-1', '5.672'],
  ['aws', 'g6.xlarge', 'us-east-1', '0.8048'],
  ['aws', 'm5.xlarge', 'us-east-1', '0.192'],
  ['aws', 'c5.xlarge', 'us-east-1', '0.17'],
  ['gcp', 'n1-standard-8', 'us-central1', '0.379984'],
  ['gcp', 'a2-highgpu-1g', 'us-central1', '3.673385'],
];

function bundledRecords(): PriceRecord[] {
  const records: PriceRecord[] = [];
  for (const t of BUNDLED_TOKEN_PRICES) {
    const kinds: [string, string | undefined][] = [
      ['input_tokens', t.inputPerMillion],
      ['output_tokens', t.outputPerMillion],
      ['cache_read_tokens', t.cacheReadPerMillion],
      ['cache_write_tokens', t.cacheWritePerMillion],
      ['reasoning_tokens', t.reasoningPerMillion],
    ];
    for (const [kind, amount] of kinds) {
      if (amount === undefined) continue;
      records.push({
        provider: t.provider,
        resourceType: 'model',
        sku: t.model,
        kind,
        unit: '1m_tokens',
        amount,
        currency: t.currency,
        effectiveFrom: EFFECTIVE_FROM,
        source: `bundled: ${t.provider} public pricing page (${t.id})`,
      });
    }
  }
  for (const [sku, amount] of GPU_REFERENCE_RATES) {
    records.push({
      provider: REFERENCE_PROVIDER,
      resourceType: 'gpu',
      sku,
      kind: 'gpu_time',
      unit: 'gpu_hour',
      amount,
      effectiveFrom: EFFECTIVE_FROM,
      source: 'bundled: costtrace reference GPU-hour rate',
    });
  }
  for (const [provider, sku, region, amount] of INSTANCE_RATES) {
    records.push({
      provider,
      resourceType: 'instance',
      sku,
      region,
      kind: 'instance_time',
      unit: 'instance_hour',
      amount,
      effectiveFrom: EFFECTIVE_FROM,
      source: `bundled: ${provider} on-demand list price`,
    });
  }
  return records;
}

/**
 * The catalog shipped inside the package: token prices of common hosted models, reference
 * GPU-hour rates and a few instance types, as a core PriceSnapshot (version 0). The very first
 * span is priced from it, before pricing-cache answered (or when it never does); such spans say
 * `cost.pricing.source=bundled`.
 */
export function bundledPriceSnapshot(): PriceSnapshot {
  return new PriceSnapshot(
    0n,
    bundledRecords().map((r, i) => priceFromRecord(r, `bundled[${i}]`)),
    [],
    Date.parse(`${EFFECTIVE_FROM}T00:00:00Z`),
  );
}

/** The bundled catalog as the processor's price view. */
export function bundledPricingView(stale = false): PricingView {
  return new PricingView(bundledPriceSnapshot(), 'bundled', stale, BUNDLED_CATALOG_VERSION);
}
