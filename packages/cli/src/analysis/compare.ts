/** `costtrace compare commit|model|tenant|route|period A B`: side by side, with the difference. */
import { parseTime } from '@costtrace/store';
import type { CostQuery, DimensionFilter, QueryDimension } from '@costtrace/store';
import { renderRows } from '../table-format.js';
import type { Cell } from '../table-format.js';
import type { ArgsResult } from '../args.js';
import { COMMON_FLAGS_HELP, flag, parseCommand, percentChange, ratio, totals, usd } from './common-flags.js';
import type { CommonArgs } from './common-flags.js';
import { decorate, nowOf, progress, usageError } from './command-deps.js';
import type { AnalysisDeps } from './command-deps.js';

const KINDS: Readonly<Record<string, QueryDimension | 'period'>> = {
  commit: 'commit',
  model: 'model',
  tenant: 'tenant',
  team: 'team',
  route: 'route',
  service: 'service',
  provider: 'provider',
  period: 'period',
};

export const COMPARE_USAGE = `costtrace compare commit|model|tenant|team|route|service|provider|period A B [--route R] [--since 7d] [--until T] [--where dim=value]... [--format table|json|csv]`;

export const COMPARE_HELP = `usage: ${COMPARE_USAGE}

Two commits, models, tenants… (or two periods) side by side: total cost, requests, tokens,
cost per request and per 1M tokens, and the difference B − A, absolute and in percent.
Periods are written SINCE..UNTIL with the time forms of --since (e.g. 14d..7d 7d..now).

${COMMON_FLAGS_HELP}
  --route R          shorthand for --where route=R

examples:
  costtrace compare commit a1b2c3d e4f5a6b --route /v1/chat
  costtrace compare model gpt-4o gpt-4o-mini --since 7d --format json
  costtrace compare period 14d..7d 7d..now --where tenant=acme`;

export interface CompareArgs {
  readonly kind: QueryDimension | 'period';
  readonly a: string;
  readonly b: string;
  readonly queryA: CostQuery;
  readonly queryB: CostQuery;
  readonly common: CommonArgs;
}

function period(text: string, nowSeconds: number): { since: number; until: number } | string {
  const [from, to, extra] = text.split('..');
  if (from === undefined || to === undefined || extra !== undefined)
    return `period ${JSON.stringify(text)} is not SINCE..UNTIL (e.g. 14d..7d)`;
  try {
    const since = parseTime('since', from, nowSeconds);
    const until = parseTime('until', to, nowSeconds);
    if (until <= since) return `period ${text}: the end must be after the start`;
    return { since, until };
  } catch (err) {
    return `period ${text}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

export function parseCompareArgs(argv: readonly string[], nowSeconds: number): ArgsResult<CompareArgs> {
  const parsed = parseCommand(argv, { route: { type: 'string' } }, nowSeconds, { since: '7d' });
  if (!parsed.ok) return parsed;
  const [kindWord, a, b, ...rest] = parsed.value.positionals;
  const kind = kindWord === undefined ? undefined : KINDS[kindWord];
  if (kind === undefined) return { ok: false, message: `say what to compare: one of ${Object.keys(KINDS).join(', ')}` };
  if (a === undefined || b === undefined) return { ok: false, message: `give two ${kindWord}s to compare` };
  if (rest.length > 0) return { ok: false, message: `unexpected argument ${JSON.stringify(rest[0])}` };
  const common = parsed.value.common;
  const route = flag(parsed.value.flags, 'route');
  const filters: DimensionFilter[] = [...common.query.filters.filter((f) => f.dimension !== kind)];
  if (route !== undefined) filters.push({ dimension: 'route', values: [route] });
  const base: CostQuery = { ...common.query, groupBy: [], filters, limit: 1 };
  if (kind === 'period') {
    const pa = period(a, nowSeconds);
    const pb = period(b, nowSeconds);
    if (typeof pa === 'string') return { ok: false, message: pa };
    if (typeof pb === 'string') return { ok: false, message: pb };
    return { ok: true, value: { kind, a, b, queryA: { ...base, ...pa }, queryB: { ...base, ...pb }, common } };
  }
  const only = (value: string): CostQuery => ({ ...base, filters: [...filters, { dimension: kind, values: [value] }] });
  return { ok: true, value: { kind, a, b, queryA: only(a), queryB: only(b), common } };
}

export interface ComparisonLine {
  readonly metric: string;
  readonly a: string | null;
  readonly b: string | null;
  readonly difference: string | null;
  readonly differencePct: string | null;
}

/** Pure: the comparison lines from the two sides' sums. */
export function comparison(
  a: { cost: bigint; requests: bigint; tokens: bigint },
  b: { cost: bigint; requests: bigint; tokens: bigint },
): ComparisonLine[] {
  const money = (x: bigint | null): string | null => (x === null ? null : usd(x));
  const line = (metric: string, x: bigint | null, y: bigint | null, fmt: (v: bigint | null) => string | null) => ({
    metric,
    a: fmt(x),
    b: fmt(y),
    difference: x === null || y === null ? null : fmt(y - x),
    differencePct: x === null || y === null ? null : percentChange(x, y),
  });
  const count = (x: bigint | null): string | null => (x === null ? null : x.toString());
  return [
    line('total_cost', a.cost, b.cost, money),
    line('requests', a.requests, b.requests, count),
    line('tokens', a.tokens, b.tokens, count),
    line('cost_per_request', ratio(a.cost, a.requests), ratio(b.cost, b.requests), money),
    line('cost_per_1m_tokens', ratio(a.cost, a.tokens, 1_000_000n), ratio(b.cost, b.tokens, 1_000_000n), money),
  ];
}

export async function runCompare(argv: readonly string[], deps: AnalysisDeps): Promise<number> {
  const args = parseCompareArgs(argv, nowOf(deps));
  if (!args.ok) return usageError('compare', args.message, COMPARE_USAGE, deps.output);
  progress(deps, 'querying…');
  const [ra, rb] = await Promise.all([
    deps.source.queryCosts(args.value.queryA),
    deps.source.queryCosts(args.value.queryB),
  ]);
  const ta = totals(ra);
  const tb = totals(rb);
  if (ta.spans === 0n && tb.spans === 0n) {
    deps.output.err(
      `costtrace compare: no spans for either ${args.value.kind} in the period; widen --since or check the names\n`,
    );
    return 3;
  }
  const lines = comparison(ta, tb);
  const columns = ['metric', args.value.a, args.value.b, 'difference', 'difference_pct'];
  const rows: Cell[][] = lines.map((l) => [l.metric, l.a, l.b, l.difference, l.differencePct]);
  deps.output.out(decorate(deps, args.value.common.format, renderRows(args.value.common.format, columns, rows)));
  return 0;
}
