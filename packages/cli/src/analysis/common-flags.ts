/**
 * The flags every analysis command shares (`--since/--until`, `--by`, `--where`, `--format`,
 * `--limit`) and the small things around them: leading positional words, exact money
 * arithmetic on pico-dollars, and the data-access interface the commands read through.
 */
import { divideRoundHalfEven, formatScaled, MONEY_SCALE, parseScaled } from '@costtrace/core';
import { parseCostQuery, QUERY_DIMENSIONS } from '@costtrace/store';
import type {
  CostQuery,
  CostReportRow,
  CoverageQuery,
  PricingCoverageRow,
  QueryDimension,
  TopSpanRow,
  TopSpansQuery,
} from '@costtrace/store';
import { parseFlags } from '../command-args.js';
import type { ArgsResult, OptionSpec, OptionValues } from '../args.js';
import { OUTPUT_FORMATS } from '../table-format.js';
import type { OutputFormat } from '../table-format.js';

/**
 * What the analysis commands read. Both methods are part of the store query model
 * (`queryCosts` answers a CostQuery, `topSpans` a TopSpansQuery), so any store that serves
 * the HTTP query API serves the CLI too.
 */
export interface CostSource {
  queryCosts(query: CostQuery): Promise<CostReportRow[]>;
  topSpans(query: TopSpansQuery): Promise<TopSpanRow[]>;
  pricingCoverage(query: CoverageQuery): Promise<PricingCoverageRow[]>;
}

/** Exit codes shared by every command (documented in `costtrace --help` and docs/cli.md). */
export const EXIT = { ok: 0, failed: 1, usage: 2, noData: 3 } as const;

export const COMMON_FLAGS: Readonly<Record<string, OptionSpec>> = {
  since: { type: 'string' },
  until: { type: 'string' },
  by: { type: 'string', multiple: true },
  where: { type: 'string', multiple: true },
  format: { type: 'string' },
  limit: { type: 'string' },
};

export const COMMON_FLAGS_HELP = `common options:
  --since T          start: a duration back from now (30m, 24h, 7d), an ISO 8601 time or unix seconds
  --until T          end (exclusive), same forms; default now
  --by dim[,dim]     group by dimensions: ${QUERY_DIMENSIONS.join(', ')}
  --where dim=value  filter; repeatable (same dimension twice = either value)
  --format F         table (default), json or csv
  --limit N          at most N rows`;

export interface CommonArgs {
  readonly since: number;
  readonly until: number;
  readonly by: readonly QueryDimension[];
  readonly where: readonly string[];
  readonly format: OutputFormat;
  readonly limit: number | undefined;
  /** The query the common flags describe (group by `by`, filters, range, limit). */
  readonly query: CostQuery;
}

export interface AnalysisCommand {
  readonly positionals: readonly string[];
  readonly flags: OptionValues;
  readonly common: CommonArgs;
}

/**
 * Pure: splits leading positional words from flags, parses both, validates the common flags
 * through the store's query model (allow-listed dimensions, strict times).
 */
export function parseCommand(
  argv: readonly string[],
  ownFlags: Readonly<Record<string, OptionSpec>>,
  nowSeconds: number,
  defaults: { readonly since?: string; readonly by?: readonly QueryDimension[] } = {},
): ArgsResult<AnalysisCommand> {
  const firstFlag = argv.findIndex((a) => a.startsWith('--'));
  const positionals = firstFlag === -1 ? argv : argv.slice(0, firstFlag);
  const flags = parseFlags(firstFlag === -1 ? [] : argv.slice(firstFlag), { ...COMMON_FLAGS, ...ownFlags });
  if (!flags.ok) return flags;
  const format = flags.value.get('format')?.[0] ?? 'table';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format))
    return { ok: false, message: `--format must be one of ${OUTPUT_FORMATS.join(', ')} (got ${format})` };
  const params = new Map<string, string[]>();
  params.set('since', [flags.value.get('since')?.[0] ?? defaults.since ?? '24h']);
  const until = flags.value.get('until');
  if (until) params.set('until', [...until]);
  const by = flags.value.get('by') ?? defaults.by?.join(',');
  if (by !== undefined) params.set('group_by', typeof by === 'string' ? [by] : [...by]);
  const where = flags.value.get('where') ?? [];
  if (where.length > 0) params.set('where', [...where]);
  const limit = flags.value.get('limit')?.[0];
  if (limit !== undefined) params.set('limit', [limit]);
  params.set('source', ['spans']);
  const parsed = parseCostQuery(params, nowSeconds);
  if (!parsed.ok) {
    const flag = parsed.parameter === 'group_by' ? 'by' : parsed.parameter;
    return { ok: false, message: `--${flag}: ${parsed.message}` };
  }
  return {
    ok: true,
    value: {
      positionals,
      flags: flags.value,
      common: {
        since: parsed.query.since,
        until: parsed.query.until,
        by: parsed.query.groupBy,
        where,
        format: format as OutputFormat,
        limit: limit === undefined ? undefined : parsed.query.limit,
        query: parsed.query,
      },
    },
  };
}

/** A single-valued own flag. */
export function flag(flags: OptionValues, name: string): string | undefined {
  return flags.get(name)?.[0];
}

// ---- exact money ------------------------------------------------------------------------

/** Decimal USD string → pico-dollars. */
export function pico(decimal: string): bigint {
  return parseScaled(decimal, MONEY_SCALE);
}

/** Pico-dollars → decimal USD string (12 places, exact). */
export function usd(value: bigint): string {
  return formatScaled(value, MONEY_SCALE);
}

/** value × numerator / denominator, rounded half to even once; null when denominator is 0. */
export function ratio(value: bigint, denominator: bigint, numerator = 1n): bigint | null {
  if (denominator === 0n) return null;
  return divideRoundHalfEven(value * numerator, denominator);
}

/** Percentage change b vs a with two decimals ("12.50"), or null when a is 0. */
export function percentChange(a: bigint, b: bigint): string | null {
  if (a === 0n) return null;
  const bp = divideRoundHalfEven((b - a) * 10_000n, a);
  const negative = bp < 0n;
  const abs = negative ? -bp : bp;
  return `${negative ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** part as a percentage of whole, two decimals, or null when whole is 0. */
export function percentOf(part: bigint, whole: bigint): string | null {
  return percentChange(whole, whole + part);
}

/**
 * Splits `amount` by integer weights exactly (largest remainder): the parts always sum to
 * `amount`; leftover units go to the largest fractional remainders, ties to the earlier entry.
 */
export function allocate(amount: bigint, weights: readonly bigint[]): bigint[] {
  const total = weights.reduce((a, b) => a + b, 0n);
  if (total <= 0n) throw new RangeError('allocate: weights sum to zero');
  const negative = amount < 0n;
  const abs = negative ? -amount : amount;
  const parts = weights.map((w) => (abs * w) / total);
  const remainders = weights.map((w, i) => ({ i, r: (abs * w) % total }));
  let left = abs - parts.reduce((a, b) => a + b, 0n);
  remainders.sort((x, y) => (x.r === y.r ? x.i - y.i : x.r > y.r ? -1 : 1));
  for (const { i } of remainders) {
    if (left === 0n) break;
    parts[i] = parts[i]! + 1n;
    left -= 1n;
  }
  return negative ? parts.map((p) => -p) : parts;
}

/** Parses a positive decimal (e.g. `--hours 12.5`) to a scaled bigint, or a message. */
export function positiveDecimal(name: string, text: string | undefined, scale = 6): bigint | string {
  if (text === undefined) return `--${name} is required`;
  if (!/^\d+(\.\d+)?$/.test(text)) return `--${name} must be a non-negative number (got ${JSON.stringify(text)})`;
  try {
    return parseScaled(text, scale);
  } catch {
    return `--${name}: at most ${scale} decimal places`;
  }
}

/** Sums a set of report rows. */
export function totals(rows: readonly CostReportRow[]): {
  cost: bigint;
  requests: bigint;
  tokens: bigint;
  spans: bigint;
} {
  let cost = 0n;
  let requests = 0n;
  let tokens = 0n;
  let spans = 0n;
  for (const r of rows) {
    cost += pico(r.cost);
    requests += BigInt(r.requests);
    tokens += BigInt(r.tokens);
    spans += BigInt(r.spans);
  }
  return { cost, requests, tokens, spans };
}

/** A label for a grouped row: its dimension values joined, `(unset)` for empty. */
export function dimensionLabel(row: CostReportRow, by: readonly QueryDimension[]): string {
  return by.map((d) => (row.dimensions[d] === '' ? '(unset)' : (row.dimensions[d] ?? '(unset)'))).join(' / ');
}
