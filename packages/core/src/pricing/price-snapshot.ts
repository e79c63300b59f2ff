import { closestNames } from './closest-names.js';
import { overrideToRecord } from './overrides.js';
import type { Override } from './overrides.js';
import { PRICING_MODELS, SERVICE_TIERS, USAGE_KINDS } from './price.js';
import type { Price, PricingModel, ResourceType, ServiceTier, UsageKind } from './price.js';
import { PricingError } from './pricing-error.js';

/** What to look up: the key of a price plus the time it must be valid at. */
export interface PriceQuery {
  readonly provider: string;
  readonly sku: string;
  /** Empty or absent: global. A regional query falls back to the global price. */
  readonly region?: string | undefined;
  readonly kind: UsageKind;
  readonly serviceTier?: ServiceTier | undefined;
  readonly pricingModel?: PricingModel | undefined;
  /** Epoch milliseconds. */
  readonly at: number;
  /** Prompt size, for long-context tiers. */
  readonly inputTokens?: bigint | undefined;
}

export interface PriceFilter {
  readonly provider?: string | undefined;
  readonly skuContains?: string | undefined;
  readonly region?: string | undefined;
  readonly resourceType?: ResourceType | undefined;
  readonly kind?: UsageKind | undefined;
  /** Only prices valid at this time (the latest version per key); absent: every version. */
  readonly at?: number | undefined;
}

/** One long-context tier of a key: its versions, oldest first. */
interface Tier {
  readonly above: bigint;
  readonly history: Price[];
}

/** The identity of a price across versions: everything but the effective date and amount. */
export function priceKey(p: {
  readonly provider: string;
  readonly sku: string;
  readonly region: string;
  readonly kind: UsageKind;
  readonly serviceTier: ServiceTier;
  readonly pricingModel: PricingModel;
}): string {
  return `${p.provider}\u0000${p.sku}\u0000${p.region}\u0000${p.kind}\u0000${p.serviceTier}\u0000${p.pricingModel}`;
}

/** The identity of a price series: its key plus its long-context tier (one history per series). */
export function priceSeriesKey(p: Price): string {
  return `${priceKey(p)}\u0000${p.aboveInputTokens}`;
}

const KIND_CODES = new Map(USAGE_KINDS.map((k, i) => [k, i]));
const TIER_CODES = new Map(SERVICE_TIERS.map((t, i) => [t, i]));
const MODEL_CODES = new Map(PRICING_MODELS.map((m, i) => [m, i]));

/** A small integer naming kind × service tier × pricing model (a Map key without allocation). */
function seriesCode(kind: UsageKind, tier: ServiceTier, model: PricingModel): number {
  return ((KIND_CODES.get(kind) ?? 255) * 16 + (TIER_CODES.get(tier) ?? 15)) * 16 + (MODEL_CODES.get(model) ?? 15);
}

/** Latest version of `history` (oldest first) effective at `at`, by binary search. */
function validAt(history: readonly Price[], at: number): Price | undefined {
  let lo = 0;
  let hi = history.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((history[mid] as Price).effectiveFrom <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : history[lo - 1];
}

/**
 * An immutable, versioned set of prices with their history and the overrides on top.
 * Lookups are Map hits plus a binary search over a key's versions.
 */
export class PriceSnapshot {
  readonly prices: readonly Price[];
  private readonly index = new Map<string, Tier[]>();
  /** provider → SKU → region → kind/tier/model code → tiers: lookups allocate nothing. */
  private readonly tree = new Map<string, Map<string, Map<string, Map<number, Tier[]>>>>();
  private readonly byId = new Map<string, Price>();
  private readonly skusByProvider = new Map<string, Set<string>>();
  /** provider + asked name → known SKU (or null), for dated model variants. */
  private readonly resolvedSku = new Map<string, string | null>();

  constructor(
    readonly version: bigint,
    prices: readonly Price[],
    readonly overrides: readonly Override[],
    /** Epoch milliseconds. */
    readonly builtAt: number,
  ) {
    const sorted = [...prices].sort((a, b) => a.effectiveFrom - b.effectiveFrom || a.id.localeCompare(b.id));
    for (const price of sorted) {
      if (this.byId.has(price.id)) {
        throw new PricingError('INVALID_CATALOG', `duplicate price id ${price.id}`, { field: 'id' });
      }
      this.byId.set(price.id, price);
      const key = priceKey(price);
      let tiers = this.index.get(key);
      if (tiers === undefined) {
        this.index.set(key, (tiers = []));
        let skus = this.tree.get(price.provider);
        if (skus === undefined)
          this.tree.set(price.provider, (skus = new Map<string, Map<string, Map<number, Tier[]>>>()));
        let regions = skus.get(price.sku);
        if (regions === undefined) skus.set(price.sku, (regions = new Map<string, Map<number, Tier[]>>()));
        let codes = regions.get(price.region);
        if (codes === undefined) regions.set(price.region, (codes = new Map<number, Tier[]>()));
        codes.set(seriesCode(price.kind, price.serviceTier, price.pricingModel), tiers);
      }
      let tier = tiers.find((t) => t.above === price.aboveInputTokens);
      if (tier === undefined) {
        tier = { above: price.aboveInputTokens, history: [] };
        tiers.push(tier);
        tiers.sort((a, b) => (a.above > b.above ? -1 : a.above < b.above ? 1 : 0));
      }
      tier.history.push(price);
      let skus = this.skusByProvider.get(price.provider);
      if (skus === undefined) this.skusByProvider.set(price.provider, (skus = new Set()));
      skus.add(price.sku);
    }
    this.prices = sorted;
  }

  get size(): number {
    return this.byId.size;
  }

  priceById(id: string): Price | undefined {
    return this.byId.get(id);
  }

  providers(): string[] {
    return [...this.skusByProvider.keys()].sort();
  }

  /** The known SKU a name refers to: exact, or a dated/suffixed variant ("gpt-4o-2024-08-06"). */
  resolveSku(provider: string, name: string): string | undefined {
    const skus = this.skusByProvider.get(provider);
    if (skus === undefined) return undefined;
    if (skus.has(name)) return name;
    const memo = `${provider}\u0000${name}`;
    const cached = this.resolvedSku.get(memo);
    if (cached !== undefined) return cached ?? undefined;
    let found: string | undefined;
    let candidate = name.toLowerCase();
    if (skus.has(candidate)) found = candidate;
    for (let cut = candidate.lastIndexOf('-'); found === undefined && cut > 0; cut = candidate.lastIndexOf('-')) {
      candidate = candidate.slice(0, cut);
      if (skus.has(candidate)) found = candidate;
    }
    if (this.resolvedSku.size < 10_000) this.resolvedSku.set(memo, found ?? null);
    return found;
  }

  /**
   * The price valid for `query`, or undefined. Regional queries fall back to global prices.
   * `kind` and `pricingModel` replace the query's (hot paths avoid building new query objects).
   */
  find(
    query: PriceQuery,
    kind: UsageKind = query.kind,
    pricingModel: PricingModel = query.pricingModel ?? 'on_demand',
  ): Price | undefined {
    const skus = this.tree.get(query.provider);
    if (skus === undefined) return undefined;
    let regions = skus.get(query.sku);
    if (regions === undefined) {
      const sku = this.resolveSku(query.provider, query.sku);
      if (sku === undefined) return undefined;
      regions = skus.get(sku);
      if (regions === undefined) return undefined;
    }
    const code = seriesCode(kind, query.serviceTier ?? 'standard', pricingModel);
    const region = query.region ?? '';
    const tiers = regions.get(region)?.get(code) ?? (region === '' ? undefined : regions.get('')?.get(code));
    if (tiers === undefined) return undefined;
    const tokens = query.inputTokens ?? 0n;
    for (const t of tiers) {
      if (t.above > 0n && tokens <= t.above) continue;
      const price = validAt(t.history, query.at);
      if (price !== undefined) return price;
    }
    return undefined;
  }

  /** Like find, but throws NOT_FOUND with the closest known names. */
  require(query: PriceQuery): Price {
    const price = this.find(query);
    if (price !== undefined) return price;
    throw this.notFound(query);
  }

  notFound(query: PriceQuery): PricingError {
    const skus = this.skusByProvider.get(query.provider);
    const what = `${query.provider}/${query.sku}${query.region ? ` in ${query.region}` : ''} ${query.kind}`;
    const tier =
      query.serviceTier !== undefined && query.serviceTier !== 'standard' ? `, ${query.serviceTier} tier` : '';
    const model =
      query.pricingModel !== undefined && query.pricingModel !== 'on_demand' ? `, ${query.pricingModel}` : '';
    if (skus === undefined) {
      const suggestions = closestNames(query.provider, this.skusByProvider.keys());
      return new PricingError(
        'NOT_FOUND',
        `unknown provider ${JSON.stringify(query.provider)}; closest known: ${suggestions.join(', ')}`,
        { suggestions },
      );
    }
    if (this.resolveSku(query.provider, query.sku) === undefined) {
      const suggestions = closestNames(query.sku, skus);
      return new PricingError(
        'NOT_FOUND',
        `unknown ${query.provider} SKU ${JSON.stringify(query.sku)}; closest known: ${suggestions.join(', ')}`,
        { suggestions },
      );
    }
    return new PricingError(
      'NOT_FOUND',
      `no price for ${what}${tier}${model} at ${new Date(query.at).toISOString()} in snapshot ${this.version}`,
    );
  }

  /** Prices matching `filter`, in a stable order (provider, SKU, region, kind, then date). */
  list(filter: PriceFilter = {}): Price[] {
    const contains = filter.skuContains?.toLowerCase();
    const at = filter.at;
    const out: Price[] = [];
    for (const tiers of this.index.values()) {
      for (const tier of tiers) {
        const first = tier.history[0] as Price;
        if (filter.provider !== undefined && filter.provider !== '' && first.provider !== filter.provider) continue;
        if (filter.region !== undefined && filter.region !== '' && first.region !== filter.region) continue;
        if (filter.resourceType !== undefined && first.resourceType !== filter.resourceType) continue;
        if (filter.kind !== undefined && first.kind !== filter.kind) continue;
        if (contains !== undefined && contains !== '' && !first.sku.includes(contains)) continue;
        if (at === undefined) out.push(...tier.history);
        else {
          const valid = validAt(tier.history, at);
          if (valid !== undefined) out.push(valid);
        }
      }
    }
    return out.sort(comparePrices);
  }
}

export function comparePrices(a: Price, b: Price): number {
  return (
    a.provider.localeCompare(b.provider) ||
    a.sku.localeCompare(b.sku) ||
    a.region.localeCompare(b.region) ||
    a.kind.localeCompare(b.kind) ||
    a.serviceTier.localeCompare(b.serviceTier) ||
    a.pricingModel.localeCompare(b.pricingModel) ||
    (a.aboveInputTokens < b.aboveInputTokens ? -1 : a.aboveInputTokens > b.aboveInputTokens ? 1 : 0) ||
    a.effectiveFrom - b.effectiveFrom
  );
}

/** What changed between two snapshots, by price id (ids name a version of a price). */
export interface PriceDiff {
  readonly upserted: readonly Price[];
  readonly removedIds: readonly string[];
  readonly overridesChanged: boolean;
}

export function diffSnapshots(before: PriceSnapshot, after: PriceSnapshot): PriceDiff {
  const upserted: Price[] = [];
  for (const price of after.prices) {
    const old = before.priceById(price.id);
    if (old === undefined || !samePrice(old, price)) upserted.push(price);
  }
  const removedIds = before.prices.filter((p) => after.priceById(p.id) === undefined).map((p) => p.id);
  const overridesChanged = overridesKey(before.overrides) !== overridesKey(after.overrides);
  return { upserted, removedIds, overridesChanged };
}

/** A comparable form of a set of overrides (their plain-data records; bigints as strings). */
function overridesKey(overrides: readonly Override[]): string {
  return JSON.stringify(overrides.map(overrideToRecord));
}

function samePrice(a: Price, b: Price): boolean {
  return (
    a.amount.equals(b.amount) &&
    a.unit === b.unit &&
    a.source === b.source &&
    a.description === b.description &&
    a.gpuType === b.gpuType &&
    a.gpuCount === b.gpuCount &&
    a.effectiveFrom === b.effectiveFrom
  );
}
