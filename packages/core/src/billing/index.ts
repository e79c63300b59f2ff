// The public surface of bill imports: the shared model, and the parsers of the providers' usage and
// cost API pages (pure: they take text or parsed JSON, never a file or a connection).

export {
  BILL_SOURCES,
  BILLED_KINDS,
  emptyNotes,
  exactDecimal,
  isZeroDecimal,
  utcDay,
  utcSeconds,
} from './billed-line.js';
export type { BilledKind, BilledLine, BillSource, ParseNotes } from './billed-line.js';
export { BillingImportError } from './billing-error.js';
export type { BillingErrorCode, BillingErrorLocation } from './billing-error.js';

export {
  JSON_MAX_DEPTH,
  JSON_MAX_LENGTH,
  JsonArray,
  JsonNumber,
  JsonObject,
  parseJson,
  parseJsonPrefix,
} from './lossless-json.js';
export type { JsonMember, JsonParseOptions, JsonPrefix, JsonValue } from './lossless-json.js';
export { readJsonPages } from './json-pages.js';
export type { JsonPage } from './json-pages.js';
export { describeJson, jsonPath, JsonObjectReader, siteLocation } from './json-object-reader.js';
export type { JsonSite } from './json-object-reader.js';

export { MAX_RESULTS_PER_PAGE } from './report-page.js';
export type { ReportPageOptions, ReportPageResult } from './report-page.js';
export { OPENAI_COMPLETIONS_RESULT, OPENAI_EMBEDDINGS_RESULT, parseOpenAiUsagePage } from './openai-usage-report.js';
export { OPENAI_COSTS_RESULT, parseOpenAiCostsPage, parseOpenAiLineItem } from './openai-costs-report.js';
export type { OpenAiLineItem } from './openai-costs-report.js';
export { parseAnthropicUsagePage } from './anthropic-usage-report.js';
export { centsToDecimal, parseAnthropicCostPage } from './anthropic-cost-report.js';
export {
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
} from './opencost-allocation.js';
export type {
  OpenCostAllocation,
  OpenCostAllocationKind,
  OpenCostCostField,
  OpenCostPageOptions,
  OpenCostQuantityField,
  OpenCostReportOptions,
} from './opencost-allocation.js';

// Cloud billing exports (FOCUS, AWS CUR 2.0): the CSV reader, the column layer shared with
// Parquet rows, and the row mappers.
export { CSV_MAX_FIELDS, CSV_MAX_RECORD_BYTES, CsvReader } from './csv-reader.js';
export type { CsvReaderOptions, CsvRecord } from './csv-reader.js';
export { ColumnBinding } from './bill-row.js';
export type { BillRow, BindOptions, ColumnSpec, RequiredColumn } from './bill-row.js';
export { cellText } from './bill-cells.js';
export { readBillUnit, scaledDecimal } from './bill-units.js';
export type { BillUnit } from './bill-units.js';
export { tokenKindOf } from './token-kind.js';
export type { TokenKind } from './token-kind.js';
export { findInstanceType, findInstanceTypeIn, isGpuInstanceType } from './instance-type.js';
export type { InstanceType } from './instance-type.js';
export { readBedrockUsageType } from './bedrock-usage-type.js';
export type { BedrockTokenUsage } from './bedrock-usage-type.js';
export { CsvBillParser } from './csv-bill-parser.js';
export type { BillRowMapper, CsvBillParserOptions } from './csv-bill-parser.js';
export {
  bindFocusColumns,
  FOCUS_COLUMNS,
  FOCUS_REQUIRED_COLUMNS,
  FocusBillParser,
  focusProvider,
  mapFocusRow,
} from './focus-bill.js';
export type { FocusBillParserOptions, FocusMapOptions } from './focus-bill.js';
export {
  AWS_CUR_COLUMNS,
  AWS_CUR_REQUIRED_COLUMNS,
  AwsCurParser,
  bindCurColumns,
  curChargeCategory,
  mapCurRow,
} from './aws-cur.js';
export type { AwsCurMapOptions, AwsCurParserOptions } from './aws-cur.js';

export { catalogListPrices } from './catalog-list-prices.js';
export type { ListPriceCatalog, ListTokenPrices } from './catalog-list-prices.js';
export { reconcile, RECONCILE_DIMENSIONS } from './reconcile.js';
export type {
  BilledInput,
  DriftCategories,
  ProposedOverride,
  ReconcileDimension,
  ReconcileOptions,
  ReconcileReport,
  ReconcileRow,
  TokenCounts,
  TracedInput,
} from './reconcile.js';
export { DRIFT_MEASURES, driftRuleToDocument, evaluateDrift, parseDriftRule } from './drift-rule.js';
export type { DriftFinding, DriftMeasure, DriftRule, DriftRuleDocument } from './drift-rule.js';
export { reconcileCompute } from './compute-reconcile.js';
export type { BilledComputeInput, ComputeRow, TracedComputeInput } from './compute-reconcile.js';
