import { parseAwsOfferFile } from './aws-price-list.js';
import { parseAzureRetailPage } from './azure-retail-prices.js';
import { bundledCatalogDir, readCatalogs } from '@costtrace/catalog';
import { parseGcpSkuPage } from './gcp-billing-catalog.js';
import { fetchJson, redact } from './http-json.js';
import { parseLiteLlmPrices } from './litellm-format.js';
import { DEFAULT_SCHEDULE } from './price-source.js';
import type { PriceSource, SourceData, SourceSchedule } from './price-source.js';
import { PricingError } from '@costtrace/core';
import type { Price } from '@costtrace/core';

/** Configuration of one source; `name` defaults to the type. Schedule fields override defaults. */
export type SourceConfig = Partial<SourceSchedule> & { readonly name?: string | undefined } & (
    | { readonly type: 'bundled' }
    | { readonly type: 'file'; readonly path: string }
    | { readonly type: 'litellm'; readonly url: string; readonly effectiveFrom?: string | undefined }
    | { readonly type: 'aws'; readonly urls: readonly string[]; readonly instanceTypes?: readonly string[] | undefined }
    | { readonly type: 'azure'; readonly url: string; readonly maxPages?: number | undefined }
    | {
        readonly type: 'gcp';
        readonly url: string;
        /** Sent as the `key` query parameter; never logged. */
        readonly apiKey?: string | undefined;
        readonly maxPages?: number | undefined;
      }
  );

export const SOURCE_TYPES = ['bundled', 'file', 'litellm', 'aws', 'azure', 'gcp'] as const;

export interface SourceDeps {
  /** Largest HTTP body accepted from a source. */
  readonly maxResponseBytes: number;
}

const MAX_PAGES = 200;

/** Builds a PriceSource from its configuration. */
export function createSource(config: SourceConfig, deps: SourceDeps): PriceSource {
  const name = config.name ?? config.type;
  const schedule: SourceSchedule = {
    ttlMs: config.ttlMs ?? (config.type === 'bundled' || config.type === 'file' ? 60_000 : DEFAULT_SCHEDULE.ttlMs),
    jitter: config.jitter ?? DEFAULT_SCHEDULE.jitter,
    timeoutMs: config.timeoutMs ?? DEFAULT_SCHEDULE.timeoutMs,
    failureThreshold: config.failureThreshold ?? DEFAULT_SCHEDULE.failureThreshold,
    openMs: config.openMs ?? DEFAULT_SCHEDULE.openMs,
  };
  const http = { maxBytes: deps.maxResponseBytes };
  const pricesOnly = (prices: Price[]): SourceData => ({ prices, overrides: [] });
  switch (config.type) {
    case 'bundled':
      return { name, schedule, fetch: () => readCatalogs(bundledCatalogDir()) };
    case 'file':
      return { name, schedule, fetch: () => readCatalogs(config.path) };
    case 'litellm':
      return {
        name,
        schedule,
        fetch: async (signal) =>
          pricesOnly(
            parseLiteLlmPrices(await fetchJson(config.url, signal, http), {
              source: `litellm ${redact(config.url)}`,
              effectiveFrom: config.effectiveFrom ?? '1970-01-01',
            }),
          ),
      };
    case 'aws':
      return {
        name,
        schedule,
        fetch: async (signal) => {
          const prices: Price[] = [];
          for (const url of config.urls) {
            const offer = await fetchJson(url, signal, http);
            prices.push(...parseAwsOfferFile(offer, { source: 'aws-price-list', instanceTypes: config.instanceTypes }));
          }
          return pricesOnly(prices);
        },
      };
    case 'azure':
      return {
        name,
        schedule,
        fetch: async (signal) => {
          const prices: Price[] = [];
          let url: string | undefined = config.url;
          for (let page = 0; url !== undefined; page++) {
            if (page >= (config.maxPages ?? MAX_PAGES)) throw tooManyPages(name);
            const parsed = parseAzureRetailPage(await fetchJson(url, signal, http), 'azure-retail-prices');
            prices.push(...parsed.prices);
            url = parsed.nextPageLink;
          }
          return pricesOnly(prices);
        },
      };
    case 'gcp':
      return {
        name,
        schedule,
        fetch: async (signal) => {
          const prices: Price[] = [];
          let token: string | undefined = '';
          for (let page = 0; token !== undefined; page++) {
            if (page >= (config.maxPages ?? MAX_PAGES)) throw tooManyPages(name);
            const url = new URL(config.url);
            if (config.apiKey !== undefined) url.searchParams.set('key', config.apiKey);
            if (token !== '') url.searchParams.set('pageToken', token);
            url.searchParams.set('currencyCode', 'USD');
            const parsed = parseGcpSkuPage(await fetchJson(url.toString(), signal, http), 'gcp-cloud-billing-catalog');
            prices.push(...parsed.prices);
            token = parsed.nextPageToken;
          }
          return pricesOnly(prices);
        },
      };
  }
}

function tooManyPages(name: string): PricingError {
  return new PricingError('INVALID_CATALOG', `${name}: more pages than allowed; narrow the query or raise maxPages`);
}
