export { ClickHouseStore } from './clickhouse/clickhouse-store.js';
export type { ClickHouseStoreOptions, RetentionPolicy } from './clickhouse/clickhouse-store.js';
export type { CostStore, RollupDifference, StoredSpans, StoredUsageSpan, TopSpanRow } from './cost-store.js';
export { DuckDbStore } from './duckdb/duckdb-store.js';
export type { DuckDbStoreOptions } from './duckdb/duckdb-store.js';
export { DUCKDB_MIGRATIONS } from './duckdb/duckdb-schema.js';
export type { DuckDbMigration } from './duckdb/duckdb-schema.js';
export { MIGRATIONS, RETENTION_TABLES, ROLLUP_DIMENSIONS } from './clickhouse/migrations.js';
export type { RollupDimension } from './clickhouse/migrations.js';
export type { Migration } from './clickhouse/migrations.js';
export { SPAN_COST_COLUMNS, spanCostTsv, writeSpanCostTsv } from './clickhouse/span-cost-tsv.js';
export { TsvWriter } from './clickhouse/tsv-writer.js';
export {
  concatEncodedSpanCosts,
  encodedSpanCostsByDay,
  NO_ENCODED_SPAN_COSTS,
  selectEncodedSpanCosts,
  sliceEncodedSpanCosts,
  SpanCostEncoder,
  SpanCostTsvEncoder,
} from './clickhouse/encoded-span-costs.js';
export type { EncodedSpanCosts, SpanCostFormat } from './clickhouse/encoded-span-costs.js';
export { RowBinaryWriter } from './clickhouse/row-binary-writer.js';
export { SPAN_COST_TYPES, writeSpanCostRowBinary } from './clickhouse/span-cost-row-binary.js';
export { recordOfRow, rowOfRecord, SpanCostRecord } from './span-cost-record.js';
export { stringLiteral, uintLiteral } from './clickhouse/sql-literals.js';
export { tsvRow } from './clickhouse/tsv.js';
export type { CostCorrectionRow } from './cost-correction-row.js';
export type { SpanCostRow } from './span-cost-row.js';
export type { SpanRepricingStore } from './span-repricing-store.js';
export { StoreError } from './store-error.js';
export { BILL_DIMENSIONS, TRACED_DIMENSIONS, TRACED_SECONDS_DIMENSIONS } from './billing/bill-store.js';
export { clickhouseTracedSecondsSql, duckTracedSecondsSql } from './billing/traced-seconds-sql.js';
export {
  billCoverage,
  billedInputs,
  parseReconcileQuery,
  reconcileStored,
  tracedInputs,
} from './billing/reconcile-data.js';
export type { StoredReconcileQuery } from './billing/reconcile-data.js';
export type { ReconcileRunRef, SavedReconcileRun } from './billing/bill-rows.js';
export type {
  BillDimension,
  BilledTotalRow,
  BilledTotalsQuery,
  BillImportDay,
  BillImportRecord,
  BillStore,
  TracedComputeRow,
  TracedDimension,
  TracedSecondsDimension,
  TracedSecondsQuery,
  TracedSecondsRow,
  TracedUsageQuery,
  TracedUsageRow,
} from './billing/bill-store.js';
export type { StoreErrorCode } from './store-error.js';
export {
  MAX_QUERY_LIMIT,
  parseCostQuery,
  parseTime,
  parseTopSpansQuery,
  QUERY_BUCKETS,
  QUERY_DIMENSIONS,
  QUERY_ORDERS,
  QUERY_SOURCES,
  queryParams,
  COVERAGE_DIMENSIONS,
  parseCoverageQuery,
} from './query/cost-query.js';
export type {
  CostQuery,
  CoverageDimension,
  CoverageQuery,
  DimensionFilter,
  QueryDimension,
  QueryOrder,
  QueryParams,
  QueryParseResult,
  QuerySource,
  TopSpansQuery,
} from './query/cost-query.js';
export type { PricingCoverageRow } from './query/pricing-coverage.js';
export type { CostReportRow } from './query/cost-report.js';
export { FOCUS_USAGE_DIMENSIONS, focusUsageSql } from './query/focus-usage-sql.js';
export { gpuSpansSql, tokenMixSql } from './query/recommend-signals-sql.js';
export type { SignalRange, SqlReader } from './query/recommend-signals-sql.js';
export {
  jobEpochsSql,
  jobEstimatesSql,
  jobSpendSql,
  MAX_JOB_FILTER_VALUES,
  modelJobKindsSql,
} from './jobs/job-store.js';
export type { JobEstimateRecord, JobEstimateStore, JobRange, JobSpendItem } from './jobs/job-store.js';
