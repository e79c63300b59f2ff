/**
 * `costtrace chargeback`: cost per team (or tenant) for a period, with unattributed and shared
 * cost allocated by a rule. Every figure is exact and the totals reconcile to the last
 * pico-dollar: allocation uses the largest-remainder method.
 */
import { MAX_QUERY_LIMIT } from '@costtrace/store';
import type { QueryDimension } from '@costtrace/store';
import { renderRows } from '../table-format.js';
import type { Cell } from '../table-format.js';
import type { ArgsResult } from '../args.js';
import { allocate, COMMON_FLAGS_HELP, flag, parseCommand, percentOf, pico, usd } from './common-flags.js';
import type { CommonArgs } from './common-flags.js';
import { decorate, nowOf, progress, usageError } from './command-deps.js';
import type { AnalysisDeps } from './command-deps.js';

export const CHARGEBACK_USAGE = `costtrace chargeback [--by team|tenant] [--since 30d] [--until T] [--where dim=value]... [--shared value]... [--allocate proportional|even|fixed:a=60,b=40] [--format table|json|csv]`;

export const CHARGEBACK_HELP = `usage: ${CHARGEBACK_USAGE}

Cost per team (default) or tenant for a period. Spans with no team/tenant are unattributed;
values named with --shared (e.g. a platform team that owns the idle GPU pool) are shared cost.
Both are allocated to the other values by --allocate:
  proportional      in proportion to each value's direct cost (default)
  even              equal parts
  fixed:a=60,b=40   fixed percentages, which must add up to 100
Allocation is exact (largest remainder), so the total column adds up to the period's cost
exactly. The last row is the TOTAL.

${COMMON_FLAGS_HELP}

examples:
  costtrace chargeback --since 30d
  costtrace chargeback --by tenant --allocate even --format csv > chargeback.csv
  costtrace chargeback --shared platform --allocate fixed:search=60,chat=40`;

export type AllocationRule =
  | { readonly kind: 'proportional' }
  | { readonly kind: 'even' }
  | { readonly kind: 'fixed'; readonly shares: ReadonlyMap<string, bigint> };

export interface ChargebackArgs {
  readonly common: CommonArgs;
  readonly dimension: QueryDimension;
  readonly shared: readonly string[];
  readonly rule: AllocationRule;
}

export function parseAllocation(text: string): AllocationRule | string {
  if (text === 'proportional' || text === 'even') return { kind: text };
  if (!text.startsWith('fixed:'))
    return `--allocate must be proportional, even or fixed:a=60,b=40 (got ${JSON.stringify(text)})`;
  const shares = new Map<string, bigint>();
  let sum = 0n;
  for (const part of text.slice(6).split(',')) {
    const m = /^(.+)=(\d{1,3})$/.exec(part);
    if (!m) return `--allocate fixed: ${JSON.stringify(part)} is not name=percent`;
    const pct = BigInt(m[2]!);
    shares.set(m[1]!, pct);
    sum += pct;
  }
  if (sum !== 100n) return `--allocate fixed: percentages add up to ${sum}, not 100`;
  return { kind: 'fixed', shares };
}

export function parseChargebackArgs(argv: readonly string[], nowSeconds: number): ArgsResult<ChargebackArgs> {
  const parsed = parseCommand(
    argv,
    { allocate: { type: 'string' }, shared: { type: 'string', multiple: true } },
    nowSeconds,
    { since: '30d', by: ['team'] },
  );
  if (!parsed.ok) return parsed;
  if (parsed.value.positionals.length > 0)
    return { ok: false, message: `unexpected argument ${JSON.stringify(parsed.value.positionals[0])}` };
  const by = parsed.value.common.by;
  if (by.length !== 1) return { ok: false, message: '--by takes one dimension for chargeback (team or tenant)' };
  const rule = parseAllocation(flag(parsed.value.flags, 'allocate') ?? 'proportional');
  if (typeof rule === 'string') return { ok: false, message: rule };
  return {
    ok: true,
    value: { common: parsed.value.common, dimension: by[0]!, shared: parsed.value.flags.get('shared') ?? [], rule },
  };
}

export interface ChargebackLine {
  readonly name: string;
  readonly direct: bigint;
  readonly allocated: bigint;
  readonly total: bigint;
  readonly requests: number;
}

export type ChargebackResult =
  { ok: true; lines: ChargebackLine[]; pool: bigint; total: bigint } | { ok: false; message: string };

/**
 * Pure: direct costs by value → the chargeback lines. Values '' (unattributed) and the shared
 * ones form the pool, which is allocated to the rest; their own lines show the pool leaving.
 */
export function chargeback(
  direct: readonly { name: string; cost: bigint; requests: number }[],
  shared: readonly string[],
  rule: AllocationRule,
): ChargebackResult {
  const isPool = (name: string): boolean => name === '' || shared.includes(name);
  const receivers = direct.filter((d) => !isPool(d.name));
  const pool = direct.filter((d) => isPool(d.name)).reduce((a, d) => a + d.cost, 0n);
  const total = direct.reduce((a, d) => a + d.cost, 0n);
  const names = receivers.map((r) => r.name);
  if (rule.kind === 'fixed') for (const n of rule.shares.keys()) if (!names.includes(n)) names.push(n);
  let weights: bigint[];
  if (rule.kind === 'fixed') {
    const unknown = [...rule.shares.keys()].filter((n) => isPool(n));
    if (unknown.length > 0)
      return { ok: false, message: `--allocate fixed names a shared value: ${unknown.join(', ')}` };
    weights = names.map((n) => rule.shares.get(n) ?? 0n);
  } else if (rule.kind === 'even') weights = names.map(() => 1n);
  else weights = names.map((n) => receivers.find((r) => r.name === n)?.cost ?? 0n);
  let parts: bigint[];
  if (pool === 0n) parts = names.map(() => 0n);
  else if (names.length === 0 || weights.every((w) => w <= 0n))
    return {
      ok: false,
      message:
        rule.kind === 'proportional'
          ? 'no attributed cost to allocate in proportion to: use --allocate even or fixed:…'
          : 'nothing to allocate the shared cost to: name values with --allocate fixed:…',
    };
  else parts = allocate(pool, weights);
  const lines: ChargebackLine[] = names.map((name, i) => {
    const d = receivers.find((r) => r.name === name);
    const cost = d?.cost ?? 0n;
    return { name, direct: cost, allocated: parts[i]!, total: cost + parts[i]!, requests: d?.requests ?? 0 };
  });
  for (const d of direct.filter((x) => isPool(x.name)))
    lines.push({
      name: d.name === '' ? '(unattributed)' : `${d.name} (shared)`,
      direct: d.cost,
      allocated: -d.cost,
      total: 0n,
      requests: d.requests,
    });
  lines.sort((a, b) => (a.total === b.total ? a.name.localeCompare(b.name) : a.total > b.total ? -1 : 1));
  return { ok: true, lines, pool, total };
}

export async function runChargeback(argv: readonly string[], deps: AnalysisDeps): Promise<number> {
  const args = parseChargebackArgs(argv, nowOf(deps));
  if (!args.ok) return usageError('chargeback', args.message, CHARGEBACK_USAGE, deps.output);
  const { common, dimension, shared, rule } = args.value;
  progress(deps, 'querying…');
  const rows = await deps.source.queryCosts({ ...common.query, orderBy: 'cost', limit: MAX_QUERY_LIMIT });
  if (rows.length >= MAX_QUERY_LIMIT) {
    deps.output.err(`costtrace chargeback: more than ${MAX_QUERY_LIMIT} ${dimension} values; narrow with --where\n`);
    return 1;
  }
  const result = chargeback(
    rows.map((r) => ({ name: r.dimensions[dimension] ?? '', cost: pico(r.cost), requests: r.requests })),
    shared,
    rule,
  );
  if (!result.ok) {
    deps.output.err(`costtrace chargeback: ${result.message}\n`);
    return 1;
  }
  const columns = [dimension, 'direct_cost', 'allocated_shared', 'total_cost', 'share_pct', 'requests'];
  const body: Cell[][] = result.lines.map((l) => [
    l.name,
    usd(l.direct),
    usd(l.allocated),
    usd(l.total),
    percentOf(l.total, result.total),
    l.requests,
  ]);
  const requests = result.lines.reduce((a, l) => a + l.requests, 0);
  body.push(['TOTAL', usd(result.total), usd(0n), usd(result.total), result.total === 0n ? null : '100.00', requests]);
  deps.output.out(decorate(deps, common.format, renderRows(common.format, columns, body)));
  return 0;
}
