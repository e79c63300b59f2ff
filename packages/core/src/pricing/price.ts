import { Money, parseScaled } from '../money.js';
import { PricingError } from './pricing-error.js';

/** What a price is for; `sku` is the model, GPU type, instance type, storage or egress class. */
export type ResourceType = 'model' | 'gpu' | 'instance' | 'storage' | 'egress';

/** The metered quantity a price applies to. */
export type UsageKind =
  | 'input_tokens'
  | 'output_tokens'
  | 'cache_read_tokens'
  | 'cache_write_tokens'
  | 'reasoning_tokens'
  | 'requests'
  | 'images'
  | 'gpu_time'
  | 'instance_time'
  | 'storage'
  | 'egress';

export type PriceUnit =
  | 'token'
  | '1m_tokens'
  | 'gpu_second'
  | 'gpu_hour'
  | 'instance_second'
  | 'instance_hour'
  | 'gb_month'
  | 'gb'
  | 'request'
  | '1k_requests'
  | 'image';

/** Provider tiers that bill differently. */
export type ServiceTier = 'standard' | 'batch' | 'priority' | 'flex';

/** How capacity is bought (FOCUS pricing category). */
export type PricingModel = 'on_demand' | 'spot' | 'reserved' | 'committed' | 'internal';

export const RESOURCE_TYPES: readonly ResourceType[] = ['model', 'gpu', 'instance', 'storage', 'egress'];
export const USAGE_KINDS: readonly UsageKind[] = [
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
export const SERVICE_TIERS: readonly ServiceTier[] = ['standard', 'batch', 'priority', 'flex'];
export const PRICING_MODELS: readonly PricingModel[] = ['on_demand', 'spot', 'reserved', 'committed', 'internal'];

/** Base quantity a unit measures, and how many base quantities one unit is. */
interface UnitInfo {
  readonly base: 'token' | 'second' | 'gb_month' | 'gb' | 'request' | 'image';
  readonly size: bigint;
}

export const PRICE_UNITS: Readonly<Record<PriceUnit, UnitInfo>> = {
  token: { base: 'token', size: 1n },
  '1m_tokens': { base: 'token', size: 1_000_000n },
  gpu_second: { base: 'second', size: 1n },
  gpu_hour: { base: 'second', size: 3600n },
  instance_second: { base: 'second', size: 1n },
  instance_hour: { base: 'second', size: 3600n },
  gb_month: { base: 'gb_month', size: 1n },
  gb: { base: 'gb', size: 1n },
  request: { base: 'request', size: 1n },
  '1k_requests': { base: 'request', size: 1000n },
  image: { base: 'image', size: 1n },
};

const KIND_UNITS: Readonly<Record<UsageKind, readonly PriceUnit[]>> = {
  input_tokens: ['1m_tokens', 'token'],
  output_tokens: ['1m_tokens', 'token'],
  cache_read_tokens: ['1m_tokens', 'token'],
  cache_write_tokens: ['1m_tokens', 'token'],
  reasoning_tokens: ['1m_tokens', 'token'],
  requests: ['request', '1k_requests'],
  images: ['image'],
  gpu_time: ['gpu_hour', 'gpu_second'],
  instance_time: ['instance_hour', 'instance_second'],
  storage: ['gb_month'],
  egress: ['gb'],
};

const KIND_RESOURCES: Readonly<Record<UsageKind, readonly ResourceType[]>> = {
  input_tokens: ['model'],
  output_tokens: ['model'],
  cache_read_tokens: ['model'],
  cache_write_tokens: ['model'],
  reasoning_tokens: ['model'],
  requests: ['model'],
  images: ['model'],
  gpu_time: ['gpu'],
  instance_time: ['instance'],
  storage: ['storage'],
  egress: ['egress'],
};

/** Units a price of this kind may be quoted in; the first is the catalog default. */
export function unitsForKind(kind: UsageKind): readonly PriceUnit[] {
  return KIND_UNITS[kind];
}

/** One list price, valid from `effectiveFrom` until the next price with the same key. */
export interface Price {
  readonly id: string;
  readonly provider: string;
  readonly resourceType: ResourceType;
  /** Lower case. */
  readonly sku: string;
  /** Empty: global. */
  readonly region: string;
  readonly kind: UsageKind;
  readonly unit: PriceUnit;
  /** Per one `unit`. */
  readonly amount: Money;
  /** Epoch milliseconds. */
  readonly effectiveFrom: number;
  readonly source: string;
  readonly serviceTier: ServiceTier;
  readonly pricingModel: PricingModel;
  /** Long-context tier: applies to prompts above this many input tokens; 0n is the base tier. */
  readonly aboveInputTokens: bigint;
  readonly gpuType: string;
  readonly gpuCount: number;
  readonly description: string;
}

/** Plain-data form of a Price, as stored in catalog files and persisted snapshots. */
export interface PriceRecord {
  readonly id?: string | undefined;
  readonly provider: string;
  readonly resourceType: string;
  readonly sku: string;
  readonly region?: string | undefined;
  readonly kind: string;
  readonly unit: string;
  /** Exact decimal string. */
  readonly amount: string;
  readonly currency?: string | undefined;
  /** ISO 8601 date or date-time (UTC when no offset). */
  readonly effectiveFrom: string;
  readonly source: string;
  readonly serviceTier?: string | undefined;
  readonly pricingModel?: string | undefined;
  /** Decimal integer string or number. */
  readonly aboveInputTokens?: string | number | undefined;
  readonly gpuType?: string | undefined;
  readonly gpuCount?: number | undefined;
  readonly description?: string | undefined;
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], field: string, fallback?: T): T {
  if ((value === undefined || value === '') && fallback !== undefined) return fallback;
  if (value !== undefined && (allowed as readonly string[]).includes(value)) return value as T;
  throw new PricingError('INVALID_CATALOG', `${field} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`, {
    field,
  });
}

/** Parses an ISO 8601 date or date-time into epoch milliseconds; a bare date is UTC midnight. */
export function parseInstant(text: string, field: string): number {
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(iso) ? Date.parse(iso) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new PricingError('INVALID_CATALOG', `${field} ${JSON.stringify(text)} is not an ISO 8601 date`, { field });
  }
  return ms;
}

/** The canonical id of a price version: every key field plus the effective date (and time, if not midnight UTC). */
export function priceId(p: Omit<Price, 'id' | 'amount' | 'source' | 'description' | 'gpuType' | 'gpuCount'>): string {
  const parts = [p.provider, p.sku, p.region === '' ? 'global' : p.region, p.kind];
  if (p.serviceTier !== 'standard') parts.push(p.serviceTier);
  if (p.pricingModel !== 'on_demand') parts.push(p.pricingModel);
  if (p.aboveInputTokens > 0n) parts.push(`gt${p.aboveInputTokens}`);
  const iso = new Date(p.effectiveFrom).toISOString();
  return `${parts.join('/')}@${iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso}`;
}

/** Validates a record into a Price. Throws PricingError INVALID_CATALOG naming the bad field. */
export function priceFromRecord(record: PriceRecord, where = 'price'): Price {
  const text = (value: unknown, field: string, allowEmpty = false): string => {
    if (typeof value !== 'string' || (!allowEmpty && value.trim() === '')) {
      throw new PricingError('INVALID_CATALOG', `${where}.${field} must be a non-empty string`, { field });
    }
    return value.trim();
  };
  const provider = text(record.provider, 'provider').toLowerCase();
  const sku = text(record.sku, 'sku').toLowerCase();
  const region = text(record.region ?? '', 'region', true).toLowerCase();
  const resourceType = oneOf(record.resourceType, RESOURCE_TYPES, `${where}.resourceType`);
  const kind = oneOf(record.kind, USAGE_KINDS, `${where}.kind`);
  if (!KIND_RESOURCES[kind].includes(resourceType)) {
    throw new PricingError('INVALID_CATALOG', `${where}.kind ${kind} does not apply to a ${resourceType}`, {
      field: 'kind',
    });
  }
  const unit = oneOf(record.unit, KIND_UNITS[kind], `${where}.unit`);
  let amount: Money;
  try {
    amount = Money.parse(text(record.amount, 'amount'), record.currency ?? 'USD');
  } catch (err) {
    throw new PricingError('INVALID_CATALOG', `${where}.amount: ${(err as Error).message}`, {
      field: 'amount',
      cause: err,
    });
  }
  if (amount.subunits < 0n) {
    throw new PricingError('INVALID_CATALOG', `${where}.amount must not be negative`, { field: 'amount' });
  }
  const above = record.aboveInputTokens ?? 0;
  if (!/^\d+$/.test(String(above))) {
    throw new PricingError('INVALID_CATALOG', `${where}.aboveInputTokens must be a non-negative integer`, {
      field: 'aboveInputTokens',
    });
  }
  const gpuCount = record.gpuCount ?? 0;
  if (!Number.isInteger(gpuCount) || gpuCount < 0) {
    throw new PricingError('INVALID_CATALOG', `${where}.gpuCount must be a non-negative integer`, {
      field: 'gpuCount',
    });
  }
  const base = {
    provider,
    resourceType,
    sku,
    region,
    kind,
    unit,
    amount,
    effectiveFrom: parseInstant(text(record.effectiveFrom, 'effectiveFrom'), `${where}.effectiveFrom`),
    source: text(record.source, 'source'),
    serviceTier: oneOf(record.serviceTier, SERVICE_TIERS, `${where}.serviceTier`, 'standard'),
    pricingModel: oneOf(record.pricingModel, PRICING_MODELS, `${where}.pricingModel`, 'on_demand'),
    aboveInputTokens: BigInt(above),
    gpuType: (record.gpuType ?? '').toLowerCase(),
    gpuCount,
    description: record.description ?? '',
  };
  return { ...base, id: record.id ?? priceId(base) };
}

/** The plain-data form of a Price (inverse of priceFromRecord). */
export function priceToRecord(price: Price): PriceRecord {
  return {
    id: price.id,
    provider: price.provider,
    resourceType: price.resourceType,
    sku: price.sku,
    region: price.region,
    kind: price.kind,
    unit: price.unit,
    amount: price.amount.toDecimalString(),
    currency: price.amount.currency,
    effectiveFrom: new Date(price.effectiveFrom).toISOString(),
    source: price.source,
    serviceTier: price.serviceTier,
    pricingModel: price.pricingModel,
    aboveInputTokens: price.aboveInputTokens.toString(),
    gpuType: price.gpuType,
    gpuCount: price.gpuCount,
    description: price.description,
  };
}

/** Re-expresses a unit price in another unit of the same base quantity, rounded half to even. */
export function convertUnitPrice(amount: Money, from: PriceUnit, to: PriceUnit): Money {
  const a = PRICE_UNITS[from];
  const b = PRICE_UNITS[to];
  if (a.base !== b.base) {
    throw new PricingError('INVALID_ARGUMENT', `cannot express a price per ${from} per ${to}`, { field: 'unit' });
  }
  return Money.fromRatio(amount, b.size, a.size);
}

/** Fraction digits a usage quantity may carry (nanoseconds, nano-GB). */
export const QUANTITY_SCALE = 9;
export const QUANTITY_ONE = 10n ** BigInt(QUANTITY_SCALE);

/**
 * Parses a non-negative decimal usage quantity ("3600", "0.25") into an integer scaled by
 * 10^QUANTITY_SCALE. Throws INVALID_ARGUMENT naming `field`.
 */
export function parseQuantity(text: string, field: string): bigint {
  if (text.trim() === '') return 0n;
  let value: bigint;
  try {
    value = parseScaled(text, QUANTITY_SCALE);
  } catch (err) {
    throw new PricingError('INVALID_ARGUMENT', `${field}: ${(err as Error).message}`, { field, cause: err });
  }
  if (value < 0n) throw new PricingError('INVALID_ARGUMENT', `${field}: must not be negative`, { field });
  return value;
}
