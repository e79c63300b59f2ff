import { BudgetError } from './budget-error.js';

/** The attribution dimensions a budget can select on and expand over. */
export const BUDGET_DIMENSIONS = [
  'service',
  'route',
  'model',
  'provider',
  'team',
  'tenant',
  'environment',
  'feature',
  'commit',
  'job_id',
  'job_kind',
] as const;
export type BudgetDimension = (typeof BUDGET_DIMENSIONS)[number];

/** Dimension values of one cost row; a missing dimension is the empty string. */
export type DimensionValues = Readonly<Record<BudgetDimension, string>>;

/**
 * Pattern per dimension. `"gpt-4o"` matches exactly, `"/v1/*"` is a prefix match, `"*"` matches
 * any non-empty value; `*` may appear anywhere (`"*-mini"`). A dimension not listed is not
 * constrained. `\*` is a literal asterisk.
 */
export type ScopeSelector = Readonly<Partial<Record<BudgetDimension, string>>>;

export const MAX_PATTERN_LENGTH = 256;

type Matcher = (value: string) => boolean;

function compilePattern(pattern: string): Matcher {
  if (pattern === '*') return (value) => value.length > 0;
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && pattern[i + 1] === '*') {
      current += '*';
      i++;
    } else if (ch === '*') {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  if (parts.length === 1) {
    const exact = parts[0]!;
    return (value) => value === exact;
  }
  if (parts.length === 2 && parts[1] === '') {
    const prefix = parts[0]!;
    return (value) => value.length > prefix.length && value.startsWith(prefix);
  }
  const regex = new RegExp(`^${parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`, 's');
  return (value) => regex.test(value);
}

/** A compiled scope selector with per-key expansion: which rows match, and under which key. */
export class CompiledScope {
  private readonly matchers: readonly (readonly [BudgetDimension, Matcher])[];

  constructor(
    readonly selector: ScopeSelector,
    /** Dimensions the budget is applied per distinct value of ("each tenant"). */
    readonly perKey: readonly BudgetDimension[],
  ) {
    this.matchers = BUDGET_DIMENSIONS.flatMap((dim) => {
      const pattern = selector[dim];
      return pattern === undefined ? [] : [[dim, compilePattern(pattern)] as const];
    });
  }

  matches(values: DimensionValues): boolean {
    for (const [dim, match] of this.matchers) if (!match(values[dim])) return false;
    return true;
  }

  /**
   * The scope key of a matching row: the budget id, then `dim=value` for each per-key
   * dimension in a fixed order, values percent-encoded so the key is unambiguous.
   */
  scopeKey(budgetId: string, values: DimensionValues): string {
    if (this.perKey.length === 0) return budgetId;
    let key = budgetId;
    for (const dim of this.perKey) key += `|${dim}=${encodeURIComponent(values[dim])}`;
    return key;
  }

  /** The per-key dimension values of a row (the expansion part of its scope key). */
  keyDimensions(values: DimensionValues): Record<string, string> {
    const out: Record<string, string> = {};
    for (const dim of this.perKey) out[dim] = values[dim];
    return out;
  }
}

/** Parses the `dim=value` part of a scope key back into dimension values. */
export function parseScopeKey(scopeKey: string): { budgetId: string; dimensions: Record<string, string> } {
  const [budgetId = '', ...rest] = scopeKey.split('|');
  const dimensions: Record<string, string> = {};
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq > 0) dimensions[part.slice(0, eq)] = decodeURIComponent(part.slice(eq + 1));
  }
  return { budgetId, dimensions };
}

export function isBudgetDimension(value: string): value is BudgetDimension {
  return (BUDGET_DIMENSIONS as readonly string[]).includes(value);
}

/** Validates a selector from outside; errors name the field. */
export function parseScopeSelector(input: unknown, field: string): ScopeSelector {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new BudgetError('INVALID_SELECTOR', field, 'must be an object of dimension → pattern');
  }
  const out: Partial<Record<BudgetDimension, string>> = {};
  for (const [dim, pattern] of Object.entries(input)) {
    if (!isBudgetDimension(dim)) {
      throw new BudgetError(
        'INVALID_SELECTOR',
        `${field}.${dim}`,
        `unknown dimension; use one of ${BUDGET_DIMENSIONS.join(', ')}`,
      );
    }
    if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH) {
      throw new BudgetError(
        'INVALID_SELECTOR',
        `${field}.${dim}`,
        `must be a non-empty string of at most ${MAX_PATTERN_LENGTH} characters (exact value, "prefix*" or "*")`,
      );
    }
    out[dim] = pattern;
  }
  return out;
}
