/**
 * `costtrace reconcile`: the bill beside the spans, per day, provider and model, with the drift
 * split into causes (core's `reconcile`) and the overrides that would make costtrace's prices
 * match the bill.
 */
import { writeFile } from 'node:fs/promises';
import { bundledPriceSnapshot } from '@costtrace/core';
import type { ReconcileDimension, ReconcileReport, ReconcileRow } from '@costtrace/core';
import { parseReconcileQuery, reconcileStored } from '@costtrace/store';
import type { BillStore, StoredReconcileQuery } from '@costtrace/store';
import { parseFlags } from '../command-args.js';
import type { CommandOutput } from '../command-args.js';
import type { ArgsResult } from '../args.js';
import { renderRows } from '../table-format.js';
import type { Cell, OutputFormat } from '../table-format.js';

export const RECONCILE_USAGE =
  'costtrace reconcile [--since 30d] [--until T] [--by day,provider,model,project] [--provider P]... [--project-from service] [--project ID=NAME]... [--format table|json|csv] [--overrides-out FILE]';

export const RECONCILE_HELP = `usage: ${RECONCILE_USAGE}

The imported bills (costtrace bill import) beside the spans: per bucket the billed and traced
tokens, the billed cost, the list cost of the billed and of the traced usage, the spans' cost,
and the drift (billed − traced) split into causes:
  untraced     billed usage no span carries (uninstrumented callers)
  cache/tier   the same tokens billed in another kind (cache) or service tier
  unpriced     the list cost of spans costtrace could not price
  rate         the bill's prices against costtrace's (discounts, commitments, stale prices)
  timing       day boundaries, and days the bill does not cover yet
  unexplained  drift of models without a catalog price (not split)
and, per provider and model, the effective rate of the bill against list with the override for
pricing-cache that matches it.

options:
  --since T            start (UTC day it falls in): a duration back from now (30d), an ISO time or unix seconds; default 30d
  --until T            end (exclusive), same forms; default now
  --by d[,d]           group by day, provider, model and/or project; default day,provider,model
  --project-from D     the span dimension that stands for the bill's project (OpenAI project,
                       Anthropic workspace, cloud sub-account): service (default), team, tenant,
                       environment or feature
  --project ID=NAME    the bill's project id ID is NAME in that dimension; repeatable (unnamed ids
                       are compared as they are)
  --provider P         only this provider; repeatable
  --format F           table (default), json or csv
  --overrides-out F    write the proposed overrides as a pricing-cache overrides file (JSON)
  --min-override P     propose an override only when the rate differs from list by at least P % (default 0.5)
  --history            list the saved runs instead (every drift check saves what it saw), newest first
  --limit N            with --history: at most N runs (default 20)

Exit codes: 0 ok, 1 failed, 2 usage error, 3 nothing imported or traced in the period.`;

export interface ReconcileArgs extends StoredReconcileQuery {
  readonly format: OutputFormat;
  readonly overridesOut: string | undefined;
  /** List saved runs (drift checks) instead of reconciling: at most this many. */
  readonly history: number | undefined;
}

/** The flags as the store's reconcile query parameters (one parser for the CLI and the API). */
export function parseReconcileArgs(argv: readonly string[], nowSeconds: number): ArgsResult<ReconcileArgs> {
  const flags = parseFlags(argv, {
    since: { type: 'string' },
    until: { type: 'string' },
    by: { type: 'string', multiple: true },
    provider: { type: 'string', multiple: true },
    format: { type: 'string', choices: ['table', 'json', 'csv'] },
    'overrides-out': { type: 'string' },
    'min-override': { type: 'string' },
    'project-from': { type: 'string' },
    project: { type: 'string', multiple: true },
    history: { type: 'boolean' },
    limit: { type: 'string' },
  });
  if (!flags.ok) return flags;
  const params = new Map<string, readonly string[]>();
  for (const [flag, param] of [
    ['since', 'since'],
    ['until', 'until'],
    ['by', 'by'],
    ['provider', 'provider'],
    ['min-override', 'min_override'],
    ['project-from', 'project_from'],
    ['project', 'project'],
  ] as const) {
    const values = flags.value.get(flag);
    if (values !== undefined) params.set(param, values);
  }
  const parsed = parseReconcileQuery(params, nowSeconds);
  if (!parsed.ok) {
    const flag = parsed.parameter.replaceAll('_', '-');
    return { ok: false, message: `--${flag}: ${parsed.message}` };
  }
  const limitText = flags.value.get('limit')?.[0] ?? '20';
  if (!/^\d{1,4}$/.test(limitText) || Number(limitText) === 0) {
    return { ok: false, message: '--limit: a number of saved runs, 1 to 9999' };
  }
  return {
    ok: true,
    value: {
      ...parsed.query,
      format: (flags.value.get('format')?.[0] ?? 'table') as OutputFormat,
      overridesOut: flags.value.get('overrides-out')?.[0],
      history: flags.value.has('history') ? Number(limitText) : undefined,
    },
  };
}

/** Reads both sides from the store and reconciles them at the bundled catalog's list prices. */
export function reconcileFromStore(store: BillStore, query: StoredReconcileQuery): Promise<ReconcileReport> {
  return reconcileStored(store, query, bundledPriceSnapshot());
}

const COLUMNS = [
  'billed tokens (in/cache r/cache w/out)',
  'traced tokens',
  'billed cost',
  'list (billed usage)',
  'list (traced usage)',
  'traced cost',
  'drift',
  'untraced',
  'cache/tier',
  'unpriced',
  'rate',
  'timing',
  'unexplained',
] as const;

function tokens(t: ReconcileRow['billedTokens']): string {
  return `${t.input}/${t.cacheRead}/${t.cacheWrite}/${t.output}`;
}

function dimensionCells(row: ReconcileRow, by: readonly ReconcileDimension[]): Cell[] {
  return by.map((d) => {
    const value = row.dimensions[d] ?? '';
    if (d === 'day') return new Date(Number(value) * 1000).toISOString().slice(0, 10);
    return value === '' ? '(none)' : value;
  });
}

/** 6 decimals for the table (exact values in json/csv). */
function money(value: string | undefined, format: OutputFormat): Cell {
  if (value === undefined) return null;
  if (format !== 'table') return value;
  const [whole = '0', fraction = ''] = value.split('.');
  return `${whole}.${fraction.padEnd(6, '0').slice(0, 6)}`;
}

export function renderReconcile(report: ReconcileReport, args: ReconcileArgs): string {
  const rows = args.groupBy.length === 0 ? report.total : report.rows;
  const cells = (row: ReconcileRow, label: Cell[]): Cell[] => {
    const c = row.categories;
    const m = (v: string | undefined): Cell => money(v, args.format);
    return [
      ...label,
      row.currency,
      tokens(row.billedTokens),
      tokens(row.tracedTokens),
      m(row.billedCost),
      m(row.billedListCost),
      m(row.tracedListCost),
      m(row.tracedCost),
      m(row.drift),
      m(c?.untraced ?? row.untracedListCost),
      m(c?.cacheOrTier),
      m(c?.unpriced),
      m(c?.rate),
      m(c?.timing),
      m(c?.unexplained),
    ];
  };
  const header = [...args.groupBy, 'currency', ...COLUMNS];
  const body = rows.map((row) => cells(row, dimensionCells(row, args.groupBy)));
  if (args.format === 'json') {
    return `${JSON.stringify(
      {
        period: { since: args.since, until: args.until },
        rows: rows.map(jsonRow),
        total: report.total.map(jsonRow),
        overrides: report.overrides,
        ...(report.compute === undefined ? {} : { compute: report.compute }),
        notes: report.notes,
      },
      null,
      2,
    )}\n`;
  }
  if (args.format === 'csv') return renderRows('csv', header, body);
  const totalRows =
    args.groupBy.length === 0
      ? []
      : report.total.map((row) =>
          cells(
            row,
            args.groupBy.map((_d, i) => (i === 0 ? 'total' : '')),
          ),
        );
  let out = renderRows('table', header, [...body, ...totalRows]);
  if (report.compute !== undefined && report.compute.length > 0) {
    out += '\ncloud compute beside the bill (instance hours per instance type):\n';
    out += renderRows(
      'table',
      [
        ...args.groupBy.filter((d) => d !== 'project'),
        'currency',
        'billed h (GPU h)',
        'traced h',
        'billed',
        'traced',
        'drift',
        'idle',
        'rate',
        'timing',
      ],
      report.compute.map((c) => [
        ...args.groupBy
          .filter((d) => d !== 'project')
          .map((d) =>
            d === 'day'
              ? new Date(Number(c.dimensions.day) * 1000).toISOString().slice(0, 10)
              : (c.dimensions[d] ?? ''),
          ),
        c.currency,
        `${c.billedHours} (${c.billedGpuHours})`,
        c.tracedHours,
        money(c.billedCost, 'table'),
        money(c.tracedCost, 'table'),
        money(c.drift, 'table'),
        money(c.idle, 'table'),
        money(c.rate, 'table'),
        money(c.timing, 'table'),
      ]),
    );
  }
  if (report.overrides.length > 0) {
    out += '\nthe bill against list prices (proposed pricing-cache overrides):\n';
    out += renderRows(
      'table',
      ['provider', 'model', 'billed', 'list', 'effective rate', 'discount %'],
      report.overrides.map((o) => [
        o.provider,
        o.model,
        money(o.billedCost, 'table'),
        money(o.billedListCost, 'table'),
        o.effectiveRate,
        o.discountPercent,
      ]),
    );
  }
  for (const note of report.notes) out += `note: ${note}\n`;
  return out;
}

/** A row as JSON: token counts as strings (they may exceed 2^53), money as exact decimals. */
function jsonRow(row: ReconcileRow): Record<string, unknown> {
  const t = (x: ReconcileRow['billedTokens']) => ({
    input: x.input.toString(),
    output: x.output.toString(),
    cacheRead: x.cacheRead.toString(),
    cacheWrite: x.cacheWrite.toString(),
  });
  return {
    ...row,
    billedTokens: t(row.billedTokens),
    tracedTokens: t(row.tracedTokens),
    billedRequests: row.billedRequests.toString(),
  };
}

/** A row as the API sends it: token counts as decimal strings. */
type ApiRow = Omit<ReconcileRow, 'billedTokens' | 'tracedTokens' | 'billedRequests'> & {
  readonly billedTokens: Record<'input' | 'output' | 'cacheRead' | 'cacheWrite', string>;
  readonly tracedTokens: Record<'input' | 'output' | 'cacheRead' | 'cacheWrite', string>;
  readonly billedRequests: string;
};

function rowFromApi(row: ApiRow): ReconcileRow {
  const tokens = (t: ApiRow['billedTokens']) => ({
    input: BigInt(t.input),
    output: BigInt(t.output),
    cacheRead: BigInt(t.cacheRead),
    cacheWrite: BigInt(t.cacheWrite),
  });
  return {
    ...row,
    billedTokens: tokens(row.billedTokens),
    tracedTokens: tokens(row.tracedTokens),
    billedRequests: BigInt(row.billedRequests),
  };
}

/**
 * The same report from an aggregator's `GET /api/v1/reconcile` (`--store api:URL`): what reads a
 * running `costtrace dev`, whose process holds the DuckDB file.
 */
export async function reconcileFromApi(
  baseUrl: string,
  query: StoredReconcileQuery,
  fetchImpl: typeof fetch = fetch,
): Promise<ReconcileReport> {
  const params = new URLSearchParams();
  params.set('since', String(query.since));
  params.set('until', String(query.until));
  params.set('by', query.groupBy.join(','));
  for (const p of query.providers) params.append('provider', p);
  if (query.minOverridePercent !== undefined) params.set('min_override', String(query.minOverridePercent));
  if (query.projects !== undefined) {
    params.set('project_from', query.projects.from);
    for (const [id, name] of query.projects.names) params.append('project', `${id}=${name}`);
  }
  const url = `${baseUrl.replace(/\/+$/, '')}/api/v1/reconcile?${params.toString()}`;
  const res = await fetchImpl(url, { signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as {
    rows: ApiRow[];
    total: ApiRow[];
    overrides: ReconcileReport['overrides'];
    compute?: ReconcileReport['compute'];
    notes: string[];
  };
  return {
    rows: body.rows.map(rowFromApi),
    total: body.total.map(rowFromApi),
    overrides: body.overrides,
    ...(body.compute === undefined ? {} : { compute: body.compute }),
    notes: body.notes,
  };
}

export async function runReconcile(
  argv: readonly string[],
  deps: {
    /** The store, or the URL of an aggregator's API that reads it. */
    readonly store: BillStore | { readonly apiUrl: string };
    readonly output: CommandOutput;
    readonly nowSeconds?: number;
  },
): Promise<number> {
  const args = parseReconcileArgs(argv, deps.nowSeconds ?? Math.floor(Date.now() / 1000));
  if (!args.ok) {
    deps.output.err(`costtrace reconcile: ${args.message}\nusage: ${RECONCILE_USAGE}\n`);
    return 2;
  }
  if (args.value.history !== undefined) {
    if ('apiUrl' in deps.store) {
      deps.output.err(
        'costtrace reconcile: --history reads the store: use --store clickhouse or --store duckdb:PATH\n',
      );
      return 2;
    }
    const runs = await deps.store.savedReconcileRuns(args.value.history);
    const time = (t: number): string => new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' ');
    deps.output.out(
      renderRows(
        args.value.format,
        [
          'run at (UTC)',
          'since',
          'until',
          'by',
          'currency',
          'rows',
          'billed',
          'traced',
          'drift',
          'untraced',
          'rate',
          'run',
        ],
        runs.map((r) => [
          time(r.runAt),
          time(r.since),
          time(r.until),
          r.groupBy,
          r.currency,
          r.rows,
          money(r.billedCost, args.value.format),
          money(r.tracedCost, args.value.format),
          money(r.drift, args.value.format),
          money(r.untraced, args.value.format),
          money(r.rate, args.value.format),
          r.runId,
        ]),
      ),
    );
    return 0;
  }
  let report: ReconcileReport;
  if ('apiUrl' in deps.store) {
    try {
      report = await reconcileFromApi(deps.store.apiUrl, args.value);
    } catch (err) {
      deps.output.err(`costtrace reconcile: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    }
  } else report = await reconcileFromStore(deps.store, args.value);
  if (report.total.length === 0) {
    deps.output.err(
      'costtrace reconcile: nothing billed or traced in the period: import a bill first (costtrace bill import …)\n',
    );
    return 3;
  }
  deps.output.out(renderReconcile(report, args.value));
  if (args.value.overridesOut !== undefined) {
    await writeFile(
      args.value.overridesOut,
      `${JSON.stringify({ overrides: report.overrides.map((o) => o.record) }, null, 2)}\n`,
    );
    deps.output.err(`wrote ${report.overrides.length} override(s) to ${args.value.overridesOut}\n`);
  }
  return 0;
}
