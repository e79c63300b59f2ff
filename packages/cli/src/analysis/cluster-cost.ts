/**
 * A shared cluster's cost in a chargeback (`costtrace chargeback --cluster-cost opencost`): the
 * cost OpenCost allocated to namespaces (or label values…) goes to the teams they map to; the rest
 * — idle capacity, shared overhead, workloads without a value for the aggregate, volumes nobody
 * mounts, and namespaces no team claims — is the pool, spread over the teams either by their traced
 * GPU- and instance-seconds or by their share of OpenCost's allocated cost. Pure and exact: the
 * spread is a largest-remainder split of the pool in pico-dollars, so it sums to the pool, and the
 * teams' cluster cost sums to the imported total, to the last pico-dollar.
 */
import { isOpenCostLabelAggregate, openCostAllocationKind } from '@costtrace/core';
import { allocate } from './common-flags.js';

/** What the pool is spread by. */
export type ClusterAllocateRule = 'traced' | 'opencost';
export const CLUSTER_ALLOCATE_RULES: readonly ClusterAllocateRule[] = ['traced', 'opencost'];

/** The imported cost of one allocation name over the period (its lines summed, exact). */
export interface ClusterCostInput {
  /** The cluster (the import's account). */
  readonly cluster: string;
  /** The allocation's name: a namespace, a label value, `__idle__`… */
  readonly name: string;
  /** What the report was aggregated by (namespace, label:team…). */
  readonly aggregate: string;
  /** Pico-dollars. */
  readonly cost: bigint;
}

/** How allocation names become teams (or tenants), and which names are shared. */
export interface ClusterMapping {
  /** `--map NAME=TEAM`: an allocation name → a team. */
  readonly map: ReadonlyMap<string, string>;
  /** `--cluster-shared NAME`: allocations (e.g. kube-system) whose cost is shared. */
  readonly sharedNames: readonly string[];
  /** The chargeback's own pool values (`--shared`, and '' for unattributed): they take no cluster cost. */
  readonly tracedPool: readonly string[];
}

/** Where each part of the imported total went. */
export type ClusterPart = 'allocated' | 'unmapped' | 'idle' | 'shared' | 'unallocated';

export interface ClusterTeam {
  readonly name: string;
  /** OpenCost's allocated cost of the allocations that map to the team. */
  readonly allocated: bigint;
  /** The team's weight in the spread (pico-seconds of GPU + instance time, or pico-dollars allocated). */
  readonly weight: bigint;
  /** The team's part of the pool. */
  readonly spread: bigint;
}

export interface ClusterSpread {
  readonly rule: ClusterAllocateRule;
  /** The clusters the cost comes from, sorted. */
  readonly clusters: readonly string[];
  /** The imported total, split by part: the parts sum to `total`. */
  readonly parts: Readonly<Record<ClusterPart, bigint>>;
  readonly total: bigint;
  /** unmapped + idle + shared + unallocated: what is spread. */
  readonly pool: bigint;
  /** Every team that takes cluster cost or a weight, by name. */
  readonly teams: readonly ClusterTeam[];
  /** Allocated names no team claims, with their cost, largest first. */
  readonly unmappedNames: readonly { readonly name: string; readonly cost: bigint }[];
}

export type ClusterSpreadResult = { ok: true; value: ClusterSpread } | { ok: false; message: string };

/**
 * The part an allocation's cost belongs to, and the team it maps to (allocated only). Names with
 * OpenCost's markers are idle, shared or unallocated (`__unmounted__` counts as unallocated); a
 * name in `sharedNames`, or one that maps to a team in the chargeback's own pool, is shared; else
 * `--map` names its team, or, when the report was aggregated by a label, the name is the team;
 * otherwise it is unmapped.
 */
export function clusterPartOf(
  name: string,
  aggregate: string,
  mapping: ClusterMapping,
): { part: ClusterPart; team?: string } {
  const kind = openCostAllocationKind(name);
  if (kind === 'idle') return { part: 'idle' };
  if (kind === 'shared' || mapping.sharedNames.includes(name)) return { part: 'shared' };
  if (kind === 'unallocated' || kind === 'unmounted') return { part: 'unallocated' };
  const team = mapping.map.get(name) ?? (isOpenCostLabelAggregate(aggregate) ? name : undefined);
  if (team === undefined) return { part: 'unmapped' };
  if (mapping.tracedPool.includes(team)) return { part: 'shared' };
  return { part: 'allocated', team };
}

/**
 * Spreads the cluster's cost (see the module note). `receivers` are the chargeback's own teams
 * (they may take a share even without cluster cost of their own); `seconds` the traced GPU- plus
 * instance-seconds per team, in pico-seconds (the `traced` rule's weights). Teams in the traced
 * pool take nothing. The spread goes in name order, ties of the remainder to the earlier name.
 */
export function spreadClusterCost(
  costs: readonly ClusterCostInput[],
  receivers: readonly string[],
  seconds: ReadonlyMap<string, bigint>,
  mapping: ClusterMapping,
  rule: ClusterAllocateRule,
): ClusterSpreadResult {
  const parts: Record<ClusterPart, bigint> = { allocated: 0n, unmapped: 0n, idle: 0n, shared: 0n, unallocated: 0n };
  const allocated = new Map<string, bigint>();
  const unmapped = new Map<string, bigint>();
  const clusters = new Set<string>();
  let total = 0n;
  for (const c of costs) {
    clusters.add(c.cluster);
    total += c.cost;
    const { part, team } = clusterPartOf(c.name, c.aggregate, mapping);
    parts[part] += c.cost;
    if (team !== undefined) allocated.set(team, (allocated.get(team) ?? 0n) + c.cost);
    if (part === 'unmapped') unmapped.set(c.name, (unmapped.get(c.name) ?? 0n) + c.cost);
  }
  const pool = parts.unmapped + parts.idle + parts.shared + parts.unallocated;
  const eligible = (name: string): boolean => !mapping.tracedPool.includes(name);
  const names = [
    ...new Set([...receivers, ...allocated.keys(), ...[...seconds].filter(([, s]) => s > 0n).map(([n]) => n)]),
  ]
    .filter(eligible)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const weights = names.map((name) => {
    const w = rule === 'traced' ? (seconds.get(name) ?? 0n) : (allocated.get(name) ?? 0n);
    return w > 0n ? w : 0n;
  });
  let spread: bigint[];
  if (pool === 0n) spread = names.map(() => 0n);
  else if (weights.every((w) => w === 0n)) {
    return {
      ok: false,
      message:
        rule === 'traced'
          ? 'the cluster pool (idle, shared, unallocated, unmapped) has nothing to be spread by: no team has traced GPU or instance seconds in the period (use --cluster-allocate opencost, or --map namespaces to teams)'
          : 'the cluster pool (idle, shared, unallocated, unmapped) has nothing to be spread by: no team has allocated cluster cost (map namespaces to teams with --map NAMESPACE=TEAM)',
    };
  } else spread = allocate(pool, weights);
  return {
    ok: true,
    value: {
      rule,
      clusters: [...clusters].sort(),
      parts,
      total,
      pool,
      teams: names.map((name, i) => ({
        name,
        allocated: allocated.get(name) ?? 0n,
        weight: weights[i]!,
        spread: spread[i]!,
      })),
      unmappedNames: [...unmapped]
        .map(([name, cost]) => ({ name, cost }))
        .sort((a, b) => (a.cost === b.cost ? (a.name < b.name ? -1 : 1) : a.cost > b.cost ? -1 : 1)),
    },
  };
}

/** `--map` values: `NAME=TEAM`, or comma lists of them; a name mapped twice is refused. */
export function parseClusterMap(values: readonly string[]): ReadonlyMap<string, string> | string {
  const map = new Map<string, string>();
  for (const pair of values.flatMap((v) => v.split(','))) {
    const at = pair.indexOf('=');
    const name = pair.slice(0, at).trim();
    const team = pair.slice(at + 1).trim();
    if (at <= 0 || name === '' || team === '') return `--map: ${JSON.stringify(pair)} is not NAME=TEAM`;
    if (map.has(name) && map.get(name) !== team) return `--map: ${JSON.stringify(name)} is mapped twice`;
    map.set(name, team);
  }
  return map;
}
