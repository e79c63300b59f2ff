import { identifier, stringLiteral, uintLiteral } from '../clickhouse/sql-literals.js';
import { duckInt, duckString } from '../duckdb/duckdb-literals.js';
import type { BilledTotalsQuery, TracedUsageQuery } from './bill-store.js';
import { BILL_DIMENSIONS, TRACED_DIMENSIONS } from './bill-store.js';

/**
 * SQL for imported bills and the traced usage they are compared with, for ClickHouse (the subset
 * 18.16 and current releases accept) and DuckDB. Dimensions come from allow-lists and are checked
 * again; every value is a quoted literal; sums come back as exact decimal text.
 */

function checked<T extends string>(dims: readonly string[], allowed: readonly T[]): T[] {
  return dims.map((d) => {
    if (!(allowed as readonly string[]).includes(d)) throw new RangeError(`not a dimension: ${JSON.stringify(d)}`);
    return d as T;
  });
}

/** The current lines: those of the latest import of each (source, account, day). */
const LATEST_CH = (db: string): string =>
  `(source, account, day, import_id) IN (SELECT source, account, day, argMax(import_id, imported_at) FROM ${db}.bill_imports GROUP BY source, account, day)`;

const LATEST_DUCK =
  'JOIN (SELECT source, account, day, arg_max(import_id, imported_at) AS import_id FROM bill_imports GROUP BY ALL) latest USING (source, account, day, import_id)';

export function clickhouseBilledTotalsSql(db: string, query: BilledTotalsQuery): string {
  const database = identifier(db);
  const dims = checked(query.groupBy, BILL_DIMENSIONS).map(identifier);
  const providers =
    query.providers !== undefined && query.providers.length > 0
      ? ` AND provider IN (${query.providers.map(stringLiteral).join(', ')})`
      : '';
  const keys = [...dims, 'kind', 'unit', 'currency'];
  return (
    `SELECT ${keys.join(', ')}, toString(sum(quantity)) AS quantity, ` +
    `toString(sum(billed_cost)) AS billed_cost, toString(sum(list_cost)) AS list_cost, ` +
    `count() AS lines, sum(has_billed_cost) AS cost_lines, sum(has_list_cost) AS list_cost_lines ` +
    `FROM ${database}.billed_lines ` +
    `WHERE period_start >= toDateTime(${uintLiteral(query.since)}, 'UTC') AND period_start < toDateTime(${uintLiteral(query.until)}, 'UTC')${providers} ` +
    `AND ${LATEST_CH(database)} GROUP BY ${keys.join(', ')} ORDER BY ${keys.join(', ')}`
  );
}

export function duckBilledTotalsSql(query: BilledTotalsQuery): string {
  const dims = checked(query.groupBy, BILL_DIMENSIONS);
  const providers =
    query.providers !== undefined && query.providers.length > 0
      ? ` AND provider IN (${query.providers.map(duckString).join(', ')})`
      : '';
  const keys = [...dims, 'kind', 'unit', 'currency'];
  return (
    `SELECT ${keys.join(', ')}, sum(quantity)::VARCHAR AS quantity, ` +
    `sum(billed_cost)::VARCHAR AS billed_cost, sum(list_cost)::VARCHAR AS list_cost, ` +
    `count(*) AS lines, sum(has_billed_cost) AS cost_lines, sum(has_list_cost) AS list_cost_lines ` +
    `FROM billed_lines ${LATEST_DUCK} ` +
    `WHERE period_start >= ${duckInt(query.since)} AND period_start < ${duckInt(query.until)}${providers} ` +
    `GROUP BY ${keys.join(', ')} ORDER BY ${keys.join(', ')}`
  );
}

/** A traced dimension as a column expression of span_costs. */
function tracedColumn(dimension: string, engine: 'clickhouse' | 'duckdb'): string {
  if (dimension !== 'day') return dimension;
  return engine === 'clickhouse'
    ? 'intDiv(toUInt32(start_time), 86400) * 86400 AS day'
    : '(start_time // 86400) * 86400 AS day';
}

/**
 * Whether a span's usage key records its input with the cache (SpanPricer.usageKey:
 * `<input with the cache>:<output>`), and that input: per engine, for ClickHouse (18.16 and
 * current, which evaluate both branches of a CASE: hence OrZero) and DuckDB.
 */
const USAGE_KEY = {
  clickhouse: {
    keyed: "match(usage_key, '^[0-9]{1,19}:[0-9]+$')",
    input: "toUInt64OrZero(splitByChar(':', usage_key)[1])",
  },
  duckdb: {
    keyed: "regexp_full_match(usage_key, '[0-9]{1,19}:[0-9]+')",
    input: "TRY_CAST(split_part(usage_key, ':', 1) AS UBIGINT)",
  },
} as const;

/**
 * Charged spans only (`usage_role = ''`): a model call repeated by several spans is counted
 * once, as its cost is.
 */
const TRACED_MEASURES = (
  sum: (e: string) => string,
  count: string,
  key: (typeof USAGE_KEY)[keyof typeof USAGE_KEY],
): string =>
  [
    `${count} AS spans`,
    `${sum('is_request')} AS requests`,
    `${sum('input_tokens')} AS sum_input_tokens`,
    `${sum('output_tokens')} AS sum_output_tokens`,
    `${sum('cache_read_tokens')} AS sum_cache_read_tokens`,
    `${sum('cache_write_tokens')} AS sum_cache_write_tokens`,
    `${sum(`CASE WHEN ${key.keyed} THEN ${key.input} ELSE input_tokens END`)} AS sum_input_with_cache_tokens`,
    `${sum(`CASE WHEN ${key.keyed} THEN 0 ELSE cache_read_tokens + cache_write_tokens END`)} AS sum_unkeyed_cache_tokens`,
    `${sum("CASE WHEN unpriced_reason != '' AND input_tokens + output_tokens > 0 THEN 1 ELSE 0 END")} AS unpriced_spans`,
    ...(['input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens'] as const).map(
      (column) => `${sum(`CASE WHEN unpriced_reason != '' THEN ${column} ELSE 0 END`)} AS unpriced_${column}`,
    ),
    `${sum('cost_upper_bound')} AS upper_bound_spans`,
  ].join(', ');

/**
 * What the spans' tokens cost (a provider's token bill is compared with this, not with GPU or
 * instance time, which cloud bills charge: see the compute queries).
 */
const TOKEN_COST = 'cost_input + cost_output + cost_cache_read + cost_cache_write + cost_reasoning';

/** Spans with instance time on a cloud: what cloud bills' instance hours are compared with. */
const COMPUTE_SPANS = "instance_type != '' AND cloud_provider != ''";

export function clickhouseTracedComputeSql(db: string, since: number, until: number): string {
  const database = identifier(db);
  return (
    `SELECT intDiv(toUInt32(start_time), 86400) * 86400 AS day, cloud_provider AS provider, instance_type AS model, currency, ` +
    `count() AS spans, toString(sum(instance_seconds)) AS instance_seconds, toString(sum(cost_compute + cost_gpu)) AS cost ` +
    `FROM ${database}.span_costs WHERE start_time >= toDateTime(${uintLiteral(since)}, 'UTC') ` +
    `AND start_time < toDateTime(${uintLiteral(until)}, 'UTC') AND ${COMPUTE_SPANS} ` +
    `GROUP BY day, provider, model, currency ORDER BY day, provider, model, currency`
  );
}

export function duckTracedComputeSql(since: number, until: number): string {
  return (
    `SELECT (start_time // 86400) * 86400 AS day, cloud_provider AS provider, instance_type AS model, currency, ` +
    `count(*) AS spans, sum(instance_seconds)::VARCHAR AS instance_seconds, sum(cost_compute + cost_gpu)::VARCHAR AS cost ` +
    `FROM span_costs WHERE start_time >= ${duckInt(since)} AND start_time < ${duckInt(until)} AND ${COMPUTE_SPANS} ` +
    `GROUP BY ALL ORDER BY day, provider, model, currency`
  );
}

export function clickhouseTracedUsageSql(db: string, query: TracedUsageQuery): string {
  const database = identifier(db);
  const dims = checked(query.groupBy, TRACED_DIMENSIONS);
  const providers =
    query.providers !== undefined && query.providers.length > 0
      ? ` AND provider IN (${query.providers.map(stringLiteral).join(', ')})`
      : '';
  const routes =
    query.routes !== undefined && query.routes.length > 0
      ? ` AND route IN (${query.routes.map(stringLiteral).join(', ')})`
      : '';
  const keys = [...dims, 'currency'];
  return (
    `SELECT ${[...dims.map((d) => tracedColumn(d, 'clickhouse')), 'currency'].join(', ')}, ` +
    `${TRACED_MEASURES((e) => `toString(sum(toUInt64(${e})))`, 'count()', USAGE_KEY.clickhouse)}, toString(sum(${TOKEN_COST})) AS cost ` +
    `FROM ${database}.span_costs WHERE start_time >= toDateTime(${uintLiteral(query.since)}, 'UTC') ` +
    `AND start_time < toDateTime(${uintLiteral(query.until)}, 'UTC') AND usage_role = ''${providers}${routes} ` +
    `GROUP BY ${keys.join(', ')} ORDER BY ${keys.join(', ')}`
  );
}

export function duckTracedUsageSql(query: TracedUsageQuery): string {
  const dims = checked(query.groupBy, TRACED_DIMENSIONS);
  const providers =
    query.providers !== undefined && query.providers.length > 0
      ? ` AND provider IN (${query.providers.map(duckString).join(', ')})`
      : '';
  const routes =
    query.routes !== undefined && query.routes.length > 0
      ? ` AND route IN (${query.routes.map(duckString).join(', ')})`
      : '';
  const keys = [...dims, 'currency'];
  return (
    `SELECT ${[...dims.map((d) => tracedColumn(d, 'duckdb')), 'currency'].join(', ')}, ` +
    `${TRACED_MEASURES((e) => `sum(${e})::VARCHAR`, 'count(*)', USAGE_KEY.duckdb)}, sum(${TOKEN_COST})::VARCHAR AS cost ` +
    `FROM span_costs WHERE start_time >= ${duckInt(query.since)} AND start_time < ${duckInt(query.until)} ` +
    `AND usage_role = ''${providers}${routes} GROUP BY ${keys.join(', ')} ORDER BY ${keys.join(', ')}`
  );
}

/** The imports' covered days, newest first, with whether each import is the day's current one. */
export function clickhouseBillImportsSql(db: string, limit: number): string {
  const database = identifier(db);
  return (
    `SELECT import_id, source, account, day, toString(imported_at) AS imported_at, lines, origin, ` +
    `(source, account, day, import_id) IN (SELECT source, account, day, argMax(import_id, imported_at) FROM ${database}.bill_imports GROUP BY source, account, day) AS current ` +
    `FROM ${database}.bill_imports ORDER BY imported_at DESC, day DESC, source, account LIMIT ${uintLiteral(limit)}`
  );
}

export function duckBillImportsSql(limit: number): string {
  return (
    `SELECT i.import_id, i.source, i.account, i.day, i.imported_at::VARCHAR AS imported_at, i.lines, i.origin, ` +
    `(latest.import_id IS NOT NULL) AS current FROM bill_imports i ` +
    `LEFT JOIN (SELECT source, account, day, arg_max(import_id, imported_at) AS import_id FROM bill_imports GROUP BY ALL) latest ` +
    `ON i.source = latest.source AND i.account = latest.account AND i.day = latest.day AND i.import_id = latest.import_id ` +
    `ORDER BY i.imported_at DESC, i.day DESC, i.source, i.account LIMIT ${duckInt(limit)}`
  );
}

const RUN_SUMS = (sum: (column: string) => string): string =>
  ['billed_cost', 'traced_cost', 'drift', 'untraced', 'rate'].map((c) => `${sum(c)} AS ${c}`).join(', ');

/** Saved reconcile runs, newest first, summed per run and currency. */
export function clickhouseSavedRunsSql(db: string, limit: number): string {
  const database = identifier(db);
  return (
    `SELECT run_id, toUInt32(run_at) AS run_at, since, until, group_by, currency, count() AS rows, ` +
    `${RUN_SUMS((c) => `toString(sum(${c}))`)} FROM ${database}.reconcile_results ` +
    `GROUP BY run_id, run_at, since, until, group_by, currency ORDER BY run_at DESC, run_id, currency LIMIT ${uintLiteral(limit)}`
  );
}

export function duckSavedRunsSql(limit: number): string {
  return (
    `SELECT run_id, run_at, since, until, group_by, currency, count(*) AS rows, ` +
    `${RUN_SUMS((c) => `sum(${c})::VARCHAR`)} FROM reconcile_results ` +
    `GROUP BY ALL ORDER BY run_at DESC, run_id, currency LIMIT ${duckInt(limit)}`
  );
}
