/**
 * `costtrace chargeback`: cost per team (or tenant) for a period, with unattributed and shared
 * cost allocated by a rule. Every figure is exact and the totals reconcile to the last
 * pico-dollar: allocation uses the largest-remainder method.
 *
 * With `--cluster-cost opencost` a shared Kubernetes cluster's cost joins in, from the OpenCost
 * imports of the period (costtrace bill import|fetch opencost): see cluster-cost.ts.
 */
import { formatScaled, MONEY_SCALE } from '@costtrace/core';
import { MAX_QUERY_LIMIT, TRACED_SECONDS_DIMENSIONS } from '@costtrace/store';
import type { BillStore, QueryDimension, TracedSecondsDimension } from '@costtrace/store';
import { renderRows } from '../table-format.js';
import type { Cell } from '../table-format.js';
import type { ArgsResult } from '../args.js';
import { allocate, COMMON_FLAGS_HELP, EXIT, flag, parseCommand, percentOf, pico, usd } from './common-flags.js';
import type { CommonArgs } from './common-flags.js';
import { decorate, nowOf, progress, usageError } from './command-deps.js';
import type { AnalysisDeps } from './command-deps.js';
import { CLUSTER_ALLOCATE_RULES, parseClusterMap, spreadClusterCost } from './cluster-cost.js';
import type { ClusterAllocateRule, ClusterCostInput, ClusterPart, ClusterSpread } from './cluster-cost.js';

export const CHARGEBACK_USAGE = `costtrace chargeback [--by team|tenant] [--since 30d] [--until T] [--where dim=value]... [--shared value]... [--allocate proportional|even|fixed:a=60,b=40] [--cluster-cost opencost [--cluster-allocate traced|opencost] [--map NAMESPACE=TEAM]... [--cluster-shared NAMESPACE]...] [--format table|json|csv]`;

export const CHARGEBACK_HELP = `usage: ${CHARGEBACK_USAGE}

Cost per team (default) or tenant for a period. Spans with no team/tenant are unattributed;
values named with --shared (e.g. a platform team that owns the idle GPU pool) are shared cost.
Both are allocated to the other values by --allocate:
  proportional      in proportion to each value's direct cost (default)
  even              equal parts
  fixed:a=60,b=40   fixed percentages, which must add up to 100
Allocation is exact (largest remainder), so the total column adds up to the period's cost
exactly. The last row is the TOTAL.

Shared cluster cost (OpenCost allocations imported with costtrace bill import|fetch opencost):
  --cluster-cost opencost      add the cluster's cost of the period (the current imports of the
                               days whose allocation windows start in it)
  --map NAMESPACE=TEAM         the team (or tenant) a namespace's allocated cost goes to;
                               repeatable, or a comma list. A report aggregated by a label
                               (label:team) names its teams itself; --map can rename them
  --cluster-shared NAMESPACE   a namespace whose cost is shared (kube-system, monitoring…)
  --cluster-allocate RULE      how the pool is spread over the teams:
      traced    in proportion to each team's traced GPU-seconds + instance-seconds (default)
      opencost  in proportion to each team's allocated cluster cost
The pool is the cluster's idle cost (__idle__), its shared cost (__shared__ and --cluster-shared),
its unallocated cost (__unallocated__, __unmounted__) and namespaces no --map names. Each team's
cluster_allocated + cluster_shared, summed, is the imported cluster total, and the cluster_shared
column sums to the pool, to the last pico-dollar. --where is refused with --cluster-cost (the
cluster's cost is the whole cluster's). JSON output is then an object: { rows, cluster }.

${COMMON_FLAGS_HELP}

examples:
  costtrace chargeback --since 30d
  costtrace chargeback --by tenant --allocate even --format csv > chargeback.csv
  costtrace chargeback --shared platform --allocate fixed:search=60,chat=40
  costtrace chargeback --since 2026-11-01 --until 2026-12-01 --cluster-cost opencost \\
    --map ml-serving=chat --map ml-training=search --cluster-shared kube-system`;

export type AllocationRule =
  | { readonly kind: 'proportional' }
  | { readonly kind: 'even' }
  | { readonly kind: 'fixed'; readonly shares: ReadonlyMap<string, bigint> };

/** What `--cluster-cost` and its flags ask for. */
export interface ClusterCostArgs {
  readonly source: 'opencost';
  readonly rule: ClusterAllocateRule;
  readonly map: ReadonlyMap<string, string>;
  readonly sharedNames: readonly string[];
}

export interface ChargebackArgs {
  readonly common: CommonArgs;
  readonly dimension: QueryDimension;
  readonly shared: readonly string[];
  readonly rule: AllocationRule;
  /** Absent without --cluster-cost. */
  readonly cluster?: ClusterCostArgs | undefined;
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
    {
      allocate: { type: 'string' },
      shared: { type: 'string', multiple: true },
      'cluster-cost': { type: 'string' },
      'cluster-allocate': { type: 'string' },
      map: { type: 'string', multiple: true },
      'cluster-shared': { type: 'string', multiple: true },
    },
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
  const shared = parsed.value.flags.get('shared') ?? [];
  const cluster = parseClusterArgs(parsed.value.flags, by[0]!, shared, parsed.value.common.where);
  if (typeof cluster === 'string') return { ok: false, message: cluster };
  return {
    ok: true,
    value: { common: parsed.value.common, dimension: by[0]!, shared, rule, cluster },
  };
}

/** The --cluster-* flags and --map, checked together; undefined without --cluster-cost. */
function parseClusterArgs(
  flags: ReadonlyMap<string, readonly string[]>,
  dimension: QueryDimension,
  shared: readonly string[],
  where: readonly string[],
): ClusterCostArgs | undefined | string {
  const source = flags.get('cluster-cost')?.[0];
  if (source === undefined) {
    const stray = ['cluster-allocate', 'map', 'cluster-shared'].find((f) => flags.has(f));
    return stray === undefined ? undefined : `--${stray} needs --cluster-cost opencost`;
  }
  if (source !== 'opencost') return `--cluster-cost must be opencost (got ${JSON.stringify(source)})`;
  if (!(TRACED_SECONDS_DIMENSIONS as readonly string[]).includes(dimension)) {
    return `--cluster-cost spreads cluster cost over teams or tenants: use --by team or --by tenant (got ${dimension})`;
  }
  if (where.length > 0)
    return "--where cannot be combined with --cluster-cost: the cluster's cost is the whole cluster's";
  const ruleText = flags.get('cluster-allocate')?.[0] ?? 'traced';
  if (!(CLUSTER_ALLOCATE_RULES as readonly string[]).includes(ruleText)) {
    return `--cluster-allocate must be traced or opencost (got ${JSON.stringify(ruleText)})`;
  }
  const map = parseClusterMap(flags.get('map') ?? []);
  if (typeof map === 'string') return map;
  for (const [name, team] of map) {
    if (shared.includes(team)) {
      return `--map ${name}=${team}: ${team} is a --shared value, whose cost is spread: map to the teams that take cost`;
    }
  }
  const sharedNames = (flags.get('cluster-shared') ?? []).flatMap((v) => v.split(',')).map((v) => v.trim());
  if (sharedNames.some((n) => n === '')) return '--cluster-shared: name a namespace (or a comma list of them)';
  const both = sharedNames.find((n) => map.has(n));
  if (both !== undefined) return `${JSON.stringify(both)} is both --cluster-shared and --map: choose one`;
  return { source, rule: ruleText as ClusterAllocateRule, map, sharedNames };
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

/** A chargeback line with its share of the cluster's cost. */
export interface ClusterChargebackLine extends ChargebackLine {
  /** OpenCost's allocated cost of the namespaces (label values…) that map to the line's team. */
  readonly clusterAllocated: bigint;
  /** The team's part of the cluster pool (idle, shared, unallocated, unmapped). */
  readonly clusterShared: bigint;
}

/**
 * Pure: the chargeback lines with the cluster's cost added (a team with cluster cost and no
 * traced cost gets a line of its own). Totals: the traced total plus the cluster's imported total.
 */
export function withClusterCost(
  result: { lines: readonly ChargebackLine[]; total: bigint },
  cluster: ClusterSpread,
): { lines: ClusterChargebackLine[]; total: bigint } {
  const teams = new Map(cluster.teams.map((t) => [t.name, t]));
  const lines: ClusterChargebackLine[] = result.lines.map((l) => {
    const t = teams.get(l.name);
    const clusterAllocated = t?.allocated ?? 0n;
    const clusterShared = t?.spread ?? 0n;
    return { ...l, clusterAllocated, clusterShared, total: l.total + clusterAllocated + clusterShared };
  });
  const named = new Set(result.lines.map((l) => l.name));
  for (const t of cluster.teams) {
    if (named.has(t.name)) continue;
    lines.push({
      name: t.name,
      direct: 0n,
      allocated: 0n,
      clusterAllocated: t.allocated,
      clusterShared: t.spread,
      total: t.allocated + t.spread,
      requests: 0,
    });
  }
  lines.sort((a, b) => (a.total === b.total ? a.name.localeCompare(b.name) : a.total > b.total ? -1 : 1));
  return { lines, total: result.total + cluster.total };
}

/** What the chargeback reads besides the spans' cost: the imported cluster cost and the traced seconds. */
export type ClusterCostSource = Pick<BillStore, 'billedTotals' | 'tracedSeconds'>;

export interface ChargebackDeps extends AnalysisDeps {
  /** The store's bills (ClickHouse or DuckDB): needed for --cluster-cost; absent through the query API. */
  readonly bills?: ClusterCostSource | undefined;
}

/**
 * The OpenCost cost of the period per cluster, allocation name and aggregate, from the current
 * imports; a string is the problem (no imports, another currency).
 */
async function clusterCosts(
  bills: ClusterCostSource,
  since: number,
  until: number,
): Promise<
  { readonly ok: true; readonly costs: ClusterCostInput[] } | { readonly ok: false; problem: string; code: number }
> {
  const rows = await bills.billedTotals({
    since,
    until,
    groupBy: ['account', 'project', 'service'],
    providers: ['opencost'],
  });
  if (rows.length === 0) {
    return {
      ok: false,
      problem:
        'no OpenCost allocations imported for the period: import them with costtrace bill fetch opencost --url … (or bill import opencost FILE)',
      code: EXIT.noData,
    };
  }
  const other = rows.find((r) => r.currency !== 'USD' && pico(r.billedCost) !== 0n);
  if (other !== undefined) {
    return {
      ok: false,
      problem: `the cluster's cost is in ${other.currency}: chargeback adds USD (import OpenCost's cost in USD)`,
      code: EXIT.failed,
    };
  }
  const sums = new Map<string, ClusterCostInput>();
  for (const r of rows) {
    const cluster = r.dimensions.account ?? '';
    const name = r.dimensions.project ?? '';
    const aggregate = r.dimensions.service ?? '';
    const key = `${cluster}\u0000${name}\u0000${aggregate}`;
    const prior = sums.get(key);
    sums.set(key, { cluster, name, aggregate, cost: (prior?.cost ?? 0n) + pico(r.billedCost) });
  }
  return { ok: true, costs: [...sums.values()] };
}

/** Traced GPU- plus instance-seconds per team, in pico-seconds (the seconds' 12 decimals). */
async function tracedWeights(
  bills: ClusterCostSource,
  since: number,
  until: number,
  by: TracedSecondsDimension,
): Promise<Map<string, bigint>> {
  const rows = await bills.tracedSeconds({ since, until, by });
  return new Map(rows.map((r) => [r.value, pico(r.gpuSeconds) + pico(r.instanceSeconds)]));
}

const PART_LABELS: readonly [ClusterPart, string, string][] = [
  ['allocated', 'allocated to teams', 'kept by the teams (cluster_allocated)'],
  ['unmapped', 'allocated, no team (unmapped)', 'pool'],
  ['idle', 'idle (__idle__)', 'pool'],
  ['shared', 'shared (__shared__, --cluster-shared)', 'pool'],
  ['unallocated', 'unallocated (__unallocated__, __unmounted__)', 'pool'],
];

function ruleText(rule: ClusterAllocateRule): string {
  return rule === 'traced'
    ? "in proportion to each team's traced GPU-seconds + instance-seconds"
    : "in proportion to each team's allocated cluster cost";
}

/** The cluster section of the table: where the imported total went, and the pool's spread. */
function clusterSectionTable(cluster: ClusterSpread): string {
  let out = `\ncluster cost (OpenCost, cluster ${cluster.clusters.map((c) => (c === '' ? '(unnamed)' : c)).join(', ')}): the pool is spread ${ruleText(cluster.rule)}\n`;
  out += renderRows(
    'table',
    ['cluster cost', 'amount', 'goes to'],
    [
      ...PART_LABELS.map(([part, label, to]): Cell[] => [label, usd(cluster.parts[part]), to]),
      ['imported total', usd(cluster.total), '= the five parts above'],
      ['pool', usd(cluster.pool), '= the cluster_shared column'],
    ],
  );
  if (cluster.unmappedNames.length > 0) {
    const shown = cluster.unmappedNames.slice(0, 10).map((u) => `${u.name} ${usd(u.cost)}`);
    const more = cluster.unmappedNames.length > 10 ? `, and ${cluster.unmappedNames.length - 10} more` : '';
    out += `note: no team for ${shown.join(', ')}${more}: name them with --map NAMESPACE=TEAM or --cluster-shared\n`;
  }
  return out;
}

/** The cluster section as JSON: every amount an exact decimal string. */
function clusterSectionJson(cluster: ClusterSpread): Record<string, unknown> {
  return {
    source: 'opencost',
    clusters: cluster.clusters,
    allocate: cluster.rule,
    imported_total: usd(cluster.total),
    ...Object.fromEntries(PART_LABELS.map(([part]) => [part, usd(cluster.parts[part])])),
    pool: usd(cluster.pool),
    spread: cluster.teams.map((t) => ({
      name: t.name,
      weight: formatScaled(t.weight, MONEY_SCALE),
      allocated: usd(t.allocated),
      shared: usd(t.spread),
    })),
    unmapped_names: cluster.unmappedNames.map((u) => ({ name: u.name, cost: usd(u.cost) })),
  };
}

export async function runChargeback(argv: readonly string[], deps: ChargebackDeps): Promise<number> {
  const args = parseChargebackArgs(argv, nowOf(deps));
  if (!args.ok) return usageError('chargeback', args.message, CHARGEBACK_USAGE, deps.output);
  const { common, dimension, shared, rule, cluster: clusterArgs } = args.value;
  if (clusterArgs !== undefined && deps.bills === undefined) {
    deps.output.err(
      'costtrace chargeback: --cluster-cost reads the imported bills from the store: use --store clickhouse or --store duckdb:PATH\n',
    );
    return 1;
  }
  progress(deps, 'querying…');
  const rows = await deps.source.queryCosts({ ...common.query, orderBy: 'cost', limit: MAX_QUERY_LIMIT });
  if (rows.length >= MAX_QUERY_LIMIT) {
    deps.output.err(`costtrace chargeback: more than ${MAX_QUERY_LIMIT} ${dimension} values; narrow with --where\n`);
    return 1;
  }
  const traced = chargeback(
    rows.map((r) => ({ name: r.dimensions[dimension] ?? '', cost: pico(r.cost), requests: r.requests })),
    shared,
    rule,
  );
  if (!traced.ok) {
    deps.output.err(`costtrace chargeback: ${traced.message}\n`);
    return 1;
  }
  let cluster: ClusterSpread | undefined;
  let result: { lines: readonly (ChargebackLine & Partial<ClusterChargebackLine>)[]; total: bigint } = traced;
  if (clusterArgs !== undefined && deps.bills !== undefined) {
    const costs = await clusterCosts(deps.bills, common.since, common.until);
    if (!costs.ok) {
      deps.output.err(`costtrace chargeback: ${costs.problem}\n`);
      return costs.code;
    }
    const tracedPool = ['', ...shared];
    // The teams the traced chargeback names (with cost, or in a fixed split); its pool takes no cluster cost.
    const receivers = [
      ...rows.map((r) => r.dimensions[dimension] ?? ''),
      ...(rule.kind === 'fixed' ? rule.shares.keys() : []),
    ].filter((n) => !tracedPool.includes(n));
    const seconds =
      clusterArgs.rule === 'traced'
        ? await tracedWeights(deps.bills, common.since, common.until, dimension as TracedSecondsDimension)
        : new Map<string, bigint>();
    const spread = spreadClusterCost(
      costs.costs,
      receivers,
      seconds,
      { map: clusterArgs.map, sharedNames: clusterArgs.sharedNames, tracedPool },
      clusterArgs.rule,
    );
    if (!spread.ok) {
      deps.output.err(`costtrace chargeback: ${spread.message}\n`);
      return 1;
    }
    cluster = spread.value;
    result = withClusterCost(traced, cluster);
  }
  const columns = [
    dimension,
    'direct_cost',
    'allocated_shared',
    ...(cluster === undefined ? [] : ['cluster_allocated', 'cluster_shared']),
    'total_cost',
    'share_pct',
    'requests',
  ];
  const body: Cell[][] = result.lines.map((l) => [
    l.name,
    usd(l.direct),
    usd(l.allocated),
    ...(cluster === undefined ? [] : [usd(l.clusterAllocated ?? 0n), usd(l.clusterShared ?? 0n)]),
    usd(l.total),
    percentOf(l.total, result.total),
    l.requests,
  ]);
  const requests = result.lines.reduce((a, l) => a + l.requests, 0);
  body.push([
    'TOTAL',
    usd(traced.total),
    usd(0n),
    ...(cluster === undefined ? [] : [usd(cluster.parts.allocated), usd(cluster.pool)]),
    usd(result.total),
    result.total === 0n ? null : '100.00',
    requests,
  ]);
  if (cluster === undefined) {
    deps.output.out(decorate(deps, common.format, renderRows(common.format, columns, body)));
    return 0;
  }
  if (common.format === 'json') {
    const rowsJson = body.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i] ?? null])));
    deps.output.out(`${JSON.stringify({ rows: rowsJson, cluster: clusterSectionJson(cluster) }, null, 2)}\n`);
    return 0;
  }
  const table = decorate(deps, common.format, renderRows(common.format, columns, body));
  deps.output.out(common.format === 'table' ? table + clusterSectionTable(cluster) : table);
  return 0;
}
