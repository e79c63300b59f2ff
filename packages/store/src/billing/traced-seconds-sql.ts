import { identifier, uintLiteral } from '../clickhouse/sql-literals.js';
import { duckInt } from '../duckdb/duckdb-literals.js';
import { canonicalDecimal } from './bill-rows.js';
import type { TracedSecondsDimension, TracedSecondsQuery, TracedSecondsRow } from './bill-store.js';
import { TRACED_SECONDS_DIMENSIONS } from './bill-store.js';

/**
 * The traced GPU and instance time per team or tenant, for ClickHouse (the subset 18.16 and current
 * releases accept) and DuckDB: what a cluster's idle and shared cost is spread by. Charged spans
 * only (`usage_role = ''`: a span that repeats another's model call carries no charge), with any
 * GPU or instance time. The dimension comes from an allow-list and is checked again; the period
 * is two integers; the sums come back as exact decimal text.
 */

function checkedDimension(by: string): TracedSecondsDimension {
  if (!(TRACED_SECONDS_DIMENSIONS as readonly string[]).includes(by)) {
    throw new RangeError(`not a dimension of traced seconds: ${JSON.stringify(by)} (team or tenant)`);
  }
  return by as TracedSecondsDimension;
}

const TIMED_SPANS = "usage_role = '' AND (gpu_seconds > 0 OR instance_seconds > 0)";

export function clickhouseTracedSecondsSql(db: string, query: TracedSecondsQuery): string {
  const database = identifier(db);
  const by = identifier(checkedDimension(query.by));
  return (
    `SELECT ${by} AS dim_value, toString(sum(gpu_seconds)) AS gpu_seconds_sum, toString(sum(instance_seconds)) AS instance_seconds_sum, ` +
    `count() AS spans FROM ${database}.span_costs ` +
    `WHERE start_time >= toDateTime(${uintLiteral(query.since)}, 'UTC') AND start_time < toDateTime(${uintLiteral(query.until)}, 'UTC') ` +
    `AND ${TIMED_SPANS} GROUP BY dim_value ORDER BY dim_value`
  );
}

export function duckTracedSecondsSql(query: TracedSecondsQuery): string {
  const by = checkedDimension(query.by);
  return (
    `SELECT ${by} AS dim_value, sum(gpu_seconds)::VARCHAR AS gpu_seconds_sum, sum(instance_seconds)::VARCHAR AS instance_seconds_sum, ` +
    `count(*) AS spans FROM span_costs WHERE start_time >= ${duckInt(query.since)} AND start_time < ${duckInt(query.until)} ` +
    `AND ${TIMED_SPANS} GROUP BY dim_value ORDER BY dim_value`
  );
}

/** Rows of either engine as TracedSecondsRow (decimals canonical: no trailing zeros). */
export function tracedSecondsRows(raw: readonly Readonly<Record<string, unknown>>[]): TracedSecondsRow[] {
  return raw.map((r) => ({
    value: typeof r.dim_value === 'string' ? r.dim_value : '',
    gpuSeconds: canonicalDecimal(r.gpu_seconds_sum),
    instanceSeconds: canonicalDecimal(r.instance_seconds_sum),
    spans: Number(r.spans),
  }));
}
