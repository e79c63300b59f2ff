/**
 * Estimates recorded for jobs (`costtrace estimate training --job ID --record`), beside the
 * spans of what ran: ClickHouse migration 12, DuckDB migration 9. Times are unix seconds.
 */

/** job_estimates' columns in insert order (the TSV and VALUES encoders follow it). */
export const JOB_ESTIMATE_COLUMNS = [
  'job_id',
  'recorded_at',
  'job_kind',
  'total',
  'currency',
  'gpu_hours',
  'epochs',
  'samples',
  'description',
] as const;

export const CLICKHOUSE_JOB_ESTIMATES_TABLE = `CREATE TABLE IF NOT EXISTS {db}.job_estimates (
        job_id String,
        recorded_at UInt64,
        job_kind String,
        total Decimal(38, 12),
        currency String,
        gpu_hours Decimal(38, 12),
        epochs UInt64,
        samples UInt64,
        description String
      ) ENGINE = MergeTree()
      ORDER BY (job_id, recorded_at)`;

export const DUCKDB_JOB_ESTIMATES_TABLE = `CREATE TABLE IF NOT EXISTS job_estimates (
        job_id VARCHAR NOT NULL,
        recorded_at BIGINT NOT NULL,
        job_kind VARCHAR NOT NULL,
        total DECIMAL(38, 12) NOT NULL,
        currency VARCHAR NOT NULL,
        gpu_hours DECIMAL(38, 12) NOT NULL,
        epochs UBIGINT NOT NULL,
        samples UBIGINT NOT NULL,
        description VARCHAR NOT NULL
      )`;
