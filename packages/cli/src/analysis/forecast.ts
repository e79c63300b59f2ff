/**
 * `costtrace forecast`: month-end projection per dimension from the recent burn rate.
 *
 * Method (UTC calendar month): projected = month-to-date cost + rate × seconds left in the
 * month, where rate = cost over the burn window [now − window, now) ÷ window seconds. The
 * division is done once, exactly, rounded half to even. With a budget, the exhaustion time is
 * now + (budget − month-to-date) ÷ rate, reported when it falls before the month ends.
 */
import { divideRoundHalfEven } from '@costtrace/core';
import { MAX_QUERY_LIMIT } from '@costtrace/store';
import { renderRows } from '../table-format.js';
import type { Cell } from '../table-format.js';
import type { ArgsResult } from '../args.js';
import {
  COMMON_FLAGS_HELP,
  dimensionLabel,
  parseCommand,
  percentOf,
  pico,
  positiveDecimal,
  usd,
} from './common-flags.js';
import type { CommonArgs } from './common-flags.js';
import { decorate, nowOf, progress, usageError } from './command-deps.js';
import type { AnalysisDeps } from './command-deps.js';

export const FORECAST_USAGE = `costtrace forecast [--by dim[,dim]] [--since 7d] [--where dim=value]... [--budget USD | --budget value:USD ...] [--format table|json|csv] [--limit N]`;

export const FORECAST_HELP = `usage: ${FORECAST_USAGE}

Month-end projection (UTC calendar month) for each value of --by, or the total:
  projected = month-to-date + burn rate × time left in the month
  burn rate = cost in the window given by --since (default the last 7 days) ÷ its length
With --budget (monthly USD; one figure for every row, or value:USD per row) the budget's
percentage used, projected percentage, and the date the budget runs out at the current rate.
(Budgets defined in the aggregator are shown by "costtrace budget status".)

${COMMON_FLAGS_HELP}
  --until is not used: the forecast is from now

examples:
  costtrace forecast
  costtrace forecast --by tenant --budget acme:500 --budget globex:200
  costtrace forecast --by route --since 3d --format json`;

export interface ForecastArgs {
  readonly common: CommonArgs;
  readonly budgetAll: bigint | undefined;
  readonly budgets: ReadonlyMap<string, bigint>;
  readonly now: number;
}

export function parseForecastArgs(argv: readonly string[], nowSeconds: number): ArgsResult<ForecastArgs> {
  if (argv.some((a) => a === '--until' || a.startsWith('--until=')))
    return { ok: false, message: '--until is not used by forecast: it projects from now' };
  const parsed = parseCommand(argv, { budget: { type: 'string', multiple: true } }, nowSeconds, { since: '7d' });
  if (!parsed.ok) return parsed;
  if (parsed.value.positionals.length > 0)
    return { ok: false, message: `unexpected argument ${JSON.stringify(parsed.value.positionals[0])}` };
  let budgetAll: bigint | undefined;
  const budgets = new Map<string, bigint>();
  for (const text of parsed.value.flags.get('budget') ?? []) {
    const colon = text.lastIndexOf(':');
    const v = positiveDecimal('budget', colon === -1 ? text : text.slice(colon + 1), 12);
    if (typeof v === 'string') return { ok: false, message: `${v}: give USD or value:USD (e.g. acme:500)` };
    if (colon === -1) budgetAll = v;
    else budgets.set(text.slice(0, colon), v);
  }
  return { ok: true, value: { common: parsed.value.common, budgetAll, budgets, now: nowSeconds } };
}

/** Start and end (exclusive) of the UTC calendar month holding `seconds`. */
export function monthBounds(seconds: number): { start: number; end: number } {
  const d = new Date(seconds * 1000);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000;
  const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / 1000;
  return { start, end };
}

export interface Projection {
  readonly projected: bigint;
  /** Pico-USD per day. */
  readonly ratePerDay: bigint;
  /** Unix seconds when the budget runs out, 'exhausted' if already, null if not this month. */
  readonly exhaustion: number | 'exhausted' | null;
}

/** Pure: the projection of one row. */
export function project(
  monthToDate: bigint,
  windowCost: bigint,
  windowSeconds: number,
  now: number,
  monthEnd: number,
  budget: bigint | undefined,
): Projection {
  const left = BigInt(Math.max(0, monthEnd - now));
  const projected = monthToDate + divideRoundHalfEven(windowCost * left, BigInt(windowSeconds));
  const ratePerDay = divideRoundHalfEven(windowCost * 86_400n, BigInt(windowSeconds));
  let exhaustion: Projection['exhaustion'] = null;
  if (budget !== undefined) {
    if (monthToDate >= budget) exhaustion = 'exhausted';
    else if (windowCost > 0n) {
      // seconds until spend reaches the budget, rounded up to the whole second
      const need = (budget - monthToDate) * BigInt(windowSeconds);
      const secs = (need + windowCost - 1n) / windowCost;
      if (secs <= left) exhaustion = now + Number(secs);
    }
  }
  return { projected, ratePerDay, exhaustion };
}

export async function runForecast(argv: readonly string[], deps: AnalysisDeps): Promise<number> {
  const now = nowOf(deps);
  const args = parseForecastArgs(argv, now);
  if (!args.ok) return usageError('forecast', args.message, FORECAST_USAGE, deps.output);
  const { common, budgetAll, budgets } = args.value;
  const month = monthBounds(now);
  const windowSeconds = now - common.since;
  progress(deps, 'querying…');
  const base = { ...common.query, orderBy: 'cost' as const, limit: MAX_QUERY_LIMIT };
  const [mtdRows, windowRows] = await Promise.all([
    deps.source.queryCosts({ ...base, since: month.start, until: now }),
    deps.source.queryCosts({ ...base, since: common.since, until: now }),
  ]);
  const labels = new Map<string, { mtd: bigint; window: bigint }>();
  for (const r of mtdRows) labels.set(dimensionLabel(r, common.by), { mtd: pico(r.cost), window: 0n });
  for (const r of windowRows) {
    const key = dimensionLabel(r, common.by);
    const cur = labels.get(key) ?? { mtd: 0n, window: 0n };
    labels.set(key, { ...cur, window: pico(r.cost) });
  }
  const withBudget = budgetAll !== undefined || budgets.size > 0;
  const computed = [...labels].map(([label, v]) => {
    const budget = budgets.get(label) ?? budgetAll;
    return { label, ...v, budget, p: project(v.mtd, v.window, windowSeconds, now, month.end, budget) };
  });
  computed.sort((a, b) =>
    a.p.projected === b.p.projected ? a.label.localeCompare(b.label) : a.p.projected > b.p.projected ? -1 : 1,
  );
  const shown = computed.slice(0, common.limit ?? computed.length);
  const columns = [
    ...(common.by.length > 0 ? [common.by.join('/')] : []),
    'month_to_date',
    'burn_per_day',
    'projected_month_end',
    ...(withBudget ? ['budget', 'used_pct', 'projected_pct', 'exhausted_at'] : []),
  ];
  const rows: Cell[][] = shown.map((c) => [
    ...(common.by.length > 0 ? [c.label] : []),
    usd(c.mtd),
    usd(c.p.ratePerDay),
    usd(c.p.projected),
    ...(withBudget
      ? [
          c.budget === undefined ? null : usd(c.budget),
          c.budget === undefined ? null : percentOf(c.mtd, c.budget),
          c.budget === undefined ? null : percentOf(c.p.projected, c.budget),
          c.p.exhaustion === null
            ? null
            : c.p.exhaustion === 'exhausted'
              ? 'exhausted'
              : new Date(c.p.exhaustion * 1000).toISOString(),
        ]
      : []),
  ]);
  deps.output.out(decorate(deps, common.format, renderRows(common.format, columns, rows)));
  return 0;
}
