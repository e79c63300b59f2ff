import { DUCKDB_BILL_TABLES, DUCKDB_RECONCILE_TABLE } from '../billing/bill-tables.js';
import { DUCKDB_JOB_ESTIMATES_TABLE } from '../jobs/job-tables.js';
import { ROLLUP_DIMENSIONS, ROLLUP_DIMENSIONS_V3, ROLLUP_MEASURES } from '../clickhouse/migrations.js';

/**
 * The embedded schema: the same tables and columns as ClickHouse (span_costs, the per-minute
 * rollup span_costs_1m, cost_corrections) with exact DECIMAL(38,12) money. Times are unix
 * seconds (BIGINT). DuckDB has no materialized views, so `DuckDbStore` writes the rollup rows of
 * each insert in the same transaction; like an unmerged SummingMergeTree, the rollup may hold
 * several rows per key and queries sum them. `batch_id` ties span rows to their insert.
 */
export interface DuckDbMigration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

const MONEY = 'DECIMAL(38,12)';

export const DUCKDB_MIGRATIONS: readonly DuckDbMigration[] = [
  {
    version: 1,
    name: 'span_costs',
    statements: [
      `CREATE TABLE IF NOT EXISTS span_costs (
        batch_id BIGINT NOT NULL,
        start_time BIGINT NOT NULL,
        start_time_unix_nano UBIGINT NOT NULL,
        end_time_unix_nano UBIGINT NOT NULL,
        duration_ns UBIGINT NOT NULL,
        trace_id VARCHAR NOT NULL,
        span_id VARCHAR NOT NULL,
        parent_span_id VARCHAR NOT NULL,
        span_name VARCHAR NOT NULL,
        span_kind UTINYINT NOT NULL,
        status_code UTINYINT NOT NULL,
        is_request UTINYINT NOT NULL,
        service VARCHAR NOT NULL,
        environment VARCHAR NOT NULL,
        route VARCHAR NOT NULL,
        "commit" VARCHAR NOT NULL,
        model VARCHAR NOT NULL,
        provider VARCHAR NOT NULL,
        team VARCHAR NOT NULL,
        tenant VARCHAR NOT NULL,
        feature VARCHAR NOT NULL,
        input_tokens UBIGINT NOT NULL,
        output_tokens UBIGINT NOT NULL,
        cache_read_tokens UBIGINT NOT NULL,
        cache_write_tokens UBIGINT NOT NULL,
        reasoning_tokens UBIGINT NOT NULL,
        gpu_type VARCHAR NOT NULL,
        gpu_count DOUBLE NOT NULL,
        gpu_seconds ${MONEY} NOT NULL,
        instance_type VARCHAR NOT NULL,
        cost_input ${MONEY} NOT NULL,
        cost_output ${MONEY} NOT NULL,
        cost_cache_read ${MONEY} NOT NULL,
        cost_cache_write ${MONEY} NOT NULL,
        cost_reasoning ${MONEY} NOT NULL,
        cost_gpu ${MONEY} NOT NULL,
        cost_compute ${MONEY} NOT NULL,
        cost_total ${MONEY} NOT NULL,
        currency VARCHAR NOT NULL,
        pricing_version VARCHAR NOT NULL,
        pricing_source VARCHAR NOT NULL,
        price_ids VARCHAR[] NOT NULL,
        unpriced_reason VARCHAR NOT NULL,
        kafka_topic VARCHAR NOT NULL,
        kafka_partition UINTEGER NOT NULL,
        kafka_offset UBIGINT NOT NULL,
        attribute_keys VARCHAR[] NOT NULL,
        attribute_values VARCHAR[] NOT NULL,
        rollup_overflow VARCHAR[] NOT NULL,
        sanitized VARCHAR[] NOT NULL,
        inserted_at BIGINT NOT NULL DEFAULT (epoch(now())::BIGINT)
      )`,
      `CREATE SEQUENCE IF NOT EXISTS span_costs_batch_seq`,
    ],
  },
  {
    version: 2,
    name: 'span_costs_1m_rollup',
    statements: [
      `CREATE TABLE IF NOT EXISTS span_costs_1m (
        minute BIGINT NOT NULL,
        ${ROLLUP_DIMENSIONS_V3.map((d) => `${d === 'commit' ? '"commit"' : d} VARCHAR NOT NULL`).join(',\n        ')},
        currency VARCHAR NOT NULL,
        spans UBIGINT NOT NULL,
        requests UBIGINT NOT NULL,
        errors UBIGINT NOT NULL,
        unpriced UBIGINT NOT NULL,
        input_tokens UBIGINT NOT NULL,
        output_tokens UBIGINT NOT NULL,
        cache_read_tokens UBIGINT NOT NULL,
        cache_write_tokens UBIGINT NOT NULL,
        reasoning_tokens UBIGINT NOT NULL,
        gpu_seconds ${MONEY} NOT NULL,
        cost_input ${MONEY} NOT NULL,
        cost_output ${MONEY} NOT NULL,
        cost_cache_read ${MONEY} NOT NULL,
        cost_cache_write ${MONEY} NOT NULL,
        cost_reasoning ${MONEY} NOT NULL,
        cost_gpu ${MONEY} NOT NULL,
        cost_compute ${MONEY} NOT NULL,
        cost_total ${MONEY} NOT NULL
      )`,
    ],
  },
  {
    version: 3,
    name: 'cost_corrections',
    statements: [
      `CREATE TABLE IF NOT EXISTS cost_corrections (
        correction_id VARCHAR NOT NULL,
        snapshot_version VARCHAR NOT NULL,
        applied_at BIGINT NOT NULL,
        reason VARCHAR NOT NULL,
        start_time BIGINT NOT NULL,
        trace_id VARCHAR NOT NULL,
        span_id VARCHAR NOT NULL,
        service VARCHAR NOT NULL,
        environment VARCHAR NOT NULL,
        route VARCHAR NOT NULL,
        "commit" VARCHAR NOT NULL,
        model VARCHAR NOT NULL,
        provider VARCHAR NOT NULL,
        team VARCHAR NOT NULL,
        tenant VARCHAR NOT NULL,
        currency VARCHAR NOT NULL,
        previous_total ${MONEY} NOT NULL,
        corrected_total ${MONEY} NOT NULL,
        delta_total ${MONEY} NOT NULL
      )`,
    ],
  },
  {
    version: 4,
    name: 'span_costs_kafka_span_index',
    // The span's position in its Kafka message (see SpanCostRow.kafkaSpanIndex).
    statements: ['ALTER TABLE span_costs ADD COLUMN IF NOT EXISTS kafka_span_index UINTEGER DEFAULT 0'],
  },
  {
    version: 5,
    name: 'span_costs_pricing_usage',
    // What the pricer read beyond the usage columns (as ClickHouse migration 8).
    statements: [
      "ALTER TABLE span_costs ADD COLUMN IF NOT EXISTS gpu_provider VARCHAR DEFAULT ''",
      "ALTER TABLE span_costs ADD COLUMN IF NOT EXISTS gpu_pricing_model VARCHAR DEFAULT ''",
      "ALTER TABLE span_costs ADD COLUMN IF NOT EXISTS cloud_provider VARCHAR DEFAULT ''",
      "ALTER TABLE span_costs ADD COLUMN IF NOT EXISTS cloud_region VARCHAR DEFAULT ''",
      "ALTER TABLE span_costs ADD COLUMN IF NOT EXISTS instance_pricing_model VARCHAR DEFAULT ''",
      `ALTER TABLE span_costs ADD COLUMN IF NOT EXISTS instance_seconds ${MONEY} DEFAULT 0`,
      'ALTER TABLE span_costs ADD COLUMN IF NOT EXISTS usage_complete UTINYINT DEFAULT 0',
      'ALTER TABLE span_costs ADD COLUMN IF NOT EXISTS cost_upper_bound UTINYINT DEFAULT 0',
      "ALTER TABLE span_costs ADD COLUMN IF NOT EXISTS emitter VARCHAR DEFAULT ''",
    ],
  },
  {
    version: 6,
    name: 'span_costs_one_charge_per_call',
    // Which spans repeat another's model call (as ClickHouse migration 9).
    statements: [
      "ALTER TABLE span_costs ADD COLUMN IF NOT EXISTS usage_role VARCHAR DEFAULT ''",
      "ALTER TABLE span_costs ADD COLUMN IF NOT EXISTS duplicate_of VARCHAR DEFAULT ''",
      "ALTER TABLE span_costs ADD COLUMN IF NOT EXISTS response_id VARCHAR DEFAULT ''",
      "ALTER TABLE span_costs ADD COLUMN IF NOT EXISTS usage_key VARCHAR DEFAULT ''",
    ],
  },
  {
    version: 7,
    name: 'billed_lines',
    // Imported bills (as ClickHouse migration 10).
    statements: DUCKDB_BILL_TABLES,
  },
  {
    version: 8,
    name: 'reconcile_results',
    // Saved reconcile runs (as ClickHouse migration 11).
    statements: [DUCKDB_RECONCILE_TABLE],
  },
  {
    version: 9,
    name: 'span_costs_jobs',
    // The job of each span, the job's id and kind in the rollup, and recorded job estimates (as
    // ClickHouse migrations 12 and 13; rollup rows written before have no job, as their spans had none).
    statements: [
      "ALTER TABLE span_costs ADD COLUMN IF NOT EXISTS job_id VARCHAR DEFAULT ''",
      "ALTER TABLE span_costs ADD COLUMN IF NOT EXISTS job_kind VARCHAR DEFAULT ''",
      'ALTER TABLE span_costs ADD COLUMN IF NOT EXISTS job_epoch BIGINT DEFAULT -1',
      'ALTER TABLE span_costs ADD COLUMN IF NOT EXISTS job_samples UBIGINT DEFAULT 0',
      "ALTER TABLE span_costs_1m ADD COLUMN IF NOT EXISTS job_id VARCHAR DEFAULT ''",
      "ALTER TABLE span_costs_1m ADD COLUMN IF NOT EXISTS job_kind VARCHAR DEFAULT ''",
      DUCKDB_JOB_ESTIMATES_TABLE,
    ],
  },
];

/** A rollup dimension as written to span_costs_1m: the value, or `__other__` when folded. */
function folded(dimension: string): string {
  const column = dimension === 'commit' ? '"commit"' : dimension;
  return `CASE WHEN list_contains(rollup_overflow, '${dimension}') THEN '__other__' ELSE ${column} END`;
}

/** Rollup rows of one insert batch, grouped by minute and dimensions (the materialized view). */
export function rollupInsertSql(batchId: bigint): string {
  const dims = ROLLUP_DIMENSIONS.map(folded);
  const keys = ['(start_time // 60) * 60', ...dims, 'currency'];
  // Columns named: those added by later migrations come last in the table.
  const columns = [
    'minute',
    ...ROLLUP_DIMENSIONS.map((d) => (d === 'commit' ? '"commit"' : d)),
    'currency',
    ...ROLLUP_MEASURES.map(([c]) => c),
  ];
  return (
    `INSERT INTO span_costs_1m (${columns.join(', ')}) SELECT ${[...keys, ...ROLLUP_SUMS].join(', ')} FROM span_costs ` +
    `WHERE batch_id = ${batchId.toString()} GROUP BY ALL`
  );
}

/** The rollup's measures summed over span_costs rows, in ROLLUP_MEASURES order. */
export const ROLLUP_SUMS = [
  'count(*)',
  'sum(is_request)',
  'sum(CASE WHEN status_code = 2 THEN 1 ELSE 0 END)',
  "sum(CASE WHEN unpriced_reason != '' THEN 1 ELSE 0 END)",
  'sum(input_tokens)',
  'sum(output_tokens)',
  'sum(cache_read_tokens)',
  'sum(cache_write_tokens)',
  'sum(reasoning_tokens)',
  'sum(gpu_seconds)',
  'sum(cost_input)',
  'sum(cost_output)',
  'sum(cost_cache_read)',
  'sum(cost_cache_write)',
  'sum(cost_reasoning)',
  'sum(cost_gpu)',
  'sum(cost_compute)',
  'sum(cost_total)',
] as const;
