import type { CoverageQuery } from './cost-query.js';

/**
 * Pricing coverage of one group: of the spans that carry their own usage (a model call's tokens,
 * GPU or instance time, or a reason why they could not be priced), how many were priced exactly,
 * how many only as an upper bound, how many not at all; and how many usage-bearing spans were
 * left uncharged as duplicates or roll-ups of others (not part of the share). Spans stored before
 * migration 9 lack the usage key and count only when unpriced or with GPU / instance time.
 */
export interface PricingCoverageRow {
  /** The group's values, one per `groupBy` dimension (as stored; '' when unset). */
  readonly group: Readonly<Record<string, string>>;
  /** Spans whose usage is their own call's (usage role ''). */
  readonly usageSpans: number;
  readonly exact: number;
  /** Priced, as an upper bound (`cost_upper_bound`: the emitter reports no cached tokens). */
  readonly upperBound: number;
  /** Not priced, in full or in part (`unpriced_reason` set). */
  readonly unpriced: number;
  readonly duplicates: number;
  readonly rollups: number;
  /** exact ÷ usageSpans, rounded down to 4 decimals; null without usage spans. */
  readonly coverage: number | null;
}

/** The measures, as SQL over span_costs rows (both engines accept these expressions). */
export const COVERAGE_MEASURES: readonly (readonly [name: string, condition: string])[] = [
  ['usage_spans', "usage_role = ''"],
  ['exact', "usage_role = '' AND unpriced_reason = '' AND cost_upper_bound = 0"],
  ['upper_bound', "usage_role = '' AND unpriced_reason = '' AND cost_upper_bound = 1"],
  ['unpriced', "usage_role = '' AND unpriced_reason != ''"],
  ['duplicates', "usage_role = 'duplicate'"],
  ['rollups', "usage_role = 'rollup'"],
];

/** The spans coverage is about: usage-bearing (tokens, GPU or instance time, a role or a reason). */
export const USAGE_BEARING =
  "(usage_key != '' OR usage_role != '' OR unpriced_reason != '' OR gpu_seconds > 0 OR instance_seconds > 0)";

/** Raw rows from either engine (counts as text or numbers) → PricingCoverageRow. */
export function pricingCoverageRows(
  query: CoverageQuery,
  raw: readonly Readonly<Record<string, unknown>>[],
): PricingCoverageRow[] {
  return raw.map((r) => {
    const n = (key: string): number => Number(r[key] ?? 0);
    const usageSpans = n('usage_spans');
    const exact = n('exact');
    const group: Record<string, string> = {};
    for (const dimension of query.groupBy) {
      const value = r[dimension];
      group[dimension] = typeof value === 'string' ? value : '';
    }
    return {
      group,
      usageSpans,
      exact,
      upperBound: n('upper_bound'),
      unpriced: n('unpriced'),
      duplicates: n('duplicates'),
      rollups: n('rollups'),
      coverage: usageSpans === 0 ? null : Math.floor((exact * 10_000) / usageSpans) / 10_000,
    };
  });
}
