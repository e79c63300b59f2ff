export { CONFIG_FILE_ENV, ConfigError, loadConfig, PRICING_CACHE_ENV_VARS } from './config.js';
export type { PricingCacheConfig } from './config.js';
export { PricingCache } from './pricing-cache.js';
export type { PricingCacheOptions } from './pricing-cache.js';
export { PriceStore } from './price-store.js';
export type { PriceSource, SourceData, SourceSchedule } from './sources/price-source.js';
