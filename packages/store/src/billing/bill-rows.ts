import { formatScaled, MONEY_SCALE, parseScaled, utcDay } from '@costtrace/core';
import type { BilledLine, ReconcileRow } from '@costtrace/core';
import { tsvRow } from '../clickhouse/tsv.js';
import { duckDecimal, duckInt, duckString } from '../duckdb/duckdb-literals.js';
import type {
  BillDimension,
  BilledTotalRow,
  BillImportDay,
  BillImportRecord,
  TracedComputeRow,
  TracedDimension,
  TracedUsageRow,
} from './bill-store.js';

/** 'YYYY-MM-DD hh:mm:ss' of unix seconds, UTC: a DateTime('UTC') field of TabSeparated. */
function utcText(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

type Raw = Readonly<Record<string, unknown>>;

/** A scalar as either engine returns it (string, number, bigint, boolean), as text. */
function scalarText(value: unknown, absent: string): string {
  if (value === null || value === undefined) return absent;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  throw new TypeError(`expected a scalar from the store, got ${typeof value}`);
}

/** Exact decimal text from either engine (trailing zeros, or none) → canonical. */
export function canonicalDecimal(text: unknown): string {
  return formatScaled(parseScaled(scalarText(text, '0'), MONEY_SCALE), MONEY_SCALE);
}

/** A billed line as a TabSeparated row of billed_lines (BILLED_LINE_COLUMNS order). */
export function billedLineTsv(importId: string, line: BilledLine): string {
  return tsvRow([
    importId,
    line.source,
    line.provider,
    line.account,
    line.project,
    line.apiKey,
    line.model,
    line.serviceTier,
    utcDay(line.periodStart),
    utcText(line.periodStart),
    utcText(line.periodEnd),
    line.kind,
    line.quantity,
    line.unit,
    line.billedCost !== undefined,
    line.billedCost ?? '0',
    line.listCost !== undefined,
    line.listCost ?? '0',
    line.currency,
    line.description,
    line.chargeCategory,
    line.service,
    line.resourceId,
  ]);
}

/** The same line as a DuckDB VALUES tuple. */
export function billedLineValues(importId: string, line: BilledLine): string {
  return `(${[
    duckString(importId),
    duckString(line.source),
    duckString(line.provider),
    duckString(line.account),
    duckString(line.project),
    duckString(line.apiKey),
    duckString(line.model),
    duckString(line.serviceTier),
    duckInt(utcDay(line.periodStart)),
    duckInt(line.periodStart),
    duckInt(line.periodEnd),
    duckString(line.kind),
    duckDecimal(line.quantity),
    duckString(line.unit),
    line.billedCost !== undefined ? '1' : '0',
    duckDecimal(line.billedCost ?? '0'),
    line.listCost !== undefined ? '1' : '0',
    duckDecimal(line.listCost ?? '0'),
    duckString(line.currency),
    duckString(line.description),
    duckString(line.chargeCategory),
    duckString(line.service),
    duckString(line.resourceId),
  ].join(', ')})`;
}

/** One bill_imports row per covered day. */
export function billImportTsv(record: BillImportRecord): string {
  return record.days
    .map((day) =>
      tsvRow([
        record.importId,
        record.source,
        record.account,
        day,
        record.importedAtMicros,
        record.lines,
        record.origin,
      ]),
    )
    .join('');
}

export function billImportValues(record: BillImportRecord): string[] {
  return record.days.map(
    (day) =>
      `(${[
        duckString(record.importId),
        duckString(record.source),
        duckString(record.account),
        duckInt(day),
        duckInt(record.importedAtMicros),
        duckInt(record.lines),
        duckString(record.origin),
      ].join(', ')})`,
  );
}

function dimensionsOf<D extends string>(raw: Raw, dims: readonly D[]): Partial<Record<D, string>> {
  const out: Partial<Record<D, string>> = {};
  for (const d of dims) out[d] = scalarText(raw[d], '');
  return out;
}

export function billedTotalRows(dims: readonly BillDimension[], raw: readonly Raw[]): BilledTotalRow[] {
  return raw.map((r) => ({
    dimensions: dimensionsOf(r, dims),
    kind: String(r.kind),
    unit: String(r.unit),
    currency: String(r.currency),
    quantity: canonicalDecimal(r.quantity),
    billedCost: canonicalDecimal(r.billed_cost),
    listCost: canonicalDecimal(r.list_cost),
    lines: Number(r.lines),
    costLines: Number(r.cost_lines),
    listCostLines: Number(r.list_cost_lines),
  }));
}

export function tracedUsageRows(dims: readonly TracedDimension[], raw: readonly Raw[]): TracedUsageRow[] {
  const big = (v: unknown): bigint => BigInt(scalarText(v, '0'));
  return raw.map((r) => ({
    dimensions: dimensionsOf(r, dims),
    currency: String(r.currency),
    spans: Number(r.spans),
    requests: Number(r.requests),
    inputTokens: big(r.sum_input_tokens),
    outputTokens: big(r.sum_output_tokens),
    cacheReadTokens: big(r.sum_cache_read_tokens),
    cacheWriteTokens: big(r.sum_cache_write_tokens),
    inputWithCacheTokens: big(r.sum_input_with_cache_tokens),
    unkeyedCacheTokens: big(r.sum_unkeyed_cache_tokens),
    cost: canonicalDecimal(r.cost),
    unpricedSpans: Number(r.unpriced_spans),
    unpricedInputTokens: big(r.unpriced_input_tokens),
    unpricedOutputTokens: big(r.unpriced_output_tokens),
    unpricedCacheReadTokens: big(r.unpriced_cache_read_tokens),
    unpricedCacheWriteTokens: big(r.unpriced_cache_write_tokens),
    upperBoundSpans: Number(r.upper_bound_spans),
  }));
}

export function billImportDays(raw: readonly Raw[]): BillImportDay[] {
  return raw.map((r) => ({
    importId: String(r.import_id),
    source: String(r.source),
    account: String(r.account),
    day: Number(r.day),
    importedAtMicros: String(r.imported_at),
    lines: Number(r.lines),
    origin: String(r.origin),
    current: r.current === true || Number(r.current) === 1,
  }));
}

/** What a saved reconcile run is: its id, when, the period and how it was grouped. */
export interface ReconcileRunRef {
  readonly runId: string;
  /** Unix seconds. */
  readonly runAt: number;
  readonly since: number;
  readonly until: number;
  readonly groupBy: readonly string[];
}

/** One reconcile row as reconcile_results values, in RECONCILE_RESULT_COLUMNS order. */
function reconcileResultValues(run: ReconcileRunRef, row: ReconcileRow): (string | number)[] {
  const c = row.categories;
  return [
    run.runId,
    run.runAt,
    run.since,
    run.until,
    run.groupBy.join(','),
    Number(row.dimensions.day ?? 0),
    row.dimensions.provider ?? '',
    row.dimensions.model ?? '',
    row.dimensions.project ?? '',
    row.currency,
    row.billedCostKnown === 'none' ? 0 : 1,
    row.billedCost ?? '0',
    row.billedListCost ?? '0',
    row.tracedListCost ?? '0',
    row.tracedCost,
    row.drift ?? '0',
    c?.untraced ?? '0',
    c?.cacheOrTier ?? '0',
    c?.unpriced ?? '0',
    c?.rate ?? '0',
    c?.timing ?? '0',
    c?.unexplained ?? '0',
  ];
}

/** Money columns of reconcile_results: the values from the 12th on (see reconcileResultValues). */
const FIRST_MONEY_VALUE = 11;

export function reconcileResultTsv(run: ReconcileRunRef, row: ReconcileRow): string {
  const values = reconcileResultValues(run, row);
  // run_at as a DateTime('UTC') text field; everything else as is.
  values[1] = new Date(run.runAt * 1000).toISOString().slice(0, 19).replace('T', ' ');
  return tsvRow(values);
}

export function reconcileResultTuple(run: ReconcileRunRef, row: ReconcileRow): string {
  const values = reconcileResultValues(run, row);
  return `(${values
    .map((v, i) =>
      i >= FIRST_MONEY_VALUE ? duckDecimal(String(v)) : typeof v === 'number' ? duckInt(v) : duckString(v),
    )
    .join(', ')})`;
}

/** A saved run, summed: what `costtrace reconcile --history` lists. */
export interface SavedReconcileRun {
  readonly runId: string;
  readonly runAt: number;
  readonly since: number;
  readonly until: number;
  readonly groupBy: string;
  readonly currency: string;
  readonly rows: number;
  /** Exact decimal sums over the run's rows. */
  readonly billedCost: string;
  readonly tracedCost: string;
  readonly drift: string;
  readonly untraced: string;
  readonly rate: string;
}

export function savedReconcileRuns(raw: readonly Raw[]): SavedReconcileRun[] {
  return raw.map((r) => ({
    runId: scalarText(r.run_id, ''),
    runAt: Number(r.run_at),
    since: Number(r.since),
    until: Number(r.until),
    groupBy: scalarText(r.group_by, ''),
    currency: scalarText(r.currency, ''),
    rows: Number(r.rows),
    billedCost: canonicalDecimal(r.billed_cost),
    tracedCost: canonicalDecimal(r.traced_cost),
    drift: canonicalDecimal(r.drift),
    untraced: canonicalDecimal(r.untraced),
    rate: canonicalDecimal(r.rate),
  }));
}

export function tracedComputeRows(raw: readonly Raw[]): TracedComputeRow[] {
  return raw.map((r) => ({
    day: Number(r.day),
    provider: scalarText(r.provider, ''),
    model: scalarText(r.model, ''),
    currency: scalarText(r.currency, ''),
    spans: Number(r.spans),
    instanceSeconds: canonicalDecimal(r.instance_seconds),
    cost: canonicalDecimal(r.cost),
  }));
}
