import { Money } from './money.js';
import type { TokenPrice } from './token-price-table.js';
import type { BillableTokens } from './token-usage.js';

const MILLION = 1_000_000n;

/** Cost of one model call by component. Each component is rounded once; total is their sum. */
export interface TokenCost {
  readonly input: Money;
  readonly output: Money;
  readonly cacheRead: Money;
  readonly cacheWrite: Money;
  readonly reasoning: Money;
  readonly total: Money;
  readonly priceId: string;
}

/** Prices disjoint billable token counts: component = price per 1M × tokens / 1M, half-even. */
export function priceTokens(tokens: BillableTokens, price: TokenPrice): TokenCost {
  const line = (perMillion: Money, count: bigint): Money => Money.fromRatio(perMillion, count, MILLION);
  const input = line(price.inputPerMillion, tokens.uncachedInput);
  const cacheRead = line(price.cacheReadPerMillion ?? price.inputPerMillion, tokens.cacheRead);
  const cacheWrite = line(price.cacheWritePerMillion ?? price.inputPerMillion, tokens.cacheWrite);
  const output = line(price.outputPerMillion, tokens.output);
  const reasoning = line(price.reasoningPerMillion ?? price.outputPerMillion, tokens.reasoning);
  const total = Money.sum([input, cacheRead, cacheWrite, output, reasoning], price.currency);
  return { input, output, cacheRead, cacheWrite, reasoning, total, priceId: price.id };
}
