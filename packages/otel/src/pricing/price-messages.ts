import { overrideFromRecord, priceFromRecord } from '@costtrace/core';
import type { Override, Price, PriceUnit, PricingModel, ResourceType, ServiceTier, UsageKind } from '@costtrace/core';
import type { OverrideMessage, PriceMessage, Timestamp } from '@costtrace/proto';
import { CostSdkError } from '../sdk-error.js';

// Wire enum number → core name. Proto enums only ever grow: an unknown number fails validation.
const RESOURCE_TYPES: readonly (ResourceType | '')[] = ['', 'model', 'gpu', 'instance', 'storage', 'egress'];
const USAGE_KINDS: readonly (UsageKind | '')[] = [
  '',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'requests',
  'images',
  'gpu_time',
  'instance_time',
  'storage',
  'egress',
];
const PRICE_UNITS: readonly (PriceUnit | '')[] = [
  '',
  'token',
  '1m_tokens',
  'gpu_second',
  'gpu_hour',
  'instance_second',
  'instance_hour',
  'gb_month',
  'gb',
  'request',
  'image',
  '1k_requests',
];
const SERVICE_TIERS: readonly ServiceTier[] = ['standard', 'batch', 'priority', 'flex'];
const PRICING_MODELS: readonly PricingModel[] = ['on_demand', 'spot', 'reserved', 'committed', 'internal'];

function enumName<T extends string>(names: readonly T[], value: number, field: string): T {
  const name = names[value];
  if (name === undefined) {
    throw new CostSdkError(
      'PRICING_PROTOCOL',
      `${field} ${value} is not a value this SDK knows; upgrade @costtrace/otel`,
    );
  }
  return name;
}

/** Epoch milliseconds of a protobuf Timestamp; undefined when unset. */
export function timestampMillis(ts: Timestamp | undefined): number | undefined {
  return ts === undefined ? undefined : Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6);
}

function iso(ts: Timestamp | undefined): string | undefined {
  const ms = timestampMillis(ts);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** A wire Price as core's Price, validated by core (throws CostSdkError PRICING_PROTOCOL). */
export function priceFromMessage(message: PriceMessage): Price {
  try {
    return priceFromRecord(
      {
        id: message.id,
        provider: message.provider,
        resourceType: enumName(RESOURCE_TYPES, message.resourceType, 'price.resource_type'),
        sku: message.sku,
        region: message.region,
        kind: enumName(USAGE_KINDS, message.kind, 'price.kind'),
        unit: enumName(PRICE_UNITS, message.unit, 'price.unit'),
        amount: message.amount?.amount ?? '',
        currency: message.amount?.currency || 'USD',
        effectiveFrom: iso(message.effectiveFrom) ?? '1970-01-01',
        source: message.source || 'pricing-cache',
        serviceTier: enumName(SERVICE_TIERS, message.serviceTier, 'price.service_tier'),
        pricingModel: enumName(PRICING_MODELS, message.pricingModel, 'price.pricing_model'),
        aboveInputTokens: message.aboveInputTokens.toString(),
        gpuType: message.gpuType,
        gpuCount: message.gpuCount,
        description: message.description,
      },
      `price ${message.id}`,
    );
  } catch (err) {
    if (err instanceof CostSdkError) throw err;
    throw new CostSdkError('PRICING_PROTOCOL', `pricing-cache sent an invalid price ${message.id}: ${String(err)}`, {
      cause: err,
    });
  }
}

/** A wire Override as core's Override (throws CostSdkError PRICING_PROTOCOL). */
export function overrideFromMessage(message: OverrideMessage): Override {
  try {
    const resourceType = enumName(RESOURCE_TYPES, message.resourceType, 'override.resource_type');
    const kind = enumName(USAGE_KINDS, message.kind, 'override.kind');
    const rateUnit = enumName(PRICE_UNITS, message.rateUnit, 'override.rate_unit');
    return overrideFromRecord(
      {
        id: message.id,
        description: message.description,
        provider: message.provider,
        sku: message.sku,
        region: message.region,
        ...(resourceType === '' ? {} : { resourceType }),
        ...(kind === '' ? {} : { kind }),
        pricingModel: enumName(PRICING_MODELS, message.pricingModel, 'override.pricing_model'),
        ...(message.discountPercent !== undefined ? { discountPercent: message.discountPercent } : {}),
        ...(message.rate !== undefined
          ? { rate: message.rate.amount, currency: message.rate.currency || 'USD', rateUnit }
          : {}),
        ...(message.effectiveFrom !== undefined ? { effectiveFrom: iso(message.effectiveFrom) } : {}),
        ...(message.effectiveUntil !== undefined ? { effectiveUntil: iso(message.effectiveUntil) } : {}),
      },
      `override ${message.id}`,
    );
  } catch (err) {
    if (err instanceof CostSdkError) throw err;
    throw new CostSdkError('PRICING_PROTOCOL', `pricing-cache sent an invalid override ${message.id}: ${String(err)}`, {
      cause: err,
    });
  }
}
