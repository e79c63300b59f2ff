import { Money, TokenPriceTable } from '@costtrace/core';
import type { TokenPrice } from '@costtrace/core';

/** Where a snapshot came from, as stamped in `cost.pricing.source`. */
export type SnapshotSource = 'bundled' | 'pricing-cache';

/**
 * A price per unit of time (GPU time or instance time): `amount` per `unitSeconds` seconds
 * (1 for per-second prices, 3600 for per-hour prices). Never converted to a per-second float:
 * a line item is `amount × nanoseconds / (unitSeconds × 10^9)`, rounded once, half to even.
 */
export interface TimeRate {
  readonly id: string;
  readonly provider: string;
  /** GPU type or instance type, lower case. */
  readonly sku: string;
  /** Empty: valid in every region. */
  readonly region: string;
  readonly amount: Money;
  readonly unitSeconds: bigint;
}

export interface PriceSnapshotInit {
  readonly version: string;
  readonly source: SnapshotSource;
  readonly stale?: boolean;
  readonly tokens: readonly TokenPrice[];
  /** Price ids behind each TokenPrice (one per token kind), for `cost.pricing.price_ids`. */
  readonly tokenPriceIds?: ReadonlyMap<TokenPrice, readonly string[]>;
  readonly gpuRates?: readonly TimeRate[];
  readonly instanceRates?: readonly TimeRate[];
}

/** Provider used for GPU rates when neither the span nor the resource names one. */
export const REFERENCE_PROVIDER = 'reference';

/**
 * An immutable, versioned set of prices the processor reads on the hot path: token prices by
 * provider and model, GPU rates by provider, GPU type and region, instance rates by provider,
 * instance type and region. Lookups are O(1) and cached; building one is done off the hot path
 * (at start and when pricing-cache sends a change).
 */
export class PriceSnapshot {
  readonly version: string;
  readonly source: SnapshotSource;
  readonly stale: boolean;
  readonly tokens: TokenPriceTable;
  private readonly tokenIds: ReadonlyMap<TokenPrice, readonly string[]>;
  private readonly gpu: Map<string, TimeRate>;
  private readonly instance: Map<string, TimeRate>;
  private readonly init: PriceSnapshotInit;

  constructor(init: PriceSnapshotInit) {
    this.init = init;
    this.version = init.version;
    this.source = init.source;
    this.stale = init.stale ?? false;
    this.tokens = new TokenPriceTable(init.version, init.tokens);
    this.tokenIds = init.tokenPriceIds ?? new Map();
    this.gpu = indexRates(init.gpuRates ?? []);
    this.instance = indexRates(init.instanceRates ?? []);
  }

  /** The same prices marked stale (or fresh again); shares nothing mutable with this one. */
  withStale(stale: boolean): PriceSnapshot {
    return stale === this.stale ? this : new PriceSnapshot({ ...this.init, stale });
  }

  /** Every price id behind a token price (input, output, cache… each has its own id). */
  tokenPriceIds(price: TokenPrice): readonly string[] {
    return this.tokenIds.get(price) ?? [price.id];
  }

  /** GPU rate: exact region, then global, then the "reference" provider's rate for the type. */
  findGpuRate(provider: string | undefined, gpuType: string, region: string | undefined): TimeRate | undefined {
    const sku = gpuType.toLowerCase();
    return (
      (provider === undefined ? undefined : lookup(this.gpu, provider, sku, region)) ??
      lookup(this.gpu, REFERENCE_PROVIDER, sku, region)
    );
  }

  /** Instance rate: exact region, then global. */
  findInstanceRate(provider: string, instanceType: string, region: string | undefined): TimeRate | undefined {
    return lookup(this.instance, provider, instanceType.toLowerCase(), region);
  }

  get sizes(): { tokens: number; gpu: number; instance: number } {
    return { tokens: this.tokens.size, gpu: this.gpu.size, instance: this.instance.size };
  }
}

/** Anything that can hand the processor the current snapshot without I/O. */
export interface PriceSource {
  current(): PriceSnapshot;
}

/** A fixed snapshot: for tests, air-gapped deployments, or prices loaded from a file. */
export class StaticPriceSource implements PriceSource {
  constructor(private readonly snapshot: PriceSnapshot) {}
  current(): PriceSnapshot {
    return this.snapshot;
  }
}

function rateKey(provider: string, sku: string, region: string): string {
  return `${provider}\u0000${sku}\u0000${region}`;
}

function indexRates(rates: readonly TimeRate[]): Map<string, TimeRate> {
  const map = new Map<string, TimeRate>();
  for (const rate of rates) map.set(rateKey(rate.provider, rate.sku.toLowerCase(), rate.region), rate);
  return map;
}

function lookup(
  map: Map<string, TimeRate>,
  provider: string,
  sku: string,
  region: string | undefined,
): TimeRate | undefined {
  return (region ? map.get(rateKey(provider, sku, region)) : undefined) ?? map.get(rateKey(provider, sku, ''));
}
