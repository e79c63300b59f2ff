import { Money, parseScaled } from '../money.js';
import { ownedGpuHourlyRate } from './owned-gpu-rate.js';
import type { OwnedGpuCosts } from './owned-gpu-rate.js';
import { parseInstant, PRICE_UNITS, PRICING_MODELS, QUANTITY_ONE, RESOURCE_TYPES, USAGE_KINDS } from './price.js';
import type { PriceUnit, PricingModel, ResourceType, UsageKind } from './price.js';
import { PricingError } from './pricing-error.js';

/** Percent off, in millionths of a percent ("12.5" → 12_500_000n). */
const PERCENT_SCALE = 6;
const HUNDRED_PERCENT = 100n * 10n ** BigInt(PERCENT_SCALE);

export type OverrideEffect =
  | { readonly type: 'discount'; readonly percent: bigint }
  | { readonly type: 'rate'; readonly rate: Money; readonly unit: PriceUnit };

/**
 * A rule on top of list prices: a negotiated discount, a spot/reserved/committed rate or an
 * internal amortised rate. Empty match fields match anything.
 */
export interface Override {
  readonly id: string;
  readonly description: string;
  readonly provider: string;
  readonly sku: string;
  readonly region: string;
  readonly resourceType: ResourceType | '';
  readonly kind: UsageKind | '';
  /** The pricing model usage must ask for; on-demand overrides are negotiated discounts. */
  readonly pricingModel: PricingModel;
  readonly effect: OverrideEffect;
  /** Epoch milliseconds. */
  readonly effectiveFrom: number;
  /** Epoch milliseconds, exclusive; undefined: open-ended. */
  readonly effectiveUntil: number | undefined;
}

/** Plain-data form of an override, as written in an overrides file. */
export interface OverrideRecord {
  readonly id: string;
  readonly description?: string;
  readonly provider?: string;
  readonly sku?: string;
  readonly region?: string;
  readonly resourceType?: string;
  readonly kind?: string;
  readonly pricingModel?: string;
  /** Percent off: "15" is 15 % off. */
  readonly discountPercent?: string;
  /** Replacement rate per rateUnit. */
  readonly rate?: string;
  readonly rateUnit?: string;
  readonly currency?: string;
  /** Owned hardware: computes a per-GPU-hour rate (pricingModel internal, kind gpu_time). */
  readonly ownedGpu?: OwnedGpuCosts;
  readonly effectiveFrom?: string;
  readonly effectiveUntil?: string;
}

export interface AppliedOverride {
  readonly id: string;
  readonly description: string;
  readonly pricingModel: PricingModel;
}

function invalid(where: string, field: string, problem: string): PricingError {
  return new PricingError('INVALID_ARGUMENT', `${where}.${field}: ${problem}`, { field: `${where}.${field}` });
}

function pick<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  where: string,
  field: string,
): T | '' {
  if (value === undefined || value === '') return '';
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw invalid(where, field, `${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
}

/** Validates an override record. Throws INVALID_ARGUMENT naming the field and the fix. */
export function overrideFromRecord(record: OverrideRecord, where = 'override'): Override {
  if (typeof record.id !== 'string' || record.id === '') throw invalid(where, 'id', 'must be a non-empty string');
  const effects = [record.discountPercent, record.rate, record.ownedGpu].filter((e) => e !== undefined).length;
  if (effects !== 1) throw invalid(where, 'discountPercent', 'give exactly one of discountPercent, rate, ownedGpu');
  let effect: OverrideEffect;
  let kind = pick(record.kind, USAGE_KINDS, where, 'kind');
  let resourceType = pick(record.resourceType, RESOURCE_TYPES, where, 'resourceType');
  let pricingModel = pick(record.pricingModel, PRICING_MODELS, where, 'pricingModel') || 'on_demand';
  if (record.discountPercent !== undefined) {
    let percent: bigint;
    try {
      percent = parseScaled(record.discountPercent, PERCENT_SCALE);
    } catch (err) {
      throw invalid(where, 'discountPercent', (err as Error).message);
    }
    if (percent < 0n || percent > HUNDRED_PERCENT) throw invalid(where, 'discountPercent', 'must be from 0 to 100');
    effect = { type: 'discount', percent };
  } else if (record.rate !== undefined) {
    const unit = record.rateUnit;
    if (unit === undefined || !(unit in PRICE_UNITS)) {
      throw invalid(where, 'rateUnit', `must be one of ${Object.keys(PRICE_UNITS).join(', ')}`);
    }
    let rate: Money;
    try {
      rate = Money.parse(record.rate, record.currency ?? 'USD');
    } catch (err) {
      throw invalid(where, 'rate', (err as Error).message);
    }
    effect = { type: 'rate', rate, unit: unit as PriceUnit };
  } else {
    const rate = ownedGpuHourlyRate({ ...(record.ownedGpu as OwnedGpuCosts), currency: record.currency });
    effect = { type: 'rate', rate, unit: 'gpu_hour' };
    kind = 'gpu_time';
    resourceType = 'gpu';
    if (record.pricingModel === undefined) pricingModel = 'internal';
  }
  const effectiveFrom = record.effectiveFrom === undefined ? 0 : instant(record.effectiveFrom, where, 'effectiveFrom');
  const effectiveUntil =
    record.effectiveUntil === undefined ? undefined : instant(record.effectiveUntil, where, 'effectiveUntil');
  if (effectiveUntil !== undefined && effectiveUntil <= effectiveFrom) {
    throw invalid(where, 'effectiveUntil', 'must be after effectiveFrom');
  }
  return {
    id: record.id,
    description: record.description ?? '',
    provider: (record.provider ?? '').toLowerCase(),
    sku: (record.sku ?? '').toLowerCase(),
    region: (record.region ?? '').toLowerCase(),
    resourceType,
    kind,
    pricingModel,
    effect,
    effectiveFrom,
    effectiveUntil,
  };
}

function instant(text: string, where: string, field: string): number {
  try {
    return parseInstant(text, `${where}.${field}`);
  } catch {
    throw invalid(where, field, `${JSON.stringify(text)} is not an ISO 8601 date`);
  }
}

/** The plain-data form (inverse of overrideFromRecord; TCO inputs become their rate). */
export function overrideToRecord(o: Override): OverrideRecord {
  const effect =
    o.effect.type === 'discount'
      ? { discountPercent: formatPercent(o.effect.percent) }
      : { rate: o.effect.rate.toDecimalString(), rateUnit: o.effect.unit, currency: o.effect.rate.currency };
  return {
    id: o.id,
    description: o.description,
    provider: o.provider,
    sku: o.sku,
    region: o.region,
    resourceType: o.resourceType,
    kind: o.kind,
    pricingModel: o.pricingModel,
    ...effect,
    effectiveFrom: new Date(o.effectiveFrom).toISOString(),
    ...(o.effectiveUntil === undefined ? {} : { effectiveUntil: new Date(o.effectiveUntil).toISOString() }),
  };
}

function formatPercent(percent: bigint): string {
  const whole = percent / 10n ** BigInt(PERCENT_SCALE);
  const fraction = (percent % 10n ** BigInt(PERCENT_SCALE)).toString().padStart(PERCENT_SCALE, '0').replace(/0+$/, '');
  return fraction === '' ? whole.toString() : `${whole}.${fraction}`;
}

/** What an override is matched against. */
export interface OverrideTarget {
  readonly provider: string;
  readonly sku: string;
  readonly region: string;
  readonly resourceType: ResourceType;
  readonly kind: UsageKind;
  readonly pricingModel: PricingModel;
  readonly at: number;
}

function specificity(o: Override): number {
  return [o.provider, o.sku, o.region, o.resourceType, o.kind].filter((f) => f !== '').length;
}

function matches(o: Override, t: OverrideTarget): boolean {
  return (
    o.pricingModel === t.pricingModel &&
    (o.provider === '' || o.provider === t.provider) &&
    (o.sku === '' || o.sku === t.sku) &&
    (o.region === '' || o.region === t.region) &&
    (o.resourceType === '' || o.resourceType === t.resourceType) &&
    (o.kind === '' || o.kind === t.kind) &&
    o.effectiveFrom <= t.at &&
    (o.effectiveUntil === undefined || t.at < o.effectiveUntil) &&
    (o.effect.type === 'discount' || PRICE_UNITS[o.effect.unit].base === unitBaseOf(t.kind))
  );
}

function unitBaseOf(kind: UsageKind): string {
  if (kind.endsWith('_tokens')) return 'token';
  if (kind === 'gpu_time' || kind === 'instance_time') return 'second';
  return { requests: 'request', images: 'image', storage: 'gb_month', egress: 'gb' }[kind as string] ?? kind;
}

/**
 * The one override that applies to a line: the most specific match (most match fields set),
 * then the latest effective, then the smallest id. One override per line keeps quotes explainable.
 */
export function findOverride(overrides: readonly Override[], target: OverrideTarget): Override | undefined {
  let best: Override | undefined;
  for (const o of overrides) {
    if (!matches(o, target)) continue;
    if (
      best === undefined ||
      specificity(o) > specificity(best) ||
      (specificity(o) === specificity(best) &&
        (o.effectiveFrom > best.effectiveFrom || (o.effectiveFrom === best.effectiveFrom && o.id < best.id)))
    ) {
      best = o;
    }
  }
  return best;
}

/** Cost of `quantity` (scaled by 10^QUANTITY_SCALE) at `unitPrice` per `unit`, rounded once. */
export function lineCost(unitPrice: Money, unit: PriceUnit, quantity: bigint): Money {
  return Money.fromRatio(unitPrice, quantity, PRICE_UNITS[unit].size * QUANTITY_ONE);
}

/** Effective cost of a line under an override, from the unit price it would otherwise pay; rounded once. */
export function applyOverride(override: Override, unitPrice: Money, unit: PriceUnit, quantity: bigint): Money {
  const effect = override.effect;
  if (effect.type === 'rate') return lineCost(effect.rate, effect.unit, quantity);
  return Money.fromRatio(
    unitPrice,
    quantity * (HUNDRED_PERCENT - effect.percent),
    PRICE_UNITS[unit].size * QUANTITY_ONE * HUNDRED_PERCENT,
  );
}

/** The unit price after an override, in `unit` (rounded half to even if a rate must be converted). */
export function overriddenUnitPrice(override: Override, unitPrice: Money, unit: PriceUnit): Money {
  const effect = override.effect;
  if (effect.type === 'rate') {
    return Money.fromRatio(effect.rate, PRICE_UNITS[unit].size, PRICE_UNITS[effect.unit].size);
  }
  return Money.fromRatio(unitPrice, HUNDRED_PERCENT - effect.percent, HUNDRED_PERCENT);
}
