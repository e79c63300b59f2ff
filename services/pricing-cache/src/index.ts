export { CONFIG_FILE_ENV, ConfigError, ENV_VARS, loadConfig, PRICING_CACHE_ENV_VARS } from './config.js';
export type { PricingCacheConfig } from './config.js';
export { BearerAuth } from './grpc/bearer-auth.js';
export { GRPC_STATUS, toServiceError } from './grpc/grpc-errors.js';
export { PricingApi } from './grpc/pricing-api.js';
export { PricingServiceHandlers } from './grpc/pricing-service.js';
export {
  formatQuantity,
  moneyFromWire,
  moneyToWire,
  overrideToWire,
  priceFromWire,
  priceToWire,
  priceUnits,
  pricingModels,
  quoteToWire,
  resourceTypes,
  serviceTiers,
  timestampFromWire,
  timestampToWire,
  usageKinds,
} from './grpc/wire.js';
export { PricingMetrics } from './metrics.js';
export { PRICING_SERVICE_NAME, PricingCache } from './pricing-cache.js';
export type { PricingCacheOptions } from './pricing-cache.js';
export { PriceStore } from './price-store.js';
export type { ChangeEvent, ResumePlan, StoreEvent } from './price-store.js';
export { Refresher } from './refresher.js';
export type { RefresherOptions } from './refresher.js';
export { loadState, saveState } from './snapshot-persistence.js';
export type { PersistedState } from './snapshot-persistence.js';
export { parseAwsOfferFile } from './sources/aws-price-list.js';
export type { AwsPriceListOptions } from './sources/aws-price-list.js';
export { parseAzureRetailPage } from './sources/azure-retail-prices.js';
export type { AzurePage } from './sources/azure-retail-prices.js';
export { bundledCatalogDir, parseCatalog, readCatalogs } from './sources/catalog-file.js';
export { CircuitBreaker } from './sources/circuit-breaker.js';
export type { CircuitState } from './sources/circuit-breaker.js';
export { parseGcpSkuPage } from './sources/gcp-billing-catalog.js';
export type { GcpPage } from './sources/gcp-billing-catalog.js';
export { awsInstanceGpu, azureVmGpu, gcpGpuFromDescription } from './sources/gpu-types.js';
export type { GpuSpec } from './sources/gpu-types.js';
export { decimalFromNumber, shiftDecimal } from './sources/json-fields.js';
export { parseLiteLlmPrices } from './sources/litellm-format.js';
export type { LiteLlmOptions } from './sources/litellm-format.js';
export { DEFAULT_SCHEDULE } from './sources/price-source.js';
export type { PriceSource, SourceData, SourceSchedule } from './sources/price-source.js';
export { createSource, SOURCE_TYPES } from './sources/sources.js';
export type { SourceConfig, SourceDeps } from './sources/sources.js';
