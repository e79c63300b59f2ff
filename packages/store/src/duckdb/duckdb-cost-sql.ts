import { REPRICEABLE, usesRollup } from '../query/clickhouse-cost-sql.js';
import type { CostQuery, CoverageQuery, DimensionFilter, TopSpansQuery } from '../query/cost-query.js';
import { COVERAGE_MEASURES, USAGE_BEARING } from '../query/pricing-coverage.js';
import { duckInt, duckString } from './duckdb-literals.js';

/**
 * DuckDB SQL for the store-neutral cost queries: the same shape, source choice (span rows or the
 * per-minute rollup), ordering and tie-breaks as the ClickHouse SQL, so both stores return the
 * same rows in the same order. Numbers come back as text; money as exact decimal text.
 */

function column(name: string): string {
  // Every dimension is from the allow-list; `commit` is a keyword in DuckDB.
  return `"${name}"`;
}

function timeRange(timeColumn: string, since: number, until: number): string {
  return `${timeColumn} >= ${duckInt(since)} AND ${timeColumn} < ${duckInt(until)}`;
}

function filterSql(filters: readonly DimensionFilter[]): string {
  return filters.map((f) => ` AND ${column(f.dimension)} IN (${f.values.map(duckString).join(', ')})`).join('');
}

const ORDER: Record<CostQuery['orderBy'], string> = {
  cost: 'sum(amount) DESC',
  spans: 'spans DESC',
  requests: 'requests DESC',
  tokens: 'tokens DESC',
  time: 'bucket ASC',
};

export function duckCostQuerySql(query: CostQuery): string {
  const dims = query.groupBy.map(column);
  const rollup = usesRollup(query);
  const timeColumn = rollup ? 'minute' : 'start_time';
  const width = query.bucketSeconds === undefined ? undefined : duckInt(query.bucketSeconds);
  const bucket = width === undefined ? undefined : `(${timeColumn} // ${width}) * ${width}`;
  const where = `${timeRange(timeColumn, query.since, query.until)}${filterSql(query.filters)}`;
  const inner = [...dims, ...(bucket ? [`${bucket} AS bucket`] : [])];
  let from: string;
  if (rollup) {
    from =
      `(SELECT ${[...inner, 'cost_total AS amount', 'spans AS n_spans', 'requests AS n_requests', 'input_tokens + output_tokens AS n_tokens'].join(', ')} ` +
      `FROM span_costs_1m WHERE ${where})`;
  } else {
    const spans =
      `SELECT ${[...inner, 'cost_total AS amount', '1::UBIGINT AS n_spans', 'is_request::UBIGINT AS n_requests', 'input_tokens + output_tokens AS n_tokens'].join(', ')} ` +
      `FROM span_costs WHERE ${where}`;
    from = query.includeCorrections
      ? `(${spans} UNION ALL SELECT ${[...inner, 'delta_total AS amount', '0::UBIGINT AS n_spans', '0::UBIGINT AS n_requests', '0::UBIGINT AS n_tokens'].join(', ')} ` +
        `FROM cost_corrections WHERE ${where})`
      : `(${spans})`;
  }
  const keys = [...dims, ...(bucket ? ['bucket'] : [])];
  const order = query.orderBy === 'time' && !bucket ? ORDER.cost : ORDER[query.orderBy];
  const tieBreak = keys.length > 0 ? `, ${keys.join(', ')}` : '';
  // Sums stay numeric (the JSON reader turns 64-bit and decimal values into exact text).
  const selected = [
    ...keys,
    'COALESCE(sum(amount), 0::DECIMAL(38,12)) AS cost',
    'COALESCE(sum(n_spans), 0) AS spans',
    'COALESCE(sum(n_requests), 0) AS requests',
    'COALESCE(sum(n_tokens), 0) AS tokens',
  ];
  return (
    `SELECT ${selected.join(', ')} FROM ${from}${keys.length > 0 ? ` GROUP BY ${keys.join(', ')}` : ''} ` +
    `ORDER BY ${order}${tieBreak} LIMIT ${duckInt(query.limit)}`
  );
}

export function duckTopSpansSql(query: TopSpansQuery): string {
  return (
    `SELECT trace_id, span_id, span_name, service, route, "commit" AS "commit", model, provider, tenant, ` +
    `start_time::VARCHAR AS start_unix, cost_total::VARCHAR AS cost, currency, ` +
    `(input_tokens + output_tokens)::VARCHAR AS tokens FROM span_costs ` +
    `WHERE ${timeRange('start_time', query.since, query.until)}${filterSql(query.filters)} ` +
    `ORDER BY cost_total DESC, trace_id, span_id LIMIT ${duckInt(query.limit)}`
  );
}

/** The spans a re-pricing run may correct: the same rows and order as `repriceCandidatesSql`. */
export function duckRepriceCandidatesSql(query: TopSpansQuery, limit: number): string {
  return (
    `SELECT trace_id, span_id, start_time::VARCHAR AS start_unix, start_time_unix_nano::VARCHAR AS start_nanos, ` +
    `service, environment, route, "commit" AS "commit", model, provider, team, tenant, currency, ` +
    `input_tokens::VARCHAR AS input_tokens, output_tokens::VARCHAR AS output_tokens, ` +
    `cache_read_tokens::VARCHAR AS cache_read_tokens, cache_write_tokens::VARCHAR AS cache_write_tokens, ` +
    `reasoning_tokens::VARCHAR AS reasoning_tokens, ` +
    `gpu_type, gpu_seconds::VARCHAR AS gpu_seconds_text, gpu_provider, gpu_pricing_model, cloud_provider, cloud_region, ` +
    `instance_type, instance_pricing_model, instance_seconds::VARCHAR AS instance_seconds_text, usage_complete, ` +
    `cost_gpu::VARCHAR AS cost_gpu, cost_compute::VARCHAR AS cost_compute, cost_total::VARCHAR AS cost_total ` +
    `FROM span_costs WHERE ${timeRange('start_time', query.since, query.until)}${filterSql(query.filters)} ` +
    `AND ${REPRICEABLE} ORDER BY start_time, trace_id, span_id ` +
    `LIMIT ${duckInt(limit)}`
  );
}

/** Sum of applied correction deltas per span in a range, as `correctionDeltasSql`. */
export function duckCorrectionDeltasSql(query: TopSpansQuery): string {
  return (
    `SELECT trace_id, span_id, sum(delta_total)::VARCHAR AS delta FROM cost_corrections ` +
    `WHERE ${timeRange('start_time', query.since, query.until)} GROUP BY trace_id, span_id`
  );
}

/** Pricing coverage per group: the same rows and order as the ClickHouse `coverageSql`. */
export function duckCoverageSql(query: CoverageQuery): string {
  const dims = query.groupBy.map(column);
  const measures = COVERAGE_MEASURES.map(
    ([name, condition]) => `(count(*) FILTER (WHERE ${condition}))::VARCHAR AS ${name}`,
  );
  return (
    `SELECT ${[...dims, ...measures].join(', ')} FROM span_costs ` +
    `WHERE ${timeRange('start_time', query.since, query.until)}${filterSql(query.filters)} AND ${USAGE_BEARING} ` +
    `GROUP BY ${dims.join(', ')} ORDER BY count(*) FILTER (WHERE usage_role = '') DESC, ${dims.join(', ')} ` +
    `LIMIT ${duckInt(query.limit)}`
  );
}
