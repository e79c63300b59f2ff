import {
  BUDGET_DIMENSIONS,
  formatScaled,
  isBudgetDimension,
  Money,
  MoneyError,
  parseScaled,
  PRICING_MODELS,
  PricingError,
  quoteUsage,
  QUANTITY_SCALE,
  SERVICE_TIERS,
} from '@costtrace/core';
import type { BudgetDimension, DimensionValues, PriceSnapshot, PricingModel, ServiceTier } from '@costtrace/core';
import { HttpError } from '@costtrace/service-kit';

/**
 * A preflight request as the API takes it (the PreflightRequest document of @costtrace/client),
 * validated, and the plan priced with the aggregator's price snapshot: the same prices the
 * work's spans will be priced with.
 */

export interface GpuGroup {
  readonly type: string;
  readonly count: number;
  /** Hours × 10^9. */
  readonly hours: bigint;
  readonly provider: string;
  readonly pricingModel: PricingModel;
}

export interface ModelGroup {
  readonly provider: string;
  readonly model: string;
  readonly inputTokens: bigint;
  readonly outputTokens: bigint;
  readonly cachedInputTokens: bigint;
  readonly requests: bigint;
  readonly serviceTier: ServiceTier;
}

export interface PreflightInput {
  readonly jobId: string;
  readonly jobKind: string;
  /** Every budget dimension ('' when absent), job_id and job_kind from the fields above. */
  readonly values: DimensionValues;
  /** The dimensions as given (only those set). */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly gpus: readonly GpuGroup[];
  readonly models: readonly ModelGroup[];
  /** An amount priced elsewhere (pico-USD), used as stated. */
  readonly amount: bigint | undefined;
  readonly requestedBy: string;
  readonly description: string;
  readonly reservationHours: number | undefined;
}

const MAX_GROUPS = 50;
const MAX_TOKENS = 10n ** 15n;
const MAX_REQUESTS = 10n ** 12n;
const NAME = /^\P{Cc}{1,256}$/u;
const SKU = /^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$/;

function invalid(field: string, message: string): HttpError {
  return new HttpError(400, 'INVALID_PREFLIGHT', `${field}: ${message}`, { field });
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(field, 'must be an object');
  return value as Record<string, unknown>;
}

function only(doc: Record<string, unknown>, field: string, known: readonly string[]): void {
  for (const key of Object.keys(doc))
    if (!known.includes(key)) throw invalid(`${field}.${key}`, `unknown field; use ${known.join(', ')}`);
}

function text(value: unknown, field: string, pattern: RegExp, fallback?: string): string {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || !pattern.test(value)) throw invalid(field, 'is required: a short text');
  return value;
}

function whole(value: unknown, field: string, max: bigint, fallback?: bigint): bigint {
  if (value === undefined && fallback !== undefined) return fallback;
  const n =
    typeof value === 'number' && Number.isSafeInteger(value)
      ? BigInt(value)
      : typeof value === 'string' && /^\d{1,16}$/.test(value)
        ? BigInt(value)
        : -1n;
  if (n < 0n || n > max) throw invalid(field, `must be a whole number from 0 to ${max}`);
  return n;
}

function list(value: unknown, field: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_GROUPS)
    throw invalid(field, `must be a list of at most ${MAX_GROUPS}`);
  return value;
}

/** Validates a PreflightRequest body; every error names its field. */
export function parsePreflightInput(body: unknown): PreflightInput {
  const doc = object(body, 'request');
  only(doc, 'request', [
    'job_id',
    'job_kind',
    'dimensions',
    'plan',
    'requested_by',
    'description',
    'reservation_hours',
  ]);
  const jobId = doc.job_id === undefined ? '' : text(doc.job_id, 'job_id', NAME);
  const jobKind = doc.job_kind === undefined ? '' : text(doc.job_kind, 'job_kind', /^[a-z][a-z0-9_]{0,63}$/);
  const requestedBy = text(doc.requested_by, 'requested_by', /^[^\s\p{Cc}]{1,128}$/u);
  const description =
    doc.description === undefined ? '' : text(doc.description, 'description', /^(?:\P{Cc}|[\n\t]){0,1000}$/u);
  let reservationHours: number | undefined;
  if (doc.reservation_hours !== undefined) {
    const h = doc.reservation_hours;
    if (typeof h !== 'number' || !Number.isInteger(h) || h < 1 || h > 24 * 400)
      throw invalid('reservation_hours', 'must be whole hours from 1 to 9600');
    reservationHours = h;
  }
  const dimensions: Record<string, string> = {};
  const given = doc.dimensions === undefined ? {} : object(doc.dimensions, 'dimensions');
  for (const [dim, value] of Object.entries(given)) {
    if (!isBudgetDimension(dim) || dim === 'job_id' || dim === 'job_kind')
      throw invalid(
        `dimensions.${dim}`,
        `unknown dimension; use ${BUDGET_DIMENSIONS.filter((d) => !d.startsWith('job_')).join(', ')} (the job in job_id, job_kind)`,
      );
    dimensions[dim] = text(value, `dimensions.${dim}`, /^\P{Cc}{1,1024}$/u);
  }
  if (jobId !== '') dimensions.job_id = jobId;
  if (jobKind !== '') dimensions.job_kind = jobKind;
  const values = Object.fromEntries(
    BUDGET_DIMENSIONS.map((d: BudgetDimension) => [d, dimensions[d] ?? '']),
  ) as DimensionValues;

  const plan = object(doc.plan, 'plan');
  only(plan, 'plan', ['gpus', 'models', 'amount_usd']);
  const gpus = list(plan.gpus, 'plan.gpus').map((raw, i): GpuGroup => {
    const at = `plan.gpus[${i}]`;
    const g = object(raw, at);
    only(g, at, ['type', 'count', 'hours', 'provider', 'pricing_model']);
    const count = Number(whole(g.count, `${at}.count`, 100_000n));
    if (count < 1) throw invalid(`${at}.count`, 'must be at least 1');
    if (
      typeof g.hours !== 'string' ||
      !/^\d{1,7}(\.\d{1,9})?$/.test(g.hours) ||
      parseScaled(g.hours, QUANTITY_SCALE) === 0n
    )
      throw invalid(`${at}.hours`, 'must be a positive decimal text of hours, e.g. "12.5"');
    const pricingModel = g.pricing_model ?? 'on_demand';
    if (typeof pricingModel !== 'string' || !(PRICING_MODELS as readonly string[]).includes(pricingModel))
      throw invalid(`${at}.pricing_model`, `must be one of ${PRICING_MODELS.join(', ')}`);
    return {
      type: text(g.type, `${at}.type`, SKU),
      count,
      hours: parseScaled(g.hours, QUANTITY_SCALE),
      provider: g.provider === undefined ? '' : text(g.provider, `${at}.provider`, SKU),
      pricingModel: pricingModel as PricingModel,
    };
  });
  const models = list(plan.models, 'plan.models').map((raw, i): ModelGroup => {
    const at = `plan.models[${i}]`;
    const m = object(raw, at);
    only(m, at, [
      'provider',
      'model',
      'input_tokens',
      'output_tokens',
      'cached_input_tokens',
      'requests',
      'service_tier',
    ]);
    const inputTokens = whole(m.input_tokens, `${at}.input_tokens`, MAX_TOKENS);
    const cachedInputTokens = whole(m.cached_input_tokens, `${at}.cached_input_tokens`, MAX_TOKENS, 0n);
    if (cachedInputTokens > inputTokens)
      throw invalid(`${at}.cached_input_tokens`, 'is part of input_tokens: it cannot exceed it');
    const requests = whole(m.requests, `${at}.requests`, MAX_REQUESTS, 1n);
    if (requests < 1n) throw invalid(`${at}.requests`, 'must be at least 1');
    const tier = m.service_tier ?? 'standard';
    if (typeof tier !== 'string' || !(SERVICE_TIERS as readonly string[]).includes(tier))
      throw invalid(`${at}.service_tier`, `must be one of ${SERVICE_TIERS.join(', ')}`);
    return {
      provider: text(m.provider, `${at}.provider`, SKU),
      model: text(m.model, `${at}.model`, SKU),
      inputTokens,
      outputTokens: whole(m.output_tokens, `${at}.output_tokens`, MAX_TOKENS),
      cachedInputTokens,
      requests,
      serviceTier: tier as ServiceTier,
    };
  });
  let amount: bigint | undefined;
  if (plan.amount_usd !== undefined) {
    if (typeof plan.amount_usd !== 'string' && typeof plan.amount_usd !== 'number')
      throw invalid('plan.amount_usd', 'must be an exact decimal USD amount, e.g. "1250.50"');
    if (gpus.length > 0 || models.length > 0)
      throw invalid('plan.amount_usd', 'is an alternative to gpus and models: give one or the other');
    try {
      amount = Money.parse(String(plan.amount_usd), 'USD').subunits;
    } catch (cause) {
      if (!(cause instanceof MoneyError)) throw cause;
      throw invalid('plan.amount_usd', `must be an exact decimal USD amount: ${cause.message}`);
    }
    if (amount < 0n) throw invalid('plan.amount_usd', 'must not be negative');
  } else if (gpus.length === 0 && models.length === 0) {
    throw invalid('plan', 'name the work: gpus, models, or amount_usd');
  }
  return { jobId, jobKind, values, dimensions, gpus, models, amount, requestedBy, description, reservationHours };
}

/** Decimal text without trailing zeros ("12.500000000" → "12.5"). */
function trimmed(decimal: string): string {
  return decimal.includes('.') ? decimal.replace(/\.?0+$/, '') : decimal;
}

export interface PricedLine {
  readonly what: string;
  readonly amount: bigint;
  readonly priceIds: readonly string[];
}

export interface PricedPlan {
  readonly amount: bigint;
  readonly lines: readonly PricedLine[];
  readonly pricingVersion: string;
}

/**
 * Requests of a model group, split into classes of identical requests: the tokens of each kind
 * spread as evenly as whole tokens allow (the first `x mod n` requests one token more).
 */
function requestClasses(m: ModelGroup): { count: bigint; input: bigint; output: bigint; cached: bigint }[] {
  const n = m.requests;
  const bounds = [...new Set([0n, m.inputTokens % n, m.outputTokens % n, m.cachedInputTokens % n, n])].sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const out: { count: bigint; input: bigint; output: bigint; cached: bigint }[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const from = bounds[i]!;
    const to = bounds[i + 1]!;
    const share = (x: bigint): bigint => x / n + (from < x % n ? 1n : 0n);
    out.push({
      count: to - from,
      input: share(m.inputTokens),
      output: share(m.outputTokens),
      cached: share(m.cachedInputTokens),
    });
  }
  return out;
}

/** The distinct price ids a quote used. */
function priceIdsOf(lines: readonly { effectivePriceId: string }[]): string[] {
  return [...new Set(lines.map((l) => l.effectivePriceId).filter((id) => id !== ''))];
}

/**
 * Prices the plan at `atMs` with `snapshot`, as its spans will be priced: a model group as its
 * requests (each request priced on its own, at the tier of its own prompt, and rounded once, as
 * the pricer rounds a span), GPU time per group. Throws HttpError 400 UNKNOWN_PRICE naming the
 * group and the closest names when the catalog has no price.
 */
export function pricePlan(input: PreflightInput, snapshot: PriceSnapshot, atMs: number): PricedPlan {
  const version = `${snapshot.version}`;
  if (input.amount !== undefined)
    return {
      amount: input.amount,
      lines: [{ what: 'amount priced elsewhere', amount: input.amount, priceIds: [] }],
      pricingVersion: version,
    };
  const lines: PricedLine[] = [];
  try {
    input.gpus.forEach((g, i) => {
      const quote = quoteUsage(snapshot, {
        at: atMs,
        gpus: [
          {
            gpuType: g.type,
            gpuCount: g.count,
            provider: g.provider,
            pricingModel: g.pricingModel,
            seconds: g.hours * 3600n,
          },
        ],
      });
      lines.push({
        what: `gpus[${i}]: ${g.count} × ${g.provider === '' ? '' : `${g.provider}/`}${g.type} for ${trimmed(formatScaled(g.hours, QUANTITY_SCALE))} h (${g.pricingModel})`,
        amount: quote.effectiveCost.subunits,
        priceIds: priceIdsOf(quote.lines),
      });
    });
    input.models.forEach((m, i) => {
      let amount = 0n;
      const ids = new Set<string>();
      for (const c of requestClasses(m)) {
        const quote = quoteUsage(snapshot, {
          at: atMs,
          models: [
            {
              provider: m.provider,
              model: m.model,
              serviceTier: m.serviceTier,
              inputTokenRule: 'input-includes-cache',
              inputTokens: c.input,
              cacheReadTokens: c.cached,
              outputTokens: c.output,
              requests: 1n,
            },
          ],
        });
        amount += quote.effectiveCost.subunits * c.count;
        for (const id of priceIdsOf(quote.lines)) ids.add(id);
      }
      lines.push({
        what: `models[${i}]: ${m.provider}/${m.model}, ${m.requests} requests, ${m.inputTokens} input (${m.cachedInputTokens} cached) and ${m.outputTokens} output tokens (${m.serviceTier})`,
        amount,
        priceIds: [...ids],
      });
    });
  } catch (err) {
    if (err instanceof PricingError && (err.code === 'NOT_FOUND' || err.code === 'INVALID_ARGUMENT'))
      throw new HttpError(
        400,
        err.code === 'NOT_FOUND' ? 'UNKNOWN_PRICE' : 'INVALID_PREFLIGHT',
        `plan: ${err.message}`,
        { field: 'plan' },
      );
    throw err;
  }
  return { amount: lines.reduce((a, l) => a + l.amount, 0n), lines, pricingVersion: version };
}
