/**
 * `costtrace export --format focus`: the period's cost as a FinOps FOCUS 1.2 dataset, CSV or
 * Parquet. One row per charge period (hour or day) and combination of service, provider,
 * model, GPU type, route, commit, team, tenant and environment.
 *
 * Costs are what costtrace attributed (already effective prices), so BilledCost, EffectiveCost,
 * ListCost and ContractedCost carry the same exact decimal; re-pricing corrections are not
 * included. Parquet is written by DuckDB (COPY … TO … FORMAT parquet) with DECIMAL(38,12)
 * money and TIMESTAMP WITH TIME ZONE periods.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { divideRoundHalfEven } from '@costtrace/core';
import { FOCUS_USAGE_DIMENSIONS, focusUsageSql, MAX_QUERY_LIMIT } from '@costtrace/store';
import type { CostReportRow, QueryDimension, SignalRange, SqlReader } from '@costtrace/store';
import type { ArgsResult } from '../args.js';
import { renderRows } from '../table-format.js';
import type { Cell } from '../table-format.js';
import { COMMON_FLAGS_HELP, flag, parseCommand, pico, usd } from './common-flags.js';
import type { CommonArgs } from './common-flags.js';
import { nowOf, progress, usageError } from './command-deps.js';
import type { AnalysisDeps } from './command-deps.js';

export const EXPORT_USAGE = `costtrace export --format focus [--output FILE.csv|FILE.parquet] [--granularity hour|day] [--since 30d] [--until T] [--where dim=value]...`;

export const FOCUS_DIMENSIONS: readonly QueryDimension[] = [
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
];

/** The FOCUS columns, in file order, with the DuckDB type used in Parquet. */
export const FOCUS_COLUMNS: readonly (readonly [string, string])[] = [
  ['BilledCost', 'DECIMAL(38,12)'],
  ['EffectiveCost', 'DECIMAL(38,12)'],
  ['ListCost', 'DECIMAL(38,12)'],
  ['ContractedCost', 'DECIMAL(38,12)'],
  ['BillingCurrency', 'VARCHAR'],
  ['BillingPeriodStart', 'TIMESTAMPTZ'],
  ['BillingPeriodEnd', 'TIMESTAMPTZ'],
  ['ChargePeriodStart', 'TIMESTAMPTZ'],
  ['ChargePeriodEnd', 'TIMESTAMPTZ'],
  ['ChargeCategory', 'VARCHAR'],
  ['ChargeFrequency', 'VARCHAR'],
  ['ChargeDescription', 'VARCHAR'],
  ['ServiceName', 'VARCHAR'],
  ['ServiceCategory', 'VARCHAR'],
  ['ProviderName', 'VARCHAR'],
  ['PublisherName', 'VARCHAR'],
  ['InvoiceIssuerName', 'VARCHAR'],
  ['ResourceId', 'VARCHAR'],
  ['ResourceName', 'VARCHAR'],
  ['ResourceType', 'VARCHAR'],
  ['SkuId', 'VARCHAR'],
  ['ConsumedQuantity', 'DECIMAL(38,12)'],
  ['ConsumedUnit', 'VARCHAR'],
  ['PricingQuantity', 'DECIMAL(38,12)'],
  ['PricingUnit', 'VARCHAR'],
  ['Tags', 'VARCHAR'],
  ['x_Route', 'VARCHAR'],
  ['x_Commit', 'VARCHAR'],
  ['x_Model', 'VARCHAR'],
  ['x_GpuType', 'VARCHAR'],
  ['x_Team', 'VARCHAR'],
  ['x_Tenant', 'VARCHAR'],
  ['x_Environment', 'VARCHAR'],
  ['x_TokenType', 'VARCHAR'],
  ['x_Requests', 'BIGINT'],
  ['x_Spans', 'BIGINT'],
  ['x_Tokens', 'BIGINT'],
];

export const EXPORT_HELP = `usage: ${EXPORT_USAGE}

The period's cost as a FinOps FOCUS 1.2 dataset that finance tools take as is: CSV (to stdout
or --output FILE.csv) or Parquet (--output FILE.parquet, written with DuckDB). One row per
charge period (--granularity hour, the default, or day) and combination of service, provider,
model, GPU type, route, commit, team, tenant and environment.
Columns: ${FOCUS_COLUMNS.map(([c]) => c).join(', ')}.
Costs are costtrace's attributed (effective) cost, so BilledCost = EffectiveCost = ListCost =
ContractedCost. Each group is split into one row per cost kind, named in x_TokenType: input
(uncached input tokens), output, cache_read, cache_write, reasoning (Tokens), gpu (GPU-Hours),
compute (Requests), and other for any rest, so the rows add up to the total exactly;
x_Requests, x_Spans and x_Tokens are counted once per group, on its first row.

${COMMON_FLAGS_HELP}
  (--by and --limit are not used; --format must be focus)

examples:
  costtrace export --format focus --since 30d > focus.csv
  costtrace export --format focus --since 2026-11-01 --until 2026-12-01 --output nov.parquet
  costtrace export --format focus --granularity day --where team=search --output search.csv`;

export interface ExportArgs {
  readonly common: CommonArgs;
  readonly output: string | undefined;
  readonly fileFormat: 'csv' | 'parquet';
  readonly bucketSeconds: number;
}

export function parseExportArgs(argv: readonly string[], nowSeconds: number): ArgsResult<ExportArgs> {
  const rest: string[] = [];
  let format: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--format') format = argv[++i];
    else if (a.startsWith('--format=')) format = a.slice(9);
    else rest.push(a);
  }
  if (format !== 'focus') return { ok: false, message: '--format focus is required (the only export format)' };
  const parsed = parseCommand(rest, { output: { type: 'string' }, granularity: { type: 'string' } }, nowSeconds, {
    since: '30d',
  });
  if (!parsed.ok) return parsed;
  if (parsed.value.positionals.length > 0)
    return { ok: false, message: `unexpected argument ${JSON.stringify(parsed.value.positionals[0])}` };
  if (parsed.value.common.by.length > 0) return { ok: false, message: '--by is not used by export' };
  const granularity = flag(parsed.value.flags, 'granularity') ?? 'hour';
  if (granularity !== 'hour' && granularity !== 'day')
    return { ok: false, message: '--granularity must be hour or day' };
  const output = flag(parsed.value.flags, 'output');
  let fileFormat: 'csv' | 'parquet' = 'csv';
  if (output !== undefined) {
    if (output.endsWith('.parquet')) fileFormat = 'parquet';
    else if (!output.endsWith('.csv')) return { ok: false, message: '--output must end in .csv or .parquet' };
  }
  return {
    ok: true,
    value: { common: parsed.value.common, output, fileFormat, bucketSeconds: granularity === 'hour' ? 3600 : 86_400 },
  };
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** One FOCUS line before rendering: a charge period, its dimensions, one cost kind. */
export interface FocusLine {
  /** Charge period start, unix seconds. */
  readonly start: number;
  readonly dimensions: Readonly<Partial<Record<QueryDimension, string>>>;
  /** x_TokenType: input, output, cache_read, cache_write, reasoning, gpu, compute, other or all. */
  readonly kind: string;
  /** Pico-USD. */
  readonly cost: bigint;
  readonly quantity: string;
  readonly unit: string;
  readonly requests: number;
  readonly spans: number;
  readonly tokens: number;
}

/** A report row (all kinds together) as a FOCUS line. */
export function lineFromReport(r: CostReportRow, billingStart: number): FocusLine {
  return {
    start: r.bucket ?? billingStart,
    dimensions: r.dimensions,
    kind: 'all',
    cost: pico(r.cost),
    quantity: String(r.tokens > 0 ? r.tokens : r.requests),
    unit: r.tokens > 0 ? 'Tokens' : 'Requests',
    requests: r.requests,
    spans: r.spans,
    tokens: r.tokens,
  };
}

/**
 * Pure: one usage row (cost split by kind) → FOCUS lines, one per kind with cost or quantity,
 * plus `other` for any part of the total the kinds do not explain, so the lines add up to the
 * total exactly. Request, span and token counts go on the first line of the group only, so
 * they add up too.
 */
export function linesFromUsage(u: Readonly<Record<string, string>>): FocusLine[] {
  const dimensions: Partial<Record<QueryDimension, string>> = {};
  for (const d of FOCUS_USAGE_DIMENSIONS) dimensions[d] = u[d] ?? '';
  const n = (k: string): bigint => BigInt(u[k] ?? '0');
  const c = (k: string): bigint => pico(u[k] ?? '0');
  const uncached = n('input_tokens') - n('cache_read_tokens') - n('cache_write_tokens');
  const gpuHours = divideRoundHalfEven(pico(u.gpu_seconds ?? '0'), 3600n);
  const kinds: [string, bigint, string, string][] = [
    ['input', c('cost_input'), String(uncached < 0n ? 0n : uncached), 'Tokens'],
    ['output', c('cost_output'), String(n('output_tokens')), 'Tokens'],
    ['cache_read', c('cost_cache_read'), String(n('cache_read_tokens')), 'Tokens'],
    ['cache_write', c('cost_cache_write'), String(n('cache_write_tokens')), 'Tokens'],
    ['reasoning', c('cost_reasoning'), String(n('reasoning_tokens')), 'Tokens'],
    ['gpu', c('cost_gpu'), usd(gpuHours), 'GPU-Hours'],
    ['compute', c('cost_compute'), String(n('requests')), 'Requests'],
  ];
  const total = c('cost_total');
  const explained = kinds.reduce((a, k) => a + k[1], 0n);
  if (total !== explained) kinds.push(['other', total - explained, String(n('requests')), 'Requests']);
  const kept = kinds.filter(
    ([kind, cost, quantity]) => cost !== 0n || (kind !== 'compute' && kind !== 'other' && !/^0(\.0*)?$/.test(quantity)),
  );
  if (kept.length === 0) kept.push(['other', 0n, String(n('requests')), 'Requests']);
  const start = Number(n('bucket_ns') / 1_000_000_000n);
  const tokens = Number(n('input_tokens') + n('output_tokens'));
  return kept.map(([kind, cost, quantity, unit], i) => ({
    start,
    dimensions,
    kind,
    cost,
    quantity,
    unit,
    requests: i === 0 ? Number(n('requests')) : 0,
    spans: i === 0 ? Number(n('spans')) : 0,
    tokens: i === 0 ? tokens : 0,
  }));
}

/** Pure: one FOCUS row (cells in FOCUS_COLUMNS order) from one line. */
export function focusRow(line: FocusLine, bucketSeconds: number, billing: { start: number; end: number }): Cell[] {
  const d = (k: QueryDimension): string => line.dimensions[k] ?? '';
  const cost = usd(line.cost);
  const isModel = d('model') !== '';
  const isGpu = d('gpu_type') !== '';
  const sku = isModel ? d('model') : isGpu ? d('gpu_type') : d('service');
  const provider = d('provider') || 'costtrace';
  const tags: Record<string, string> = {};
  for (const k of ['team', 'tenant', 'environment', 'route', 'commit'] as const) if (d(k) !== '') tags[k] = d(k);
  const values: Record<string, Cell> = {
    BilledCost: cost,
    EffectiveCost: cost,
    ListCost: cost,
    ContractedCost: cost,
    BillingCurrency: d('currency') || 'USD',
    BillingPeriodStart: iso(billing.start),
    BillingPeriodEnd: iso(billing.end),
    ChargePeriodStart: iso(line.start),
    ChargePeriodEnd: iso(Math.min(line.start + bucketSeconds, billing.end)),
    ChargeCategory: 'Usage',
    ChargeFrequency: 'Usage-Based',
    ChargeDescription: `${d('service') || 'unknown service'} ${d('route')} ${sku} ${line.kind}`
      .replace(/\s+/g, ' ')
      .trim(),
    ServiceName: d('service') || 'unknown',
    ServiceCategory: 'AI and Machine Learning',
    ProviderName: provider,
    PublisherName: provider,
    InvoiceIssuerName: provider,
    ResourceId: `${d('service')}:${d('route')}:${isModel ? `${provider}/${d('model')}` : isGpu ? `gpu/${d('gpu_type')}` : ''}`,
    ResourceName: d('route') || d('service'),
    ResourceType: isModel ? 'Model' : isGpu ? 'GPU' : 'Service',
    SkuId: line.kind === 'all' ? sku : `${sku}:${line.kind}`,
    ConsumedQuantity: line.quantity,
    ConsumedUnit: line.unit,
    PricingQuantity: line.quantity,
    PricingUnit: line.unit,
    Tags: JSON.stringify(tags),
    x_Route: d('route'),
    x_Commit: d('commit'),
    x_Model: d('model'),
    x_GpuType: d('gpu_type'),
    x_Team: d('team'),
    x_Tenant: d('tenant'),
    x_Environment: d('environment'),
    x_TokenType: line.kind,
    x_Requests: line.requests,
    x_Spans: line.spans,
    x_Tokens: line.tokens,
  };
  return FOCUS_COLUMNS.map(([c]) => values[c] ?? null);
}

/** Usage rows split by cost kind (focusUsageSql's columns, as text). */
export interface FocusUsageSource {
  focusUsage(range: SignalRange, bucketSeconds: number, limit: number): Promise<Record<string, string>[]>;
}

/** FocusUsageSource over ClickHouse or DuckDB, with the store-neutral SQL of @costtrace/store. */
export function storeFocusUsage(store: SqlReader): FocusUsageSource {
  return {
    focusUsage: (range, bucketSeconds, limit) =>
      store.select<Record<string, string>>(focusUsageSql(store.database, range, bucketSeconds, limit, store.literal)),
  };
}

function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Writes a FOCUS CSV file as Parquet with DuckDB, typed per FOCUS_COLUMNS. */
export async function csvToParquet(csvPath: string, parquetPath: string): Promise<void> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const columns = FOCUS_COLUMNS.map(([c, t]) => `${sqlString(c)}: ${sqlString(t)}`).join(', ');
    await connection.run(
      `COPY (SELECT * FROM read_csv(${sqlString(csvPath)}, header = true, columns = {${columns}})) TO ${sqlString(parquetPath)} (FORMAT parquet)`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export interface ExportDeps extends AnalysisDeps {
  /** Cost split by kind (x_TokenType); without it the export has one `all` line per group. */
  readonly focus?: FocusUsageSource | undefined;
}

export async function runExport(argv: readonly string[], deps: ExportDeps): Promise<number> {
  const args = parseExportArgs(argv, nowOf(deps));
  if (!args.ok) return usageError('export', args.message, EXPORT_USAGE, deps.output);
  const { common, output, fileFormat, bucketSeconds } = args.value;
  progress(deps, 'querying…');
  const billing = { start: common.since, end: common.until };
  let lines: FocusLine[];
  let count: number;
  if (deps.focus !== undefined) {
    const range = { since: common.since, until: common.until, filters: common.query.filters };
    const usage = await deps.focus.focusUsage(range, bucketSeconds, MAX_QUERY_LIMIT);
    count = usage.length;
    lines = usage.flatMap(linesFromUsage);
  } else {
    const rows = await deps.source.queryCosts({
      ...common.query,
      groupBy: FOCUS_DIMENSIONS,
      bucketSeconds,
      orderBy: 'time',
      limit: MAX_QUERY_LIMIT,
    });
    count = rows.length;
    lines = rows.map((r) => lineFromReport(r, billing.start));
  }
  if (count >= MAX_QUERY_LIMIT) {
    deps.output.err(
      `costtrace export: more than ${MAX_QUERY_LIMIT} rows; export a shorter period (--since/--until), --granularity day, or narrow with --where\n`,
    );
    return 1;
  }
  const csv = renderRows(
    'csv',
    FOCUS_COLUMNS.map(([c]) => c),
    lines.map((l) => focusRow(l, bucketSeconds, billing)),
  );
  if (output === undefined) {
    deps.output.out(csv);
    return 0;
  }
  if (fileFormat === 'csv') await writeFile(output, csv);
  else {
    const dir = await mkdtemp(join(tmpdir(), 'costtrace-focus-'));
    try {
      const tmp = join(dir, 'focus.csv');
      await writeFile(tmp, csv);
      await csvToParquet(tmp, output);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  deps.output.err(`wrote ${lines.length} FOCUS rows to ${output}\n`);
  return 0;
}
