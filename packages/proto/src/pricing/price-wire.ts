// Conversions between the generated pricing wire types and the core price model, hand-written
// and shared by both ends: pricing-cache writes prices, overrides and quotes and reads requests;
// the SDK's PricingClient reads prices and overrides. Every enum has an explicit, complete table
// so a renumbering or a new core value fails to compile instead of mispricing. Every decoding
// failure is a PricingError INVALID_ARGUMENT whose `field` names the wire field.
import {
  formatScaled,
  invalidArgument,
  Money,
  overrideFromRecord,
  overrideToRecord,
  priceFromRecord,
  PricingError,
  QUANTITY_SCALE,
} from '@costtrace/core';
import type {
  AppliedOverride,
  Override,
  OverrideRecord,
  Price,
  PriceRecord,
  PriceUnit,
  PricingModel,
  Quote,
  QuoteLine,
  ResourceType,
  ServiceTier,
  UsageKind,
} from '@costtrace/core';
import type { Timestamp } from '../gen/google/protobuf/timestamp.js';
import {
  InputTokenRule,
  PriceUnit as PriceUnitEnum,
  PricingModel as PricingModelEnum,
  ResourceType as ResourceTypeEnum,
  ServiceTier as ServiceTierEnum,
  UsageKind as UsageKindEnum,
} from '../gen/costtrace/pricing/v1/pricing.js';
import type {
  AppliedOverride as AppliedOverrideMessage,
  Money as MoneyMessage,
  Override as OverrideMessage,
  Price as PriceMessage,
  QuoteLine as QuoteLineMessage,
  QuoteResponse,
} from '../gen/costtrace/pricing/v1/pricing.js';

/** Converts one enum both ways. */
export interface EnumMapper<Core extends string, Wire extends number> {
  readonly toWire: (value: Core) => Wire;
  /** Unknown values are INVALID_ARGUMENT naming `field`. */
  readonly toCore: (value: Wire, field: string) => Core;
  /** Like toCore, but an unmapped 0 (UNSPECIFIED) means "any" and gives undefined. */
  readonly optional: (value: Wire, field: string) => Core | undefined;
}

function mapper<Core extends string, Wire extends number>(
  table: Readonly<Record<Core, Wire>>,
  name: string,
): EnumMapper<Core, Wire> {
  const pairs = Object.entries(table) as [Core, Wire][];
  const coreOf = new Map<Wire, Core>(pairs.map(([c, w]) => [w, c]));
  const toCore = (value: Wire, field: string): Core => {
    const core = coreOf.get(value);
    if (core === undefined) throw invalidArgument(field, `unknown ${name} ${value}`);
    return core;
  };
  return {
    toWire: (value) => table[value],
    toCore,
    optional: (value, field) => ((value as number) === 0 && !coreOf.has(value) ? undefined : toCore(value, field)),
  };
}

export const resourceTypes = mapper<ResourceType, ResourceTypeEnum>(
  {
    model: ResourceTypeEnum.RESOURCE_TYPE_MODEL,
    gpu: ResourceTypeEnum.RESOURCE_TYPE_GPU,
    instance: ResourceTypeEnum.RESOURCE_TYPE_INSTANCE,
    storage: ResourceTypeEnum.RESOURCE_TYPE_STORAGE,
    egress: ResourceTypeEnum.RESOURCE_TYPE_EGRESS,
  },
  'resource type',
);

export const usageKinds = mapper<UsageKind, UsageKindEnum>(
  {
    input_tokens: UsageKindEnum.USAGE_KIND_INPUT_TOKENS,
    output_tokens: UsageKindEnum.USAGE_KIND_OUTPUT_TOKENS,
    cache_read_tokens: UsageKindEnum.USAGE_KIND_CACHE_READ_TOKENS,
    cache_write_tokens: UsageKindEnum.USAGE_KIND_CACHE_WRITE_TOKENS,
    reasoning_tokens: UsageKindEnum.USAGE_KIND_REASONING_TOKENS,
    requests: UsageKindEnum.USAGE_KIND_REQUESTS,
    images: UsageKindEnum.USAGE_KIND_IMAGES,
    gpu_time: UsageKindEnum.USAGE_KIND_GPU_TIME,
    instance_time: UsageKindEnum.USAGE_KIND_INSTANCE_TIME,
    storage: UsageKindEnum.USAGE_KIND_STORAGE,
    egress: UsageKindEnum.USAGE_KIND_EGRESS,
  },
  'usage kind',
);

export const priceUnits = mapper<PriceUnit, PriceUnitEnum>(
  {
    token: PriceUnitEnum.PRICE_UNIT_TOKEN,
    '1m_tokens': PriceUnitEnum.PRICE_UNIT_MILLION_TOKENS,
    gpu_second: PriceUnitEnum.PRICE_UNIT_GPU_SECOND,
    gpu_hour: PriceUnitEnum.PRICE_UNIT_GPU_HOUR,
    instance_second: PriceUnitEnum.PRICE_UNIT_INSTANCE_SECOND,
    instance_hour: PriceUnitEnum.PRICE_UNIT_INSTANCE_HOUR,
    gb_month: PriceUnitEnum.PRICE_UNIT_GB_MONTH,
    gb: PriceUnitEnum.PRICE_UNIT_GB,
    request: PriceUnitEnum.PRICE_UNIT_REQUEST,
    '1k_requests': PriceUnitEnum.PRICE_UNIT_THOUSAND_REQUESTS,
    image: PriceUnitEnum.PRICE_UNIT_IMAGE,
  },
  'price unit',
);

export const serviceTiers = mapper<ServiceTier, ServiceTierEnum>(
  {
    standard: ServiceTierEnum.SERVICE_TIER_UNSPECIFIED,
    batch: ServiceTierEnum.SERVICE_TIER_BATCH,
    priority: ServiceTierEnum.SERVICE_TIER_PRIORITY,
    flex: ServiceTierEnum.SERVICE_TIER_FLEX,
  },
  'service tier',
);

export const pricingModels = mapper<PricingModel, PricingModelEnum>(
  {
    on_demand: PricingModelEnum.PRICING_MODEL_UNSPECIFIED,
    spot: PricingModelEnum.PRICING_MODEL_SPOT,
    reserved: PricingModelEnum.PRICING_MODEL_RESERVED,
    committed: PricingModelEnum.PRICING_MODEL_COMMITTED,
    internal: PricingModelEnum.PRICING_MODEL_INTERNAL,
  },
  'pricing model',
);

export function inputTokenRule(
  value: InputTokenRule,
  field: string,
): 'input-includes-cache' | 'input-excludes-cache' | undefined {
  switch (value) {
    case InputTokenRule.INPUT_TOKEN_RULE_UNSPECIFIED:
      return undefined;
    case InputTokenRule.INPUT_TOKEN_RULE_INCLUDES_CACHE:
      return 'input-includes-cache';
    case InputTokenRule.INPUT_TOKEN_RULE_EXCLUDES_CACHE:
      return 'input-excludes-cache';
    default:
      throw invalidArgument(field, `unknown input token rule ${String(value)}`);
  }
}

export function moneyToWire(money: Money): MoneyMessage {
  return { amount: money.toDecimalString(), currency: money.currency };
}

/** An unset currency is USD. */
export function moneyFromWire(message: MoneyMessage | undefined, field: string): Money {
  if (message === undefined) throw invalidArgument(field, 'is required');
  try {
    return Money.parse(message.amount, message.currency || 'USD');
  } catch (err) {
    throw invalidArgument(field, (err as Error).message);
  }
}

export function timestampToWire(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

/** Epoch milliseconds of a timestamp; `fallback` when unset. */
export function timestampFromWire(ts: Timestamp | undefined, field: string, fallback: number): number {
  if (ts === undefined) return fallback;
  if (ts.nanos < 0 || ts.nanos > 999_999_999) throw invalidArgument(`${field}.nanos`, 'must be 0..999999999');
  const ms = Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1_000_000);
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > 8.64e15) throw invalidArgument(field, 'is out of range');
  return ms;
}

/** A set timestamp as the ISO 8601 text core's records take. */
function isoFromWire(ts: Timestamp, field: string): string {
  return new Date(timestampFromWire(ts, field, 0)).toISOString();
}

/**
 * Runs core's validation of a decoded record; its failures become INVALID_ARGUMENT (a wire
 * message is an argument, not a catalog) with `field` under `where`.
 */
function validated<T>(where: string, build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (!(err instanceof PricingError) || err.code === 'INVALID_ARGUMENT') throw err;
    const field =
      err.field === undefined ? where : err.field.startsWith(`${where}.`) ? err.field : `${where}.${err.field}`;
    throw new PricingError('INVALID_ARGUMENT', err.message, { field, cause: err });
  }
}

export function priceToWire(p: Price): PriceMessage {
  return {
    id: p.id,
    provider: p.provider,
    resourceType: resourceTypes.toWire(p.resourceType),
    sku: p.sku,
    region: p.region,
    kind: usageKinds.toWire(p.kind),
    unit: priceUnits.toWire(p.unit),
    amount: moneyToWire(p.amount),
    effectiveFrom: timestampToWire(p.effectiveFrom),
    source: p.source,
    serviceTier: serviceTiers.toWire(p.serviceTier),
    pricingModel: pricingModels.toWire(p.pricingModel),
    aboveInputTokens: p.aboveInputTokens,
    gpuType: p.gpuType,
    gpuCount: p.gpuCount,
    description: p.description,
  };
}

/**
 * A wire price as core's Price, validated and normalised by core's priceFromRecord (kind fits
 * the resource type, unit fits the kind, non-negative amount, non-empty provider/sku/source).
 * `effective_from` and `amount` are required; an unset currency is USD. Throws INVALID_ARGUMENT
 * naming the field under `where`.
 */
export function priceFromWire(m: PriceMessage, where = 'price'): Price {
  const field = (name: string): string => `${where}.${name}`;
  if (m.amount === undefined) throw invalidArgument(field('amount'), 'is required');
  if (m.effectiveFrom === undefined) throw invalidArgument(field('effective_from'), 'is required');
  const record: PriceRecord = {
    id: m.id,
    provider: m.provider,
    resourceType: resourceTypes.toCore(m.resourceType, field('resource_type')),
    sku: m.sku,
    region: m.region,
    kind: usageKinds.toCore(m.kind, field('kind')),
    unit: priceUnits.toCore(m.unit, field('unit')),
    amount: m.amount.amount,
    currency: m.amount.currency || 'USD',
    effectiveFrom: isoFromWire(m.effectiveFrom, field('effective_from')),
    source: m.source,
    serviceTier: serviceTiers.toCore(m.serviceTier, field('service_tier')),
    pricingModel: pricingModels.toCore(m.pricingModel, field('pricing_model')),
    aboveInputTokens: m.aboveInputTokens.toString(),
    gpuType: m.gpuType,
    gpuCount: m.gpuCount,
    description: m.description,
  };
  return validated(where, () => priceFromRecord(record, where));
}

export function overrideToWire(o: Override): OverrideMessage {
  return {
    id: o.id,
    description: o.description,
    provider: o.provider,
    sku: o.sku,
    region: o.region,
    resourceType:
      o.resourceType === '' ? ResourceTypeEnum.RESOURCE_TYPE_UNSPECIFIED : resourceTypes.toWire(o.resourceType),
    kind: o.kind === '' ? UsageKindEnum.USAGE_KIND_UNSPECIFIED : usageKinds.toWire(o.kind),
    pricingModel: pricingModels.toWire(o.pricingModel),
    ...(o.effect.type === 'discount'
      ? { discountPercent: overrideToRecord(o).discountPercent, rateUnit: PriceUnitEnum.PRICE_UNIT_UNSPECIFIED }
      : { rate: moneyToWire(o.effect.rate), rateUnit: priceUnits.toWire(o.effect.unit) }),
    effectiveFrom: timestampToWire(o.effectiveFrom),
    effectiveUntil: o.effectiveUntil === undefined ? undefined : timestampToWire(o.effectiveUntil),
  };
}

/**
 * A wire override as core's Override, validated by core's overrideFromRecord. Unspecified
 * resource type and kind match anything; exactly one of `discount_percent` and `rate` (with its
 * `rate_unit`) is required; an unset `effective_from` is the epoch, an unset `effective_until`
 * open-ended. Throws INVALID_ARGUMENT naming the field under `where`.
 */
export function overrideFromWire(m: OverrideMessage, where = 'override'): Override {
  const field = (name: string): string => `${where}.${name}`;
  const rateUnit = priceUnits.optional(m.rateUnit, field('rate_unit'));
  let effect: Pick<OverrideRecord, 'discountPercent' | 'rate' | 'rateUnit' | 'currency'>;
  if (m.discountPercent !== undefined) {
    effect = { discountPercent: m.discountPercent };
  } else if (m.rate !== undefined) {
    if (rateUnit === undefined) throw invalidArgument(field('rate_unit'), 'is required with rate');
    effect = { rate: m.rate.amount, currency: m.rate.currency || 'USD', rateUnit };
  } else {
    throw invalidArgument(field('effect'), 'set discount_percent or rate');
  }
  const record: OverrideRecord = {
    id: m.id,
    description: m.description,
    provider: m.provider,
    sku: m.sku,
    region: m.region,
    resourceType: resourceTypes.optional(m.resourceType, field('resource_type')) ?? '',
    kind: usageKinds.optional(m.kind, field('kind')) ?? '',
    pricingModel: pricingModels.toCore(m.pricingModel, field('pricing_model')),
    ...effect,
    effectiveFrom: new Date(timestampFromWire(m.effectiveFrom, field('effective_from'), 0)).toISOString(),
    ...(m.effectiveUntil === undefined
      ? {}
      : { effectiveUntil: isoFromWire(m.effectiveUntil, field('effective_until')) }),
  };
  return validated(where, () => overrideFromRecord(record, where));
}

export function appliedToWire(a: AppliedOverride): AppliedOverrideMessage {
  return { id: a.id, description: a.description, pricingModel: pricingModels.toWire(a.pricingModel) };
}

/** A scaled quantity (10^QUANTITY_SCALE) as a canonical decimal string. */
export function formatQuantity(quantity: bigint): string {
  return formatScaled(quantity, QUANTITY_SCALE);
}

export function quoteLineToWire(l: QuoteLine): QuoteLineMessage {
  return {
    resourceType: resourceTypes.toWire(l.resourceType),
    kind: usageKinds.toWire(l.kind),
    provider: l.provider,
    sku: l.sku,
    region: l.region,
    quantity: formatQuantity(l.quantity),
    priceId: l.priceId,
    listUnitPrice: moneyToWire(l.listUnitPrice),
    unit: priceUnits.toWire(l.unit),
    listCost: moneyToWire(l.listCost),
    effectiveCost: moneyToWire(l.effectiveCost),
    overrides: l.overrides.map(appliedToWire),
    serviceTier: serviceTiers.toWire(l.serviceTier),
    pricingModel: pricingModels.toWire(l.pricingModel),
    aboveInputTokens: l.aboveInputTokens,
    effectivePriceId: l.effectivePriceId,
  };
}

export function quoteToWire(q: Quote, stale: boolean): QuoteResponse {
  return {
    lines: q.lines.map(quoteLineToWire),
    listCost: moneyToWire(q.listCost),
    effectiveCost: moneyToWire(q.effectiveCost),
    snapshotVersion: q.snapshotVersion,
    stale,
    pricedAt: timestampToWire(q.at),
  };
}
