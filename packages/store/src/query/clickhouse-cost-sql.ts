import { identifier, stringLiteral, uintLiteral } from '../clickhouse/sql-literals.js';
import { rollupCanAnswer } from './cost-query.js';
import type { CostQuery, CoverageQuery, DimensionFilter, QueryDimension, TopSpansQuery } from './cost-query.js';
import { COVERAGE_MEASURES, USAGE_BEARING } from './pricing-coverage.js';

/**
 * ClickHouse SQL for cost queries, in the subset that 18.16 and current releases both accept
 * (no toStartOfInterval, no query parameters). Dimension names come from the allow-list and are
 * checked again as identifiers; every value is a quoted literal. Sums of money come back as
 * exact decimal text; ratios are computed by the caller with exact integer arithmetic.
 */

/** Whether a query reads the per-minute rollup: explicitly, or `auto` without filters. */
export function usesRollup(query: CostQuery): boolean {
  if (query.source === 'spans') return false;
  if (query.source === 'rollup') return true;
  return query.filters.length === 0 && rollupCanAnswer(query);
}

function timeRange(column: string, since: number, until: number): string {
  return `${column} >= toDateTime(${uintLiteral(since)}, 'UTC') AND ${column} < toDateTime(${uintLiteral(until)}, 'UTC')`;
}

function filterSql(filters: readonly DimensionFilter[]): string {
  return filters.map((f) => ` AND ${identifier(f.dimension)} IN (${f.values.map(stringLiteral).join(', ')})`).join('');
}

function bucketExpression(column: string, seconds: number): string {
  const width = uintLiteral(seconds);
  return `intDiv(toUInt32(${column}), ${width}) * ${width}`;
}

const ORDER: Record<CostQuery['orderBy'], string> = {
  cost: 'sum(amount) DESC',
  spans: 'spans DESC',
  requests: 'requests DESC',
  tokens: 'tokens DESC',
  time: 'bucket ASC',
};

/** SELECT for a grouped (and optionally bucketed) cost query on database `db`. */
export function costQuerySql(db: string, query: CostQuery): string {
  const database = identifier(db);
  const dims = query.groupBy.map((d: QueryDimension) => identifier(d));
  const rollup = usesRollup(query);
  const timeColumn = rollup ? 'minute' : 'start_time';
  const bucket = query.bucketSeconds === undefined ? undefined : bucketExpression(timeColumn, query.bucketSeconds);
  const where = `${timeRange(timeColumn, query.since, query.until)}${filterSql(query.filters)}`;
  const inner = [...dims, ...(bucket ? [`${bucket} AS bucket`] : [])];
  let from: string;
  if (rollup) {
    from =
      `(SELECT ${[...inner, 'cost_total AS amount', 'spans AS n_spans', 'requests AS n_requests', 'input_tokens + output_tokens AS n_tokens'].join(', ')} ` +
      `FROM ${database}.span_costs_1m WHERE ${where})`;
  } else {
    const spans =
      `SELECT ${[...inner, 'cost_total AS amount', 'toUInt64(1) AS n_spans', 'toUInt64(is_request) AS n_requests', 'input_tokens + output_tokens AS n_tokens'].join(', ')} ` +
      `FROM ${database}.span_costs WHERE ${where}`;
    from = query.includeCorrections
      ? `(${spans} UNION ALL SELECT ${[...inner, 'delta_total AS amount', 'toUInt64(0) AS n_spans', 'toUInt64(0) AS n_requests', 'toUInt64(0) AS n_tokens'].join(', ')} ` +
        `FROM ${database}.cost_corrections WHERE ${where})`
      : `(${spans})`;
  }
  const keys = [...dims, ...(bucket ? ['bucket'] : [])];
  const order = query.orderBy === 'time' && !bucket ? ORDER.cost : ORDER[query.orderBy];
  const tieBreak = keys.length > 0 ? `, ${keys.join(', ')}` : '';
  return (
    `SELECT ${[...keys, 'toString(sum(amount)) AS cost', 'sum(n_spans) AS spans', 'sum(n_requests) AS requests', 'sum(n_tokens) AS tokens'].join(', ')} ` +
    `FROM ${from}${keys.length > 0 ? ` GROUP BY ${keys.join(', ')}` : ''} ORDER BY ${order}${tieBreak} LIMIT ${uintLiteral(query.limit)}`
  );
}

/** The N most expensive spans. */
export function topSpansSql(db: string, query: TopSpansQuery): string {
  const database = identifier(db);
  return (
    `SELECT trace_id, span_id, span_name, service, route, commit, model, provider, tenant, ` +
    `toUInt32(start_time) AS start_unix, toString(cost_total) AS cost, currency, ` +
    `input_tokens + output_tokens AS tokens FROM ${database}.span_costs ` +
    `WHERE ${timeRange('start_time', query.since, query.until)}${filterSql(query.filters)} ` +
    `ORDER BY cost_total DESC, trace_id, span_id LIMIT ${uintLiteral(query.limit)}`
  );
}

/** Spans of a range with what re-pricing needs: usage, dimensions and current cost parts. */
/** Rows with usage a re-pricing run can price: their own model call (not a duplicate or roll-up), or GPU or instance time. */
export const REPRICEABLE =
  "usage_role = '' AND ((model != '' AND (input_tokens + output_tokens) > 0) OR gpu_seconds > 0 OR instance_seconds > 0)";

export function repriceCandidatesSql(db: string, query: TopSpansQuery): string {
  const database = identifier(db);
  return (
    `SELECT trace_id, span_id, toUInt32(start_time) AS start_unix, toString(start_time_unix_nano) AS start_nanos, ` +
    `service, environment, route, commit, model, provider, team, tenant, currency, ` +
    `input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, ` +
    `gpu_type, toString(gpu_seconds) AS gpu_seconds_text, gpu_provider, gpu_pricing_model, cloud_provider, cloud_region, ` +
    `instance_type, instance_pricing_model, toString(instance_seconds) AS instance_seconds_text, usage_complete, ` +
    `toString(cost_gpu) AS cost_gpu, toString(cost_compute) AS cost_compute, toString(cost_total) AS cost_total ` +
    `FROM ${database}.span_costs WHERE ${timeRange('start_time', query.since, query.until)}${filterSql(query.filters)} ` +
    `AND ${REPRICEABLE} ORDER BY start_time, trace_id, span_id`
  );
}

/** Sum of applied correction deltas per span in a range (to reprice against current figures). */
export function correctionDeltasSql(db: string, query: TopSpansQuery): string {
  const database = identifier(db);
  return (
    `SELECT trace_id, span_id, toString(sum(delta_total)) AS delta FROM ${database}.cost_corrections ` +
    `WHERE ${timeRange('start_time', query.since, query.until)} GROUP BY trace_id, span_id`
  );
}

/** Pricing coverage per group (see PricingCoverageRow); dimensions and measures are allow-listed. */
export function coverageSql(db: string, query: CoverageQuery): string {
  const database = identifier(db);
  const dims = query.groupBy.map((d) => identifier(d));
  const measures = COVERAGE_MEASURES.map(([name, condition]) => `toString(countIf(${condition})) AS ${name}`);
  return (
    `SELECT ${[...dims, ...measures].join(', ')} FROM ${database}.span_costs ` +
    `WHERE ${timeRange('start_time', query.since, query.until)}${filterSql(query.filters)} AND ${USAGE_BEARING} ` +
    `GROUP BY ${dims.join(', ')} ORDER BY countIf(usage_role = '') DESC, ${dims.join(', ')} ` +
    `LIMIT ${uintLiteral(query.limit)}`
  );
}
