import { stringLiteral, uintLiteral } from '../clickhouse/sql-literals.js';
import { signalWhere } from './recommend-signals-sql.js';
import type { SignalRange, SqlLiteral } from './recommend-signals-sql.js';

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
    ` FROM ${database}.span_costs WHERE ${signalWhere(range, literal)}` +
    ` GROUP BY start_time_unix_nano - start_time_unix_nano % ${width}, ${dims}` +
    ` ORDER BY bucket_ns, ${dims} LIMIT ${uintLiteral(limit)}`
  );
}
