import type { TokenPriceRecord } from './token-price-table.js';

/**
 * The small token price table bundled with costtrace so the first span is priced before any
 * price service answers. List prices in USD per 1M tokens, from the providers' public pricing
 * pages (openai.com/api/pricing, anthropic.com/pricing), gathered 2026-11-01. The pricing-cache
 * service supersedes this table with full, versioned catalogs.
 */
export const BUNDLED_TOKEN_PRICES_VERSION = 'bundled-2026-11-01';

export const BUNDLED_TOKEN_PRICES: readonly TokenPriceRecord[] = [
  {
    id: 'openai/gpt-4o@2024-08-06',
    provider: 'openai',
    model: 'gpt-4o',
    currency: 'USD',
    inputPerMillion: '2.50',
    cacheReadPerMillion: '1.25',
    outputPerMillion: '10.00',
  },
  {
    id: 'openai/gpt-4o-mini@2024-07-18',
    provider: 'openai',
    model: 'gpt-4o-mini',
    currency: 'USD',
    inputPerMillion: '0.15',
    cacheReadPerMillion: '0.075',
    outputPerMillion: '0.60',
  },
  {
    id: 'openai/o3-mini@2025-01-31',
    provider: 'openai',
    model: 'o3-mini',
    currency: 'USD',
    inputPerMillion: '1.10',
    cacheReadPerMillion: '0.55',
    outputPerMillion: '4.40',
  },
  {
    id: 'anthropic/claude-sonnet-4@2025-05-14',
    provider: 'anthropic',
    model: 'claude-sonnet-4',
    currency: 'USD',
    inputPerMillion: '3.00',
    cacheReadPerMillion: '0.30',
    cacheWritePerMillion: '3.75',
    outputPerMillion: '15.00',
  },
  {
    id: 'anthropic/claude-3-5-haiku@2024-10-22',
    provider: 'anthropic',
    model: 'claude-3-5-haiku',
    currency: 'USD',
    inputPerMillion: '0.80',
    cacheReadPerMillion: '0.08',
    cacheWritePerMillion: '1.00',
    outputPerMillion: '4.00',
  },
];
