import { parseCostQuery, parseCoverageQuery } from '@costtrace/store';
import type { CostQuery, CostReportRow, CoverageQuery, PricingCoverageRow } from '@costtrace/store';
import type { CostSource } from '../analysis/common-flags.js';
import { parseFlags } from '../command-args.js';
import type { CommandOutput } from '../command-args.js';
import type { ArgsResult } from '../args.js';
import { OUTPUT_FORMATS, renderRows } from '../table-format.js';
import type { Cell, OutputFormat } from '../table-format.js';

export const REPORT_USAGE = `costtrace report [--by dim[,dim...]] [--since 24h] [--until time] [--where dim=value]...
                 [--bucket 1m|5m|15m|1h|6h|1d] [--limit N] [--order-by cost|spans|requests|tokens|time]
                 [--source auto|spans|rollup] [--corrections] [--format table|json|csv]
       costtrace report --coverage [--by service|model|provider|emitter[,...]] [--since 24h] [--until time]
                 [--where dim=value]... [--limit N] [--format table|json|csv]`;

export interface ReportArgs {
  readonly query: CostQuery;
  readonly format: OutputFormat;
}

export interface CoverageArgs {
  readonly coverage: CoverageQuery;
  readonly format: OutputFormat;
}

/**
 * Pure: argv (after `report`) → a validated cost query, or with `--coverage` a coverage query,
 * and the output format; or a message.
 */
export function parseReportArgs(argv: readonly string[], nowSeconds: number): ArgsResult<ReportArgs | CoverageArgs> {
  const flags = parseFlags(argv, {
    coverage: { type: 'boolean' },
    by: { type: 'string', multiple: true },
    since: { type: 'string' },
    until: { type: 'string' },
    where: { type: 'string', multiple: true },
    bucket: { type: 'string' },
    limit: { type: 'string' },
    'order-by': { type: 'string' },
    source: { type: 'string' },
    corrections: { type: 'boolean' },
    format: { type: 'string' },
  });
  if (!flags.ok) return flags;
  const format = (flags.value.get('format')?.[0] ?? 'table') as OutputFormat;
  if (!OUTPUT_FORMATS.includes(format))
    return { ok: false, message: `--format must be one of ${OUTPUT_FORMATS.join(', ')}` };
  const params = new Map<string, string[]>();
  const map: Record<string, string> = { by: 'group_by', 'order-by': 'order_by' };
  for (const [name, values] of flags.value) {
    if (name === 'format' || name === 'coverage') continue;
    params.set(map[name] ?? name, [...values]);
  }
  if (flags.value.has('coverage')) {
    for (const flag of ['bucket', 'order-by', 'source', 'corrections']) {
      if (flags.value.has(flag)) return { ok: false, message: `--${flag} does not apply to --coverage` };
    }
    const coverage = parseCoverageQuery(params, nowSeconds);
    if (!coverage.ok) {
      const flag = coverage.parameter === 'group_by' ? 'by' : coverage.parameter;
      return { ok: false, message: `--${flag}: ${coverage.message}` };
    }
    return { ok: true, value: { coverage: coverage.query, format } };
  }
  const parsed = parseCostQuery(params, nowSeconds);
  if (!parsed.ok) {
    const flag = Object.entries(map).find(([, p]) => p === parsed.parameter)?.[0] ?? parsed.parameter;
    return { ok: false, message: `--${flag}: ${parsed.message}` };
  }
  return { ok: true, value: { query: parsed.query, format } };
}

export function reportTable(query: CostQuery, rows: readonly CostReportRow[]): { columns: string[]; rows: Cell[][] } {
  const columns = [
    ...(query.bucketSeconds !== undefined ? ['bucket'] : []),
    ...query.groupBy,
    'cost',
    'spans',
    'requests',
    'tokens',
    'cost_per_request',
    'cost_per_1k_requests',
    'cost_per_1m_tokens',
  ];
  return {
    columns,
    rows: rows.map((r) => [
      ...(query.bucketSeconds !== undefined ? [new Date((r.bucket ?? 0) * 1000).toISOString()] : []),
      ...query.groupBy.map((d) => r.dimensions[d] ?? ''),
      r.cost,
      r.spans,
      r.requests,
      r.tokens,
      r.costPerRequest,
      r.costPer1kRequests,
      r.costPer1MTokens,
    ]),
  };
}

export function coverageTable(
  query: CoverageQuery,
  rows: readonly PricingCoverageRow[],
): { columns: string[]; rows: Cell[][] } {
  return {
    columns: [...query.groupBy, 'coverage', 'usage_spans', 'exact', 'upper_bound', 'unpriced', 'duplicates', 'rollups'],
    rows: rows.map((r) => [
      ...query.groupBy.map((d) => r.group[d] ?? ''),
      r.coverage === null ? '' : percent(r.coverage),
      r.usageSpans,
      r.exact,
      r.upperBound,
      r.unpriced,
      r.duplicates,
      r.rollups,
    ]),
  };
}

/** The one-line coverage summary under a cost table. */
export function coverageSummary(rows: readonly PricingCoverageRow[]): string {
  const sum = (key: 'usageSpans' | 'exact' | 'upperBound' | 'unpriced' | 'duplicates' | 'rollups'): number =>
    rows.reduce((n, r) => n + r[key], 0);
  const spans = sum('usageSpans');
  if (spans === 0 && sum('duplicates') + sum('rollups') === 0) return 'pricing coverage: no usage-bearing spans\n';
  const share = spans === 0 ? '—' : percent(Math.floor((sum('exact') * 10_000) / spans) / 10_000);
  return (
    `pricing coverage: ${share} of ${spans} usage-bearing spans priced exactly ` +
    `(${sum('upperBound')} upper bounds, ${sum('unpriced')} unpriced; ` +
    `${sum('duplicates')} duplicates and ${sum('rollups')} roll-ups not charged again); ` +
    `costtrace report --coverage --by service,model,emitter for detail\n`
  );
}

function percent(share: number): string {
  return `${(share * 100).toFixed(2)} %`;
}

/** `costtrace report`: exit code 0 on success, 2 on bad arguments. */
export async function runReport(
  argv: readonly string[],
  deps: {
    readonly store: Pick<CostSource, 'queryCosts' | 'pricingCoverage'>;
    readonly output: CommandOutput;
    readonly nowSeconds?: number;
  },
): Promise<number> {
  const args = parseReportArgs(argv, deps.nowSeconds ?? Math.floor(Date.now() / 1000));
  if (!args.ok) {
    deps.output.err(`costtrace report: ${args.message}\nusage: ${REPORT_USAGE}\n`);
    return 2;
  }
  const { format } = args.value;
  if ('coverage' in args.value) {
    const coverage = args.value.coverage;
    const table = coverageTable(coverage, await deps.store.pricingCoverage(coverage));
    deps.output.out(renderRows(format, table.columns, table.rows));
    return 0;
  }
  const query = args.value.query;
  const rows = await deps.store.queryCosts(query);
  const table = reportTable(query, rows);
  deps.output.out(renderRows(format, table.columns, table.rows));
  if (format === 'table') {
    // The share of usage priced exactly over the same range and filters, so a cost figure never
    // comes without how much of the usage behind it has a price.
    const summary = await deps.store.pricingCoverage({
      groupBy: ['service'],
      filters: query.filters,
      since: query.since,
      until: query.until,
      limit: 10_000,
    });
    deps.output.out(coverageSummary(summary));
  }
  return 0;
}
