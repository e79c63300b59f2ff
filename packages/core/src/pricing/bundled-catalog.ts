import { priceFromRecord } from './price.js';
import type { PriceRecord } from './price.js';
import { PriceSnapshot } from './price-snapshot.js';
import { PricingView, REFERENCE_PROVIDER } from './pricing-view.js';

/** Version stamped on spans priced from the bundled catalog. */
export const BUNDLED_CATALOG_VERSION = 'bundled-2026-11-01';

const EFFECTIVE_FROM = '2026-11-01';

/**
 * Token list prices of common hosted models, USD per 1M tokens, from the providers' public
 * pricing pages (openai.com/api/pricing, anthropic.com/pricing), gathered 2026-11-01:
 * provider, model, model revision, input, cache read, cache write, output. An absent cache
 * price bills those tokens as uncached input.
 */
const MODEL_RATES: readonly (readonly [
  string,
  string,
  string,
  string,
  string | undefined,
  string | undefined,
  string,
])[] = [
  ['openai', 'gpt-4o', '2024-08-06', '2.50', '1.25', undefined, '10.00'],
  ['openai', 'gpt-4o-mini', '2024-07-18', '0.15', '0.075', undefined, '0.60'],
  ['openai', 'o3-mini', '2025-01-31', '1.10', '0.55', undefined, '4.40'],
  ['anthropic', 'claude-sonnet-4', '2025-05-14', '3.00', '0.30', '3.75', '15.00'],
  ['anthropic', 'claude-3-5-haiku', '2024-10-22', '0.80', '0.08', '1.00', '4.00'],
];

/**
 * Per-GPU-hour reference rates (provider "reference"), used when a span names a GPU type but no
 * provider with its own rate. The same SKUs and figures as pricing-cache's bundled
 * `gpu-reference-rates` catalog (latest version of each, as published up to 2025-09: on-demand
 * list price of a major cloud's instance divided by its GPU count), so the SDK's fallback and
 * pricing-cache agree. pricing-cache supersedes them as soon as it answers.
 */
const GPU_REFERENCE_RATES: readonly (readonly [string, string, string])[] = [
  ['h100-80gb', '6.88', 'aws p5.48xlarge us-east-1 55.04 / 8 GPUs'],
  ['h100-94gb', '6.98', 'azure standard_nc40ads_h100_v5 eastus, 1 GPU'],
  ['h200', '6.305', 'coreweave HGX H200 8-GPU node 50.44 / 8 GPUs'],
  ['a100-40gb', '4.096575', 'aws p4d.24xlarge us-east-1 32.7726 / 8 GPUs'],
  ['a100-80gb', '5.1207125', 'aws p4de.24xlarge us-east-1 40.9657 / 8 GPUs'],
  ['l40s', '1.861', 'aws g6e.xlarge us-east-1, 1 GPU'],
  ['l4', '0.8048', 'aws g6.xlarge us-east-1, 1 GPU'],
  ['a10g', '1.006', 'aws g5.xlarge us-east-1, 1 GPU'],
  ['a10', '3.20', 'azure standard_nv36ads_a10_v5 eastus, 1 GPU'],
  ['t4', '0.35', 'gcp T4 attached GPU us-central1'],
  ['v100', '2.48', 'gcp V100 attached GPU us-central1'],
];

/**
 * Linux on-demand list prices per instance-hour: common GPU instances (as in pricing-cache's
 * `gpu-instances` catalog) and two general-purpose AWS types, for opt-in instance cost.
 */
const INSTANCE_RATES: readonly (readonly [string, string, string, string])[] = [
  ['aws', 'p5.48xlarge', 'us-east-1', '55.04'],
  ['aws', 'p4d.24xlarge', 'us-east-1', '32.7726'],
  ['aws', 'p4de.24xlarge', 'us-east-1', '40.9657'],
  ['aws', 'g5.xlarge', 'us-east-1', '1.006'],
  ['aws', 'g5.12xlarge', 'us-east-1', '5.672'],
  ['aws', 'g6.xlarge', 'us-east-1', '0.8048'],
  ['aws', 'g6e.xlarge', 'us-east-1', '1.861'],
  ['aws', 'g4dn.xlarge', 'us-east-1', '0.526'],
  ['aws', 'm5.xlarge', 'us-east-1', '0.192'],
  ['aws', 'c5.xlarge', 'us-east-1', '0.17'],
  ['gcp', 'a2-highgpu-1g', 'us-central1', '3.673385'],
  ['gcp', 'a3-highgpu-8g', 'us-central1', '88.2468'],
  ['gcp', 'g2-standard-4', 'us-central1', '0.706832'],
  ['azure', 'standard_nc24ads_a100_v4', 'eastus', '3.673'],
];

function bundledRecords(): PriceRecord[] {
  const records: PriceRecord[] = [];
  for (const [provider, model, revision, input, cacheRead, cacheWrite, output] of MODEL_RATES) {
    const kinds: [string, string | undefined][] = [
      ['input_tokens', input],
      ['output_tokens', output],
      ['cache_read_tokens', cacheRead],
      ['cache_write_tokens', cacheWrite],
    ];
    for (const [kind, amount] of kinds) {
      if (amount === undefined) continue;
      records.push({
        provider,
        resourceType: 'model',
        sku: model,
        kind,
        unit: '1m_tokens',
        amount,
        currency: 'USD',
        effectiveFrom: EFFECTIVE_FROM,
        source: `bundled: ${provider} public pricing page (${provider}/${model}@${revision})`,
      });
    }
  }
  for (const [sku, amount, description] of GPU_REFERENCE_RATES) {
    records.push({
      provider: REFERENCE_PROVIDER,
      resourceType: 'gpu',
      sku,
      kind: 'gpu_time',
      unit: 'gpu_hour',
      amount,
      effectiveFrom: EFFECTIVE_FROM,
      source: 'bundled: reference GPU-hour rate',
      gpuType: sku,
      gpuCount: 1,
      description,
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
