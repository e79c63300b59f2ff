import { parseCostQuery } from '@costtrace/store';
import type { CostQuery, CostReportRow, CostStore } from '@costtrace/store';
import { parseFlags } from '../command-args.js';
import type { ArgsResult, CommandOutput } from '../command-args.js';
import { OUTPUT_FORMATS, renderRows } from '../table-format.js';
import type { Cell, OutputFormat } from '../table-format.js';

export const REPORT_USAGE = `costtrace report [--by dim[,dim...]] [--since 24h] [--until time] [--where dim=value]...
                 [--bucket 1m|5m|15m|1h|6h|1d] [--limit N] [--order-by cost|spans|requests|tokens|time]
                 [--source auto|spans|rollup] [--corrections] [--format table|json|csv]`;

export interface ReportArgs {
  readonly query: CostQuery;
  readonly format: OutputFormat;
}

/** Pure: argv (after `report`) → a validated query and output format, or a message. */
export function parseReportArgs(argv: readonly string[], nowSeconds: number): ArgsResult<ReportArgs> {
  const flags = parseFlags(argv, {
    by: { value: true, repeatable: true },
    since: { value: true },
    until: { value: true },
    where: { value: true, repeatable: true },
    bucket: { value: true },
    limit: { value: true },
    'order-by': { value: true },
    source: { value: true },
    corrections: { value: false },
    format: { value: true },
  });
  if (!flags.ok) return flags;
  const format = (flags.value.get('format')?.[0] ?? 'table') as OutputFormat;
  if (!OUTPUT_FORMATS.includes(format))
    return { ok: false, message: `--format must be one of ${OUTPUT_FORMATS.join(', ')}` };
  const params = new Map<string, string[]>();
  const map: Record<string, string> = { by: 'group_by', 'order-by': 'order_by' };
  for (const [name, values] of flags.value) {
    if (name === 'format') continue;
    params.set(map[name] ?? name, [...values]);
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

/** `costtrace report`: exit code 0 on success, 2 on bad arguments. */
export async function runReport(
  argv: readonly string[],
  deps: { readonly store: Pick<CostStore, 'queryCosts'>; readonly output: CommandOutput; readonly nowSeconds?: number },
): Promise<number> {
  const args = parseReportArgs(argv, deps.nowSeconds ?? Math.floor(Date.now() / 1000));
  if (!args.ok) {
    deps.output.err(`costtrace report: ${args.message}\nusage: ${REPORT_USAGE}\n`);
    return 2;
  }
  const rows = await deps.store.queryCosts(args.value.query);
  const table = reportTable(args.value.query, rows);
  deps.output.out(renderRows(args.value.format, table.columns, table.rows));
  return 0;
}
