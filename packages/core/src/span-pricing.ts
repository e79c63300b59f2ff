import { CostAttr, GenAiAttr } from './attributes.js';
import type { UnpricedReason } from './attributes.js';
import { priceTokens } from './token-cost.js';
import type { TokenCost } from './token-cost.js';
import type { TokenPriceTable } from './token-price-table.js';
import { defaultInputTokenRule, toBillableTokens, UsageError } from './token-usage.js';
import type { InputTokenRule, ReportedTokenUsage } from './token-usage.js';

/** Reads one attribute of a span (span attributes first, then resource, as the caller decides). */
export type AttributeLookup = (key: string) => unknown;

export type SpanPricing =
  | { readonly kind: 'priced'; readonly provider: string; readonly model: string; readonly cost: TokenCost }
  | { readonly kind: 'unpriced'; readonly reason: UnpricedReason; readonly detail: string }
  /** The span carries no model usage at all: nothing to price, nothing to report. */
  | { readonly kind: 'not-applicable' };

export interface SpanPricingOptions {
  /** Per-provider override of how input counts relate to cache counts. */
  readonly inputTokenRules?: Readonly<Record<string, InputTokenRule>> | undefined;
}

const NOT_APPLICABLE: SpanPricing = { kind: 'not-applicable' };

function tokenCount(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return Number.NaN;
}

/** Prices the GenAI token usage a span reports, from the given table. Pure; never throws. */
export function priceGenAiUsage(
  get: AttributeLookup,
  table: TokenPriceTable,
  options: SpanPricingOptions = {},
): SpanPricing {
  const usage: ReportedTokenUsage = {
    input: tokenCount(get(GenAiAttr.inputTokens)),
    output: tokenCount(get(GenAiAttr.outputTokens)),
    cacheRead: tokenCount(get(GenAiAttr.cacheReadInputTokens)),
    cacheWrite: tokenCount(get(GenAiAttr.cacheCreationInputTokens)),
    reasoning: tokenCount(get(GenAiAttr.reasoningOutputTokens)),
  };
  const model = stringAttr(get(GenAiAttr.responseModel)) ?? stringAttr(get(GenAiAttr.requestModel));
  const hasUsage = usage.input !== undefined || usage.output !== undefined;
  if (!hasUsage && model === undefined) return NOT_APPLICABLE;
  if (!hasUsage) return { kind: 'unpriced', reason: 'no_usage', detail: `model ${model} reported no token usage` };
  if (model === undefined)
    return {
      kind: 'unpriced',
      reason: 'unknown_model',
      detail: 'token usage without gen_ai.request.model or gen_ai.response.model',
    };
  const provider = stringAttr(get(GenAiAttr.providerName)) ?? stringAttr(get(GenAiAttr.system));
  if (provider === undefined)
    return { kind: 'unpriced', reason: 'unknown_provider', detail: `no gen_ai.provider.name for model ${model}` };
  const price = table.find(provider, model);
  if (price === undefined) {
    return table.has(provider)
      ? {
          kind: 'unpriced',
          reason: 'unknown_model',
          detail: `no price for ${provider} model ${model} in ${table.version}`,
        }
      : {
          kind: 'unpriced',
          reason: 'unknown_provider',
          detail: `no prices for provider ${provider} in ${table.version}`,
        };
  }
  try {
    const rule = options.inputTokenRules?.[provider] ?? defaultInputTokenRule(provider);
    const tokens = toBillableTokens(usage, rule, price.reasoningPerMillion !== undefined);
    return { kind: 'priced', provider, model, cost: priceTokens(tokens, price) };
  } catch (err) {
    if (err instanceof UsageError) return { kind: 'unpriced', reason: 'invalid_usage', detail: err.message };
    return { kind: 'unpriced', reason: 'internal_error', detail: err instanceof Error ? err.message : String(err) };
  }
}

export interface PricingProvenance {
  readonly version: string;
  readonly source: 'bundled' | 'pricing-cache' | 'aggregator';
  readonly stale: boolean;
}

/** The `cost.*` attributes for a priced span. */
export function costAttributes(
  cost: TokenCost,
  provenance: PricingProvenance,
): Record<string, string | number | boolean | string[]> {
  return {
    [CostAttr.total]: cost.total.toDecimalString(),
    [CostAttr.totalFloat]: cost.total.toNumber(),
    [CostAttr.currency]: cost.total.currency,
    [CostAttr.inputTokens]: cost.input.toDecimalString(),
    [CostAttr.outputTokens]: cost.output.toDecimalString(),
    [CostAttr.cacheReadTokens]: cost.cacheRead.toDecimalString(),
    [CostAttr.cacheWriteTokens]: cost.cacheWrite.toDecimalString(),
    [CostAttr.reasoningTokens]: cost.reasoning.toDecimalString(),
    [CostAttr.pricingVersion]: provenance.version,
    [CostAttr.pricingSource]: provenance.source,
    [CostAttr.pricingStale]: provenance.stale,
    [CostAttr.pricingPriceIds]: [cost.priceId],
  };
}

function stringAttr(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
