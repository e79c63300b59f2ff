import { Money } from '../money.js';
import { defaultInputTokenRule, toBillableTokens, UsageError } from '../token-usage.js';
import type { InputTokenRule } from '../token-usage.js';
import { applyOverride, findOverride, lineCost } from './overrides.js';
import type { AppliedOverride, Override } from './overrides.js';
import { QUANTITY_ONE } from './price.js';
import type { Price, PriceUnit, PricingModel, ResourceType, ServiceTier, UsageKind } from './price.js';
import type { PriceQuery, PriceSnapshot } from './price-snapshot.js';
import { invalidArgument, PricingError } from './pricing-error.js';

/** Token usage of model calls, as reported (input per `inputTokenRule`, output incl. reasoning). */
export interface ModelUsage {
  readonly provider: string;
  readonly model: string;
  readonly region?: string | undefined;
  readonly serviceTier?: ServiceTier | undefined;
  /** Absent: the provider's default (see defaultInputTokenRule). */
  readonly inputTokenRule?: InputTokenRule | undefined;
  readonly inputTokens?: bigint | undefined;
  readonly outputTokens?: bigint | undefined;
  readonly cacheReadTokens?: bigint | undefined;
  readonly cacheWriteTokens?: bigint | undefined;
  readonly reasoningTokens?: bigint | undefined;
  readonly requests?: bigint | undefined;
  readonly images?: bigint | undefined;
}

/** Quantities below are scaled by 10^QUANTITY_SCALE (see parseQuantity). */
export interface GpuUsage {
  /** Absent or empty: "reference" GPU-hour rates. */
  readonly provider?: string | undefined;
  readonly gpuType: string;
  /** Absent or 0: 1. */
  readonly gpuCount?: number | undefined;
  readonly seconds: bigint;
  readonly region?: string | undefined;
  readonly pricingModel?: PricingModel | undefined;
}

export interface InstanceUsage {
  readonly provider: string;
  readonly instanceType: string;
  readonly region?: string | undefined;
  readonly seconds: bigint;
  readonly count?: number | undefined;
  readonly pricingModel?: PricingModel | undefined;
}

export interface StorageUsage {
  readonly provider: string;
  readonly storageClass: string;
  readonly region?: string | undefined;
  readonly gbMonths: bigint;
}

export interface EgressUsage {
  readonly provider: string;
  readonly egressClass: string;
  readonly region?: string | undefined;
  readonly gb: bigint;
}

export interface UsageRecord {
  /** When the usage happened (epoch milliseconds); prices valid then are used. */
  readonly at: number;
  readonly models?: readonly ModelUsage[] | undefined;
  readonly gpus?: readonly GpuUsage[] | undefined;
  readonly instances?: readonly InstanceUsage[] | undefined;
  readonly storage?: readonly StorageUsage[] | undefined;
  readonly egress?: readonly EgressUsage[] | undefined;
}

export interface QuoteLine {
  readonly resourceType: ResourceType;
  readonly kind: UsageKind;
  readonly provider: string;
  readonly sku: string;
  readonly region: string;
  /** Scaled by 10^QUANTITY_SCALE; includes the GPU or instance count. */
  readonly quantity: bigint;
  readonly unit: PriceUnit;
  /** The on-demand list price used for list cost. */
  readonly priceId: string;
  readonly listUnitPrice: Money;
  readonly listCost: Money;
  /** The catalog price used for effective cost when it is not the list price (spot, reserved). */
  readonly effectivePriceId: string;
  readonly effectiveCost: Money;
  readonly overrides: readonly AppliedOverride[];
  readonly serviceTier: ServiceTier;
  readonly pricingModel: PricingModel;
  readonly aboveInputTokens: bigint;
}

export interface Quote {
  readonly lines: readonly QuoteLine[];
  readonly listCost: Money;
  readonly effectiveCost: Money;
  readonly snapshotVersion: bigint;
  readonly at: number;
}

interface LineSpec {
  readonly field: string;
  readonly resourceType: ResourceType;
  readonly kind: UsageKind;
  readonly provider: string;
  readonly sku: string;
  readonly region: string;
  readonly serviceTier: ServiceTier;
  readonly pricingModel: PricingModel;
  readonly inputTokens: bigint;
  readonly quantity: bigint;
}

function required(value: string | undefined, field: string): string {
  const text = (value ?? '').trim().toLowerCase();
  if (text === '') throw invalidArgument(field, 'is required');
  return text;
}

function count(value: number | undefined, field: string): bigint {
  if (value === undefined || value === 0) return 1n;
  if (!Number.isSafeInteger(value) || value < 0) throw invalidArgument(field, 'must be a non-negative integer');
  return BigInt(value);
}

function tokens(value: bigint | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidArgument(field, 'is out of range');
  return Number(value);
}

/**
 * Prices a usage record against a snapshot. Each line is rounded once (half to even at 10^-12);
 * totals are sums of lines. List cost uses on-demand list prices; effective cost applies the
 * requested pricing model's catalog price and at most one override per line.
 * Throws PricingError: NOT_FOUND (with closest names) or INVALID_ARGUMENT (naming the field).
 */
export function quoteUsage(snapshot: PriceSnapshot, usage: UsageRecord): Quote {
  if (!Number.isFinite(usage.at)) throw invalidArgument('at', 'must be a valid time');
  const lines: QuoteLine[] = [];
  const priced = (spec: LineSpec, optional = false): void => {
    const line = priceLine(snapshot, usage.at, spec, optional);
    if (line !== undefined) lines.push(line);
  };
  (usage.models ?? []).forEach((m, i) => {
    const at = `models[${i}]`;
    const provider = required(m.provider, `${at}.provider`);
    const model = required(m.model, `${at}.model`);
    const tier = m.serviceTier ?? 'standard';
    const region = (m.region ?? '').toLowerCase();
    // Object literals, not spreads: this is the hot path of every Quote.
    const probe: PriceQuery = { provider, sku: model, region, kind: 'input_tokens', serviceTier: tier, at: usage.at };
    const reasoningPriced = snapshot.find(probe, 'reasoning_tokens') !== undefined;
    let billable;
    try {
      billable = toBillableTokens(
        {
          input: tokens(m.inputTokens, `${at}.input_tokens`),
          output: tokens(m.outputTokens, `${at}.output_tokens`),
          cacheRead: tokens(m.cacheReadTokens, `${at}.cache_read_tokens`),
          cacheWrite: tokens(m.cacheWriteTokens, `${at}.cache_write_tokens`),
          reasoning: tokens(m.reasoningTokens, `${at}.reasoning_tokens`),
        },
        m.inputTokenRule ?? defaultInputTokenRule(provider),
        reasoningPriced,
      );
    } catch (err) {
      if (err instanceof UsageError) throw new PricingError('INVALID_ARGUMENT', `${at}: ${err.message}`, { field: at });
      throw err;
    }
    const prompt = billable.uncachedInput + billable.cacheRead + billable.cacheWrite;
    const spec = (kind: UsageKind, quantity: bigint): LineSpec => ({
      field: at,
      resourceType: 'model',
      kind,
      provider,
      sku: model,
      region,
      serviceTier: tier,
      pricingModel: 'on_demand',
      inputTokens: prompt,
      quantity: quantity * QUANTITY_ONE,
    });
    // The input price must exist even for zero tokens: an unknown model is an error, not free.
    const sized: PriceQuery = {
      provider,
      sku: model,
      region,
      kind: 'input_tokens',
      serviceTier: tier,
      at: usage.at,
      inputTokens: prompt,
    };
    if (snapshot.find(sized) === undefined) throw withField(snapshot.notFound(sized), at);
    priced(spec('input_tokens', billable.uncachedInput));
    priced(spec('cache_read_tokens', billable.cacheRead));
    priced(spec('cache_write_tokens', billable.cacheWrite));
    priced(spec('output_tokens', billable.output));
    priced(spec('reasoning_tokens', billable.reasoning));
    // Most models have no per-request fee: requests without a price cost nothing.
    priced(spec('requests', m.requests ?? 0n), true);
    priced(spec('images', m.images ?? 0n));
  });
  (usage.gpus ?? []).forEach((g, i) => {
    const at = `gpus[${i}]`;
    priced({
      field: at,
      resourceType: 'gpu',
      kind: 'gpu_time',
      provider: (g.provider ?? '').trim().toLowerCase() || 'reference',
      sku: required(g.gpuType, `${at}.gpu_type`),
      region: (g.region ?? '').toLowerCase(),
      serviceTier: 'standard',
      pricingModel: g.pricingModel ?? 'on_demand',
      inputTokens: 0n,
      quantity: g.seconds * count(g.gpuCount, `${at}.gpu_count`),
    });
  });
  (usage.instances ?? []).forEach((v, i) => {
    const at = `instances[${i}]`;
    priced({
      field: at,
      resourceType: 'instance',
      kind: 'instance_time',
      provider: required(v.provider, `${at}.provider`),
      sku: required(v.instanceType, `${at}.instance_type`),
      region: (v.region ?? '').toLowerCase(),
      serviceTier: 'standard',
      pricingModel: v.pricingModel ?? 'on_demand',
      inputTokens: 0n,
      quantity: v.seconds * count(v.count, `${at}.count`),
    });
  });
  (usage.storage ?? []).forEach((s, i) => {
    const at = `storage[${i}]`;
    priced({
      field: at,
      resourceType: 'storage',
      kind: 'storage',
      provider: required(s.provider, `${at}.provider`),
      sku: required(s.storageClass, `${at}.storage_class`),
      region: (s.region ?? '').toLowerCase(),
      serviceTier: 'standard',
      pricingModel: 'on_demand',
      inputTokens: 0n,
      quantity: s.gbMonths,
    });
  });
  (usage.egress ?? []).forEach((e, i) => {
    const at = `egress[${i}]`;
    priced({
      field: at,
      resourceType: 'egress',
      kind: 'egress',
      provider: required(e.provider, `${at}.provider`),
      sku: required(e.egressClass, `${at}.egress_class`),
      region: (e.region ?? '').toLowerCase(),
      serviceTier: 'standard',
      pricingModel: 'on_demand',
      inputTokens: 0n,
      quantity: e.gb,
    });
  });
  const currency = lines[0]?.listCost.currency ?? 'USD';
  for (const line of lines) {
    if (line.listCost.currency !== currency) {
      throw invalidArgument(
        'usage',
        `mixes ${currency} and ${line.listCost.currency} prices; quote them separately (no exchange rates are applied)`,
      );
    }
  }
  return {
    lines,
    listCost: Money.sum(
      lines.map((l) => l.listCost),
      currency,
    ),
    effectiveCost: Money.sum(
      lines.map((l) => l.effectiveCost),
      currency,
    ),
    snapshotVersion: snapshot.version,
    at: usage.at,
  };
}

/** Token kinds that fall back to the input price when a model has no price of their own. */
const FALLBACK: Partial<Record<UsageKind, UsageKind>> = {
  cache_read_tokens: 'input_tokens',
  cache_write_tokens: 'input_tokens',
};

/** What a line is priced from: the list price, the price effective cost starts from, and the override. */
export interface ResolvedPrice {
  /** The on-demand list price (or the requested pricing model's price when there is no on-demand one). */
  readonly list: Price;
  /** The requested pricing model's catalog price; `list` for on-demand usage. */
  readonly basis: Price;
  readonly override: Override | undefined;
}

/**
 * Resolves the prices for usage of `query.pricingModel`: list = on-demand price (cache kinds fall
 * back to the input price); basis = the catalog price of the requested pricing model; then the one
 * matching override. Spot/reserved/committed/internal usage needs a catalog price or a rate
 * override for that model. Throws NOT_FOUND naming the closest known SKUs.
 */
export function resolvePrice(snapshot: PriceSnapshot, query: PriceQuery, resourceType: ResourceType): ResolvedPrice {
  const pricingModel = query.pricingModel ?? 'on_demand';
  const fallbackKind = FALLBACK[query.kind];
  const onDemand =
    snapshot.find(query, query.kind, 'on_demand') ??
    (fallbackKind === undefined ? undefined : snapshot.find(query, fallbackKind, 'on_demand'));
  const forModel = pricingModel === 'on_demand' ? undefined : snapshot.find(query);
  const list = onDemand ?? forModel;
  if (list === undefined) throw snapshot.notFound({ ...query, pricingModel: 'on_demand' });
  const override = findOverride(snapshot.overrides, {
    provider: query.provider,
    sku: list.sku,
    region: query.region ?? '',
    resourceType,
    kind: query.kind,
    pricingModel,
    at: query.at,
  });
  if (pricingModel !== 'on_demand' && forModel === undefined && override?.effect.type !== 'rate') {
    throw snapshot.notFound(query);
  }
  return { list, basis: forModel ?? list, override };
}

function priceLine(snapshot: PriceSnapshot, at: number, spec: LineSpec, optional: boolean): QuoteLine | undefined {
  if (spec.quantity === 0n) return undefined;
  let resolved: ResolvedPrice;
  try {
    resolved = resolvePrice(
      snapshot,
      {
        provider: spec.provider,
        sku: spec.sku,
        region: spec.region,
        kind: spec.kind,
        serviceTier: spec.serviceTier,
        pricingModel: spec.pricingModel,
        at,
        inputTokens: spec.inputTokens,
      },
      spec.resourceType,
    );
  } catch (err) {
    if (optional && err instanceof PricingError && err.code === 'NOT_FOUND') return undefined;
    throw err instanceof PricingError ? withField(err, spec.field) : err;
  }
  const { list, basis, override } = resolved;
  return {
    resourceType: spec.resourceType,
    kind: spec.kind,
    provider: spec.provider,
    sku: list.sku,
    region: list.region,
    quantity: spec.quantity,
    unit: list.unit,
    priceId: list.id,
    listUnitPrice: list.amount,
    listCost: lineCost(list.amount, list.unit, spec.quantity),
    effectivePriceId: basis.id,
    effectiveCost:
      override === undefined
        ? lineCost(basis.amount, basis.unit, spec.quantity)
        : applyOverride(override, basis.amount, basis.unit, spec.quantity),
    overrides:
      override === undefined
        ? []
        : [{ id: override.id, description: override.description, pricingModel: override.pricingModel }],
    serviceTier: spec.serviceTier,
    pricingModel: spec.pricingModel,
    aboveInputTokens: list.aboveInputTokens,
  };
}

function withField(err: PricingError, field: string): PricingError {
  return new PricingError(err.code, `${field}: ${err.message}`, { field, suggestions: err.suggestions });
}
