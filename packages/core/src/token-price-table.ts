import { Money } from './money.js';

/** A model's token prices, each an amount per one million tokens. */
export interface TokenPrice {
  /** Stable id of this price version, stamped on spans it priced. */
  readonly id: string;
  readonly provider: string;
  readonly model: string;
  readonly currency: string;
  readonly inputPerMillion: Money;
  readonly outputPerMillion: Money;
  /** Absent: cache reads are billed as uncached input. */
  readonly cacheReadPerMillion?: Money | undefined;
  /** Absent: cache writes are billed as uncached input. */
  readonly cacheWritePerMillion?: Money | undefined;
  /** Absent: reasoning tokens are billed as output tokens. */
  readonly reasoningPerMillion?: Money | undefined;
}

/** Plain-data form of a TokenPrice, as stored in catalogs: amounts are decimal strings. */
export interface TokenPriceRecord {
  readonly id: string;
  readonly provider: string;
  readonly model: string;
  readonly currency: string;
  readonly inputPerMillion: string;
  readonly outputPerMillion: string;
  readonly cacheReadPerMillion?: string;
  readonly cacheWritePerMillion?: string;
  readonly reasoningPerMillion?: string;
}

export function tokenPriceFromRecord(record: TokenPriceRecord): TokenPrice {
  const money = (amount: string | undefined): Money | undefined =>
    amount === undefined ? undefined : Money.parse(amount, record.currency);
  return {
    id: record.id,
    provider: record.provider,
    model: record.model,
    currency: record.currency,
    inputPerMillion: Money.parse(record.inputPerMillion, record.currency),
    outputPerMillion: Money.parse(record.outputPerMillion, record.currency),
    cacheReadPerMillion: money(record.cacheReadPerMillion),
    cacheWritePerMillion: money(record.cacheWritePerMillion),
    reasoningPerMillion: money(record.reasoningPerMillion),
  };
}

/**
 * An immutable, versioned set of token prices with O(1) lookup by provider and model.
 * Model names match exactly, or by their dated variant: "gpt-4o-2024-08-06" finds "gpt-4o".
 */
export class TokenPriceTable {
  private readonly byKey = new Map<string, TokenPrice>();
  private readonly resolved = new Map<string, TokenPrice | null>();

  constructor(
    readonly version: string,
    prices: readonly TokenPrice[],
  ) {
    for (const price of prices) this.byKey.set(key(price.provider, price.model), price);
  }

  get size(): number {
    return this.byKey.size;
  }

  has(provider: string): boolean {
    for (const price of this.byKey.values()) if (price.provider === provider) return true;
    return false;
  }

  find(provider: string, model: string): TokenPrice | undefined {
    const wanted = key(provider, model.toLowerCase());
    const cached = this.resolved.get(wanted);
    if (cached !== undefined) return cached ?? undefined;
    let found = this.byKey.get(wanted);
    if (found === undefined) {
      // Dated or suffixed variants: strip trailing "-segment"s until a known model remains.
      let candidate = model.toLowerCase();
      for (let cut = candidate.lastIndexOf('-'); cut > 0 && found === undefined; cut = candidate.lastIndexOf('-')) {
        candidate = candidate.slice(0, cut);
        found = this.byKey.get(key(provider, candidate));
      }
    }
    if (this.resolved.size < 10_000) this.resolved.set(wanted, found ?? null);
    return found;
  }
}

function key(provider: string, model: string): string {
  return `${provider}\u0000${model}`;
}
