import { readFile } from 'node:fs/promises';
import { PricingError, viewFromDocumentText } from '@costtrace/core';
import type { PricingView } from '@costtrace/core';
import { repriceSpans } from '../reprice/span-repricer.js';
import type { RepriceReport } from '../reprice/span-repricer.js';
import { parseTopSpansQuery } from '@costtrace/store';
import type { SpanRepricingStore, TopSpansQuery } from '@costtrace/store';
import { parseFlags } from '../command-args.js';
import type { CommandOutput } from '../command-args.js';
import type { ArgsResult } from '../args.js';
import { renderRows } from '../table-format.js';

export const REPRICE_USAGE = `costtrace reprice --since 7d --snapshot prices.json [--until time] [--where dim=value]...
                  [--apply] [--reason text] [--format table|json] [--store clickhouse|duckdb:PATH]
  The snapshot file is a costtrace price snapshot document ("format": "costtrace.price-snapshot.v1"),
  e.g. the one the aggregator keeps (COSTTRACE_PRICING_STATE_FILE). Spans are priced at their start
  time, as the aggregator prices them. Without --apply only the difference is reported.`;

export interface RepriceArgs {
  readonly query: TopSpansQuery;
  readonly snapshotPath: string;
  readonly apply: boolean;
  readonly reason: string | undefined;
  readonly format: 'table' | 'json';
}

export function parseRepriceArgs(argv: readonly string[], nowSeconds: number): ArgsResult<RepriceArgs> {
  const flags = parseFlags(argv, {
    since: { type: 'string' },
    until: { type: 'string' },
    where: { type: 'string', multiple: true },
    snapshot: { type: 'string' },
    apply: { type: 'boolean' },
    reason: { type: 'string' },
    format: { type: 'string' },
  });
  if (!flags.ok) return flags;
  const snapshotPath = flags.value.get('snapshot')?.[0];
  if (snapshotPath === undefined) return { ok: false, message: '--snapshot is required: a JSON price snapshot file' };
  if (!flags.value.has('since')) return { ok: false, message: '--since is required (e.g. 7d, or an ISO time)' };
  const format = flags.value.get('format')?.[0] ?? 'table';
  if (format !== 'table' && format !== 'json') return { ok: false, message: '--format must be table or json' };
  const params = new Map<string, string[]>();
  for (const name of ['since', 'until', 'where']) {
    const values = flags.value.get(name);
    if (values) params.set(name, [...values]);
  }
  params.set('limit', ['1']);
  const parsed = parseTopSpansQuery(params, nowSeconds);
  if (!parsed.ok) return { ok: false, message: `--${parsed.parameter}: ${parsed.message}` };
  return {
    ok: true,
    value: {
      query: parsed.query,
      snapshotPath,
      apply: flags.value.has('apply'),
      reason: flags.value.get('reason')?.[0],
      format,
    },
  };
}

export function renderRepriceReport(report: RepriceReport, format: 'table' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  const lines = renderRows(
    'table',
    ['provider', 'model', 'spans', 'changed', 'current', 'repriced', 'difference'],
    [
      ...report.byModel.map((l) => [l.provider, l.model, l.spans, l.changed, l.current, l.repriced, l.difference]),
      ['total', '', report.spans, report.changed, report.current, report.repriced, report.difference],
    ],
  );
  const tail =
    report.correctionsWritten > 0
      ? `wrote ${report.correctionsWritten} correction rows as ${report.correctionId} (snapshot ${report.snapshotVersion})\n`
      : `snapshot ${report.snapshotVersion}: nothing written (use --apply to write correction rows)\n`;
  return `${lines}${report.unpriceable > 0 ? `${report.unpriceable} spans have no price in the snapshot and keep their cost\n` : ''}${tail}`;
}

/** `costtrace reprice`: reports (and with --apply writes) versioned cost corrections. */
export async function runReprice(
  argv: readonly string[],
  deps: {
    readonly store: SpanRepricingStore;
    readonly output: CommandOutput;
    readonly nowSeconds?: number;
    readonly loadView?: (path: string) => Promise<PricingView>;
  },
): Promise<number> {
  const args = parseRepriceArgs(argv, deps.nowSeconds ?? Math.floor(Date.now() / 1000));
  if (!args.ok) {
    deps.output.err(`costtrace reprice: ${args.message}\nusage: ${REPRICE_USAGE}\n`);
    return 2;
  }
  const load = deps.loadView ?? readPriceSnapshotFile;
  let view: PricingView;
  try {
    view = await load(args.value.snapshotPath);
  } catch (err) {
    deps.output.err(`costtrace reprice: ${(err as Error).message}\n`);
    return 2;
  }
  const report = await repriceSpans(deps.store, {
    query: args.value.query,
    view,
    apply: args.value.apply,
    reason: args.value.reason,
  });
  deps.output.out(renderRepriceReport(report, args.value.format));
  return 0;
}

/** The price snapshot document `--snapshot` names (what pricing-cache and the aggregator persist). */
async function readPriceSnapshotFile(path: string): Promise<PricingView> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new PricingError(
      'INVALID_ARGUMENT',
      missing ? `price snapshot file ${path} does not exist` : `cannot read ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return viewFromDocumentText(text, path);
}
