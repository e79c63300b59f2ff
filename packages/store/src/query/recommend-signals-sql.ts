import { identifier, stringLiteral, uintLiteral } from '../clickhouse/sql-literals.js';
import type { DimensionFilter } from './cost-query.js';

/**
 * Read-only SQL for `costtrace recommend`, written in the subset ClickHouse 18.16 and DuckDB
 * both accept: plain column names, `sum`, `count(*)`, `CAST(… AS String)`, comparisons on the
 * UInt64 `start_time_unix_nano` column (no date functions), `IN` lists of quoted literals
 * (pass the dialect's quoting as `literal`: the default escapes with backslashes, as ClickHouse does).
 * Dimensions come from the query model's allow-list; every value is a quoted literal.
 */
export interface SignalRange {
  /** Unix seconds, inclusive. */
  readonly since: number;
  /** Unix seconds, exclusive. */
  readonly until: number;
  readonly filters: readonly DimensionFilter[];
}

/** Quotes a value for the target SQL dialect; the default is ClickHouse's (backslash escapes). */
export type SqlLiteral = (value: string) => string;

/**
 * A store that runs this store-neutral SQL: ClickHouseStore and DuckDbStore both are one. The
 * SQL builders take `database` as the table prefix and `literal` as the dialect's quoting.
 */
export interface SqlReader {
  /** Table prefix: the ClickHouse database, or DuckDB's schema `main`. */
  readonly database: string;
  /** The dialect's string literal (ClickHouse escapes with backslashes, DuckDB doubles quotes). */
  readonly literal: SqlLiteral;
  /** A read query; rows as JSON objects, 64-bit and decimal values as text. */
  select<T>(sql: string): Promise<T[]>;
}

/** The WHERE condition of a signal range (time on the nanosecond column, then filters). */
export function signalWhere(range: SignalRange, literal: SqlLiteral): string {
  const nano = (s: number): string => `${uintLiteral(s)}000000000`;
  return (
    `start_time_unix_nano >= ${nano(range.since)} AND start_time_unix_nano < ${nano(range.until)}` +
    range.filters.map((f) => ` AND ${identifier(f.dimension)} IN (${f.values.map(literal).join(', ')})`).join('')
  );
}

/**
 * Token mix per route and model: input (including cached), cache-read tokens, requests and the
 * input-token cost. Columns: route, model, provider, input_tokens, cache_read_tokens, requests,
 * spans, cost_input (exact decimal text), cost_total (exact decimal text).
 */
export function tokenMixSql(database: string, range: SignalRange, literal: SqlLiteral = stringLiteral): string {
  return (
    `SELECT route, model, provider, CAST(sum(input_tokens) AS String) AS input_tokens, ` +
    `CAST(sum(cache_read_tokens) AS String) AS cache_read_tokens, CAST(sum(is_request) AS String) AS requests, ` +
    `CAST(count(*) AS String) AS spans, CAST(sum(cost_input) AS String) AS cost_input, ` +
    `CAST(sum(cost_total) AS String) AS cost_total ` +
    `FROM ${database}.span_costs WHERE ${signalWhere(range, literal)} AND model != '' GROUP BY route, model, provider ORDER BY route, model, provider`
  );
}

/**
 * GPU spans of the range, most expensive first, with their attribute arrays (the measured
 * utilisation `costtrace.gpu.utilization` is read from them by the caller). Columns: trace_id,
 * span_id, route, service, gpu_type, gpu_seconds and cost_total (exact decimal text),
 * attribute_keys, attribute_values.
 */
export function gpuSpansSql(
  database: string,
  range: SignalRange,
  limit: number,
  literal: SqlLiteral = stringLiteral,
): string {
  return (
    `SELECT trace_id, span_id, route, service, gpu_type, CAST(gpu_seconds AS String) AS gpu_seconds, ` +
    `CAST(cost_total AS String) AS cost_total, attribute_keys, attribute_values ` +
    `FROM ${database}.span_costs WHERE ${signalWhere(range, literal)} AND gpu_type != '' ` +
    `ORDER BY cost_total DESC, trace_id, span_id LIMIT ${uintLiteral(limit)}`
  );
}
