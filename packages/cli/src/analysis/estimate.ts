/**
 * `costtrace estimate training|inference`: what a job or a service will cost before it runs,
 * priced from the price catalog (the bundled one offline, the same PricingApi the pricing-cache
 * serves), with the assumptions listed and, when the store has them, historical actuals of
 * similar work next to the estimate.
 */
import { divideRoundHalfEven, HOURS_PER_MONTH, JOB_KINDS, PricingError } from '@costtrace/core';
import { MAX_QUERY_LIMIT } from '@costtrace/store';
import type { DimensionFilter, JobEstimateStore } from '@costtrace/store';
import { GetPriceRequest, PriceUnitEnum, QuoteRequest, UsageKindEnum } from '@costtrace/proto';
import type { QuoteResponse } from '@costtrace/proto';
import type { PricingBackend } from '../commands/pricing-backend.js';
import type { CommandOutput } from '../command-args.js';
import type { ArgsResult } from '../args.js';
import { renderRows } from '../table-format.js';
import type { Cell } from '../table-format.js';
import { COMMON_FLAGS_HELP, flag, parseCommand, pico, positiveDecimal, ratio, totals, usd } from './common-flags.js';
import type { CommonArgs, CostSource } from './common-flags.js';
import { usageError } from './command-deps.js';
import { cacheSavings } from './estimate-cache.js';
import type { CacheArgs, CacheFigure, TrafficSource } from './estimate-cache.js';

export const ESTIMATE_USAGE = `costtrace estimate training --gpu TYPE --count N (--hours H | --epochs E --samples S --rate SAMPLES_PER_S) [--epochs E] [--samples S] [--job ID [--job-kind K] --record]
       costtrace estimate inference (--model provider/model --requests-per-day R --input-tokens I --output-tokens O [--cached-tokens C] | --gpu TYPE --count N [--hours-per-day H])
       costtrace estimate crossover --model provider/model --gpu TYPE --count N --throughput TOKENS_PER_S [--input-share PERCENT]
       costtrace estimate cache --route R --hit-rate PERCENT
       [--since 30d] [--where dim=value]... [--format table|json|csv]`;

export const ESTIMATE_HELP = `usage: ${ESTIMATE_USAGE}

Prices planned work before it runs, from the price catalog (the catalogs bundled with
pricing-cache; GPU time at the reference on-demand GPU-hour rates).
  training    GPU type × count × hours, or epochs × samples at a measured rate (samples/s
              across the whole job) → total, per epoch, per sample, per GPU-hour. With
              --job ID --record (and --job-kind, default training) the estimate is stored for
              the job (--store clickhouse or duckdb:PATH): costtrace jobs shows it beside what
              the job's spans cost
  inference   requests/day × tokens/request × model, or GPU instances × hours/day
              → daily and monthly (monthly = daily × ${HOURS_PER_MONTH} / 24, ${HOURS_PER_MONTH} hours a month)
  crossover   build vs buy: the monthly token volume above which N GPUs serving the model
              (at --throughput tokens/s, all day) cost less than the model's API, and whether
              the GPUs can serve that volume. The API's price per 1M tokens is measured from the
              store where it has the model's traffic (its real input/output/cache mix), else the
              catalog's input and output prices at --input-share percent input (default 75)
  cache       what route R would save at its measured traffic over --since, from prompt
              caching (--hit-rate percent of its input tokens read from the provider's cache at
              the cached-input price, the misses written at the cache-write price where the
              catalog has one) and from a response cache (--hit-rate percent of its requests
              answered without a model call: that share of everything the route costs), per
              model and for the route, for the period and a month. Needs the store's tokens
              (--store clickhouse or duckdb:PATH); a model without a cached-input price gets
              no saving, and a hit rate at or below today's cache share saves nothing
Every assumption is listed. With a reachable store, actuals of similar work over --since
(default 30d) are shown beside it: for a model, the measured cost per request of that model
(and per 1M tokens); for a GPU type, the average cost per trace (job) on that GPU type.
--where narrows which historical spans count as similar.
Money is exact (10^-12 USD), rounded once half to even.

${COMMON_FLAGS_HELP}

examples:
  costtrace estimate training --gpu h100-80gb --count 8 --hours 12 --epochs 3 --samples 1200000
  costtrace estimate training --gpu a100-80gb --count 4 --epochs 2 --samples 500000 --rate 850
  costtrace estimate training --gpu h100-80gb --count 8 --hours 6 --job ft-support-v3 --job-kind fine_tuning --record --store clickhouse
  costtrace estimate inference --model openai/gpt-4o-mini --requests-per-day 20000 --input-tokens 800 --output-tokens 200
  costtrace estimate inference --gpu l4 --count 2 --hours-per-day 24 --format json
  costtrace estimate crossover --model openai/gpt-4o --gpu h100-80gb --count 1 --throughput 2500
  costtrace estimate cache --route /v1/chat --hit-rate 40 --since 7d`;

const SCALE = 6;
const ONE = 10n ** BigInt(SCALE);

export type EstimateArgs =
  | {
      readonly kind: 'training';
      readonly gpu: string;
      readonly count: number;
      /** The job this estimate is for (`--job`), its kind, and whether to record it (`--record`). */
      readonly job: { readonly id: string; readonly kind: string; readonly record: boolean } | undefined;
      /** Hours × 10^6. */
      readonly hours: bigint;
      readonly epochs: bigint | undefined;
      readonly samples: bigint | undefined;
      readonly rate: bigint | undefined;
      readonly common: CommonArgs;
    }
  | {
      readonly kind: 'inference-tokens';
      readonly provider: string;
      readonly model: string;
      readonly requestsPerDay: bigint;
      readonly inputTokens: bigint;
      readonly outputTokens: bigint;
      readonly cachedTokens: bigint;
      readonly common: CommonArgs;
    }
  | {
      readonly kind: 'inference-gpu';
      readonly gpu: string;
      readonly count: number;
      readonly hoursPerDay: bigint;
      readonly common: CommonArgs;
    }
  | {
      readonly kind: 'crossover';
      readonly provider: string;
      readonly model: string;
      readonly gpu: string;
      readonly count: number;
      /** Tokens per second the GPUs serve, × 10^6. */
      readonly throughput: bigint;
      /** Input share of the tokens, percent × 10^6; undefined: measured, else 75 %. */
      readonly inputShare: bigint | undefined;
      readonly common: CommonArgs;
    }
  | CacheArgs;

const OWN_FLAGS = {
  gpu: { type: 'string' },
  count: { type: 'string' },
  hours: { type: 'string' },
  epochs: { type: 'string' },
  samples: { type: 'string' },
  rate: { type: 'string' },
  model: { type: 'string' },
  'requests-per-day': { type: 'string' },
  'input-tokens': { type: 'string' },
  'output-tokens': { type: 'string' },
  'cached-tokens': { type: 'string' },
  'hours-per-day': { type: 'string' },
  throughput: { type: 'string' },
  'input-share': { type: 'string' },
  job: { type: 'string' },
  'job-kind': { type: 'string' },
  record: { type: 'boolean' },
  route: { type: 'string' },
  'hit-rate': { type: 'string' },
} as const;

function whole(name: string, text: string | undefined, fallback?: bigint): bigint | string {
  if (text === undefined) return fallback ?? `--${name} is required`;
  if (!/^\d{1,15}$/.test(text)) return `--${name} must be a whole number (got ${JSON.stringify(text)})`;
  return BigInt(text);
}

export function parseEstimateArgs(argv: readonly string[], nowSeconds: number): ArgsResult<EstimateArgs> {
  const parsed = parseCommand(argv, OWN_FLAGS, nowSeconds, { since: '30d' });
  if (!parsed.ok) return parsed;
  const [kind, ...rest] = parsed.value.positionals;
  if (rest.length > 0) return { ok: false, message: `unexpected argument ${JSON.stringify(rest[0])}` };
  const f = parsed.value.flags;
  const common = parsed.value.common;
  const get = (n: string): string | undefined => flag(f, n);
  const fail = (m: string): ArgsResult<EstimateArgs> => ({ ok: false, message: m });
  const gpuCount = (): number | string => {
    const c = whole('count', get('count'), 1n);
    if (typeof c === 'string') return c;
    if (c < 1n || c > 100_000n) return '--count must be from 1 to 100000';
    return Number(c);
  };
  if (kind !== 'training' && (f.has('job') || f.has('job-kind') || f.has('record')))
    return fail('--job, --job-kind and --record are for estimate training');
  if (kind === 'training') {
    const gpu = get('gpu');
    if (gpu === undefined) return fail('training needs --gpu TYPE (e.g. h100-80gb; see costtrace pricing list)');
    const count = gpuCount();
    if (typeof count === 'string') return fail(count);
    const epochs = get('epochs') === undefined ? undefined : whole('epochs', get('epochs'));
    const samples = get('samples') === undefined ? undefined : whole('samples', get('samples'));
    if (typeof epochs === 'string') return fail(epochs);
    if (typeof samples === 'string') return fail(samples);
    if (epochs === 0n || samples === 0n) return fail('--epochs and --samples must be at least 1');
    let hours: bigint;
    let rate: bigint | undefined;
    if (get('hours') !== undefined) {
      if (get('rate') !== undefined) return fail('give --hours or --rate, not both');
      const h = positiveDecimal('hours', get('hours'), SCALE);
      if (typeof h === 'string') return fail(h);
      hours = h;
    } else {
      if (epochs === undefined || samples === undefined || get('rate') === undefined)
        return fail('training needs --hours, or --epochs, --samples and --rate (samples per second)');
      const r = positiveDecimal('rate', get('rate'), SCALE);
      if (typeof r === 'string') return fail(r);
      if (r === 0n) return fail('--rate must be above 0');
      rate = r;
      // hours = epochs × samples / (rate × 3600), at 10^-6 hours, rounded half to even
      hours = divideRoundHalfEven(epochs * samples * ONE * ONE, r * 3600n);
    }
    if (hours === 0n) return fail('the job has no duration: --hours must be above 0');
    const jobId = get('job');
    const record = f.has('record');
    if (record && jobId === undefined) return fail('--record needs --job ID: the job the estimate is for');
    if (jobId !== undefined && (jobId.length === 0 || jobId.length > 1024))
      return fail('--job takes 1 to 1024 characters');
    const jobKind = get('job-kind') ?? 'training';
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(jobKind))
      return fail(
        `--job-kind must be a lower-case kind such as ${JOB_KINDS.join(', ')} (got ${JSON.stringify(jobKind)})`,
      );
    const job = jobId === undefined ? undefined : { id: jobId, kind: jobKind, record };
    return { ok: true, value: { kind, gpu, count, hours, epochs, samples, rate, job, common } };
  }
  if (kind === 'inference') {
    const model = get('model');
    if (model !== undefined) {
      const slash = model.indexOf('/');
      if (slash <= 0) return fail(`--model must be provider/model, e.g. openai/gpt-4o (got ${JSON.stringify(model)})`);
      const rpd = whole('requests-per-day', get('requests-per-day'));
      const input = whole('input-tokens', get('input-tokens'));
      const output = whole('output-tokens', get('output-tokens'), 0n);
      const cached = whole('cached-tokens', get('cached-tokens'), 0n);
      for (const v of [rpd, input, output, cached]) if (typeof v === 'string') return fail(v);
      if ((cached as bigint) > (input as bigint))
        return fail('--cached-tokens is part of --input-tokens: it cannot exceed it');
      return {
        ok: true,
        value: {
          kind: 'inference-tokens',
          provider: model.slice(0, slash),
          model: model.slice(slash + 1),
          requestsPerDay: rpd as bigint,
          inputTokens: input as bigint,
          outputTokens: output as bigint,
          cachedTokens: cached as bigint,
          common,
        },
      };
    }
    const gpu = get('gpu');
    if (gpu === undefined)
      return fail('inference needs --model provider/model with token counts, or --gpu TYPE --count N');
    const count = gpuCount();
    if (typeof count === 'string') return fail(count);
    const hpd = positiveDecimal('hours-per-day', get('hours-per-day') ?? '24', SCALE);
    if (typeof hpd === 'string') return fail(hpd);
    if (hpd > 24n * ONE) return fail('--hours-per-day cannot exceed 24');
    return { ok: true, value: { kind: 'inference-gpu', gpu, count, hoursPerDay: hpd, common } };
  }
  if (kind === 'crossover') {
    const model = get('model');
    const slash = model?.indexOf('/') ?? -1;
    if (model === undefined || slash <= 0) return fail('crossover needs --model provider/model, e.g. openai/gpt-4o');
    const gpu = get('gpu');
    if (gpu === undefined) return fail('crossover needs --gpu TYPE (the GPUs that would serve the model)');
    const count = gpuCount();
    if (typeof count === 'string') return fail(count);
    const throughput = positiveDecimal('throughput', get('throughput'), SCALE);
    if (typeof throughput === 'string') return fail(throughput);
    if (throughput === 0n) return fail('--throughput must be above 0 (tokens per second the GPUs serve)');
    let inputShare: bigint | undefined;
    if (get('input-share') !== undefined) {
      const share = positiveDecimal('input-share', get('input-share'), SCALE);
      if (typeof share === 'string') return fail(share);
      if (share > 100n * ONE) return fail('--input-share is a percent: 0 to 100');
      inputShare = share;
    }
    return {
      ok: true,
      value: {
        kind,
        provider: model.slice(0, slash),
        model: model.slice(slash + 1),
        gpu,
        count,
        throughput,
        inputShare,
        common,
      },
    };
  }
  if (kind === 'cache') {
    const route = get('route');
    if (route === undefined || route === '') return fail('cache needs --route R (the http.route, e.g. /v1/chat)');
    if (route.length > 1024) return fail('--route is at most 1024 characters');
    if (common.where.length > 0 || common.by.length > 0)
      return fail('cache reads the whole route named by --route: --where and --by do not apply');
    const hitRate = positiveDecimal('hit-rate', get('hit-rate'), SCALE);
    if (typeof hitRate === 'string') return fail(hitRate);
    if (hitRate > 100n * ONE) return fail('--hit-rate is a percent: 0 to 100');
    return { ok: true, value: { kind, route, hitRate, common } };
  }
  return fail('say what to estimate: training, inference, crossover or cache');
}

/**
 * What estimate needs: a pricing backend, and optionally the store: for historical actuals
 * (`source`) and for a route's tokens by kind (`traffic`, what `cache` reads).
 */
export interface EstimateDeps {
  readonly pricing: () => Promise<PricingBackend>;
  readonly source?: CostSource | undefined;
  readonly traffic?: TrafficSource | undefined;
  /** Where `estimate training --job ID --record` records the estimate: a writable store. */
  readonly recorder?: JobEstimateStore | undefined;
  readonly output: CommandOutput;
  readonly nowSeconds?: number | undefined;
}

function decimal(value: bigint, scale: number): string {
  const s = value.toString().padStart(scale + 1, '0');
  const fraction = s.slice(-scale).replace(/0+$/, '');
  return `${s.slice(0, -scale)}${fraction === '' ? '' : `.${fraction}`}`;
}

function gpuQuote(gpu: string, count: number, seconds: bigint): QuoteRequest {
  const request = QuoteRequest.fromJSON({});
  const slash = gpu.indexOf('/');
  request.gpus.push({
    provider: slash > 0 ? gpu.slice(0, slash) : '',
    gpuType: slash > 0 ? gpu.slice(slash + 1) : gpu,
    region: '',
    gpuCount: count,
    seconds: decimal(seconds, SCALE),
    pricingModel: 0,
  });
  return request;
}

function quoted(res: QuoteResponse): bigint {
  return pico(res.effectiveCost?.amount ?? '0');
}

function assumptionsOf(res: QuoteResponse): string[] {
  return res.lines.map(
    (l) =>
      `${l.provider}/${l.sku}: ${l.listUnitPrice?.amount ?? '?'} ${l.listUnitPrice?.currency ?? 'USD'} list per unit, quantity ${l.quantity}, effective ${l.effectiveCost?.amount ?? '?'}`,
  );
}

/** One figure; `cache` also names the model (or `total`) each belongs to. */
type Figure = Omit<CacheFigure, 'scope'> & { readonly scope?: string };

async function historical(
  source: CostSource | undefined,
  common: CommonArgs,
  filter: DimensionFilter,
): Promise<{ cost: bigint; requests: bigint; tokens: bigint; traces: bigint } | string> {
  if (source === undefined) return 'no store configured';
  try {
    const filters = [...common.query.filters, filter];
    const rows = await source.queryCosts({ ...common.query, groupBy: ['trace_id'], filters, limit: MAX_QUERY_LIMIT });
    const t = totals(rows);
    return { ...t, traces: BigInt(rows.length) };
  } catch (err) {
    return `store not reachable (${err instanceof Error ? err.message : String(err)})`;
  }
}

/** A prompt size below every long-context tier: the price a typical request pays. */
const TYPICAL_PROMPT_TOKENS = 1_000n;

/**
 * The model's effective price per 1M tokens of one kind (pico-USD), at the standard tier for a
 * prompt of TYPICAL_PROMPT_TOKENS (a quote of 1M tokens would be one 1M-token prompt, priced at
 * a long-context tier where the model has one), and the assumption that states it.
 */
async function tokenPrice(
  backend: PricingBackend,
  provider: string,
  model: string,
  kind: 'input' | 'output',
): Promise<{ cost: bigint; assumption: string }> {
  const request = GetPriceRequest.fromJSON({});
  request.provider = provider;
  request.sku = model;
  request.kind = kind === 'input' ? UsageKindEnum.USAGE_KIND_INPUT_TOKENS : UsageKindEnum.USAGE_KIND_OUTPUT_TOKENS;
  request.unit = PriceUnitEnum.PRICE_UNIT_MILLION_TOKENS;
  request.inputTokens = TYPICAL_PROMPT_TOKENS;
  const res = await backend.getPrice(request);
  const effective = res.effectiveAmount;
  if (effective === undefined || effective.currency !== 'USD')
    throw new PricingError('NOT_FOUND', `no USD ${kind} price for ${provider}/${model}`);
  return {
    cost: pico(effective.amount),
    assumption: `${provider}/${model} ${kind}: ${effective.amount} USD per 1M tokens (price ${res.price?.id ?? '?'}, list ${res.price?.amount?.amount ?? '?'}; standard tier, prompts under ${TYPICAL_PROMPT_TOKENS} tokens)`,
  };
}

const MILLION = 1_000_000n;

/**
 * Build vs buy. Self-hosting costs the GPUs' monthly price whatever the volume (up to what they
 * can serve: throughput × seconds in a month); the API costs a price per token. The crossover is
 * the monthly volume where they are equal: GPU monthly cost ÷ API price per token.
 */
async function crossover(
  a: Extract<EstimateArgs, { kind: 'crossover' }>,
  backend: PricingBackend,
  source: CostSource | undefined,
  figures: Figure[],
  assumptions: string[],
): Promise<void> {
  const input = await tokenPrice(backend, a.provider, a.model, 'input');
  const output = await tokenPrice(backend, a.provider, a.model, 'output');
  assumptions.push(input.assumption, output.assumption);
  const share = a.inputShare ?? 75n * ONE;
  // Catalog price per 1M tokens at the input share (percent × 10^6): one rounding.
  const catalogPerMillion = divideRoundHalfEven(input.cost * share + output.cost * (100n * ONE - share), 100n * ONE);
  let perMillion = catalogPerMillion;
  const past = await historical(source, a.common, { dimension: 'model', values: [a.model] });
  if (a.inputShare === undefined && typeof past !== 'string' && past.tokens > 0n) {
    perMillion = divideRoundHalfEven(past.cost * MILLION, past.tokens);
    assumptions.push(
      `API price measured: ${past.tokens} tokens of ${a.model} in the period cost ${usd(past.cost)} (their real input, output and cache mix)`,
    );
  } else {
    assumptions.push(
      `API price from the catalog at ${decimal(share, SCALE)} % input tokens` +
        (typeof past === 'string'
          ? ` (no measured traffic: ${past})`
          : a.inputShare === undefined
            ? ` (no traffic of ${a.model} in the period)`
            : ''),
    );
  }
  const monthSeconds = HOURS_PER_MONTH * 3600n;
  const gpu = await backend.quote(gpuQuote(a.gpu, a.count, monthSeconds * ONE));
  const gpuMonthly = quoted(gpu);
  assumptions.push(...assumptionsOf(gpu));
  assumptions.push(
    `${a.count} × ${a.gpu} all month (${HOURS_PER_MONTH} h), serving ${decimal(a.throughput, SCALE)} tokens/s at full load`,
  );
  // Tokens a month the GPUs can serve (throughput is × 10^6).
  const capacity = (a.throughput * monthSeconds) / ONE;
  figures.push({ metric: 'api_per_1m_tokens', value: usd(perMillion), note: 'USD, the API' });
  if (perMillion !== catalogPerMillion)
    figures.push({
      metric: 'api_per_1m_tokens_catalog',
      value: usd(catalogPerMillion),
      note: 'USD, list prices at the input share',
    });
  figures.push({ metric: 'self_hosted_monthly', value: usd(gpuMonthly), note: 'USD, the GPUs all month' });
  figures.push({
    metric: 'capacity_tokens_per_month',
    value: capacity.toString(),
    note: 'throughput × seconds a month',
  });
  figures.push({
    metric: 'self_hosted_per_1m_at_capacity',
    value: capacity === 0n ? null : usd(divideRoundHalfEven(gpuMonthly * MILLION, capacity)),
    note: 'USD, when the GPUs are fully used',
  });
  if (perMillion <= 0n) {
    figures.push({ metric: 'crossover_tokens_per_month', value: null, note: 'the API costs nothing per token here' });
    return;
  }
  // GPU monthly (pico) ÷ price per token (pico per 1M ÷ 10^6), rounded up to a whole token.
  const crossoverTokens = (gpuMonthly * MILLION + perMillion - 1n) / perMillion;
  const within = crossoverTokens <= capacity;
  figures.push({
    metric: 'crossover_tokens_per_month',
    value: crossoverTokens.toString(),
    note: within
      ? `above this volume ${a.count} × ${a.gpu} cost less than the API`
      : `more than ${a.count} × ${a.gpu} can serve: at this throughput the API stays cheaper`,
  });
  figures.push({
    metric: 'crossover_share_of_capacity',
    value: capacity === 0n ? null : `${decimal(divideRoundHalfEven(crossoverTokens * 100n * ONE, capacity), SCALE)} %`,
    note: 'utilisation the GPUs need to break even',
  });
  if (typeof past !== 'string' && past.tokens > 0n && a.common.until > a.common.since) {
    // The measured volume, as a month: tokens in the period × month ÷ period.
    const monthly = divideRoundHalfEven(past.tokens * monthSeconds, BigInt(a.common.until - a.common.since));
    figures.push({
      metric: 'measured_tokens_per_month',
      value: monthly.toString(),
      note: `${a.model} in the period, as a month`,
    });
    figures.push({
      metric: 'api_monthly_at_measured',
      value: usd(divideRoundHalfEven(monthly * perMillion, MILLION)),
      note: 'USD, the measured volume on the API',
    });
  }
}

export async function runEstimate(argv: readonly string[], deps: EstimateDeps): Promise<number> {
  const now = deps.nowSeconds ?? Math.floor(Date.now() / 1000);
  const args = parseEstimateArgs(argv, now);
  if (!args.ok) return usageError('estimate', args.message, ESTIMATE_USAGE, deps.output);
  const a = args.value;
  const backend = await deps.pricing();
  const figures: Figure[] = [];
  const assumptions: string[] = [`prices: ${backend.description}`];
  try {
    if (a.kind === 'cache') {
      const scoped: CacheFigure[] = [];
      const result = await cacheSavings(a, now, backend, deps.source, deps.traffic, scoped, assumptions);
      if (!result.ok) {
        deps.output.err(`costtrace estimate: ${result.message}\n`);
        return result.code;
      }
      figures.push(...scoped);
    } else if (a.kind === 'crossover') {
      await crossover(a, backend, deps.source, figures, assumptions);
    } else if (a.kind === 'training') {
      const seconds = a.hours * 3600n;
      const res = await backend.quote(gpuQuote(a.gpu, a.count, seconds));
      const total = quoted(res);
      assumptions.push(...assumptionsOf(res));
      assumptions.push(`${a.count} × ${a.gpu} for ${decimal(a.hours, SCALE)} h`);
      if (a.rate !== undefined)
        assumptions.push(
          `duration = ${a.epochs} epochs × ${a.samples} samples ÷ ${decimal(a.rate, SCALE)} samples/s, to the microhour`,
        );
      figures.push({ metric: 'total', value: usd(total), note: 'USD for the whole job' });
      const gpuHours = a.hours * BigInt(a.count);
      figures.push({ metric: 'gpu_hours', value: decimal(gpuHours, SCALE), note: 'count × hours' });
      if (a.job?.record === true) {
        if (deps.recorder === undefined) {
          deps.output.err(
            'costtrace estimate: --record writes to the store: use --store clickhouse or --store duckdb:PATH\n',
          );
          return 1;
        }
        const processed = a.samples === undefined ? 0n : a.samples * (a.epochs ?? 1n);
        await deps.recorder.recordJobEstimate({
          jobId: a.job.id,
          recordedAt: now,
          jobKind: a.job.kind,
          total: usd(total),
          currency: 'USD',
          gpuHours: decimal(gpuHours, SCALE),
          epochs: a.epochs ?? 0n,
          samples: processed,
          description: `${a.count} × ${a.gpu} for ${decimal(a.hours, SCALE)} h${
            a.rate === undefined ? '' : ` (${a.epochs} epochs × ${a.samples} samples at ${decimal(a.rate, SCALE)}/s)`
          }`,
        });
        figures.push({
          metric: 'recorded_for_job',
          value: a.job.id,
          note: `the estimate of this ${a.job.kind} job: costtrace jobs shows it beside the actual`,
        });
      }
      figures.push({ metric: 'per_gpu_hour', value: usd(ratio(total * ONE, gpuHours)!), note: 'USD' });
      if (a.epochs !== undefined)
        figures.push({ metric: 'per_epoch', value: usd(ratio(total, a.epochs)!), note: 'USD' });
      if (a.samples !== undefined) {
        const processed = a.samples * (a.epochs ?? 1n);
        figures.push({
          metric: 'per_sample',
          value: usd(ratio(total, processed)!),
          note: `USD, over ${processed} samples processed`,
        });
      }
      const past = await historical(deps.source, a.common, {
        dimension: 'gpu_type',
        values: [a.gpu.slice(a.gpu.indexOf('/') + 1)],
      });
      if (typeof past === 'string' || past.traces === 0n)
        assumptions.push(
          `no historical actuals: ${typeof past === 'string' ? past : `no spans on ${a.gpu} in the period`}`,
        );
      else {
        const avg = ratio(past.cost, past.traces)!;
        figures.push({
          metric: 'actual_avg_per_job',
          value: usd(avg),
          note: `mean cost of ${past.traces} traces on ${a.gpu} in the period`,
        });
        figures.push({
          metric: 'estimate_vs_actual_avg',
          value: usd(total - avg),
          note: 'USD, estimate minus the historical mean',
        });
      }
    } else {
      let daily: bigint;
      let perRequest: bigint | null = null;
      if (a.kind === 'inference-tokens') {
        const request = QuoteRequest.fromJSON({});
        request.models.push({
          provider: a.provider,
          model: a.model,
          serviceTier: 0,
          inputTokenRule: 0,
          inputTokens: a.requestsPerDay * a.inputTokens,
          outputTokens: a.requestsPerDay * a.outputTokens,
          cacheReadTokens: a.requestsPerDay * a.cachedTokens,
          cacheWriteTokens: 0n,
          reasoningTokens: 0n,
          requests: a.requestsPerDay,
          images: 0n,
          region: '',
        });
        const res = await backend.quote(request);
        daily = quoted(res);
        assumptions.push(...assumptionsOf(res));
        assumptions.push(
          `${a.requestsPerDay} requests/day × (${a.inputTokens} input incl. ${a.cachedTokens} cached + ${a.outputTokens} output tokens) on ${a.provider}/${a.model}, standard tier`,
        );
        perRequest = ratio(daily, a.requestsPerDay);
      } else {
        const res = await backend.quote(gpuQuote(a.gpu, a.count, a.hoursPerDay * 3600n));
        daily = quoted(res);
        assumptions.push(...assumptionsOf(res));
        assumptions.push(`${a.count} × ${a.gpu} for ${decimal(a.hoursPerDay, SCALE)} h a day`);
      }
      const monthly = divideRoundHalfEven(daily * HOURS_PER_MONTH, 24n);
      assumptions.push(`month = ${HOURS_PER_MONTH} hours (monthly = daily × ${HOURS_PER_MONTH} / 24)`);
      figures.push({ metric: 'daily', value: usd(daily), note: 'USD' });
      figures.push({ metric: 'monthly', value: usd(monthly), note: 'USD' });
      if (perRequest !== null) figures.push({ metric: 'per_request', value: usd(perRequest), note: 'USD' });
      if (a.kind === 'inference-tokens') {
        const past = await historical(deps.source, a.common, { dimension: 'model', values: [a.model] });
        if (typeof past === 'string' || past.requests === 0n)
          assumptions.push(
            `no historical actuals: ${typeof past === 'string' ? past : `no requests on ${a.model} in the period`}`,
          );
        else {
          const actual = ratio(past.cost, past.requests)!;
          figures.push({
            metric: 'actual_per_request',
            value: usd(actual),
            note: `measured over ${past.requests} requests of ${a.model}`,
          });
          figures.push({
            metric: 'monthly_at_actual',
            value: usd(divideRoundHalfEven(actual * a.requestsPerDay * HOURS_PER_MONTH, 24n)),
            note: 'USD, requests/day at the measured cost per request',
          });
        }
      }
    }
  } finally {
    backend.close();
  }
  const format = a.common.format;
  if (format === 'json') {
    deps.output.out(`${JSON.stringify({ figures, assumptions }, null, 2)}\n`);
  } else {
    // A scope column (the model, or total) when the figures have one.
    const scoped = a.kind === 'cache';
    const rows: Cell[][] = figures.map((f) => [...(scoped ? [f.scope ?? ''] : []), f.metric, f.value, f.note]);
    if (format === 'csv')
      rows.push(...assumptions.map((x): Cell[] => [...(scoped ? [''] : []), 'assumption', null, x]));
    deps.output.out(renderRows(format, [...(scoped ? ['scope'] : []), 'metric', 'value', 'note'], rows));
    if (format === 'table') deps.output.out(`\nassumptions:\n${assumptions.map((x) => `  - ${x}`).join('\n')}\n`);
  }
  return 0;
}
