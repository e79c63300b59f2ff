// Conversions between the generated wire types and the core price model. Every enum has an
// explicit table so a renumbering in either place fails to compile instead of mispricing.
import { formatScaled, invalidArgument, Money, overrideToRecord, QUANTITY_SCALE } from '@costtrace/core';
import type {
  AppliedOverride,
  Override,
  Price,
  PriceUnit,
  PricingModel,
  Quote,
  QuoteLine,
  ResourceType,
  ServiceTier,
  UsageKind,
} from '@costtrace/core';
import {
  InputTokenRule,
  PriceUnitEnum,
  PricingModelEnum,
  ResourceTypeEnum,
  ServiceTierEnum,
  UsageKindEnum,
} from '@costtrace/proto';
import type {
  AppliedOverride as AppliedOverrideMessage,
  MoneyMessage,
  OverrideMessage,
  PriceMessage,
  QuoteLineMessage,
  QuoteResponse,
  Timestamp,
} from '@costtrace/proto';

type Table<Core extends string, Wire extends number> = readonly (readonly [Core, Wire])[];

function mapper<Core extends string, Wire extends number>(table: Table<Core, Wire>, name: string) {
  const wireOf = new Map<Core, Wire>(table);
  const coreOf = new Map<Wire, Core>(table.map(([c, w]) => [w, c]));
  const toCore = (value: Wire, field: string): Core => {
    const core = coreOf.get(value);
    if (core === undefined) throw invalidArgument(field, `unknown ${name} ${value}`);
    return core;
  };
  return {
    toWire: (value: Core): Wire => wireOf.get(value) as Wire,
    /** Unknown values are INVALID_ARGUMENT naming `field`. */
    toCore,
    /** Like toCore, but an unmapped 0 (UNSPECIFIED) means "any" and gives undefined. */
    optional: (value: Wire, field: string): Core | undefined =>
      (value as number) === 0 && !coreOf.has(value) ? undefined : toCore(value, field),
  };
}

export const resourceTypes = mapper<ResourceType, ResourceTypeEnum>(
  [
    ['model', ResourceTypeEnum.RESOURCE_TYPE_MODEL],
    ['gpu', ResourceTypeEnum.RESOURCE_TYPE_GPU],
    ['instance', ResourceTypeEnum.RESOURCE_TYPE_INSTANCE],
    ['storage', ResourceTypeEnum.RESOURCE_TYPE_STORAGE],
    ['egress', ResourceTypeEnum.RESOURCE_TYPE_EGRESS],
  ],
  'resource type',
);

export const usageKinds = mapper<UsageKind, UsageKindEnum>(
  [
    ['input_tokens', UsageKindEnum.USAGE_KIND_INPUT_TOKENS],
    ['output_tokens', UsageKindEnum.USAGE_KIND_OUTPUT_TOKENS],
    ['cache_read_tokens', UsageKindEnum.USAGE_KIND_CACHE_READ_TOKENS],
    ['cache_write_tokens', UsageKindEnum.USAGE_KIND_CACHE_WRITE_TOKENS],
    ['reasoning_tokens', UsageKindEnum.USAGE_KIND_REASONING_TOKENS],
    ['requests', UsageKindEnum.USAGE_KIND_REQUESTS],
    ['images', UsageKindEnum.USAGE_KIND_IMAGES],
    ['gpu_time', UsageKindEnum.USAGE_KIND_GPU_TIME],
    ['instance_time', UsageKindEnum.USAGE_KIND_INSTANCE_TIME],
    ['storage', UsageKindEnum.USAGE_KIND_STORAGE],
    ['egress', UsageKindEnum.USAGE_KIND_EGRESS],
  ],
  'usage kind',
);

export const priceUnits = mapper<PriceUnit, PriceUnitEnum>(
  [
    ['token', PriceUnitEnum.PRICE_UNIT_TOKEN],
    ['1m_tokens', PriceUnitEnum.PRICE_UNIT_MILLION_TOKENS],
    ['gpu_second', PriceUnitEnum.PRICE_UNIT_GPU_SECOND],
    ['gpu_hour', PriceUnitEnum.PRICE_UNIT_GPU_HOUR],
    ['instance_second', PriceUnitEnum.PRICE_UNIT_INSTANCE_SECOND],
    ['instance_hour', PriceUnitEnum.PRICE_UNIT_INSTANCE_HOUR],
    ['gb_month', PriceUnitEnum.PRICE_UNIT_GB_MONTH],
    ['gb', PriceUnitEnum.PRICE_UNIT_GB],
    ['request', PriceUnitEnum.PRICE_UNIT_REQUEST],
    ['1k_requests', PriceUnitEnum.PRICE_UNIT_THOUSAND_REQUESTS],
    ['image', PriceUnitEnum.PRICE_UNIT_IMAGE],
  ],
  'price unit',
);

export const serviceTiers = mapper<ServiceTier, ServiceTierEnum>(
  [
    ['standard', ServiceTierEnum.SERVICE_TIER_UNSPECIFIED],
    ['batch', ServiceTierEnum.SERVICE_TIER_BATCH],
    ['priority', ServiceTierEnum.SERVICE_TIER_PRIORITY],
    ['flex', ServiceTierEnum.SERVICE_TIER_FLEX],
  ],
  'service tier',
);

export const pricingModels = mapper<PricingModel, PricingModelEnum>(
  [
    ['on_demand', PricingModelEnum.PRICING_MODEL_UNSPECIFIED],
    ['spot', PricingModelEnum.PRICING_MODEL_SPOT],
    ['reserved', PricingModelEnum.PRICING_MODEL_RESERVED],
    ['committed', PricingModelEnum.PRICING_MODEL_COMMITTED],
    ['internal', PricingModelEnum.PRICING_MODEL_INTERNAL],
  ],
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

export function priceFromWire(m: PriceMessage): Price {
  const effectiveFrom = timestampFromWire(m.effectiveFrom, 'effective_from', Number.NaN);
  if (Number.isNaN(effectiveFrom)) throw invalidArgument('effective_from', 'is required');
  return {
    id: m.id,
    provider: m.provider,
    resourceType: resourceTypes.toCore(m.resourceType, 'resource_type'),
    sku: m.sku,
    region: m.region,
    kind: usageKinds.toCore(m.kind, 'kind'),
    unit: priceUnits.toCore(m.unit, 'unit'),
    amount: moneyFromWire(m.amount, 'amount'),
    effectiveFrom,
    source: m.source,
    serviceTier: serviceTiers.toCore(m.serviceTier, 'service_tier'),
    pricingModel: pricingModels.toCore(m.pricingModel, 'pricing_model'),
    aboveInputTokens: m.aboveInputTokens,
    gpuType: m.gpuType,
    gpuCount: m.gpuCount,
    description: m.description,
  };
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

export function appliedToWire(a: AppliedOverride): AppliedOverrideMessage {
  return { id: a.id, description: a.description, pricingModel: pricingModels.toWire(a.pricingModel) };
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

/** A scaled quantity (10^QUANTITY_SCALE) as a canonical decimal string. */
export function formatQuantity(quantity: bigint): string {
  return formatScaled(quantity, QUANTITY_SCALE);
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
