export { CostAttr, DimensionAttr, GenAiAttr, ROLLUP_ATTRIBUTE } from './attributes.js';
export type { UnpricedReason } from './attributes.js';
export {
  JOB_KINDS,
  JobAttr,
  MAX_JOB_EPOCH,
  MAX_JOB_SAMPLES,
  readJobCount,
  TRAINING_JOB_KINDS,
} from './job-attributes.js';
export type { JobKind } from './job-attributes.js';
export { backoffDelay, backoffProblem } from './backoff.js';
export { readTokenCount } from './token-count.js';
export type { TokenCountProblem, TokenCountResult } from './token-count.js';
export type { BackoffPolicy } from './backoff.js';
export { formatScaled, Money, MONEY_SCALE, MoneyError, parseScaled, SUBUNITS_PER_UNIT } from './money.js';
export type { MoneyErrorCode } from './money.js';
export { divideRoundHalfEven } from './rounding.js';
export { GpuAttr, InstanceAttr } from './resource-usage-attributes.js';
export { defaultInputTokenRule, UsageError } from './token-usage.js';
export type { InputTokenRule } from './token-usage.js';
export { closestNames } from './pricing/closest-names.js';
export { HOURS_PER_MONTH } from './pricing/owned-gpu-rate.js';
export { overriddenUnitPrice, overrideFromRecord, overrideToRecord } from './pricing/overrides.js';
export type { AppliedOverride, Override, OverrideRecord } from './pricing/overrides.js';
export {
  convertUnitPrice,
  parseInstant,
  parseQuantity,
  PRICE_UNITS,
  priceFromRecord,
  PRICING_MODELS,
  priceToRecord,
  QUANTITY_SCALE,
  RESOURCE_TYPES,
  SERVICE_TIERS,
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
export { diffSnapshots, PriceSnapshot, priceSeriesKey } from './pricing/price-snapshot.js';
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
export { formatPico, picoToFloat } from './pricing/compiled-token-price.js';
export type { CompiledTokenPrice, TokenPrice } from './pricing/compiled-token-price.js';
export { PricingView, REFERENCE_PROVIDER, StaticPriceSource } from './pricing/pricing-view.js';
export { readSpanUsage, SpanUsage, unixNanoToMillis } from './pricing/span-usage.js';
export type { EmitterScope, UsageReaderOptions } from './pricing/span-usage.js';
export { EMITTED_COST_CURRENCY_KEY, EMITTED_COST_KEYS } from './pricing/usage-dialects.js';
export { SpanCost, SpanPricer } from './pricing/span-pricer.js';
export { ModelCallLedger } from './pricing/model-call-ledger.js';
export type { ModelCallLedgerOptions, ModelCallLedgerStats, UsageRole } from './pricing/model-call-ledger.js';
export { snapshotDocument, viewFromDocument, viewFromDocumentText } from './pricing/snapshot-document.js';
export type { SnapshotDocument } from './pricing/snapshot-document.js';
export type { Pico, SpanPricerOptions } from './pricing/span-pricer.js';
export type { PriceSource, SnapshotSource, TokenPriceLookup } from './pricing/pricing-view.js';
export { BUNDLED_CATALOG_VERSION, bundledPriceSnapshot, bundledPricingView } from './pricing/bundled-catalog.js';
export { mergeHistory } from './pricing/price-history.js';
export { CommitShiftDetector, SpendRateDetector } from './budgets/anomaly-detector.js';
export type { CommitShiftFinding, SpendRateFinding } from './budgets/anomaly-detector.js';
export {
  budgetToDocument,
  compileScope,
  formatDuration,
  parseBudget,
  percentOfLimit,
  windowSignature,
} from './budgets/budget.js';
export type { Budget, BudgetAction, BudgetDocument, BudgetWindow, UnpricedPolicy } from './budgets/budget.js';
export { BudgetError } from './budgets/budget-error.js';
export type { BudgetErrorCode } from './budgets/budget-error.js';
export { calendarPeriod } from './budgets/calendar-window.js';
export { forecastSampleMs, forecastSpend } from './budgets/forecast.js';
export type { Forecast } from './budgets/forecast.js';
export { RollingWindow } from './budgets/rolling-window.js';
export { BUDGET_DIMENSIONS, CompiledScope, isBudgetDimension } from './budgets/scope-selector.js';
export {
  decidePreflight,
  mayApprove,
  outstandingReservation,
  parsePreflightRule,
  PREFLIGHT_DECISIONS,
  preflightRuleToDocument,
  reservationHours,
} from './budgets/preflight-policy.js';
export type {
  PreflightBudgetState,
  PreflightDecision,
  PreflightOutcome,
  PreflightReasonCode,
  PreflightReasonDetail,
  PreflightRule,
  PreflightRuleDocument,
} from './budgets/preflight-policy.js';
export type { BudgetDimension, DimensionValues, ScopeSelector } from './budgets/scope-selector.js';
export { initialThresholdState, isThresholdState, stepThresholds } from './budgets/threshold-state.js';
export type { ThresholdEvent, ThresholdState } from './budgets/threshold-state.js';
export {
  AWS_CUR_COLUMNS,
  AWS_CUR_REQUIRED_COLUMNS,
  AwsCurParser,
  BILL_SOURCES,
  BILLED_KINDS,
  BillingImportError,
  bindCurColumns,
  bindFocusColumns,
  catalogListPrices,
  cellText,
  centsToDecimal,
  ColumnBinding,
  CSV_MAX_FIELDS,
  CSV_MAX_RECORD_BYTES,
  CsvBillParser,
  CsvReader,
  curChargeCategory,
  describeJson,
  emptyNotes,
  exactDecimal,
  findInstanceType,
  findInstanceTypeIn,
  FOCUS_COLUMNS,
  FOCUS_REQUIRED_COLUMNS,
  FocusBillParser,
  focusProvider,
  isGpuInstanceType,
  isZeroDecimal,
  JSON_MAX_DEPTH,
  JSON_MAX_LENGTH,
  JsonArray,
  JsonNumber,
  JsonObject,
  JsonObjectReader,
  jsonPath,
  mapCurRow,
  mapFocusRow,
  MAX_RESULTS_PER_PAGE,
  OPENAI_COMPLETIONS_RESULT,
  OPENAI_COSTS_RESULT,
  OPENAI_EMBEDDINGS_RESULT,
  parseAnthropicCostPage,
  parseAnthropicUsagePage,
  parseJson,
  parseJsonPrefix,
  parseOpenAiCostsPage,
  parseOpenAiLineItem,
  parseOpenAiUsagePage,
  readBedrockUsageType,
  readBillUnit,
  readJsonPages,
  reconcile,
  reconcileCompute,
  RECONCILE_DIMENSIONS,
  scaledDecimal,
  siteLocation,
  tokenKindOf,
  utcDay,
  utcSeconds,
  DRIFT_MEASURES,
  driftRuleToDocument,
  evaluateDrift,
  parseDriftRule,
  isOpenCostLabelAggregate,
  MAX_OPENCOST_ALLOCATIONS,
  OPENCOST_COST_FIELDS,
  OPENCOST_IDLE,
  OPENCOST_QUANTITY_FIELDS,
  OPENCOST_ROUNDING,
  OPENCOST_SHARED,
  OPENCOST_UNALLOCATED,
  OPENCOST_UNMOUNTED,
  openCostAggregateProblem,
  openCostAllocationKind,
  openCostBilledLines,
  parseOpenCostAllocationPage,
  parseOpenCostAllocations,
} from './billing/index.js';
export type {
  AwsCurMapOptions,
  AwsCurParserOptions,
  BedrockTokenUsage,
  BilledInput,
  BilledKind,
  BilledLine,
  BillingErrorCode,
  BillingErrorLocation,
  BillRow,
  BillRowMapper,
  BillSource,
  BillUnit,
  BindOptions,
  ColumnSpec,
  CsvBillParserOptions,
  CsvReaderOptions,
  CsvRecord,
  DriftCategories,
  FocusBillParserOptions,
  FocusMapOptions,
  InstanceType,
  JsonMember,
  JsonPage,
  JsonParseOptions,
  JsonPrefix,
  JsonSite,
  JsonValue,
  ListPriceCatalog,
  ListTokenPrices,
  OpenAiLineItem,
  ParseNotes,
  ProposedOverride,
  ReconcileDimension,
  ReconcileOptions,
  ReconcileReport,
  ReconcileRow,
  ReportPageOptions,
  ReportPageResult,
  RequiredColumn,
  TokenCounts,
  TokenKind,
  TracedInput,
  DriftFinding,
  DriftMeasure,
  DriftRule,
  DriftRuleDocument,
  BilledComputeInput,
  ComputeRow,
  TracedComputeInput,
  OpenCostAllocation,
  OpenCostAllocationKind,
  OpenCostCostField,
  OpenCostPageOptions,
  OpenCostQuantityField,
  OpenCostReportOptions,
} from './billing/index.js';
