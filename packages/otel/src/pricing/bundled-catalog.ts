import { BUNDLED_TOKEN_PRICES, BUNDLED_TOKEN_PRICES_VERSION, Money, tokenPriceFromRecord } from '@costtrace/core';
import { PriceSnapshot, REFERENCE_PROVIDER } from './price-snapshot.js';
import type { TimeRate } from './price-snapshot.js';

interface TimeRateRecord {
  readonly id: string;
  readonly provider: string;
  readonly sku: string;
  readonly region: string;
  /** USD per hour. */
  readonly perHour: string;
}

/**
 * Per-GPU-hour reference rates used when a span names a GPU type but neither the span nor the
 * resource names a provider with its own rate. Round figures in the range of 2026 on-demand
 * cloud GPU pricing, meant as a starting point: set real rates (negotiated, reserved, or an
 * internal amortised rate for owned hardware) in pricing-cache.
 */
const GPU_REFERENCE_RATES: readonly TimeRateRecord[] = [
  { id: 'reference/gpu/h200-141gb', provider: REFERENCE_PROVIDER, sku: 'h200-141gb', region: '', perHour: '4.00' },
  { id: 'reference/gpu/h100-80gb', provider: REFERENCE_PROVIDER, sku: 'h100-80gb', region: '', perHour: '3.00' },
  { id: 'reference/gpu/a100-80gb', provider: REFERENCE_PROVIDER, sku: 'a100-80gb', region: '', perHour: '1.80' },
  { id: 'reference/gpu/a100-40gb', provider: REFERENCE_PROVIDER, sku: 'a100-40gb', region: '', perHour: '1.40' },
  { id: 'reference/gpu/l40s-48gb', provider: REFERENCE_PROVIDER, sku: 'l40s-48gb', region: '', perHour: '1.20' },
  { id: 'reference/gpu/a10g-24gb', provider: REFERENCE_PROVIDER, sku: 'a10g-24gb', region: '', perHour: '0.75' },
  { id: 'reference/gpu/l4-24gb', provider: REFERENCE_PROVIDER, sku: 'l4-24gb', region: '', perHour: '0.70' },
  { id: 'reference/gpu/t4-16gb', provider: REFERENCE_PROVIDER, sku: 't4-16gb', region: '', perHour: '0.35' },
];

/** Linux on-demand list prices per instance-hour (AWS us-east-1, GCP us-central1), 2026-11. */
const INSTANCE_RATES: readonly TimeRateRecord[] = [
  { id: 'aws/ec2/p4d.24xlarge/us-east-1', provider: 'aws', sku: 'p4d.24xlarge', region: 'us-east-1', perHour: '32.7726' },
  { id: 'aws/ec2/g5.xlarge/us-east-1', provider: 'aws', sku: 'g5.xlarge', region: 'us-east-1', perHour: '1.006' },
  { id: 'aws/ec2/g5.12xlarge/us-east-1', provider: 'aws', sku: 'g5.12xlarge', region: 'us-east-1', perHour: '5.672' },
  { id: 'aws/ec2/g6.xlarge/us-east-1', provider: 'aws', sku: 'g6.xlarge', region: 'us-east-1', perHour: '0.8048' },
  { id: 'aws/ec2/m5.xlarge/us-east-1', provider: 'aws', sku: 'm5.xlarge', region: 'us-east-1', perHour: '0.192' },
  { id: 'aws/ec2/c5.xlarge/us-east-1', provider: 'aws', sku: 'c5.xlarge', region: 'us-east-1', perHour: '0.17' },
  { id: 'gcp/gce/n1-standard-8/us-central1', provider: 'gcp', sku: 'n1-standard-8', region: 'us-central1', perHour: '0.379984' },
  {
    id: 'gcp/gce/a2-highgpu-1g/us-central1',
    provider: 'gcp',
    sku: 'a2-highgpu-1g',
    region: 'us-central1',
    perHour: '3.673385',
  },
];

/** Version stamped on spans priced from the bundled catalog. */
export const BUNDLED_CATALOG_VERSION = BUNDLED_TOKEN_PRICES_VERSION;

function toRate(record: TimeRateRecord): TimeRate {
  return {
    id: record.id,
    provider: record.provider,
    sku: record.sku,
    region: record.region,
    amount: Money.parse(record.perHour, 'USD'),
    unitSeconds: 3600n,
  };
}

/**
 * The catalog shipped inside the package: token prices of the common hosted models, reference
 * GPU-hour rates and a few instance types. The very first span is priced from it, before
 * pricing-cache answered (or when it never does); such spans say `cost.pricing.source=bundled`.
 */
export function bundledSnapshot(): PriceSnapshot {
  return new PriceSnapshot({
    version: BUNDLED_CATALOG_VERSION,
    source: 'bundled',
    tokens: BUNDLED_TOKEN_PRICES.map(tokenPriceFromRecord),
    gpuRates: GPU_REFERENCE_RATES.map(toRate),
    instanceRates: INSTANCE_RATES.map(toRate),
  });
}
