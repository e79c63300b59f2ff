/**
 * `costtrace estimate cache --route R --hit-rate P`: what a route would save, at its measured
 * traffic, from prompt caching (cached-input prices) and from a response cache, each at a hit
 * rate of P %. Pure arithmetic over what the store measured and what the price catalog says;
 * every assumption is listed.
 */
import { defaultInputTokenRule, divideRoundHalfEven, HOURS_PER_MONTH, PricingError } from '@costtrace/core';
import { MAX_QUERY_LIMIT } from '@costtrace/store';
import type { BillStore, TracedUsageRow } from '@costtrace/store';
import { GetPriceRequest, PriceUnitEnum, UsageKindEnum } from '@costtrace/proto';
import type { PricingBackend } from '../commands/pricing-backend.js';
import { EXIT, pico, usd } from './common-flags.js';
import type { CommonArgs, CostSource } from './common-flags.js';

/** Where the route's token mix comes from: the store's traced usage (ClickHouse or DuckDB). */
export type TrafficSource = Pick<BillStore, 'tracedUsage'>;

export interface CacheArgs {
  readonly kind: 'cache';
  readonly route: string;
  /** Percent × 10^6, 0 to 100. */
  readonly hitRate: bigint;
  readonly common: CommonArgs;
}

/** One figure; `scope` is the model (provider/model) it belongs to, or `total` for the route as a whole. */
export interface CacheFigure {
  readonly scope: string;
  readonly metric: string;
  readonly value: string | null;
  readonly note: string;
}

export type CacheResult =
  { readonly ok: true } | { readonly ok: false; readonly code: number; readonly message: string };

const CURRENCY = 'USD';
const MILLION = 1_000_000n;
/** Percent × 10^6 → a fraction: divide by this. */
const PERCENT = 100_000_000n;
const MONTH_SECONDS = HOURS_PER_MONTH * 3600n;

/** Percent × 10^6 as text, trailing zeros dropped ("12.5"). */
function percentText(value: bigint): string {
  const s = value.toString().padStart(7, '0');
  const fraction = s.slice(-6).replace(/0+$/, '');
  return `${s.slice(0, -6)}${fraction === '' ? '' : `.${fraction}`}`;
}

/** part / whole as a percentage with two decimals, rounded half to even; null when whole is 0. */
function share(part: bigint, whole: bigint): string | null {
  if (whole === 0n) return null;
  const bp = divideRoundHalfEven(part * 10_000n, whole);
  return `${bp / 100n}.${(bp % 100n).toString().padStart(2, '0')} %`;
}

/** A price per 1M tokens (pico-USD) as short decimal USD ("2.5"). */
function perMillion(value: bigint): string {
  return usd(value).replace(/\.?0+$/, '');
}

/** The model's token mix on the route over the period, every span counted once. */
interface ModelTraffic {
  readonly provider: string;
  readonly model: string;
  spans: bigint;
  /** All input tokens, cache reads and writes included. */
  input: bigint;
  cacheRead: bigint;
  cacheWrite: bigint;
  unpricedSpans: number;
  upperBoundSpans: number;
}

/**
 * All input of a group, the cache included: what each span's usage key records, plus, for spans
 * stored without one, their cache tokens where the provider's default rule leaves them out of
 * the input (Anthropic's API counts input without the cache; OpenAI's, Google's and the GenAI
 * conventions' with it).
 */
function inputWithCache(row: TracedUsageRow, provider: string): bigint {
  const excludes = defaultInputTokenRule(provider) === 'input-excludes-cache';
  return row.inputWithCacheTokens + (excludes ? row.unkeyedCacheTokens : 0n);
}

function byModel(rows: readonly TracedUsageRow[]): ModelTraffic[] {
  const models = new Map<string, ModelTraffic>();
  for (const row of rows) {
    const provider = row.dimensions.provider ?? '';
    const model = row.dimensions.model ?? '';
    const key = `${provider}/${model}`;
    let m = models.get(key);
    if (m === undefined) {
      m = {
        provider,
        model,
        spans: 0n,
        input: 0n,
        cacheRead: 0n,
        cacheWrite: 0n,
        unpricedSpans: 0,
        upperBoundSpans: 0,
      };
      models.set(key, m);
    }
    m.spans += BigInt(row.spans);
    m.input += inputWithCache(row, provider);
    m.cacheRead += row.cacheReadTokens;
    m.cacheWrite += row.cacheWriteTokens;
    m.unpricedSpans += row.unpricedSpans;
    m.upperBoundSpans += row.upperBoundSpans;
  }
  return [...models.values()];
}

/** The model's effective prices per 1M tokens (pico-USD), and which of the cache prices exist. */
interface CachePrices {
  readonly input: bigint;
  /** The cache-read price, or the input price where the catalog has none (as the quote charges). */
  readonly cacheRead: bigint;
  readonly cacheWrite: bigint;
  readonly hasCacheRead: boolean;
  readonly hasCacheWrite: boolean;
  readonly ids: readonly string[];
}

async function cachePrices(
  backend: PricingBackend,
  m: ModelTraffic,
  promptTokens: bigint,
): Promise<CachePrices | string> {
  const price = async (
    kind: UsageKindEnum,
  ): Promise<{ amount: bigint; kind: UsageKindEnum; id: string; currency: string }> => {
    const request = GetPriceRequest.fromJSON({});
    request.provider = m.provider;
    request.sku = m.model;
    request.kind = kind;
    request.unit = PriceUnitEnum.PRICE_UNIT_MILLION_TOKENS;
    request.inputTokens = promptTokens;
    const res = await backend.getPrice(request);
    return {
      amount: pico(res.effectiveAmount?.amount ?? '0'),
      kind: res.price?.kind ?? UsageKindEnum.USAGE_KIND_UNSPECIFIED,
      id: res.price?.id ?? '',
      currency: res.effectiveAmount?.currency ?? '',
    };
  };
  try {
    const input = await price(UsageKindEnum.USAGE_KIND_INPUT_TOKENS);
    const read = await price(UsageKindEnum.USAGE_KIND_CACHE_READ_TOKENS);
    const write = await price(UsageKindEnum.USAGE_KIND_CACHE_WRITE_TOKENS);
    if ([input, read, write].some((p) => p.currency !== CURRENCY))
      return `priced in ${input.currency}, not ${CURRENCY}: not compared`;
    const hasCacheRead = read.kind === UsageKindEnum.USAGE_KIND_CACHE_READ_TOKENS;
    const hasCacheWrite = write.kind === UsageKindEnum.USAGE_KIND_CACHE_WRITE_TOKENS;
    return {
      input: input.amount,
      cacheRead: read.amount,
      cacheWrite: write.amount,
      hasCacheRead,
      hasCacheWrite,
      ids: [input.id, ...(hasCacheRead ? [read.id] : []), ...(hasCacheWrite ? [write.id] : [])],
    };
  } catch (err) {
    if (err instanceof PricingError && err.code === 'NOT_FOUND') return 'not in the price catalog';
    throw err;
  }
}

/** tokens × price per 1M, summed, ÷ 10^6: one rounding, half to even. */
function cost(terms: readonly (readonly [bigint, bigint])[]): bigint {
  return divideRoundHalfEven(
    terms.reduce((n, [tokens, perMillion]) => n + tokens * perMillion, 0n),
    MILLION,
  );
}

function modelName(provider: string, model: string): string {
  return model === '' ? '(no model)' : provider === '' ? model : `${provider}/${model}`;
}

/**
 * Prompt caching and a response cache on one route at its measured traffic. Figures go to
 * `figures` (per model, then the route's totals), assumptions to `assumptions`.
 */
export async function cacheSavings(
  a: CacheArgs,
  nowSeconds: number,
  backend: PricingBackend,
  source: CostSource | undefined,
  traffic: TrafficSource | undefined,
  figures: CacheFigure[],
  assumptions: string[],
): Promise<CacheResult> {
  if (traffic === undefined || source === undefined)
    return {
      ok: false,
      code: EXIT.failed,
      message:
        "estimate cache reads the route's measured tokens from the store: use --store clickhouse (CLICKHOUSE_URL) or --store duckdb:PATH; the query API does not serve them",
    };
  const out: CacheFigure[] = [];
  const { since, until } = a.common;
  // The measured period ends now at the latest (the query's default end is the next minute).
  const period = BigInt(Math.min(until, nowSeconds) - since);
  if (period <= 0n)
    return { ok: false, code: EXIT.usage, message: '--since is in the future: nothing was measured yet' };
  const p = a.hitRate;
  const monthly = (periodValue: bigint): bigint => divideRoundHalfEven(periodValue * MONTH_SECONDS, period);
  let tokenRows: TracedUsageRow[];
  let costRows: Awaited<ReturnType<CostSource['queryCosts']>>;
  try {
    tokenRows = await traffic.tracedUsage({ since, until, groupBy: ['provider', 'model'], routes: [a.route] });
    costRows = await source.queryCosts({
      ...a.common.query,
      groupBy: ['provider', 'model', 'currency'],
      filters: [{ dimension: 'route', values: [a.route] }],
      limit: MAX_QUERY_LIMIT,
    });
  } catch (err) {
    return {
      ok: false,
      code: EXIT.failed,
      message: `could not read the route's traffic from the store (${err instanceof Error ? err.message : String(err)})`,
    };
  }
  if (tokenRows.length === 0 && costRows.length === 0)
    return {
      ok: false,
      code: EXIT.noData,
      message: `no spans on route ${JSON.stringify(a.route)} from ${new Date(since * 1000).toISOString()} to ${new Date(until * 1000).toISOString()}`,
    };

  assumptions.push(
    `traffic: route ${a.route}, ${new Date(since * 1000).toISOString()} to ${new Date((since + Number(period)) * 1000).toISOString()} (${period} s), as measured by the store`,
    `month = ${HOURS_PER_MONTH} hours: monthly = the period's figure × ${HOURS_PER_MONTH} h ÷ the period`,
    `hit rate ${percentText(p)} %: for prompt caching, of the route's input tokens; for the response cache, of its requests; the two are alternatives, not to be added`,
  );

  // ---- prompt caching, per model ----
  const models = byModel(tokenRows).filter((m) => m.input + m.cacheRead + m.cacheWrite > 0n);
  let promptToday = 0n;
  let promptCached = 0n;
  let promptModels = 0;
  for (const m of models) {
    const scope = modelName(m.provider, m.model);
    // Inconsistent counts (cache above the input) are read as all-cache input.
    const total = m.input < m.cacheRead + m.cacheWrite ? m.cacheRead + m.cacheWrite : m.input;
    const uncached = total - m.cacheRead - m.cacheWrite;
    if (total !== m.input)
      assumptions.push(
        `${scope}: cache tokens exceed the input the spans report; the input is taken as the cache tokens`,
      );
    out.push({ scope, metric: 'input_tokens', value: total.toString(), note: 'in the period, cache included' });
    out.push({
      scope,
      metric: 'cached_share_today',
      value: share(m.cacheRead, total),
      note: 'of the input read from the prompt cache',
    });
    if (m.model === '' || m.provider === '') {
      assumptions.push(`${scope}: tokens without a model or provider: not priced, no saving claimed`);
      continue;
    }
    // Long-context tiers: priced at the tier of the model's average prompt (input per call).
    const prompt = m.spans === 0n ? 0n : divideRoundHalfEven(total, m.spans);
    const prices = await cachePrices(backend, m, prompt);
    if (typeof prices === 'string') {
      assumptions.push(`${scope}: ${prices}; no saving claimed`);
      continue;
    }
    const today = cost([
      [uncached, prices.input],
      [m.cacheRead, prices.cacheRead],
      [m.cacheWrite, prices.cacheWrite],
    ]);
    out.push({
      scope,
      metric: 'input_cost_today',
      value: usd(today),
      note: 'USD, the period: uncached input, cache reads and writes at the catalog prices',
    });
    assumptions.push(
      `${scope}: USD per 1M tokens: input ${perMillion(prices.input)}; cached input ` +
        (prices.hasCacheRead ? perMillion(prices.cacheRead) : 'none in the catalog') +
        '; cache write ' +
        (prices.hasCacheWrite ? perMillion(prices.cacheWrite) : 'none in the catalog (misses are plain input)') +
        `; at the tier of the average prompt, ${prompt} tokens over ${m.spans} calls (price ids ${prices.ids.join(', ')})`,
    );
    if (!prices.hasCacheRead) {
      out.push({
        scope,
        metric: 'prompt_cache_saving',
        value: null,
        note: 'no cached-input price in the catalog: no saving claimed',
      });
      continue;
    }
    const hits = divideRoundHalfEven(total * p, PERCENT);
    const misses = total - hits;
    const cached = cost([
      [hits, prices.cacheRead],
      [misses, prices.hasCacheWrite ? prices.cacheWrite : prices.input],
    ]);
    const saving = today - cached;
    promptToday += today;
    promptCached += cached;
    promptModels++;
    out.push({
      scope,
      metric: 'input_cost_cached',
      value: usd(cached),
      note: `USD, the period: ${hits} tokens read from the cache, ${misses} ${prices.hasCacheWrite ? 'written to it' : 'as plain input'}`,
    });
    // At or below today's cache share the saving is zero or negative (fewer hits, more misses).
    const already = m.cacheRead * PERCENT >= total * p;
    out.push({
      scope,
      metric: 'prompt_cache_saving',
      value: usd(saving),
      note: already
        ? `USD, the period: the route already reads ${share(m.cacheRead, total)} of this input from the cache, at least the hit rate: no saving at this rate`
        : saving < 0n
          ? 'USD, the period: negative: writing the misses to the cache costs more than the hits save'
          : 'USD, the period',
    });
    out.push({ scope, metric: 'prompt_cache_saving_monthly', value: usd(monthly(saving)), note: 'USD a month' });
  }
  if (models.some((m) => m.upperBoundSpans > 0))
    assumptions.push(
      'some spans come from emitters that report no cached tokens: their input counts as uncached, so the cache share today may be understated and the saving overstated',
    );

  // ---- response cache: P % of the requests, so P % of everything the route costs ----
  let routeCost = 0n;
  let requests = 0n;
  const otherCurrencies = new Set<string>();
  for (const row of costRows) {
    const currency = row.dimensions.currency ?? CURRENCY;
    requests += BigInt(row.requests);
    if (currency !== CURRENCY) {
      otherCurrencies.add(currency);
      continue;
    }
    const measured = pico(row.cost);
    routeCost += measured;
    const scope = modelName(row.dimensions.provider ?? '', row.dimensions.model ?? '');
    out.push({ scope, metric: 'measured_cost', value: usd(measured), note: 'USD, the period, every component' });
    out.push({
      scope,
      metric: 'response_cache_saving',
      value: usd(divideRoundHalfEven(measured * p, PERCENT)),
      note: 'USD, the period',
    });
    out.push({
      scope,
      metric: 'response_cache_saving_monthly',
      value: usd(divideRoundHalfEven(measured * p * MONTH_SECONDS, PERCENT * period)),
      note: 'USD a month',
    });
  }
  if (otherCurrencies.size > 0)
    assumptions.push(`costs in ${[...otherCurrencies].join(', ')} are left out of the response-cache figures`);
  const unpriced = models.reduce((n, m) => n + m.unpricedSpans, 0);
  if (unpriced > 0)
    assumptions.push(
      `${unpriced} spans on the route have tokens and no cost (unpriced): the measured cost and the response-cache saving leave them out`,
    );
  assumptions.push(
    'response cache: a cached response makes no model call and uses no GPU or instance time; cached requests cost on average what the others do (saving = hit rate × the measured cost)',
    "prompt caching: every input token is either read from the cache (hit rate × all input, today's cache reads and writes included) or missed; a miss is written to the cache at the cache-write price where the catalog has one (Anthropic's write premium), else it is plain input. Writing every miss is conservative: only a cacheable prefix is written in practice",
    "prompt caching: input as the spans report it, per each span's input rule (its usage key; spans stored without one by the provider's default: Anthropic's input excludes the cache, the others' includes it); output tokens are the same with or without caching and are left out",
    'prompt caching: prices from the catalog (effective, overrides applied), at the long-context tier of the average prompt; the figures today are the catalog price of the measured mix, not the measured cost',
  );

  // ---- the route ----
  out.push({ scope: 'total', metric: 'requests', value: requests.toString(), note: 'in the period' });
  out.push({
    scope: 'total',
    metric: 'measured_cost',
    value: usd(routeCost),
    note: 'USD, the period, every component',
  });
  if (promptModels > 0) {
    const saving = promptToday - promptCached;
    out.push({
      scope: 'total',
      metric: 'input_cost_today',
      value: usd(promptToday),
      note: 'USD, models with a cached-input price',
    });
    out.push({
      scope: 'total',
      metric: 'input_cost_cached',
      value: usd(promptCached),
      note: 'USD, the same models at the hit rate',
    });
    out.push({ scope: 'total', metric: 'prompt_cache_saving', value: usd(saving), note: 'USD, the period' });
    out.push({
      scope: 'total',
      metric: 'prompt_cache_saving_monthly',
      value: usd(monthly(saving)),
      note: 'USD a month',
    });
  } else {
    out.push({
      scope: 'total',
      metric: 'prompt_cache_saving',
      value: null,
      note: 'no model on the route has a cached-input price: no saving claimed',
    });
  }
  out.push({
    scope: 'total',
    metric: 'responses_from_cache',
    value: divideRoundHalfEven(requests * p, PERCENT).toString(),
    note: 'requests in the period answered by the response cache',
  });
  out.push({
    scope: 'total',
    metric: 'response_cache_saving',
    value: usd(divideRoundHalfEven(routeCost * p, PERCENT)),
    note: 'USD, the period',
  });
  out.push({
    scope: 'total',
    metric: 'response_cache_saving_monthly',
    value: usd(divideRoundHalfEven(routeCost * p * MONTH_SECONDS, PERCENT * period)),
    note: 'USD a month',
  });
  // Each model's figures together, models in the order they first appear, the totals last.
  const rank = new Map<string, number>();
  for (const f of out)
    if (!rank.has(f.scope)) rank.set(f.scope, f.scope === 'total' ? Number.MAX_SAFE_INTEGER : rank.size);
  figures.push(...out.sort((x, y) => rank.get(x.scope)! - rank.get(y.scope)!));
  return { ok: true };
}
