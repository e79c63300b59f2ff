import { Money, MoneyError } from '../money.js';
import { BudgetError } from './budget-error.js';
import { checkTimeZone } from './calendar-window.js';
import type { CalendarPeriod } from './calendar-window.js';
import { CompiledScope, isBudgetDimension, parseScopeSelector } from './scope-selector.js';
import type { BudgetDimension, ScopeSelector } from './scope-selector.js';

export type BudgetAction = 'alert' | 'reject' | 'degrade';

export type BudgetWindow =
  | { readonly kind: 'rolling'; readonly durationMs: number }
  | { readonly kind: 'calendar'; readonly period: CalendarPeriod; readonly timeZone: string };

/**
 * What a budget does with spend costtrace could not price (spans with `cost.unpriced_reason`):
 * count it as zero (the default; the spans are counted where users look), or add an estimate so
 * that unknown models and missing prices still move the budget toward its throttle.
 */
export interface UnpricedPolicy {
  readonly countAs: 'zero' | 'estimate';
  /** Estimate: every token of the span (input, cache, output) at this rate per 1M tokens. */
  readonly perMillionTokens: Money;
  /** Estimate: plus this per span. */
  readonly perSpan: Money;
}

export const UNPRICED_AS_ZERO: UnpricedPolicy = {
  countAs: 'zero',
  perMillionTokens: Money.zero('USD'),
  perSpan: Money.zero('USD'),
};

export interface ReleasePolicy {
  /** The throttle releases when spend stays below this percent of the limit … */
  readonly belowPercent: number;
  /** … for at least this long. */
  readonly forMs: number;
}

/** A validated budget. Amounts are exact (Money); percents are numbers with at most 2 decimals. */
export interface Budget {
  readonly id: string;
  readonly name: string;
  readonly scope: ScopeSelector;
  /** Apply one budget per distinct value of these dimensions ("each tenant: $50 per day"). */
  readonly perKey: readonly BudgetDimension[];
  readonly window: BudgetWindow;
  readonly limit: Money;
  /** Alert thresholds in percent of the limit, ascending. */
  readonly thresholds: readonly number[];
  /** Percent of the limit at which the throttle engages (unless action is `alert`). */
  readonly throttleAtPercent: number;
  readonly action: BudgetAction;
  readonly release: ReleasePolicy;
  /** Ids of the webhook endpoints this budget's events go to. */
  readonly webhooks: readonly string[];
  /** Raise `budget.forecast_exceeded` when the projection crosses the limit first. Default true. */
  readonly forecast: boolean;
  /** Most scope keys tracked for this budget; keys beyond are counted and reported, not tracked. */
  readonly maxKeys: number;
  /** Unpriced spend: as zero (default) or estimated. */
  readonly unpriced: UnpricedPolicy;
}

/** The JSON/YAML form of a budget, as written in files and sent to the HTTP API. */
export interface BudgetDocument {
  id: string;
  name?: string;
  scope?: Partial<Record<BudgetDimension, string>>;
  per?: BudgetDimension[];
  window: string;
  time_zone?: string;
  limit_usd: string;
  thresholds?: number[];
  throttle_at_percent?: number;
  action?: BudgetAction;
  release?: { below_percent?: number; for?: string };
  webhooks?: string[];
  forecast?: boolean;
  max_keys?: number;
  unpriced?: { count_as?: 'zero' | 'estimate'; usd_per_million_tokens?: string; usd_per_span?: string };
}

export const DEFAULT_THRESHOLDS: readonly number[] = [80, 90, 100, 110];
export const MIN_ROLLING_WINDOW_MS = 60_000;
export const MAX_ROLLING_WINDOW_MS = 30 * 86_400_000;
export const DEFAULT_MAX_KEYS = 10_000;
export const MAX_KEYS_LIMIT = 1_000_000;
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DURATION = /^(\d{1,7})(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DOCUMENT_KEYS = new Set([
  'id',
  'name',
  'scope',
  'per',
  'window',
  'time_zone',
  'limit_usd',
  'thresholds',
  'throttle_at_percent',
  'action',
  'release',
  'webhooks',
  'forecast',
  'max_keys',
  'unpriced',
]);

/** "90s", "5m", "1h", "7d" → milliseconds. */
export function parseDuration(text: unknown, field: string): number {
  const match = typeof text === 'string' ? DURATION.exec(text.trim()) : null;
  if (match === null) {
    throw new BudgetError(
      'INVALID_WINDOW',
      field,
      `${JSON.stringify(text)} is not a duration; use e.g. "90s", "5m", "1h", "7d"`,
    );
  }
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function percent(value: unknown, field: string, max = 1000): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new BudgetError('INVALID_BUDGET', field, `must be a number of percent in (0, ${max}]`);
  }
  if (Math.round(value * 100) !== value * 100) {
    throw new BudgetError('INVALID_BUDGET', field, 'at most 2 decimal places');
  }
  return value;
}

function parseWindow(doc: Record<string, unknown>, field: string): BudgetWindow {
  const raw = doc.window;
  if (raw === 'day' || raw === 'week' || raw === 'month') {
    const timeZone = doc.time_zone ?? 'UTC';
    if (typeof timeZone !== 'string')
      throw new BudgetError('INVALID_TIME_ZONE', `${field}.time_zone`, 'must be a string');
    checkTimeZone(timeZone, `${field}.time_zone`);
    return { kind: 'calendar', period: raw, timeZone };
  }
  if (doc.time_zone !== undefined) {
    throw new BudgetError(
      'INVALID_WINDOW',
      `${field}.time_zone`,
      'only applies to calendar windows (day, week, month)',
    );
  }
  const ms = parseDuration(raw, `${field}.window`);
  if (ms < MIN_ROLLING_WINDOW_MS || ms > MAX_ROLLING_WINDOW_MS || ms % 1000 !== 0) {
    throw new BudgetError(
      'INVALID_WINDOW',
      `${field}.window`,
      'a rolling window is whole seconds from 1m to 30d; or use "day", "week", "month"',
    );
  }
  return { kind: 'rolling', durationMs: ms };
}

function stringList(
  value: unknown,
  field: string,
  maxItems: number,
  check: (item: string, at: string) => void,
): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > maxItems) {
    throw new BudgetError('INVALID_BUDGET', field, `must be a list of at most ${maxItems} strings`);
  }
  const out: string[] = [];
  value.forEach((item, i) => {
    if (typeof item !== 'string') throw new BudgetError('INVALID_BUDGET', `${field}[${i}]`, 'must be a string');
    check(item, `${field}[${i}]`);
    if (out.includes(item))
      throw new BudgetError('INVALID_BUDGET', `${field}[${i}]`, `duplicate ${JSON.stringify(item)}`);
    out.push(item);
  });
  return out;
}

/** Validates one budget document from a file or a request. Every error names its field. */
export function parseBudget(input: unknown, field = 'budget'): Budget {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new BudgetError('INVALID_BUDGET', field, 'must be an object');
  }
  const doc = input as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (!DOCUMENT_KEYS.has(key)) {
      throw new BudgetError(
        'INVALID_BUDGET',
        `${field}.${key}`,
        `unknown field; known fields: ${[...DOCUMENT_KEYS].join(', ')}`,
      );
    }
  }
  if (typeof doc.id !== 'string' || !ID.test(doc.id)) {
    throw new BudgetError(
      'INVALID_BUDGET',
      `${field}.id`,
      'required: 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
  const name = doc.name ?? doc.id;
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new BudgetError('INVALID_BUDGET', `${field}.name`, 'must be a string of 1-200 characters');
  }
  const scope = parseScopeSelector(doc.scope, `${field}.scope`);
  const perKey = stringList(doc.per, `${field}.per`, 4, (dim, at) => {
    if (!isBudgetDimension(dim))
      throw new BudgetError('INVALID_BUDGET', at, `unknown dimension ${JSON.stringify(dim)}`);
  }) as BudgetDimension[];
  const window = parseWindow(doc, field);
  if (typeof doc.limit_usd !== 'string' && typeof doc.limit_usd !== 'number') {
    throw new BudgetError(
      'INVALID_BUDGET',
      `${field}.limit_usd`,
      'required: an exact decimal string of USD, e.g. "50" or "0.25"',
    );
  }
  let limit: Money;
  try {
    // Numbers are accepted only when their decimal text is exact (YAML `limit_usd: 50`).
    limit = Money.parse(String(doc.limit_usd), 'USD');
  } catch (cause) {
    throw new BudgetError(
      'INVALID_BUDGET',
      `${field}.limit_usd`,
      cause instanceof MoneyError ? cause.message : 'not a decimal amount',
      { cause },
    );
  }
  if (limit.subunits <= 0n) throw new BudgetError('INVALID_BUDGET', `${field}.limit_usd`, 'must be greater than 0');
  if (limit.subunits > 10n ** 12n * 10n ** 12n) {
    throw new BudgetError('INVALID_BUDGET', `${field}.limit_usd`, 'must be at most 10^12 USD');
  }
  let thresholds = [...DEFAULT_THRESHOLDS];
  if (doc.thresholds !== undefined) {
    if (!Array.isArray(doc.thresholds) || doc.thresholds.length > 10) {
      throw new BudgetError('INVALID_BUDGET', `${field}.thresholds`, 'must be a list of at most 10 percents');
    }
    thresholds = doc.thresholds.map((t, i) => percent(t, `${field}.thresholds[${i}]`));
    thresholds.sort((a, b) => a - b);
    if (new Set(thresholds).size !== thresholds.length) {
      throw new BudgetError('INVALID_BUDGET', `${field}.thresholds`, 'must not repeat a percent');
    }
  }
  const action = doc.action ?? 'alert';
  if (action !== 'alert' && action !== 'reject' && action !== 'degrade') {
    throw new BudgetError('INVALID_BUDGET', `${field}.action`, 'must be "alert", "reject" or "degrade"');
  }
  const throttleAtPercent =
    doc.throttle_at_percent === undefined ? 100 : percent(doc.throttle_at_percent, `${field}.throttle_at_percent`);
  const releaseDoc = doc.release ?? {};
  if (typeof releaseDoc !== 'object' || releaseDoc === null || Array.isArray(releaseDoc)) {
    throw new BudgetError('INVALID_BUDGET', `${field}.release`, 'must be an object { below_percent, for }');
  }
  const r = releaseDoc as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (key !== 'below_percent' && key !== 'for') {
      throw new BudgetError('INVALID_BUDGET', `${field}.release.${key}`, 'unknown field; use below_percent and for');
    }
  }
  const belowPercent =
    r.below_percent === undefined
      ? Math.min(90, throttleAtPercent)
      : percent(r.below_percent, `${field}.release.below_percent`);
  if (belowPercent > throttleAtPercent) {
    throw new BudgetError(
      'INVALID_BUDGET',
      `${field}.release.below_percent`,
      `must be at most throttle_at_percent (${throttleAtPercent}) so that the throttle cannot flap`,
    );
  }
  const forMs = r.for === undefined ? 60_000 : parseDuration(r.for, `${field}.release.for`);
  if (forMs > 86_400_000) throw new BudgetError('INVALID_BUDGET', `${field}.release.for`, 'must be at most 1d');
  const webhooks = stringList(doc.webhooks, `${field}.webhooks`, 10, (id, at) => {
    if (!ID.test(id)) throw new BudgetError('INVALID_BUDGET', at, 'not a webhook endpoint id');
  });
  const forecast = doc.forecast ?? true;
  if (typeof forecast !== 'boolean')
    throw new BudgetError('INVALID_BUDGET', `${field}.forecast`, 'must be true or false');
  const maxKeys = doc.max_keys ?? DEFAULT_MAX_KEYS;
  if (typeof maxKeys !== 'number' || !Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > MAX_KEYS_LIMIT) {
    throw new BudgetError('INVALID_BUDGET', `${field}.max_keys`, `must be an integer from 1 to ${MAX_KEYS_LIMIT}`);
  }
  if (perKey.length === 0 && doc.max_keys !== undefined && maxKeys !== 1) {
    throw new BudgetError(
      'INVALID_BUDGET',
      `${field}.max_keys`,
      'only applies with `per` (a budget without `per` has one key)',
    );
  }
  const unpriced = parseUnpriced(doc.unpriced, `${field}.unpriced`);
  return {
    id: doc.id,
    name,
    scope,
    perKey,
    window,
    limit,
    thresholds,
    throttleAtPercent,
    action,
    release: { belowPercent, forMs },
    webhooks,
    forecast,
    maxKeys: perKey.length === 0 ? 1 : maxKeys,
    unpriced,
  };
}

function parseUnpriced(input: unknown, field: string): UnpricedPolicy {
  if (input === undefined) return UNPRICED_AS_ZERO;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new BudgetError(
      'INVALID_BUDGET',
      field,
      'must be an object, e.g. { count_as: estimate, usd_per_million_tokens: "15" }',
    );
  }
  const doc = input as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (key !== 'count_as' && key !== 'usd_per_million_tokens' && key !== 'usd_per_span') {
      throw new BudgetError(
        'INVALID_BUDGET',
        `${field}.${key}`,
        'unknown field; use count_as, usd_per_million_tokens, usd_per_span',
      );
    }
  }
  const countAs = doc.count_as ?? 'zero';
  if (countAs !== 'zero' && countAs !== 'estimate') {
    throw new BudgetError('INVALID_BUDGET', `${field}.count_as`, 'must be "zero" or "estimate"');
  }
  const amount = (key: 'usd_per_million_tokens' | 'usd_per_span'): Money => {
    const value = doc[key];
    if (value === undefined) return Money.zero('USD');
    if (countAs !== 'estimate') {
      throw new BudgetError('INVALID_BUDGET', `${field}.${key}`, 'only applies with count_as: estimate');
    }
    if (typeof value !== 'string') {
      throw new BudgetError('INVALID_BUDGET', `${field}.${key}`, 'must be an exact decimal USD string, e.g. "15"');
    }
    let money: Money;
    try {
      money = Money.parse(value, 'USD');
    } catch (err) {
      if (!(err instanceof MoneyError)) throw err;
      throw new BudgetError('INVALID_BUDGET', `${field}.${key}`, `must be an exact decimal USD string: ${err.message}`);
    }
    if (money.subunits < 0n) {
      throw new BudgetError(
        'INVALID_BUDGET',
        `${field}.${key}`,
        'must be a non-negative exact decimal USD string, e.g. "15"',
      );
    }
    return money;
  };
  const perMillionTokens = amount('usd_per_million_tokens');
  const perSpan = amount('usd_per_span');
  if (countAs === 'estimate' && perMillionTokens.subunits === 0n && perSpan.subunits === 0n) {
    throw new BudgetError(
      'INVALID_BUDGET',
      field,
      'count_as: estimate needs usd_per_million_tokens or usd_per_span (a non-zero rate)',
    );
  }
  return { countAs, perMillionTokens, perSpan };
}

/** The document form of a budget (what the API returns and files contain). */
export function budgetToDocument(budget: Budget): BudgetDocument {
  const doc: BudgetDocument = {
    id: budget.id,
    name: budget.name,
    scope: { ...budget.scope },
    window: budget.window.kind === 'rolling' ? formatDuration(budget.window.durationMs) : budget.window.period,
    limit_usd: budget.limit.toDecimalString(),
    thresholds: [...budget.thresholds],
    throttle_at_percent: budget.throttleAtPercent,
    action: budget.action,
    release: { below_percent: budget.release.belowPercent, for: formatDuration(budget.release.forMs) },
    webhooks: [...budget.webhooks],
    forecast: budget.forecast,
  };
  if (budget.perKey.length > 0) {
    doc.per = [...budget.perKey];
    doc.max_keys = budget.maxKeys;
  }
  if (budget.unpriced.countAs === 'estimate') {
    doc.unpriced = {
      count_as: 'estimate',
      usd_per_million_tokens: budget.unpriced.perMillionTokens.toDecimalString(),
      usd_per_span: budget.unpriced.perSpan.toDecimalString(),
    };
  }
  if (budget.window.kind === 'calendar') doc.time_zone = budget.window.timeZone;
  return doc;
}

/** A budget with its selector compiled, ready to match rows. */
export function compileScope(budget: Budget): CompiledScope {
  return new CompiledScope(budget.scope, budget.perKey);
}

/**
 * Spend as percent of the limit, exact to 2 decimals (rounded down): basis points / 100.
 * Rounding down means "100 %" is shown only when the limit is really reached.
 */
export function percentOfLimit(spend: bigint, limit: bigint): number {
  if (limit <= 0n) return 0;
  return Number((spend * 10_000n) / limit) / 100;
}

/** Whether `spend` is at least `pct` percent of `limit`, decided exactly on integers. */
export function reachesPercent(spend: bigint, limit: bigint, pct: number): boolean {
  return spend * 10_000n >= limit * BigInt(Math.round(pct * 100));
}

/** A deterministic signature of what makes window state comparable across budget edits. */
export function windowSignature(budget: Budget): string {
  return budget.window.kind === 'rolling'
    ? `rolling:${budget.window.durationMs}`
    : `calendar:${budget.window.period}:${budget.window.timeZone}`;
}
