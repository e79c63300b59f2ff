import { formatScaled, MONEY_SCALE, parseScaled } from '../money.js';
import { divideRoundHalfEven } from '../rounding.js';
import type { ListPriceCatalog, ListTokenPrices } from './catalog-list-prices.js';
import type { ComputeRow } from './compute-reconcile.js';

/**
 * Reconciliation: what the providers billed beside what the spans say, and the difference split
 * into causes a FinOps engineer can act on. Pure: the caller reads both sides from the store.
 *
 * Every figure is computed per UTC day × provider × model × currency (the finest grain both sides
 * share), then summed into the groups asked for, so a group's categories are exact sums of its
 * days'. For one fine bucket, with B the billed tokens of each kind, T the traced ones (charged
 * spans only, uncached input as the provider's input rule says), p the catalog list price per
 * token of each kind, C_B the billed cost, C_T the spans' cost (effective prices):
 *
 *   drift = C_B − C_T
 *         = untraced + cache/tier accounting + unpriced spans + rate + timing
 *
 * - untraced usage: (input-side tokens B − T) × p_input + (output B − T) × p_output, where
 *   input-side counts uncached input, cache reads and cache writes together: billed usage no span
 *   carries (uninstrumented callers; negative when spans carry more than was billed);
 * - cache or tier accounting: the same tokens billed in another kind or service tier than the
 *   spans priced them in: the difference of each cache kind × (p_cache − p_input), plus what the
 *   billed service tier's list price adds over standard;
 * - unpriced spans: the list cost of the usage of spans costtrace could not price;
 * - rate: the rest, the bill's prices against costtrace's (negotiated discounts, commitments,
 *   stale prices). Billed cost ÷ the list cost of the billed usage is the effective rate, and a
 *   matching override is proposed;
 * - timing: what moves between adjacent days (day boundaries, spans ending after midnight) is
 *   taken out of untraced on both days; a day the bill does not cover yet (late data) is all
 *   timing.
 *
 * Where the bill states no cost (usage reports alone) only the usage is compared; where the model
 * has no catalog price the drift is `unexplained`.
 */

export type ReconcileDimension = 'day' | 'provider' | 'model' | 'project';
export const RECONCILE_DIMENSIONS: readonly ReconcileDimension[] = ['day', 'provider', 'model', 'project'];

/** Token kinds compared. */
export interface TokenCounts {
  input: bigint;
  output: bigint;
  cacheRead: bigint;
  cacheWrite: bigint;
}

/** One row of billed totals grouped by day, provider, model and service tier (store: billedTotals). */
export interface BilledInput {
  /** Unix seconds of the UTC day. */
  readonly day: number;
  readonly provider: string;
  readonly model: string;
  /**
   * The bill's project (OpenAI project, Anthropic workspace, cloud sub-account) as the spans name
   * it (see StoredReconcileQuery.projects); '' when not compared by project.
   */
  readonly project: string;
  readonly serviceTier: string;
  /** A BilledKind: input, output, cache_read, cache_write, requests, … */
  readonly kind: string;
  readonly currency: string;
  /** Exact decimal. */
  readonly quantity: string;
  /** Exact decimal; meaningful when costLines > 0. */
  readonly billedCost: string;
  readonly costLines: number;
}

/** One row of traced usage grouped by day, provider, model (store: tracedUsage). */
export interface TracedInput {
  readonly day: number;
  readonly provider: string;
  readonly model: string;
  /** The span dimension that stands for the bill's project; '' when not compared by project. */
  readonly project: string;
  readonly currency: string;
  readonly spans: number;
  readonly requests: number;
  /** Input tokens as stored (as reported, per the provider's input rule). */
  readonly inputTokens: bigint;
  /**
   * All input of the rows with the cache, as each span's usage key records it (the input rule it
   * was priced with: an emitter may count cache inside input where its provider does not), plus
   * the cache tokens of rows stored without a key (`unkeyedCacheTokens`, added where the
   * provider's rule leaves them out). Absent: `inputTokens` is read by the provider's rule.
   */
  readonly inputWithCacheTokens?: bigint | undefined;
  readonly unkeyedCacheTokens?: bigint | undefined;
  readonly outputTokens: bigint;
  readonly cacheReadTokens: bigint;
  readonly cacheWriteTokens: bigint;
  /** Exact decimal. */
  readonly cost: string;
  readonly unpricedSpans: number;
  readonly unpricedInputTokens: bigint;
  readonly unpricedOutputTokens: bigint;
  readonly unpricedCacheReadTokens: bigint;
  readonly unpricedCacheWriteTokens: bigint;
}

export interface ReconcileOptions {
  readonly groupBy: readonly ReconcileDimension[];
  readonly catalog: ListPriceCatalog;
  /** Whether the provider's spans count cache tokens inside input tokens (core's input rule). */
  readonly inputIncludesCache: (provider: string) => boolean;
  /** Whether the bill covers the provider on that day (an import holds the day). */
  readonly billCovers: (provider: string, day: number) => boolean;
  /** A proposed override needs the effective rate to differ from list by at least this (percent). */
  readonly minOverridePercent?: number | undefined;
}

/** Money categories of a drift, exact decimal text. */
export interface DriftCategories {
  readonly untraced: string;
  readonly cacheOrTier: string;
  readonly unpriced: string;
  readonly rate: string;
  readonly timing: string;
  /** Drift of buckets whose model has no catalog price (not split). */
  readonly unexplained: string;
}

export interface ReconcileRow {
  readonly dimensions: Readonly<Partial<Record<ReconcileDimension, string>>>;
  readonly currency: string;
  readonly billedTokens: Readonly<TokenCounts>;
  readonly tracedTokens: Readonly<TokenCounts>;
  readonly billedRequests: bigint;
  readonly tracedRequests: number;
  readonly spans: number;
  readonly unpricedSpans: number;
  /** Billed cost over the buckets whose bill states one; undefined when none does. */
  readonly billedCost: string | undefined;
  /** 'all', 'some' or 'none' of the group's billed buckets state a cost. */
  readonly billedCostKnown: 'all' | 'some' | 'none';
  /** List cost of the billed usage (at the billed tiers); undefined without catalog prices. */
  readonly billedListCost: string | undefined;
  /** List cost of the traced usage. */
  readonly tracedListCost: string | undefined;
  /** The spans' cost (effective prices). */
  readonly tracedCost: string;
  /** Billed usage no span carries, at list (also where the bill states no cost); undefined without prices. */
  readonly untracedListCost: string | undefined;
  /** Billed − traced cost over the buckets with a stated cost and covered days; undefined when none. */
  readonly drift: string | undefined;
  readonly categories: DriftCategories | undefined;
}

/** An override for pricing-cache that makes costtrace's prices match the bill. */
export interface ProposedOverride {
  readonly provider: string;
  readonly model: string;
  readonly currency: string;
  /** Billed cost ÷ list cost of the billed usage, 6 decimals. */
  readonly effectiveRate: string;
  /** 100 × (1 − effectiveRate), 4 decimals; negative: the bill is above list. */
  readonly discountPercent: string;
  readonly billedCost: string;
  readonly billedListCost: string;
  /** The override record (pricing-cache overrides file format). */
  readonly record: {
    readonly id: string;
    readonly description: string;
    readonly provider: string;
    readonly sku: string;
    readonly resourceType: 'model';
    readonly discountPercent: string;
  };
}

export interface ReconcileReport {
  readonly rows: readonly ReconcileRow[];
  /**
   * Cloud compute beside the bill (GPU and instance hours per instance type; see
   * compute-reconcile.ts), grouped like `rows`; absent where only tokens were compared.
   */
  readonly compute?: readonly ComputeRow[] | undefined;
  readonly total: readonly ReconcileRow[];
  readonly overrides: readonly ProposedOverride[];
  /** What the reader should know (cost not split by model, models without a price, …). */
  readonly notes: readonly string[];
}

const MILLION = 1_000_000n;

function zeroTokens(): TokenCounts {
  return { input: 0n, output: 0n, cacheRead: 0n, cacheWrite: 0n };
}

/** Exact integer of a decimal quantity that must be whole (token counts). */
function wholeTokens(text: string): bigint {
  const scaled = parseScaled(text, MONEY_SCALE);
  return scaled / 10n ** BigInt(MONEY_SCALE);
}

/** Σ tokens × price per million, as a numerator over 1M (rounded once, later). */
function listNumerator(tokens: TokenCounts, prices: ListTokenPrices): bigint {
  return (
    tokens.input * prices.input +
    tokens.output * prices.output +
    tokens.cacheRead * prices.cacheRead +
    tokens.cacheWrite * prices.cacheWrite
  );
}

const toPico = (numerator: bigint): bigint => divideRoundHalfEven(numerator, MILLION);

interface FineBucket {
  readonly day: number;
  readonly provider: string;
  readonly model: string;
  readonly project: string;
  readonly currency: string;
  readonly billed: TokenCounts;
  /** Billed tokens by service tier (list cost at the billed tier). */
  readonly billedByTier: Map<string, TokenCounts>;
  billedRequests: bigint;
  billedCost: bigint;
  costLines: number;
  /** Billed lines exist for this bucket (usage or cost). */
  billedLines: number;
  /** Billed lines with token quantities (usage reports, exports). */
  usageLines: number;
  readonly traced: TokenCounts;
  readonly unpriced: TokenCounts;
  tracedRequests: number;
  spans: number;
  unpricedSpans: number;
  tracedCost: bigint;
}

/** Money figures of one fine bucket, in pico-units. */
interface FineFigures {
  readonly covered: boolean;
  readonly costKnown: boolean;
  readonly priced: boolean;
  billedList: bigint;
  tracedList: bigint;
  /** Untraced usage at list, before day-boundary moves (also where the bill states no cost). */
  untracedList: bigint;
  drift: bigint;
  untraced: bigint;
  cacheOrTier: bigint;
  unpriced: bigint;
  rate: bigint;
  timing: bigint;
  unexplained: bigint;
}

function bucketKey(day: number, provider: string, model: string, project: string, currency: string): string {
  return `${day}\u0000${provider}\u0000${model}\u0000${project}\u0000${currency}`;
}

function addTokens(into: TokenCounts, kind: string, n: bigint): boolean {
  switch (kind) {
    case 'input':
      into.input += n;
      return true;
    case 'output':
      into.output += n;
      return true;
    case 'cache_read':
      into.cacheRead += n;
      return true;
    case 'cache_write':
      into.cacheWrite += n;
      return true;
    default:
      return false;
  }
}

/** Reconciles billed against traced usage and cost (see the module comment). */
export function reconcile(
  billed: readonly BilledInput[],
  traced: readonly TracedInput[],
  options: ReconcileOptions,
): ReconcileReport {
  const { catalog } = options;
  const buckets = new Map<string, FineBucket>();
  const notes = new Set<string>();
  const byProject = options.groupBy.includes('project');
  const bucket = (
    day: number,
    provider: string,
    rawModel: string,
    rawProject: string,
    currency: string,
  ): FineBucket => {
    const model = rawModel === '' ? '' : catalog.canonicalModel(provider, rawModel);
    const project = byProject ? rawProject : '';
    const key = bucketKey(day, provider, model, project, currency);
    let b = buckets.get(key);
    if (b === undefined) {
      b = {
        day,
        provider,
        model,
        project,
        currency,
        billed: zeroTokens(),
        billedByTier: new Map(),
        billedRequests: 0n,
        billedCost: 0n,
        costLines: 0,
        billedLines: 0,
        usageLines: 0,
        traced: zeroTokens(),
        unpriced: zeroTokens(),
        tracedRequests: 0,
        spans: 0,
        unpricedSpans: 0,
        tracedCost: 0n,
      };
      buckets.set(key, b);
    }
    return b;
  };

  for (const row of billed) {
    const b = bucket(row.day, row.provider, row.model, row.project, row.currency);
    b.billedLines++;
    if (row.costLines > 0) {
      b.costLines += row.costLines;
      b.billedCost += parseScaled(row.billedCost, MONEY_SCALE);
    }
    if (row.kind === 'requests') {
      b.billedRequests += wholeTokens(row.quantity);
      continue;
    }
    const tokens = wholeTokens(row.quantity);
    if (tokens !== 0n && addTokens(b.billed, row.kind, tokens)) {
      b.usageLines++;
      const tier = row.serviceTier === '' ? 'standard' : row.serviceTier;
      let byTier = b.billedByTier.get(tier);
      if (byTier === undefined) {
        byTier = zeroTokens();
        b.billedByTier.set(tier, byTier);
      }
      addTokens(byTier, row.kind, tokens);
    }
  }

  for (const row of traced) {
    const b = bucket(row.day, row.provider, row.model, row.project, row.currency);
    const includes = options.inputIncludesCache(row.provider);
    const uncached = (input: bigint, read: bigint, write: bigint): bigint => {
      const left = includes ? input - read - write : input;
      return left < 0n ? 0n : left;
    };
    if (row.inputWithCacheTokens === undefined) {
      b.traced.input += uncached(row.inputTokens, row.cacheReadTokens, row.cacheWriteTokens);
    } else {
      // Per span as it was priced: input with the cache less the cache is the uncached input.
      const withCache = row.inputWithCacheTokens + (includes ? 0n : (row.unkeyedCacheTokens ?? 0n));
      const left = withCache - row.cacheReadTokens - row.cacheWriteTokens;
      b.traced.input += left < 0n ? 0n : left;
    }
    b.traced.output += row.outputTokens;
    b.traced.cacheRead += row.cacheReadTokens;
    b.traced.cacheWrite += row.cacheWriteTokens;
    b.unpriced.input += uncached(row.unpricedInputTokens, row.unpricedCacheReadTokens, row.unpricedCacheWriteTokens);
    b.unpriced.output += row.unpricedOutputTokens;
    b.unpriced.cacheRead += row.unpricedCacheReadTokens;
    b.unpriced.cacheWrite += row.unpricedCacheWriteTokens;
    b.tracedRequests += row.requests;
    b.spans += row.spans;
    b.unpricedSpans += row.unpricedSpans;
    b.tracedCost += parseScaled(row.cost, MONEY_SCALE);
  }

  // Cost lines not split by model ('' model beside models with usage) cannot be reconciled per model.
  const figures = new Map<FineBucket, FineFigures>();
  // What the bill states per provider and day: a cost report (or export) covers every model of the
  // day, so a model it does not name was billed nothing; the same for usage.
  const stated = { cost: new Set<string>(), usage: new Set<string>() };
  for (const b of buckets.values()) {
    const day = `${b.provider}\u0000${b.day}\u0000${b.currency}`;
    if (b.costLines > 0) stated.cost.add(day);
    if (b.usageLines > 0) stated.usage.add(day);
  }
  for (const b of buckets.values()) figures.set(b, fineFigures(b, options, notes, stated));
  moveDayBoundaries([...buckets.values()], figures);

  const rows = group([...buckets.values()], figures, options.groupBy);
  const total = group([...buckets.values()], figures, []);
  const overrides = proposeOverrides([...buckets.values()], figures, options);
  return { rows, total, overrides, notes: [...notes].sort() };
}

function fineFigures(
  b: FineBucket,
  options: ReconcileOptions,
  notes: Set<string>,
  stated: { readonly cost: ReadonlySet<string>; readonly usage: ReadonlySet<string> },
): FineFigures {
  const covered = b.billedLines > 0 || options.billCovers(b.provider, b.day);
  const day = `${b.provider}\u0000${b.day}\u0000${b.currency}`;
  const costKnown = stated.cost.has(day);
  const usageKnown = stated.usage.has(day);
  const at = b.day * 1000;
  const standard = b.model === '' ? undefined : options.catalog.tokenPrices(b.provider, b.model, 'standard', at);
  const priced = standard !== undefined && standard.currency === b.currency;
  const f: FineFigures = {
    covered,
    costKnown,
    priced,
    billedList: 0n,
    tracedList: 0n,
    untracedList: 0n,
    drift: 0n,
    untraced: 0n,
    cacheOrTier: 0n,
    unpriced: 0n,
    rate: 0n,
    timing: 0n,
    unexplained: 0n,
  };
  if (!covered) {
    // The bill has nothing for this provider and day yet: all of it is late data.
    f.drift = -b.tracedCost;
    f.timing = f.drift;
    return f;
  }
  if (!priced) {
    if (b.model === '' && b.costLines > 0) {
      notes.add(
        `cost of ${b.provider} not split by model on some days: compare it with --by day,provider (not by model)`,
      );
    } else if (b.model !== '') {
      notes.add(`no catalog price for ${b.provider}/${b.model}: its drift is not split into causes`);
    }
    if (costKnown) {
      f.drift = b.billedCost - b.tracedCost;
      f.unexplained = f.drift;
    }
    return f;
  }
  let billedListNumerator = 0n;
  for (const [tier, tokens] of b.billedByTier) {
    const prices = tier === 'standard' ? standard : options.catalog.tokenPrices(b.provider, b.model, tier, at);
    billedListNumerator += listNumerator(
      tokens,
      prices !== undefined && prices.currency === b.currency ? prices : standard,
    );
  }
  const tracedNumerator = listNumerator(b.traced, standard);
  f.billedList = toPico(billedListNumerator);
  f.tracedList = toPico(tracedNumerator);
  const inputSide = (t: TokenCounts): bigint => t.input + t.cacheRead + t.cacheWrite;
  const untracedNumerator =
    (inputSide(b.billed) - inputSide(b.traced)) * standard.input +
    (b.billed.output - b.traced.output) * standard.output;
  const untraced = toPico(untracedNumerator);
  // Kind and tier: the rest of the list-cost difference between bill and spans.
  const cacheOrTier = toPico(billedListNumerator - tracedNumerator - untracedNumerator);
  f.untracedList = usageKnown ? untraced : 0n;
  if (costKnown && !usageKnown) {
    // Cost without usage (a cost report alone): nothing to compare the spans' tokens with.
    notes.add('some days have billed cost but no billed usage: import the usage report too to split the drift');
    f.drift = b.billedCost - b.tracedCost;
    f.unexplained = f.drift;
    return f;
  }
  if (!costKnown) {
    // Usage only: no drift to split (untracedList still says what the missing usage lists at).
    notes.add('some days have billed usage but no billed cost: import the cost report too to split the drift');
    return f;
  }
  f.drift = b.billedCost - b.tracedCost;
  f.untraced = untraced;
  f.cacheOrTier = cacheOrTier;
  f.unpriced = toPico(listNumerator(b.unpriced, standard));
  f.rate = f.drift - f.untraced - f.cacheOrTier - f.unpriced;
  return f;
}

/**
 * Day boundaries: when untraced usage of a provider/model is positive one day and negative the
 * next (or the other way round), the part that cancels is timing, not missing spans.
 */
function moveDayBoundaries(buckets: readonly FineBucket[], figures: Map<FineBucket, FineFigures>): void {
  const series = new Map<string, FineBucket[]>();
  for (const b of buckets) {
    const f = figures.get(b)!;
    if (!f.covered || !f.priced) continue;
    const key = `${b.provider}\u0000${b.model}\u0000${b.project}\u0000${b.currency}`;
    const list = series.get(key) ?? [];
    list.push(b);
    series.set(key, list);
  }
  for (const list of series.values()) {
    list.sort((a, b) => a.day - b.day);
    for (let i = 0; i + 1 < list.length; i++) {
      const a = list[i]!;
      const next = list[i + 1]!;
      if (next.day - a.day !== 86_400) continue;
      const fa = figures.get(a)!;
      const fb = figures.get(next)!;
      if ((fa.untraced > 0n && fb.untraced < 0n) || (fa.untraced < 0n && fb.untraced > 0n)) {
        const abs = (x: bigint): bigint => (x < 0n ? -x : x);
        const moved = abs(fa.untraced) < abs(fb.untraced) ? abs(fa.untraced) : abs(fb.untraced);
        const sa = fa.untraced > 0n ? 1n : -1n;
        fa.untraced -= sa * moved;
        fa.timing += sa * moved;
        fb.untraced += sa * moved;
        fb.timing -= sa * moved;
        // Rate is what remains of a drift: it does not change, the split between causes does.
      }
    }
  }
}

function group(
  buckets: readonly FineBucket[],
  figures: Map<FineBucket, FineFigures>,
  groupBy: readonly ReconcileDimension[],
): ReconcileRow[] {
  interface Acc {
    dimensions: Partial<Record<ReconcileDimension, string>>;
    currency: string;
    billed: TokenCounts;
    traced: TokenCounts;
    billedRequests: bigint;
    tracedRequests: number;
    spans: number;
    unpricedSpans: number;
    billedCost: bigint;
    costBuckets: number;
    billedBuckets: number;
    billedList: bigint;
    tracedList: bigint;
    untracedList: bigint;
    listKnown: boolean;
    anyPriced: boolean;
    tracedCost: bigint;
    drift: bigint;
    driftBuckets: number;
    c: { untraced: bigint; cacheOrTier: bigint; unpriced: bigint; rate: bigint; timing: bigint; unexplained: bigint };
  }
  const groups = new Map<string, Acc>();
  for (const b of buckets) {
    const f = figures.get(b)!;
    const dimensions: Partial<Record<ReconcileDimension, string>> = {};
    for (const d of groupBy) {
      dimensions[d] = d === 'day' ? String(b.day) : d === 'provider' ? b.provider : d === 'model' ? b.model : b.project;
    }
    const key = JSON.stringify([groupBy.map((d) => dimensions[d]), b.currency]);
    let g = groups.get(key);
    if (g === undefined) {
      g = {
        dimensions,
        currency: b.currency,
        billed: zeroTokens(),
        traced: zeroTokens(),
        billedRequests: 0n,
        tracedRequests: 0,
        spans: 0,
        unpricedSpans: 0,
        billedCost: 0n,
        costBuckets: 0,
        billedBuckets: 0,
        billedList: 0n,
        tracedList: 0n,
        untracedList: 0n,
        listKnown: true,
        anyPriced: false,
        tracedCost: 0n,
        drift: 0n,
        driftBuckets: 0,
        c: { untraced: 0n, cacheOrTier: 0n, unpriced: 0n, rate: 0n, timing: 0n, unexplained: 0n },
      };
      groups.set(key, g);
    }
    for (const k of ['input', 'output', 'cacheRead', 'cacheWrite'] as const) {
      g.billed[k] += b.billed[k];
      g.traced[k] += b.traced[k];
    }
    g.billedRequests += b.billedRequests;
    g.tracedRequests += b.tracedRequests;
    g.spans += b.spans;
    g.unpricedSpans += b.unpricedSpans;
    g.tracedCost += b.tracedCost;
    if (b.billedLines > 0) g.billedBuckets++;
    if (f.costKnown) {
      g.billedCost += b.billedCost;
      g.costBuckets++;
    }
    if (f.priced) {
      g.anyPriced = true;
      g.billedList += f.billedList;
      g.tracedList += f.tracedList;
      g.untracedList += f.untracedList;
    } else if (b.model !== '' || b.billedLines > 0) g.listKnown = false;
    if (f.costKnown || !f.covered) {
      g.drift += f.drift;
      g.driftBuckets++;
    }
    g.c.untraced += f.untraced;
    g.c.cacheOrTier += f.cacheOrTier;
    g.c.unpriced += f.unpriced;
    g.c.rate += f.rate;
    g.c.timing += f.timing;
    g.c.unexplained += f.unexplained;
  }
  const text = (v: bigint): string => formatScaled(v, MONEY_SCALE);
  return [...groups.values()]
    .sort((a, b) => compareDimensions(a.dimensions, b.dimensions, groupBy) || a.currency.localeCompare(b.currency))
    .map((g) => ({
      dimensions: g.dimensions,
      currency: g.currency,
      billedTokens: g.billed,
      tracedTokens: g.traced,
      billedRequests: g.billedRequests,
      tracedRequests: g.tracedRequests,
      spans: g.spans,
      unpricedSpans: g.unpricedSpans,
      billedCost: g.costBuckets > 0 ? text(g.billedCost) : undefined,
      billedCostKnown: g.costBuckets === 0 ? 'none' : g.costBuckets >= g.billedBuckets ? 'all' : 'some',
      billedListCost: g.anyPriced && g.listKnown ? text(g.billedList) : undefined,
      tracedListCost: g.anyPriced && g.listKnown ? text(g.tracedList) : undefined,
      tracedCost: text(g.tracedCost),
      untracedListCost: g.anyPriced && g.listKnown ? text(g.untracedList) : undefined,
      drift: g.driftBuckets > 0 ? text(g.drift) : undefined,
      categories:
        g.driftBuckets === 0
          ? undefined
          : {
              untraced: text(g.c.untraced),
              cacheOrTier: text(g.c.cacheOrTier),
              unpriced: text(g.c.unpriced),
              rate: text(g.c.rate),
              timing: text(g.c.timing),
              unexplained: text(g.c.unexplained),
            },
    }));
}

function compareDimensions(
  a: Partial<Record<ReconcileDimension, string>>,
  b: Partial<Record<ReconcileDimension, string>>,
  groupBy: readonly ReconcileDimension[],
): number {
  for (const d of groupBy) {
    const x = a[d] ?? '';
    const y = b[d] ?? '';
    if (x === y) continue;
    if (d === 'day') return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return 0;
}

function proposeOverrides(
  buckets: readonly FineBucket[],
  figures: Map<FineBucket, FineFigures>,
  options: ReconcileOptions,
): ProposedOverride[] {
  const minPercent = BigInt(Math.round((options.minOverridePercent ?? 0.5) * 10_000));
  const sums = new Map<string, { provider: string; model: string; currency: string; cost: bigint; list: bigint }>();
  for (const b of buckets) {
    const f = figures.get(b)!;
    if (!f.covered || !f.priced || !f.costKnown || f.billedList === 0n) continue;
    const key = `${b.provider}\u0000${b.model}\u0000${b.currency}`;
    const s = sums.get(key) ?? { provider: b.provider, model: b.model, currency: b.currency, cost: 0n, list: 0n };
    s.cost += b.billedCost;
    s.list += f.billedList;
    sums.set(key, s);
  }
  const out: ProposedOverride[] = [];
  for (const s of [...sums.values()].sort((a, b) => (a.provider + a.model < b.provider + b.model ? -1 : 1))) {
    if (s.list <= 0n) continue;
    // Percent off in 10^-4 percent units: 100 × (1 − cost/list), rounded half to even once.
    const discount = divideRoundHalfEven((s.list - s.cost) * 1_000_000n, s.list);
    if ((discount < 0n ? -discount : discount) < minPercent) continue;
    const rate = divideRoundHalfEven(s.cost * 1_000_000n, s.list);
    const discountPercent = formatScaled(discount, 4);
    out.push({
      provider: s.provider,
      model: s.model,
      currency: s.currency,
      effectiveRate: formatScaled(rate, 6),
      discountPercent,
      billedCost: formatScaled(s.cost, MONEY_SCALE),
      billedListCost: formatScaled(s.list, MONEY_SCALE),
      record: {
        id: `reconcile-${s.provider}-${s.model}`.replace(/[^A-Za-z0-9._-]/g, '-'),
        description: `effective rate of the ${s.provider} bill for ${s.model} (costtrace reconcile)`,
        provider: s.provider,
        sku: s.model,
        resourceType: 'model',
        discountPercent,
      },
    });
  }
  return out;
}
