/** `costtrace unit-economics`: cost per request, per tenant, per 1M tokens, and margin given revenue. */
import { divideRoundHalfEven, HOURS_PER_MONTH } from '@costtrace/core';
import { MAX_QUERY_LIMIT } from '@costtrace/store';
import { renderRows } from '../table-format.js';
import type { Cell } from '../table-format.js';
import type { ArgsResult } from '../args.js';
import {
  COMMON_FLAGS_HELP,
  dimensionLabel,
  flag,
  parseCommand,
  percentOf,
  pico,
  positiveDecimal,
  ratio,
  usd,
} from './common-flags.js';
import type { CommonArgs } from './common-flags.js';
import { decorate, nowOf, progress, usageError } from './command-deps.js';
import type { AnalysisDeps } from './command-deps.js';

export const UNIT_ECONOMICS_USAGE = `costtrace unit-economics [--by tenant] [--since 30d] [--until T] [--where dim=value]... [--revenue-per-request USD | --revenue value:USD_PER_MONTH ...] [--format table|json|csv] [--limit N]`;

export const UNIT_ECONOMICS_HELP = `usage: ${UNIT_ECONOMICS_USAGE}

Cost per request, per 1k requests and per 1M tokens for each value of --by (default tenant),
and, when revenue is given, revenue, margin and margin percent.
  --revenue-per-request USD     revenue of one request (e.g. 0.002)
  --revenue value:USD           monthly revenue of one --by value (e.g. acme:1200), repeatable;
                                prorated to the period: USD × period hours / ${HOURS_PER_MONTH} (hours per month)
Money is exact (10^-12 USD), rounded once half to even.

${COMMON_FLAGS_HELP}

examples:
  costtrace unit-economics --since 30d
  costtrace unit-economics --by tenant --revenue acme:1200 --revenue globex:300 --format csv
  costtrace unit-economics --by route --revenue-per-request 0.002 --since 7d`;

export interface UnitEconomicsArgs {
  readonly common: CommonArgs;
  readonly revenuePerRequest: bigint | undefined;
  /** Monthly revenue (pico-USD) by --by label. */
  readonly monthlyRevenue: ReadonlyMap<string, bigint>;
}

export function parseUnitEconomicsArgs(argv: readonly string[], nowSeconds: number): ArgsResult<UnitEconomicsArgs> {
  const parsed = parseCommand(
    argv,
    { 'revenue-per-request': { type: 'string' }, revenue: { type: 'string', multiple: true } },
    nowSeconds,
    { since: '30d', by: ['tenant'] },
  );
  if (!parsed.ok) return parsed;
  if (parsed.value.positionals.length > 0)
    return { ok: false, message: `unexpected argument ${JSON.stringify(parsed.value.positionals[0])}` };
  const rprText = flag(parsed.value.flags, 'revenue-per-request');
  let revenuePerRequest: bigint | undefined;
  if (rprText !== undefined) {
    const v = positiveDecimal('revenue-per-request', rprText, 12);
    if (typeof v === 'string') return { ok: false, message: v };
    revenuePerRequest = v;
  }
  const monthlyRevenue = new Map<string, bigint>();
  for (const item of parsed.value.flags.get('revenue') ?? []) {
    const colon = item.lastIndexOf(':');
    const eq = item.indexOf('=');
    // accept both acme:1200 and tenant=acme:1200
    const key = colon <= 0 ? '' : item.slice(eq === -1 || eq > colon ? 0 : eq + 1, colon);
    const v = positiveDecimal('revenue', colon <= 0 ? undefined : item.slice(colon + 1), 12);
    if (key === '' || typeof v === 'string')
      return { ok: false, message: `--revenue ${JSON.stringify(item)} is not VALUE:USD_PER_MONTH (e.g. acme:1200)` };
    monthlyRevenue.set(key, v);
  }
  if (revenuePerRequest !== undefined && monthlyRevenue.size > 0)
    return { ok: false, message: 'give --revenue-per-request or --revenue, not both' };
  return { ok: true, value: { common: parsed.value.common, revenuePerRequest, monthlyRevenue } };
}

/** Monthly revenue prorated to a period of `seconds`: exact, rounded half to even. */
export function proratedRevenue(monthly: bigint, seconds: number): bigint {
  return divideRoundHalfEven(monthly * BigInt(seconds), HOURS_PER_MONTH * 3600n);
}

export async function runUnitEconomics(argv: readonly string[], deps: AnalysisDeps): Promise<number> {
  const args = parseUnitEconomicsArgs(argv, nowOf(deps));
  if (!args.ok) return usageError('unit-economics', args.message, UNIT_ECONOMICS_USAGE, deps.output);
  const { common, revenuePerRequest, monthlyRevenue } = args.value;
  progress(deps, 'querying…');
  const rows = await deps.source.queryCosts({
    ...common.query,
    orderBy: 'cost',
    limit: common.limit ?? MAX_QUERY_LIMIT,
  });
  const withRevenue = revenuePerRequest !== undefined || monthlyRevenue.size > 0;
  const columns = [
    ...(common.by.length > 0 ? [common.by.join('/')] : []),
    'cost',
    'requests',
    'tokens',
    'cost_per_request',
    'cost_per_1k_requests',
    'cost_per_1m_tokens',
    ...(withRevenue ? ['revenue', 'margin', 'margin_pct'] : []),
  ];
  const out: Cell[][] = rows.map((r) => {
    const cost = pico(r.cost);
    const requests = BigInt(r.requests);
    const label = dimensionLabel(r, common.by);
    let revenue: bigint | null = null;
    if (revenuePerRequest !== undefined) revenue = revenuePerRequest * requests;
    else if (monthlyRevenue.size > 0) {
      const monthly = monthlyRevenue.get(label);
      revenue = monthly === undefined ? null : proratedRevenue(monthly, common.until - common.since);
    }
    const money = (x: bigint | null): string | null => (x === null ? null : usd(x));
    return [
      ...(common.by.length > 0 ? [label] : []),
      usd(cost),
      r.requests,
      r.tokens,
      money(ratio(cost, requests)),
      money(ratio(cost, requests, 1000n)),
      money(ratio(cost, BigInt(r.tokens), 1_000_000n)),
      ...(withRevenue
        ? [
            money(revenue),
            money(revenue === null ? null : revenue - cost),
            revenue === null ? null : percentOf(revenue - cost, revenue),
          ]
        : []),
    ];
  });
  deps.output.out(decorate(deps, common.format, renderRows(common.format, columns, out)));
  return 0;
}
