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

function where(range: SignalRange, literal: SqlLiteral): string {
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
    `FROM ${database}.span_costs WHERE ${where(range, literal)} AND model != '' GROUP BY route, model, provider ORDER BY route, model, provider`
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
    `FROM ${database}.span_costs WHERE ${where(range, literal)} AND gpu_type != '' ` +
    `ORDER BY cost_total DESC, trace_id, span_id LIMIT ${uintLiteral(limit)}`
  );
}

/** Dimensions of one FOCUS usage row, in SELECT order. */
export const FOCUS_USAGE_DIMENSIONS = [
  'service',
  'environment',
  'provider',
  'model',
  'gpu_type',
  'route',
  'commit',
  'team',
  'tenant',
  'currency',
] as const;

/**
 * Usage and cost by charge period and dimensions, with the cost split by kind (input, output,
 * cache read/write, reasoning, GPU, compute, total) for the FOCUS export's x_TokenType rows.
 * Buckets are computed on the nanosecond integer (`n - n % width`), which both dialects accept.
 * Columns: bucket_ns, the FOCUS_USAGE_DIMENSIONS, token and request counts, gpu_seconds and
 * every cost as exact decimal text.
 */
export function focusUsageSql(
  database: string,
  range: SignalRange,
  bucketSeconds: number,
  limit: number,
  literal: SqlLiteral = stringLiteral,
): string {
  const width = `${uintLiteral(bucketSeconds)}000000000`;
  const dims = FOCUS_USAGE_DIMENSIONS.join(', ');
  const text = (expr: string, alias: string): string => `CAST(${expr} AS String) AS ${alias}`;
  return (
    `SELECT ${text(`start_time_unix_nano - start_time_unix_nano % ${width}`, 'bucket_ns')}, ${dims}, ` +
    [
      text('sum(input_tokens)', 'input_tokens'),
      text('sum(output_tokens)', 'output_tokens'),
      text('sum(cache_read_tokens)', 'cache_read_tokens'),
      text('sum(cache_write_tokens)', 'cache_write_tokens'),
      text('sum(reasoning_tokens)', 'reasoning_tokens'),
      text('sum(is_request)', 'requests'),
      text('count(*)', 'spans'),
      text('sum(gpu_seconds)', 'gpu_seconds'),
      text('sum(cost_input)', 'cost_input'),
      text('sum(cost_output)', 'cost_output'),
      text('sum(cost_cache_read)', 'cost_cache_read'),
      text('sum(cost_cache_write)', 'cost_cache_write'),
      text('sum(cost_reasoning)', 'cost_reasoning'),
      text('sum(cost_gpu)', 'cost_gpu'),
      text('sum(cost_compute)', 'cost_compute'),
      text('sum(cost_total)', 'cost_total'),
    ].join(', ') +
    ` FROM ${database}.span_costs WHERE ${where(range, literal)}` +
    ` GROUP BY start_time_unix_nano - start_time_unix_nano % ${width}, ${dims}` +
    ` ORDER BY bucket_ns, ${dims} LIMIT ${uintLiteral(limit)}`
  );
}
