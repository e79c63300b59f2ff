import { identifier, uintLiteral } from '../clickhouse/sql-literals.js';
import type { SqlLiteral } from '../query/recommend-signals-sql.js';

/**
 * Jobs in the store (docs/jobs.md): what their spans cost per epoch, the estimates recorded for
 * them, and models' cost by job kind. The SQL is written in the subset ClickHouse 18.16 and
 * DuckDB both accept (plain columns, `sum`, `max`, `min`, `count(*)`, `CAST(… AS String)`,
 * comparisons on the UInt64 nanosecond columns); run it with a SqlReader. Values are quoted
 * with the dialect's `literal`.
 */

/** An estimate recorded for a job. Amounts are exact decimal text. */
export interface JobEstimateRecord {
  readonly jobId: string;
  /** Unix seconds. */
  readonly recordedAt: number;
  readonly jobKind: string;
  readonly total: string;
  readonly currency: string;
  readonly gpuHours: string;
  /** 0 when the estimate named none. */
  readonly epochs: bigint;
  readonly samples: bigint;
  /** What was estimated, e.g. "8 × h100-80gb for 12 h". */
  readonly description: string;
}

/** Stores that keep job estimates: ClickHouseStore and DuckDbStore. */
export interface JobEstimateStore {
  recordJobEstimate(estimate: JobEstimateRecord): Promise<void>;
}

export interface JobRange {
  /** Unix seconds, inclusive. */
  readonly since: number;
  /** Unix seconds, exclusive. */
  readonly until: number;
  /** Only these jobs; absent or empty: every job. */
  readonly jobIds?: readonly string[] | undefined;
  /** Only these kinds; absent or empty: every kind. */
  readonly kinds?: readonly string[] | undefined;
}

/** Longest job id or kind list a query takes. */
export const MAX_JOB_FILTER_VALUES = 1000;

function rangeWhere(range: JobRange, literal: SqlLiteral): string {
  const nano = (s: number): string => `${uintLiteral(s)}000000000`;
  const list = (column: string, values: readonly string[] | undefined): string => {
    if (values === undefined || values.length === 0) return '';
    if (values.length > MAX_JOB_FILTER_VALUES)
      throw new RangeError(`at most ${MAX_JOB_FILTER_VALUES} values for ${column}`);
    return ` AND ${column} IN (${values.map(literal).join(', ')})`;
  };
  return (
    `start_time_unix_nano >= ${nano(range.since)} AND start_time_unix_nano < ${nano(range.until)}` +
    list('job_id', range.jobIds) +
    list('job_kind', range.kinds)
  );
}

/**
 * One row per job, epoch (-1: spans in no epoch) and currency, of spans in the range: job_id,
 * kind (the largest non-empty of the spans'), job_model, epoch, currency, cost, gpu_seconds
 * (exact text), samples, spans, first_start and last_end (unix nanoseconds, as text).
 */
export function jobEpochsSql(database: string, range: JobRange, limit: number, literal: SqlLiteral): string {
  return (
    `SELECT job_id, max(job_kind) AS kind, max(model) AS job_model, CAST(job_epoch AS String) AS epoch, currency, ` +
    `CAST(sum(cost_total) AS String) AS cost, CAST(sum(gpu_seconds) AS String) AS gpu_seconds, ` +
    `CAST(sum(job_samples) AS String) AS samples, CAST(count(*) AS String) AS spans, ` +
    `CAST(min(start_time_unix_nano) AS String) AS first_start, CAST(max(end_time_unix_nano) AS String) AS last_end ` +
    `FROM ${identifier(database)}.span_costs WHERE ${rangeWhere(range, literal)} AND job_id != '' ` +
    `GROUP BY job_id, job_epoch, currency ORDER BY job_id, job_epoch, currency LIMIT ${uintLiteral(limit)}`
  );
}

/** Every estimate recorded for the jobs, oldest first per job. */
export function jobEstimatesSql(database: string, jobIds: readonly string[], literal: SqlLiteral): string {
  if (jobIds.length === 0 || jobIds.length > MAX_JOB_FILTER_VALUES)
    throw new RangeError(`between 1 and ${MAX_JOB_FILTER_VALUES} job ids`);
  return (
    `SELECT job_id, CAST(recorded_at AS String) AS recorded_at, job_kind, CAST(total AS String) AS total, currency, ` +
    `CAST(gpu_hours AS String) AS gpu_hours, CAST(epochs AS String) AS epochs, CAST(samples AS String) AS samples, ` +
    `description FROM ${identifier(database)}.job_estimates WHERE job_id IN (${jobIds.map(literal).join(', ')}) ` +
    `ORDER BY job_id, recorded_at`
  );
}

/**
 * Cost of each model by job kind and currency, in the range: model, in_job ('1' for spans of a
 * job, '0' for the rest), job_kind, currency, cost, requests, tokens, gpu_seconds, spans.
 */
export function modelJobKindsSql(database: string, range: JobRange, literal: SqlLiteral): string {
  return (
    `SELECT model, CAST(CASE WHEN job_id = '' THEN 0 ELSE 1 END AS String) AS in_job, job_kind, currency, ` +
    `CAST(sum(cost_total) AS String) AS cost, ` +
    `CAST(sum(is_request) AS String) AS requests, CAST(sum(input_tokens + output_tokens) AS String) AS tokens, ` +
    `CAST(sum(gpu_seconds) AS String) AS gpu_seconds, CAST(count(*) AS String) AS spans ` +
    `FROM ${identifier(database)}.span_costs WHERE ${rangeWhere(range, literal)} AND model != '' ` +
    `GROUP BY model, in_job, job_kind, currency ORDER BY model, in_job, job_kind, currency`
  );
}

/** One job's spans to sum: those of `jobId` that started at or after `sinceSeconds`. */
export interface JobSpendItem {
  readonly jobId: string;
  readonly sinceSeconds: number;
}

/**
 * The cost of each job's spans since its own start time, in one currency: job_id, spend (exact
 * decimal text). What settles a preflight reservation (the spans the planned work produced).
 */
export function jobSpendSql(
  database: string,
  items: readonly JobSpendItem[],
  currency: string,
  literal: SqlLiteral,
): string {
  if (items.length === 0 || items.length > MAX_JOB_FILTER_VALUES)
    throw new RangeError(`between 1 and ${MAX_JOB_FILTER_VALUES} jobs`);
  const each = items
    .map((i) => `(job_id = ${literal(i.jobId)} AND start_time_unix_nano >= ${uintLiteral(i.sinceSeconds)}000000000)`)
    .join(' OR ');
  return (
    `SELECT job_id, CAST(sum(cost_total) AS String) AS spend FROM ${identifier(database)}.span_costs ` +
    `WHERE currency = ${literal(currency)} AND (${each}) GROUP BY job_id ORDER BY job_id`
  );
}
