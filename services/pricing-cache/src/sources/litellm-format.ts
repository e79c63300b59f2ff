import { PricingError, priceFromRecord } from '@costtrace/core';
import type { Price, PriceRecord, ServiceTier, UsageKind } from '@costtrace/core';
import { asObject, decimalFromNumber, shiftDecimal } from './json-fields.js';

/** LiteLLM provider names → costtrace provider names. */
const PROVIDERS: Readonly<Record<string, string>> = {
  openai: 'openai',
  text_completion_openai: 'openai',
  anthropic: 'anthropic',
  gemini: 'google',
  'vertex_ai-language-models': 'google',
  vertex_ai: 'google',
  mistral: 'mistral',
  deepseek: 'deepseek',
  xai: 'xai',
  azure: 'azure',
  bedrock: 'bedrock',
  bedrock_converse: 'bedrock',
  groq: 'groq',
  together_ai: 'together',
  fireworks_ai: 'fireworks',
  perplexity: 'perplexity',
  cohere: 'cohere',
  cohere_chat: 'cohere',
};

const TOKEN_FIELDS: readonly (readonly [RegExp, UsageKind])[] = [
  [/^input_cost_per_token(.*)$/, 'input_tokens'],
  [/^output_cost_per_token(.*)$/, 'output_tokens'],
  [/^cache_read_input_token_cost(.*)$/, 'cache_read_tokens'],
  [/^cache_creation_input_token_cost(.*)$/, 'cache_write_tokens'],
  [/^output_cost_per_reasoning_token(.*)$/, 'reasoning_tokens'],
];

const TIERS: Readonly<Record<string, ServiceTier>> = {
  '': 'standard',
  _batches: 'batch',
  _priority: 'priority',
  _flex: 'flex',
};

export interface LiteLlmOptions {
  /** Source name stamped on each price, with the model key. */
  readonly source: string;
  /** LiteLLM prices carry no dates: this is their effective-from (history is kept on change). */
  readonly effectiveFrom: string;
}

/**
 * Parses LiteLLM's `model_prices_and_context_window.json`: an object keyed by model name whose
 * entries carry per-token costs as JSON numbers (`input_cost_per_token`,
 * `cache_read_input_token_cost`, `*_above_200k_tokens`, `*_batches`, `*_priority`, `*_flex`,
 * `input_cost_per_request`, `output_cost_per_image`, `litellm_provider`). Per-token costs are
 * converted exactly to per-1M-token prices. Entries without costs (e.g. `sample_spec`) are
 * skipped; any malformed cost rejects the whole payload.
 */
export function parseLiteLlmPrices(payload: unknown, options: LiteLlmOptions): Price[] {
  const root = asObject(payload, 'litellm');
  const prices: Price[] = [];
  const seen = new Set<string>();
  for (const [key, value] of Object.entries(root)) {
    if (key === 'sample_spec') continue;
    const path = `litellm[${JSON.stringify(key)}]`;
    const entry = asObject(value, path);
    const litellmProvider = typeof entry.litellm_provider === 'string' ? entry.litellm_provider : '';
    const provider = PROVIDERS[litellmProvider] ?? litellmProvider.toLowerCase();
    if (provider === '') continue;
    const slash = key.indexOf('/');
    const sku = (slash >= 0 ? key.slice(key.lastIndexOf('/') + 1) : key).toLowerCase();
    const add = (record: Omit<PriceRecord, 'provider' | 'sku' | 'resourceType' | 'effectiveFrom' | 'source'>): void => {
      const price = priceFromRecord(
        {
          ...record,
          provider,
          sku,
          resourceType: 'model',
          effectiveFrom: options.effectiveFrom,
          source: `${options.source}:${key}`,
        },
        path,
      );
      // The same model may appear under several keys ("gpt-4o", "openai/gpt-4o"): first wins.
      if (seen.has(price.id)) return;
      seen.add(price.id);
      prices.push(price);
    };
    for (const [field, raw] of Object.entries(entry)) {
      if (raw === null || raw === undefined) continue;
      for (const [pattern, kind] of TOKEN_FIELDS) {
        const match = pattern.exec(field);
        if (match === null) continue;
        const rest = match[1] ?? '';
        const above = /^_above_(\d+)k_tokens$/.exec(rest);
        const tier = above === null ? TIERS[rest] : 'standard';
        if (tier === undefined) break; // a variant costtrace does not model (e.g. audio)
        const perToken = decimalFromNumber(raw, `${path}.${field}`);
        add({
          kind,
          unit: '1m_tokens',
          amount: shiftDecimal(perToken, 6),
          serviceTier: tier,
          aboveInputTokens: above === null ? 0 : Number(above[1]) * 1000,
        });
        break;
      }
    }
    if (entry.input_cost_per_request !== undefined) {
      add({
        kind: 'requests',
        unit: 'request',
        amount: decimalFromNumber(entry.input_cost_per_request, `${path}.input_cost_per_request`),
      });
    }
    if (entry.output_cost_per_image !== undefined) {
      add({
        kind: 'images',
        unit: 'image',
        amount: decimalFromNumber(entry.output_cost_per_image, `${path}.output_cost_per_image`),
      });
    }
  }
  if (prices.length === 0) {
    throw new PricingError('INVALID_CATALOG', 'litellm: no model prices found; is this a LiteLLM price map?');
  }
  return prices;
}
