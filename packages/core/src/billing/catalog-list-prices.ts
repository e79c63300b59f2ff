import type { PriceSnapshot } from '../pricing/price-snapshot.js';
import { convertUnitPrice, SERVICE_TIERS } from '../pricing/price.js';
import type { ServiceTier, UsageKind } from '../pricing/price.js';

/**
 * A model's list token prices, in pico-units of `currency` per one million tokens. Cache reads and
 * writes without a price of their own fall back to the input price, as the pricer bills them.
 */
export interface ListTokenPrices {
  readonly currency: string;
  readonly input: bigint;
  readonly output: bigint;
  readonly cacheRead: bigint;
  readonly cacheWrite: bigint;
}

/** What reconciliation needs of a price catalog: list prices, without any override. */
export interface ListPriceCatalog {
  /** The catalog's name for a model (a dated or suffixed variant resolves to its SKU); as given when unknown. */
  canonicalModel(provider: string, model: string): string;
  /**
   * List prices for `tier` (falling back to standard when the catalog has no separate tier
   * price) at `atMs`; undefined when the model has no input or output price.
   */
  tokenPrices(provider: string, model: string, tier: string, atMs: number): ListTokenPrices | undefined;
}

const KINDS = [
  ['input', 'input_tokens'],
  ['output', 'output_tokens'],
  ['cacheRead', 'cache_read_tokens'],
  ['cacheWrite', 'cache_write_tokens'],
] as const satisfies readonly (readonly [string, UsageKind])[];

/** List prices from a price snapshot (the bundled catalog or pricing-cache's), overrides ignored. */
export function catalogListPrices(snapshot: PriceSnapshot): ListPriceCatalog {
  return {
    canonicalModel: (provider, model) => snapshot.resolveSku(provider, model) ?? model,
    tokenPrices(provider, model, tier, atMs) {
      const serviceTier: ServiceTier = (SERVICE_TIERS as readonly string[]).includes(tier)
        ? (tier as ServiceTier)
        : 'standard';
      const sku = snapshot.resolveSku(provider, model);
      if (sku === undefined) return undefined;
      const perMillion = (kind: UsageKind) => {
        const query = { provider, sku, kind, at: atMs };
        const price = snapshot.find({ ...query, serviceTier }) ?? snapshot.find(query);
        return price === undefined ? undefined : convertUnitPrice(price.amount, price.unit, '1m_tokens');
      };
      const found = KINDS.map(([, kind]) => perMillion(kind));
      const [input, output, cacheRead, cacheWrite] = found;
      if (input === undefined || output === undefined) return undefined;
      if (found.some((p) => p !== undefined && p.currency !== input.currency)) return undefined;
      return {
        currency: input.currency,
        input: input.subunits,
        output: output.subunits,
        cacheRead: (cacheRead ?? input).subunits,
        cacheWrite: (cacheWrite ?? input).subunits,
      };
    },
  };
}
