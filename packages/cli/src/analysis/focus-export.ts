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
import { MAX_QUERY_LIMIT } from '@costtrace/store';
import type { CostReportRow, QueryDimension } from '@costtrace/store';
import type { ArgsResult } from '../command-args.js';
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
ContractedCost; ConsumedQuantity is tokens (unit Tokens) for model usage, else requests.
x_TokenType is "all" (cost is not split by token type in this export).

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
  const parsed = parseCommand(rest, { output: { value: true }, granularity: { value: true } }, nowSeconds, {
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

/** Pure: one FOCUS row from one grouped, bucketed report row. */
export function focusRow(r: CostReportRow, bucketSeconds: number, billing: { start: number; end: number }): Cell[] {
  const d = (k: QueryDimension): string => r.dimensions[k] ?? '';
  const start = r.bucket ?? billing.start;
  const cost = usd(pico(r.cost));
  const isModel = d('model') !== '';
  const isGpu = d('gpu_type') !== '';
  const sku = isModel ? d('model') : isGpu ? d('gpu_type') : d('service');
  const provider = d('provider') || 'costtrace';
  const quantity = r.tokens > 0 ? String(r.tokens) : String(r.requests);
  const unit = r.tokens > 0 ? 'Tokens' : 'Requests';
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
    ChargePeriodStart: iso(start),
    ChargePeriodEnd: iso(Math.min(start + bucketSeconds, billing.end)),
    ChargeCategory: 'Usage',
    ChargeFrequency: 'Usage-Based',
    ChargeDescription: `${d('service') || 'unknown service'} ${d('route')} ${sku}`.replace(/\s+/g, ' ').trim(),
    ServiceName: d('service') || 'unknown',
    ServiceCategory: 'AI and Machine Learning',
    ProviderName: provider,
    PublisherName: provider,
    InvoiceIssuerName: provider,
    ResourceId: `${d('service')}:${d('route')}:${isModel ? `${provider}/${d('model')}` : isGpu ? `gpu/${d('gpu_type')}` : ''}`,
    ResourceName: d('route') || d('service'),
    ResourceType: isModel ? 'Model' : isGpu ? 'GPU' : 'Service',
    SkuId: sku,
    ConsumedQuantity: quantity,
    ConsumedUnit: unit,
    PricingQuantity: quantity,
    PricingUnit: unit,
    Tags: JSON.stringify(tags),
    x_Route: d('route'),
    x_Commit: d('commit'),
    x_Model: d('model'),
    x_GpuType: d('gpu_type'),
    x_Team: d('team'),
    x_Tenant: d('tenant'),
    x_Environment: d('environment'),
    x_TokenType: 'all',
    x_Requests: r.requests,
    x_Spans: r.spans,
    x_Tokens: r.tokens,
  };
  return FOCUS_COLUMNS.map(([c]) => values[c] ?? null);
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

export async function runExport(argv: readonly string[], deps: AnalysisDeps): Promise<number> {
  const args = parseExportArgs(argv, nowOf(deps));
  if (!args.ok) return usageError('export', args.message, EXPORT_USAGE, deps.output);
  const { common, output, fileFormat, bucketSeconds } = args.value;
  progress(deps, 'querying…');
  const rows = await deps.source.queryCosts({
    ...common.query,
    groupBy: FOCUS_DIMENSIONS,
    bucketSeconds,
    orderBy: 'time',
    limit: MAX_QUERY_LIMIT,
  });
  if (rows.length >= MAX_QUERY_LIMIT) {
    deps.output.err(
      `costtrace export: more than ${MAX_QUERY_LIMIT} rows; export a shorter period (--since/--until), --granularity day, or narrow with --where\n`,
    );
    return 1;
  }
  const billing = { start: common.since, end: common.until };
  const csv = renderRows(
    'csv',
    FOCUS_COLUMNS.map(([c]) => c),
    rows.map((r) => focusRow(r, bucketSeconds, billing)),
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
  deps.output.err(`wrote ${rows.length} FOCUS rows to ${output}\n`);
  return 0;
}
