import { findOverride } from './overrides.js';
import { convertUnitPrice } from './price.js';
import type { Price, UsageKind } from './price.js';
import type { PriceSnapshot } from './price-snapshot.js';
import { PricingError } from './pricing-error.js';
import { quoteUsage } from './quote.js';
import type { Quote } from './quote.js';
import { compileTokenPrice } from './compiled-token-price.js';
import type { CompiledTokenPrice } from './compiled-token-price.js';

/** Where a snapshot came from, as stamped in `cost.pricing.source`. */
export type SnapshotSource = 'bundled' | 'pricing-cache';

/** Provider used for GPU rates when neither the span nor the resource names one (core's rule). */
export const REFERENCE_PROVIDER = 'reference';

/** Token prices of a model in a form the hot path can use, or why it must take the quote path. */
export type TokenPriceLookup =
  | { readonly kind: 'fast'; readonly price: CompiledTokenPrice }
  /** Overrides or long-context tiers apply: price through core's quoteUsage. */
  | { readonly kind: 'quote' }
  | { readonly kind: 'unknown_model' }
  | { readonly kind: 'unknown_provider' };

interface CompiledEntry {
  readonly provider: string;
  readonly lookup: TokenPriceLookup;
}

/** Most provider/model pairs a view keeps compiled. */
const MAX_COMPILED = 10_000;

const TOKEN_KINDS: readonly UsageKind[] = [
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
];

/**
 * What the processor prices from: one immutable core `PriceSnapshot` (prices with history,
 * overrides) plus where it came from and whether it is stale. Token prices for a model are
 * compiled once per view for the hot path; GPU and instance time, and any model with overrides
 * or long-context tiers, are priced with core's `quoteUsage` (list and effective cost, one
 * rounding per line), so the SDK and pricing-cache's Quote agree to the pico-dollar.
 */
export class PricingView {
  /** `cost.pricing.version`: "bundled-<date>" or "pcache-<snapshot version>". */
  readonly version: string;
  /** Compiled lookups by model, then provider (one map probe per span; providers rarely share a model name). */
  private readonly compiled = new Map<string, CompiledEntry[]>();
  private compiledCount = 0;
  /** Compiled entries are valid for spans ending in [compiledFrom, compiledUntil). */
  private compiledFrom = 0;
  private compiledUntil = 0;

  constructor(
    readonly snapshot: PriceSnapshot,
    readonly source: SnapshotSource,
    readonly stale: boolean,
    version?: string,
  ) {
    this.version = version ?? `pcache-${snapshot.version}`;
  }

  /** The same prices marked stale (or fresh again). */
  withStale(stale: boolean): PricingView {
    return stale === this.stale ? this : new PricingView(this.snapshot, this.source, stale, this.version);
  }

  /**
   * Token prices of provider/model for a span ending at `at` (epoch ms). Cached per view; the
   * cache is dropped when `at` leaves the window in which no price or override of the snapshot
   * changes (prices announced with a future effective date take over on time).
   */
  tokenPrice(provider: string, model: string, at: number): TokenPriceLookup {
    if (at < this.compiledFrom || at >= this.compiledUntil) this.resetWindow(at);
    let entries = this.compiled.get(model);
    if (entries !== undefined) {
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i] as CompiledEntry;
        if (entry.provider === provider) return entry.lookup;
      }
    }
    const lookup = this.compile(provider, model, at);
    // Bounded: names come from spans, so an unbounded cache would be a memory leak.
    if (this.compiledCount < MAX_COMPILED) {
      if (entries === undefined) {
        entries = [];
        this.compiled.set(model, entries);
      }
      entries.push({ provider, lookup });
      this.compiledCount += 1;
    }
    return lookup;
  }

  private resetWindow(at: number): void {
    this.compiled.clear();
    this.compiledCount = 0;
    let from = Number.NEGATIVE_INFINITY;
    let until = Number.POSITIVE_INFINITY;
    const edge = (t: number | undefined): void => {
      if (t === undefined) return;
      if (t <= at) from = Math.max(from, t);
      else until = Math.min(until, t);
    };
    for (const price of this.snapshot.prices) edge(price.effectiveFrom);
    for (const o of this.snapshot.overrides) {
      edge(o.effectiveFrom);
      edge(o.effectiveUntil);
    }
    this.compiledFrom = from;
    this.compiledUntil = until;
  }

  private compile(provider: string, model: string, at: number): TokenPriceLookup {
    const sku = this.snapshot.resolveSku(provider, model);
    if (sku === undefined) {
      return this.snapshot.providers().includes(provider) ? { kind: 'unknown_model' } : { kind: 'unknown_provider' };
    }
    const query = { provider, sku, kind: 'input_tokens' as UsageKind, at };
    const input = this.snapshot.find(query);
    if (input === undefined) return { kind: 'unknown_model' };
    const byKind = new Map<UsageKind, Price>();
    for (const kind of TOKEN_KINDS) {
      const price = this.snapshot.find({ ...query, kind });
      if (price !== undefined) byKind.set(kind, price);
    }
    const output = byKind.get('output_tokens');
    const tiered = this.snapshot
      .list({ provider, resourceType: 'model', skuContains: sku })
      .some((p) => p.sku === sku && p.aboveInputTokens > 0n);
    const overridden = TOKEN_KINDS.some(
      (kind) =>
        findOverride(this.snapshot.overrides, {
          provider,
          sku,
          region: '',
          resourceType: 'model',
          kind,
          pricingModel: 'on_demand',
          at,
        }) !== undefined,
    );
    const currencies = new Set([...byKind.values()].map((p) => p.amount.currency));
    if (output === undefined || tiered || overridden || currencies.size > 1) return { kind: 'quote' };
    const perMillion = (kind: UsageKind) => {
      const p = byKind.get(kind);
      return p === undefined ? undefined : convertUnitPrice(p.amount, p.unit, '1m_tokens');
    };
    return {
      kind: 'fast',
      price: compileTokenPrice(
        {
          id: input.id,
          provider,
          model: sku,
          currency: input.amount.currency,
          inputPerMillion: convertUnitPrice(input.amount, input.unit, '1m_tokens'),
          outputPerMillion: convertUnitPrice(output.amount, output.unit, '1m_tokens'),
          cacheReadPerMillion: perMillion('cache_read_tokens'),
          cacheWritePerMillion: perMillion('cache_write_tokens'),
          reasoningPerMillion: perMillion('reasoning_tokens'),
        },
        {
          input: input.id,
          output: output.id,
          cacheRead: (byKind.get('cache_read_tokens') ?? input).id,
          cacheWrite: (byKind.get('cache_write_tokens') ?? input).id,
          reasoning: (byKind.get('reasoning_tokens') ?? output).id,
        },
      ),
    };
  }

  /** Core quote of a usage record; undefined plus the PricingError when it cannot be priced. */
  quote(usage: Parameters<typeof quoteUsage>[1]): { quote: Quote } | { error: PricingError } {
    try {
      return { quote: quoteUsage(this.snapshot, usage) };
    } catch (err) {
      if (err instanceof PricingError) return { error: err };
      throw err;
    }
  }
}

/** Anything that hands the processor the current prices without I/O. */
export interface PriceSource {
  current(): PricingView;
}

/** A fixed view: for tests, air-gapped deployments, or prices loaded from a file. */
export class StaticPriceSource implements PriceSource {
  constructor(private readonly view: PricingView) {}
  current(): PricingView {
    return this.view;
  }
}
