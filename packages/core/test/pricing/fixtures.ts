import { priceFromRecord } from '../../src/index.js';
import type { Price, PriceRecord } from '../../src/index.js';

export const DAY = 86_400_000;
export const T0 = Date.parse('2026-01-01T00:00:00Z');

const rec = (r: Partial<PriceRecord> & Pick<PriceRecord, 'sku' | 'kind' | 'amount'>): PriceRecord => ({
  provider: 'openai',
  resourceType: 'model',
  unit: '1m_tokens',
  effectiveFrom: '2025-06-01',
  source: 'test',
  ...r,
});

/** A small catalog with history, tiers, long context and cloud prices. */
export function samplePrices(): Price[] {
  const records: PriceRecord[] = [
    rec({ sku: 'gpt-x', kind: 'input_tokens', amount: '2.50' }),
    rec({ sku: 'gpt-x', kind: 'cache_read_tokens', amount: '1.25' }),
    rec({ sku: 'gpt-x', kind: 'output_tokens', amount: '10' }),
    // Price cut at noon on 2026-01-01: earlier usage keeps the old rate.
    rec({ sku: 'gpt-x', kind: 'input_tokens', amount: '2.00', effectiveFrom: '2026-01-01T12:00:00Z' }),
    rec({ sku: 'gpt-x', kind: 'input_tokens', amount: '1.25', serviceTier: 'batch' }),
    rec({ sku: 'gpt-x', kind: 'output_tokens', amount: '5', serviceTier: 'batch' }),
    rec({ sku: 'o-think', kind: 'input_tokens', amount: '1.10' }),
    rec({ sku: 'o-think', kind: 'output_tokens', amount: '4.40' }),
    rec({ sku: 'o-think', kind: 'reasoning_tokens', amount: '4.40' }),
    rec({ provider: 'anthropic', sku: 'claude-s', kind: 'input_tokens', amount: '3' }),
    rec({ provider: 'anthropic', sku: 'claude-s', kind: 'output_tokens', amount: '15' }),
    rec({ provider: 'anthropic', sku: 'claude-s', kind: 'cache_read_tokens', amount: '0.30' }),
    rec({ provider: 'anthropic', sku: 'claude-s', kind: 'cache_write_tokens', amount: '3.75' }),
    rec({ provider: 'anthropic', sku: 'claude-s', kind: 'input_tokens', amount: '6', aboveInputTokens: 200000 }),
    rec({ provider: 'anthropic', sku: 'claude-s', kind: 'output_tokens', amount: '22.50', aboveInputTokens: 200000 }),
    rec({ sku: 'img-1', kind: 'images', unit: 'image', amount: '0.04' }),
    rec({ sku: 'img-1', kind: 'input_tokens', amount: '5' }),
    rec({ sku: 'img-1', kind: 'output_tokens', amount: '40' }),
    rec({ sku: 'search-1', kind: 'input_tokens', amount: '1' }),
    rec({ sku: 'search-1', kind: 'output_tokens', amount: '1' }),
    rec({ sku: 'search-1', kind: 'requests', unit: '1k_requests', amount: '25' }),
    {
      provider: 'aws',
      resourceType: 'instance',
      sku: 'p5.48xlarge',
      region: 'us-east-1',
      kind: 'instance_time',
      unit: 'instance_hour',
      amount: '55.04',
      effectiveFrom: '2025-06-01',
      source: 'test',
      gpuType: 'h100-80gb',
      gpuCount: 8,
    },
    {
      provider: 'aws',
      resourceType: 'instance',
      sku: 'p5.48xlarge',
      region: 'us-east-1',
      kind: 'instance_time',
      unit: 'instance_hour',
      amount: '36.186',
      pricingModel: 'reserved',
      effectiveFrom: '2025-06-01',
      source: 'test',
    },
    {
      provider: 'reference',
      resourceType: 'gpu',
      sku: 'h100-80gb',
      kind: 'gpu_time',
      unit: 'gpu_hour',
      amount: '3.00',
      effectiveFrom: '2025-01-01',
      source: 'test',
    },
    {
      provider: 'aws',
      resourceType: 'storage',
      sku: 's3-standard',
      region: 'us-east-1',
      kind: 'storage',
      unit: 'gb_month',
      amount: '0.023',
      effectiveFrom: '2025-01-01',
      source: 'test',
    },
    {
      provider: 'aws',
      resourceType: 'egress',
      sku: 'internet',
      region: 'us-east-1',
      kind: 'egress',
      unit: 'gb',
      amount: '0.09',
      effectiveFrom: '2025-01-01',
      source: 'test',
    },
  ];
  return records.map((r, i) => priceFromRecord(r, `records[${i}]`));
}
