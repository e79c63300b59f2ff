export { CostAttr, DimensionAttr, GenAiAttr } from './attributes.js';
export type { UnpricedReason } from './attributes.js';
export { BUNDLED_TOKEN_PRICES, BUNDLED_TOKEN_PRICES_VERSION } from './bundled-token-prices.js';
export { formatScaled, Money, MONEY_SCALE, MoneyError, parseScaled, SUBUNITS_PER_UNIT } from './money.js';
export type { MoneyErrorCode } from './money.js';
export { divideRoundHalfEven } from './rounding.js';
export { GpuAttr, InstanceAttr } from './resource-usage-attributes.js';
export { costAttributes, priceGenAiUsage } from './span-pricing.js';
export type { AttributeLookup, PricingProvenance, SpanPricing, SpanPricingOptions } from './span-pricing.js';
export { priceTokens } from './token-cost.js';
export type { TokenCost } from './token-cost.js';
export { TokenPriceTable, tokenPriceFromRecord } from './token-price-table.js';
export type { TokenPrice, TokenPriceRecord } from './token-price-table.js';
export { defaultInputTokenRule, toBillableTokens, UsageError } from './token-usage.js';
export type { BillableTokens, InputTokenRule, ReportedTokenUsage } from './token-usage.js';
export { closestNames, editDistance } from './pricing/closest-names.js';
export { HOURS_PER_MONTH, ownedGpuHourlyRate } from './pricing/owned-gpu-rate.js';
export type { OwnedGpuCosts } from './pricing/owned-gpu-rate.js';
export {
  applyOverride,
  findOverride,
  lineCost,
  overriddenUnitPrice,
  overrideFromRecord,
  overrideToRecord,
} from './pricing/overrides.js';
export type { AppliedOverride, Override, OverrideEffect, OverrideRecord, OverrideTarget } from './pricing/overrides.js';
export {
  convertUnitPrice,
  parseInstant,
  parseQuantity,
  PRICE_UNITS,
  priceFromRecord,
  priceId,
  PRICING_MODELS,
  priceToRecord,
  QUANTITY_ONE,
  QUANTITY_SCALE,
  RESOURCE_TYPES,
  SERVICE_TIERS,
  unitsForKind,
  USAGE_KINDS,
} from './pricing/price.js';
export type {
  Price,
  PriceRecord,
  PriceUnit,
  PricingModel,
  ResourceType,
  ServiceTier,
  UsageKind,
} from './pricing/price.js';
export { comparePrices, diffSnapshots, PriceSnapshot, priceKey, priceSeriesKey } from './pricing/price-snapshot.js';
export type { PriceDiff, PriceFilter, PriceQuery } from './pricing/price-snapshot.js';
export { invalidArgument, PricingError } from './pricing/pricing-error.js';
export type { PricingErrorCode, PricingErrorDetails } from './pricing/pricing-error.js';
export { quoteUsage, resolvePrice } from './pricing/quote.js';
export type {
  EgressUsage,
  GpuUsage,
  InstanceUsage,
  ModelUsage,
  Quote,
  QuoteLine,
  ResolvedPrice,
  StorageUsage,
  UsageRecord,
} from './pricing/quote.js';
export { tokenPriceTableFromSnapshot } from './pricing/token-price-adapter.js';
export { mergeHistory } from './pricing/price-history.js';
