import { BudgetError } from '../budgets/budget-error.js';
import { formatScaled, MONEY_SCALE, parseScaled } from '../money.js';
import { divideRoundHalfEven } from '../rounding.js';
import type { DriftCategories, ReconcileRow } from './reconcile.js';

/**
 * Alerts on the difference between the bill and the spans, like a budget alerts on spend: "untraced
 * spend above 5 % of the provider's bill over the last 30 days". Evaluated on reconcile's figures
 * per provider (see `evaluateDrift`); crossing fires `reconcile.drift`, falling back below fires
 * `reconcile.drift_resolved`.
 */

/** What a rule measures: one of reconcile's categories, or the whole drift. */
export const DRIFT_MEASURES = [
  'drift',
  'untraced',
  'cache_or_tier',
  'unpriced',
  'rate',
  'timing',
  'unexplained',
] as const;
export type DriftMeasure = (typeof DRIFT_MEASURES)[number];

const CATEGORY_OF: Readonly<Record<Exclude<DriftMeasure, 'drift'>, keyof DriftCategories>> = {
  untraced: 'untraced',
  cache_or_tier: 'cacheOrTier',
  unpriced: 'unpriced',
  rate: 'rate',
  timing: 'timing',
  unexplained: 'unexplained',
};

export interface DriftRule {
  readonly id: string;
  /** Only this provider; '' for every provider, each on its own. */
  readonly provider: string;
  readonly measure: DriftMeasure;
  /** Fires when |measure| ≥ this percent of the provider's billed cost; percent × 10^4. */
  readonly abovePercent: bigint;
  /** The reconcile window ending now, in whole days. */
  readonly windowDays: number;
  /** Webhook endpoint ids of the budgets file. */
  readonly webhooks: readonly string[];
}

/** The JSON/YAML form, under `drift:` in the budgets file. */
export interface DriftRuleDocument {
  id: string;
  provider?: string;
  measure?: string;
  above_percent: string | number;
  window?: string;
  webhooks?: string[];
}

const ID = /^[A-Za-z0-9._-]{1,64}$/;
const PERCENT = /^\d{1,4}(\.\d{1,4})?$/;

/** Validates a rule document; every error names its field and the fix. */
export function parseDriftRule(raw: unknown, field: string): DriftRule {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new BudgetError(
      'INVALID_BUDGET',
      field,
      'must be a mapping with id, measure, above_percent, window, webhooks',
    );
  }
  const doc = raw as Record<string, unknown>;
  const known = new Set(['id', 'provider', 'measure', 'above_percent', 'window', 'webhooks']);
  for (const key of Object.keys(doc)) {
    if (!known.has(key))
      throw new BudgetError('INVALID_BUDGET', `${field}.${key}`, `unknown field; use ${[...known].join(', ')}`);
  }
  if (typeof doc.id !== 'string' || !ID.test(doc.id)) {
    throw new BudgetError('INVALID_BUDGET', `${field}.id`, 'must be 1-64 of letters, digits, . _ -');
  }
  const provider = doc.provider ?? '';
  if (typeof provider !== 'string' || !/^[a-z0-9._-]{0,64}$/.test(provider)) {
    throw new BudgetError('INVALID_BUDGET', `${field}.provider`, 'must be a provider name such as openai');
  }
  const measure = doc.measure ?? 'drift';
  if (typeof measure !== 'string' || !(DRIFT_MEASURES as readonly string[]).includes(measure)) {
    throw new BudgetError('INVALID_BUDGET', `${field}.measure`, `must be one of ${DRIFT_MEASURES.join(', ')}`);
  }
  const percentText = typeof doc.above_percent === 'number' ? String(doc.above_percent) : doc.above_percent;
  if (typeof percentText !== 'string' || !PERCENT.test(percentText) || parseScaled(percentText, 4) <= 0n) {
    throw new BudgetError('INVALID_BUDGET', `${field}.above_percent`, 'must be a percent above 0, e.g. "5" or 2.5');
  }
  const window = doc.window ?? '30d';
  const days = typeof window === 'string' ? /^(\d{1,3})d$/.exec(window) : null;
  if (days === null || Number(days[1]) < 1 || Number(days[1]) > 400) {
    throw new BudgetError('INVALID_BUDGET', `${field}.window`, 'must be whole days, 1d to 400d (bills are daily)');
  }
  const webhooks = doc.webhooks ?? [];
  if (!Array.isArray(webhooks) || webhooks.length > 10 || webhooks.some((w) => typeof w !== 'string' || !ID.test(w))) {
    throw new BudgetError('INVALID_BUDGET', `${field}.webhooks`, 'must be a list of at most 10 webhook endpoint ids');
  }
  return {
    id: doc.id,
    provider,
    measure: measure as DriftMeasure,
    abovePercent: parseScaled(percentText, 4),
    windowDays: Number(days[1]),
    webhooks: webhooks as string[],
  };
}

export function driftRuleToDocument(rule: DriftRule): DriftRuleDocument {
  return {
    id: rule.id,
    ...(rule.provider === '' ? {} : { provider: rule.provider }),
    measure: rule.measure,
    above_percent: formatScaled(rule.abovePercent, 4),
    window: `${rule.windowDays}d`,
    webhooks: [...rule.webhooks],
  };
}

/** A rule measured on one provider's figures. */
export interface DriftFinding {
  readonly rule: DriftRule;
  readonly provider: string;
  readonly currency: string;
  /** Exact decimals. */
  readonly billedCost: string;
  readonly measured: string;
  /** |measured| ÷ billed cost × 100, 4 decimals (rounded half to even). */
  readonly percent: string;
  readonly above: boolean;
  readonly drift: string;
  readonly categories: DriftCategories;
}

/**
 * Measures `rule` on reconcile rows grouped by provider. A provider is measured only where the
 * bill states a cost for all of its buckets and the cost is not zero: a share of an unknown or
 * empty bill means nothing.
 */
export function evaluateDrift(rule: DriftRule, rows: readonly ReconcileRow[]): DriftFinding[] {
  const out: DriftFinding[] = [];
  for (const row of rows) {
    const provider = row.dimensions.provider ?? '';
    if (rule.provider !== '' && provider !== rule.provider) continue;
    if (row.billedCost === undefined || row.billedCostKnown !== 'all' || row.categories === undefined) continue;
    if (row.drift === undefined) continue;
    const billed = parseScaled(row.billedCost, MONEY_SCALE);
    if (billed <= 0n) continue;
    const measuredText = rule.measure === 'drift' ? row.drift : row.categories[CATEGORY_OF[rule.measure]];
    const measured = parseScaled(measuredText, MONEY_SCALE);
    const magnitude = measured < 0n ? -measured : measured;
    // Percent × 10^4: |measured| × 100 × 10^4 ÷ billed.
    const percent = divideRoundHalfEven(magnitude * 1_000_000n, billed);
    out.push({
      rule,
      provider,
      currency: row.currency,
      billedCost: row.billedCost,
      measured: measuredText,
      percent: formatScaled(percent, 4),
      above: percent >= rule.abovePercent,
      drift: row.drift,
      categories: row.categories,
    });
  }
  return out;
}
