export { CostAttr, DimensionAttr, GenAiAttr, ROLLUP_ATTRIBUTE } from './attributes.js';
export type { UnpricedReason } from './attributes.js';
export { backoffDelay, backoffProblem } from './backoff.js';
export type { BackoffPolicy } from './backoff.js';
export { formatScaled, Money, MONEY_SCALE, MoneyError, parseScaled, SUBUNITS_PER_UNIT } from './money.js';
export type { MoneyErrorCode } from './money.js';
export { divideRoundHalfEven } from './rounding.js';
export { GpuAttr, InstanceAttr } from './resource-usage-attributes.js';
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
export {
  addPico,
  compileTokenPrice,
  formatPico,
  formatPicoNumber,
  KIND_BIT,
  picoToFloat,
  priceIdsFor,
  tokenLine,
} from './pricing/compiled-token-price.js';
export type { CompiledTokenPrice, TokenPrice, TokenPriceIds } from './pricing/compiled-token-price.js';
export { PricingView, REFERENCE_PROVIDER, StaticPriceSource } from './pricing/pricing-view.js';
export {
  INVALID_COUNT,
  pricingModelOf,
  readSpanUsage,
  secondsToNanos,
  SpanUsage,
  tokenCount,
  unixNanoToMillis,
} from './pricing/span-usage.js';
export type { AttributeBag, EmitterScope, UsageReaderOptions } from './pricing/span-usage.js';
export {
  ALL_USAGE_KEYS,
  EMITTED_COST_CURRENCY_KEY,
  EMITTED_COST_KEYS,
  EMITTER_RULES,
  RESPONSE_ID_KEYS,
  emitterRule,
  normalizeProvider,
  USAGE_KEYS,
} from './pricing/usage-dialects.js';
export type { EmitterRule } from './pricing/usage-dialects.js';
export { SpanCost, SpanPricer } from './pricing/span-pricer.js';
export { ModelCallLedger } from './pricing/model-call-ledger.js';
export type {
  CallDecision,
  LedgerRule,
  ModelCallLedgerOptions,
  ModelCallLedgerStats,
  UsageRole,
  UsageSighting,
} from './pricing/model-call-ledger.js';
export {
  SNAPSHOT_DOCUMENT_FORMAT,
  snapshotDocument,
  viewFromDocument,
  viewFromDocumentText,
} from './pricing/snapshot-document.js';
export type { SnapshotDocument } from './pricing/snapshot-document.js';
export type { Pico, SpanPricerOptions } from './pricing/span-pricer.js';
export type { PriceSource, SnapshotSource, TokenPriceLookup } from './pricing/pricing-view.js';
export { BUNDLED_CATALOG_VERSION, bundledPriceSnapshot, bundledPricingView } from './pricing/bundled-catalog.js';
export { mergeHistory } from './pricing/price-history.js';
export { CommitShiftDetector, SpendRateDetector } from './budgets/anomaly-detector.js';
export type {
  CommitShiftFinding,
  CommitShiftOptions,
  SpendRateFinding,
  SpendRateOptions,
} from './budgets/anomaly-detector.js';
export {
  budgetToDocument,
  compileScope,
  DEFAULT_MAX_KEYS,
  DEFAULT_THRESHOLDS,
  formatDuration,
  MAX_ROLLING_WINDOW_MS,
  MIN_ROLLING_WINDOW_MS,
  parseBudget,
  parseDuration,
  percentOfLimit,
  reachesPercent,
  UNPRICED_AS_ZERO,
  windowSignature,
} from './budgets/budget.js';
export type {
  Budget,
  BudgetAction,
  BudgetDocument,
  BudgetWindow,
  ReleasePolicy,
  UnpricedPolicy,
} from './budgets/budget.js';
export { BudgetError } from './budgets/budget-error.js';
export type { BudgetErrorCode } from './budgets/budget-error.js';
export { calendarPeriod, checkTimeZone } from './budgets/calendar-window.js';
export type { CalendarPeriod, PeriodBounds } from './budgets/calendar-window.js';
export { forecastSampleMs, forecastSpend } from './budgets/forecast.js';
export type { Forecast, ForecastInput } from './budgets/forecast.js';
export { BUCKETS_PER_WINDOW, RollingWindow } from './budgets/rolling-window.js';
export type { BucketTotal } from './budgets/rolling-window.js';
export {
  BUDGET_DIMENSIONS,
  CompiledScope,
  isBudgetDimension,
  MAX_PATTERN_LENGTH,
  parseScopeKey,
  parseScopeSelector,
} from './budgets/scope-selector.js';
export type { BudgetDimension, DimensionValues, ScopeSelector } from './budgets/scope-selector.js';
export {
  initialThresholdState,
  isThresholdState,
  stepThresholds,
  THRESHOLD_REARM_POINTS,
} from './budgets/threshold-state.js';
export type { ReleaseReason, ThresholdEvent, ThresholdInput, ThresholdState } from './budgets/threshold-state.js';
