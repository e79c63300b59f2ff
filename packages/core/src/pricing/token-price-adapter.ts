import { convertUnitPrice } from './price.js';
import type { Price, UsageKind } from './price.js';
import type { PriceSnapshot } from './price-snapshot.js';
import { TokenPriceTable } from '../token-price-table.js';
import type { TokenPrice } from '../token-price-table.js';

/**
 * The TokenPriceTable (what priceGenAiUsage reads) of a snapshot at a time: standard tier,
 * base context tier, global prices, per 1M tokens. Models without an input and output price
 * are left out. The table's version is "pcache-<snapshot version>".
 */
export function tokenPriceTableFromSnapshot(snapshot: PriceSnapshot, at: number): TokenPriceTable {
  const byModel = new Map<string, Map<UsageKind, Price>>();
  for (const price of snapshot.list({ resourceType: 'model', at })) {
    if (price.serviceTier !== 'standard' || price.pricingModel !== 'on_demand' || price.region !== '') continue;
    if (price.aboveInputTokens !== 0n) continue;
    const key = `${price.provider}\u0000${price.sku}`;
    let kinds = byModel.get(key);
    if (kinds === undefined) byModel.set(key, (kinds = new Map<UsageKind, Price>()));
    kinds.set(price.kind, price);
  }
  const prices: TokenPrice[] = [];
  for (const kinds of byModel.values()) {
    const input = kinds.get('input_tokens');
    const output = kinds.get('output_tokens');
    if (input === undefined || output === undefined) continue;
    const perMillion = (kind: UsageKind) => {
      const p = kinds.get(kind);
      return p === undefined ? undefined : convertUnitPrice(p.amount, p.unit, '1m_tokens');
    };
    prices.push({
      id: input.id,
      provider: input.provider,
      model: input.sku,
      currency: input.amount.currency,
      inputPerMillion: convertUnitPrice(input.amount, input.unit, '1m_tokens'),
      outputPerMillion: convertUnitPrice(output.amount, output.unit, '1m_tokens'),
      cacheReadPerMillion: perMillion('cache_read_tokens'),
      cacheWritePerMillion: perMillion('cache_write_tokens'),
      reasoningPerMillion: perMillion('reasoning_tokens'),
    });
  }
  return new TokenPriceTable(`pcache-${snapshot.version}`, prices);
}
