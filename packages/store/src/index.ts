export { ClickHouseStore, MAX_INSERT_ROWS } from './clickhouse/clickhouse-store.js';
export type { ClickHouseStoreOptions, RetentionPolicy } from './clickhouse/clickhouse-store.js';
export type { CostStore, RollupDifference, StoredSpans, StoredUsageSpan, TopSpanRow } from './cost-store.js';
export { DuckDbStore } from './duckdb/duckdb-store.js';
export type { DuckDbStoreOptions } from './duckdb/duckdb-store.js';
export {
  duckCorrectionDeltasSql,
  duckCostQuerySql,
  duckRepriceCandidatesSql,
  duckTopSpansSql,
} from './duckdb/duckdb-cost-sql.js';
export { DUCKDB_MIGRATIONS } from './duckdb/duckdb-schema.js';
export type { DuckDbMigration } from './duckdb/duckdb-schema.js';
export {
  migrationStatements,
  MIGRATIONS,
  rebuildStatements,
  renderStatement,
  RETENTION_TABLES,
  ROLLUP_DIMENSIONS,
  ROLLUP_KEY,
  ROLLUP_MEASURES,
  rollupRowSelect,
  rollupTruthSelect,
} from './clickhouse/migrations.js';
export { rollupDelta } from './clickhouse/rollup-repair.js';
export { SchemaMigrator } from './clickhouse/schema-migrator.js';
export type { MigrationSql, SchemaMigratorOptions } from './clickhouse/schema-migrator.js';
export {
  minuteHeldSql,
  minuteTruthSql,
  ROLLUP_COLUMNS,
  rollupHeldByKeySql,
  rollupTruthByKeySql,
  sourceCondition,
  storedSpanKeysSql,
} from './clickhouse/recovery-sql.js';
export type { MinuteRange } from './clickhouse/recovery-sql.js';
export type { RollupDelta, RollupTextRow } from './clickhouse/rollup-repair.js';
export { minuteDifferences } from './rollup-check.js';
export type { Migration } from './clickhouse/migrations.js';
export {
  COST_CORRECTION_COLUMNS,
  costCorrectionTsv,
  SPAN_COST_COLUMNS,
  spanCostTsv,
} from './clickhouse/span-cost-tsv.js';
export { identifier, stringLiteral, uintLiteral } from './clickhouse/sql-literals.js';
export { tsvField, tsvRow, tsvString, tsvStringArray } from './clickhouse/tsv.js';
export type { TsvValue } from './clickhouse/tsv.js';
export type { CostCorrectionRow } from './cost-correction-row.js';
export type { SpanCostRow } from './span-cost-row.js';
export type { RepriceCandidateRow, SpanRepricingStore } from './span-repricing-store.js';
export { StoreError } from './store-error.js';
export type { StoreErrorCode } from './store-error.js';
export {
  correctionDeltasSql,
  costQuerySql,
  repriceCandidatesSql,
  topSpansSql,
  usesRollup,
} from './query/clickhouse-cost-sql.js';
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
  ROLLUP_QUERY_DIMENSIONS,
  rollupCanAnswer,
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
export { costReportRows } from './query/cost-report.js';
export { pricingCoverageRows } from './query/pricing-coverage.js';
export type { PricingCoverageRow } from './query/pricing-coverage.js';
export type { CostReportRow, RawCostRow } from './query/cost-report.js';
export {
  costByCommitSinceDeploySql,
  costPer1kRequestsByRouteSql,
  topTracesTodaySql,
} from './query/standard-reports.js';
export { FOCUS_USAGE_DIMENSIONS, focusUsageSql } from './query/focus-usage-sql.js';
export { gpuSpansSql, signalWhere, tokenMixSql } from './query/recommend-signals-sql.js';
export type { SignalRange, SqlLiteral, SqlReader } from './query/recommend-signals-sql.js';
