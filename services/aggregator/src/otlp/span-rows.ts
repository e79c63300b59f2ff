import {
  CostAttr,
  DimensionAttr,
  formatScaled,
  GenAiAttr,
  GpuAttr,
  InstanceAttr,
  Money,
  MoneyError,
  readSpanUsage,
  readTokenCount,
  SpanCost,
  SpanPricer,
  SpanUsage,
  unixNanoToMillis,
} from '@costtrace/core';
import type {
  EmitterScope,
  ModelCallLedger,
  Pico,
  PriceSource,
  PricingView,
  UsageReaderOptions,
} from '@costtrace/core';
import { ROLLUP_DIMENSIONS } from '@costtrace/store';
import type { SpanCostRow } from '@costtrace/store';
import { Span_SpanKind } from '@costtrace/proto';
import type { ExportTraceServiceRequest, Span } from '@costtrace/proto';
import type { CardinalityLimiter } from './cardinality-limiter.js';
import { attributeMap, displayString } from './otlp-attributes.js';
import type { PlainValue } from './otlp-attributes.js';

/** Where a message came from in Kafka; stored with each row for exactly-once storage. */
export interface KafkaOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** Why a span was rejected (not stored, sent to the dead-letter topic). */
export const REJECT_REASONS = [
  'invalid_trace_id',
  'invalid_span_id',
  'invalid_token_count',
  'not_a_number',
  'timestamp_in_future',
  'timestamp_too_old',
  'invalid_cost',
  'invalid_gpu_usage',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Fixes applied to a stored span (listed in its `sanitized` column). */
export const SANITIZE_REASONS = [
  'missing_service_name',
  'end_before_start',
  'attribute_truncated',
  'extra_attributes_dropped',
] as const;
export type SanitizeReason = (typeof SANITIZE_REASONS)[number];

export interface SpanLimits {
  /** Spans starting later than the reference time plus this are rejected. Default 1 h. */
  readonly maxFutureSeconds: number;
  /** Spans starting earlier than the reference time minus this are rejected. Default 7 d. */
  readonly maxAgeSeconds: number;
  /** Largest believable token count of one kind in one span. Default 100 M. */
  readonly maxTokensPerSpan: number;
  /** Dimension values (route, model, …) longer than this are cut. Default 1024. */
  readonly maxDimensionLength: number;
  /** Extra attribute values longer than this are cut. Default 256. */
  readonly maxAttributeValueLength: number;
  /** Extra attributes kept per span. Default 32. */
  readonly maxExtraAttributes: number;
}

export const DEFAULT_SPAN_LIMITS: SpanLimits = {
  maxFutureSeconds: 3600,
  maxAgeSeconds: 7 * 86_400,
  maxTokensPerSpan: 100_000_000,
  maxDimensionLength: 1024,
  maxAttributeValueLength: 256,
  maxExtraAttributes: 32,
};

export interface SpanRowOptions {
  /**
   * Prices for spans that arrive without cost attributes (services without the SDK): the
   * current snapshot, read once per request.
   */
  readonly prices: PriceSource;
  /** The span pricer (input-token rules, self-hosted providers); default core's defaults. */
  readonly pricer?: SpanPricer | undefined;
  /** Provider aliases and per-emitter input-token rules for the usage reader. */
  readonly usageReader?: UsageReaderOptions | undefined;
  readonly limits?: Partial<SpanLimits> | undefined;
  /** Recompute stamped costs too and report differences (the stamped cost is kept). */
  readonly audit?: boolean | undefined;
  readonly cardinality?: CardinalityLimiter | undefined;
  /**
   * false: validate only. Spans are accepted or rejected exactly as when pricing (pricing never
   * rejects), but unstamped spans get no cost: ingest checks spans before it produces them and
   * discards the rows, and the consumer prices. Default true.
   */
  readonly price?: boolean | undefined;
  /**
   * One model call, one charge: the ledger of the partition the request came from (the consumer
   * keeps one per partition and restores it from the store). Spans that repeat another span's
   * call, or sum their calls, are stored uncharged with their usage role. Without a ledger only
   * the spans marked so (by the SDK, `costtrace.usage.rollup` or a recognised framework span) are.
   */
  readonly ledger?: ModelCallLedger | undefined;
}

export interface RejectedSpan {
  readonly resourceIndex: number;
  readonly scopeIndex: number;
  readonly spanIndex: number;
  readonly reason: RejectReason;
  readonly detail: string;
}

export interface AuditDifference {
  readonly traceId: string;
  readonly spanId: string;
  readonly stamped: string;
  readonly recomputed: string;
  readonly pricingVersion: string;
}

/** A cost another tool put on a span, compared with costtrace's (see SpanUsage.emittedCost). */
export interface EmittedCostComparison {
  readonly key: string;
  /** Within 0.5 % (the tools write floats and price lists of their own). */
  readonly agrees: boolean;
  readonly traceId: string;
  readonly spanId: string;
  readonly emitted: number;
  readonly costtrace: string;
}

export interface SpanRowsResult {
  readonly rows: SpanCostRow[];
  readonly rejected: RejectedSpan[];
  readonly sanitized: Map<SanitizeReason, number>;
  /** Rows priced here (they arrived without cost attributes and had usage to price). */
  readonly pricedHere: number;
  /** Rows with usage that could not be priced (in full or in part). */
  readonly unpriced: number;
  /** Rows whose cost is an upper bound (cached input not reported by the emitter). */
  readonly upperBound: number;
  /** Rows stored uncharged because another span carries their model call (usage role duplicate). */
  readonly duplicates: number;
  /** Rows stored uncharged because they sum their calls' usage (usage role rollup). */
  readonly rollups: number;
  /**
   * Charged rows with usage (tokens, GPU or instance time, or a reason they have no price), by
   * how they were priced: the pricing coverage figures.
   */
  readonly usage: { exact: number; upperBound: number; unpriced: number };
  readonly auditDifferences: AuditDifference[];
  /** Spans that carried another tool's cost, compared with costtrace's (never added to it). */
  readonly emittedCosts: EmittedCostComparison[];
}

const ZERO = Money.zero('USD');

/**
 * No cost: a span with nothing to price, or whose usage is another span's call or sums its calls
 * (one shared object; rows never change it).
 */
const NO_COST = {
  costInput: ZERO,
  costOutput: ZERO,
  costCacheRead: ZERO,
  costCacheWrite: ZERO,
  costReasoning: ZERO,
  costGpu: ZERO,
  costCompute: ZERO,
  costTotal: ZERO,
  currency: 'USD',
  pricingVersion: '',
  pricingSource: '',
  priceIds: [] as string[],
  unpricedReason: '',
};
const NANOS = 1_000_000_000n;

/** Attributes that become columns of their own and are not repeated among the extras. */
const COLUMN_KEYS = new Set<string>([
  ...Object.values(CostAttr),
  ...Object.values(GenAiAttr),
  ...Object.values(DimensionAttr),
  GpuAttr.type,
  GpuAttr.count,
  GpuAttr.seconds,
  InstanceAttr.type,
  'deployment.environment',
]);
const TOKEN_KEYS = [
  GenAiAttr.inputTokens,
  GenAiAttr.outputTokens,
  GenAiAttr.cacheReadInputTokens,
  GenAiAttr.cacheCreationInputTokens,
  GenAiAttr.reasoningOutputTokens,
] as const;
const COST_KEYS = [
  CostAttr.total,
  CostAttr.inputTokens,
  CostAttr.outputTokens,
  CostAttr.cacheReadTokens,
  CostAttr.cacheWriteTokens,
  CostAttr.reasoningTokens,
  CostAttr.gpu,
  CostAttr.compute,
] as const;
const DECIMAL = /^\d{1,15}(\.\d{1,12})?$/;

class Rejection extends Error {
  constructor(
    readonly reason: RejectReason,
    message: string,
  ) {
    super(message);
  }
}

function isZeroId(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0) return false;
  return true;
}

/** A stamped token count under core's one rule (readTokenCount), at most `max` per span. */
function tokenCount(key: string, value: PlainValue, max: number): bigint {
  const read = readTokenCount(value);
  const shown = (): string => displayString(value).slice(0, 40);
  if (!read.ok) {
    if (read.problem === 'not_a_number')
      throw new Rejection('not_a_number', `${key} is not a finite number (${shown()})`);
    const why =
      read.problem === 'negative'
        ? `is negative (${shown()})`
        : read.problem === 'too_large'
          ? `(${shown()}) exceeds ${max} tokens per span`
          : `is not an integer: ${shown()}`;
    throw new Rejection('invalid_token_count', `${key} ${why}`);
  }
  if (read.count > max)
    throw new Rejection('invalid_token_count', `${key}=${read.count} exceeds ${max} tokens per span`);
  return BigInt(read.count);
}

function stampedMoney(key: string, value: PlainValue, currency: string): Money {
  if (value === undefined) return Money.zero(currency);
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Rejection('not_a_number', `${key} is not finite`);
  if (typeof value !== 'string' || !DECIMAL.test(value)) {
    throw new Rejection(
      'invalid_cost',
      `${key} must be a non-negative exact decimal string, got ${displayString(value).slice(0, 40)}`,
    );
  }
  try {
    return Money.parse(value, currency);
  } catch (err) {
    if (err instanceof MoneyError) throw new Rejection('invalid_cost', `${key}: ${err.message}`);
    throw err;
  }
}

function gpuSeconds(value: PlainValue): string {
  if (value === undefined) return '0';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Rejection('not_a_number', `${GpuAttr.seconds} is not finite`);
    if (value < 0) throw new Rejection('invalid_gpu_usage', `${GpuAttr.seconds} is negative`);
    // A double's shortest round-trip text, cut to the column's 12 decimals.
    const text = value.toFixed(12).replace(/\.?0+$/, '');
    return text === '' ? '0' : text;
  }
  if (typeof value === 'bigint') {
    if (value < 0n) throw new Rejection('invalid_gpu_usage', `${GpuAttr.seconds} is negative`);
    return value.toString();
  }
  if (typeof value === 'string' && DECIMAL.test(value)) return value;
  throw new Rejection('invalid_gpu_usage', `${GpuAttr.seconds} is not a non-negative number`);
}

function gpuCount(value: PlainValue): number {
  if (value === undefined) return 0;
  const n = typeof value === 'bigint' ? Number(value) : typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || Number.isNaN(n)) throw new Rejection('not_a_number', `${GpuAttr.count} is not a number`);
  if (!Number.isFinite(n) || n < 0 || n > 1_000_000)
    throw new Rejection('invalid_gpu_usage', `${GpuAttr.count} out of range`);
  return n;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Turns an OTLP export request into one SpanCostRow per valid span. Pure: no I/O.
 * `referenceUnixMs` is the time timestamps are judged against (the Kafka message timestamp in
 * the consumer, so that redelivery validates the same way).
 */
export function spanCostRows(
  request: ExportTraceServiceRequest,
  origin: KafkaOrigin,
  referenceUnixMs: number,
  options: SpanRowOptions,
): SpanRowsResult {
  const limits = { ...DEFAULT_SPAN_LIMITS, ...options.limits };
  const reference = BigInt(Math.trunc(referenceUnixMs)) * 1_000_000n;
  const earliest = reference - BigInt(limits.maxAgeSeconds) * NANOS;
  const latest = reference + BigInt(limits.maxFutureSeconds) * NANOS;
  const result: SpanRowsResult = {
    rows: [],
    rejected: [],
    sanitized: new Map(),
    pricedHere: 0,
    unpriced: 0,
    upperBound: 0,
    duplicates: 0,
    rollups: 0,
    usage: { exact: 0, upperBound: 0, unpriced: 0 },
    auditDifferences: [],
    emittedCosts: [],
  };
  // Usage is read (and its counts checked) whether or not the spans are priced, so ingest
  // accepts and rejects exactly as the consumer does.
  const usageRecord = new SpanUsage();
  const pricing: Pricing | undefined =
    options.price === false
      ? undefined
      : {
          view: options.prices.current(),
          pricer: options.pricer ?? DEFAULT_PRICER,
          usage: usageRecord,
          cost: new SpanCost(),
        };
  const counted = (reason: SanitizeReason): void => {
    result.sanitized.set(reason, (result.sanitized.get(reason) ?? 0) + 1);
  };
  // The span's position in the message, rejected spans included: the same on every decode.
  let messageIndex = 0;
  request.resourceSpans.forEach((resourceSpans, resourceIndex) => {
    const resource = attributeMap(resourceSpans.resource?.attributes ?? []);
    resourceSpans.scopeSpans.forEach((scopeSpans, scopeIndex) => {
      const scope: EmitterScope | undefined =
        scopeSpans.scope === undefined ? undefined : { name: scopeSpans.scope.name, version: scopeSpans.scope.version };
      scopeSpans.spans.forEach((span, spanIndex) => {
        const index = messageIndex++;
        try {
          const row = spanRow(
            span,
            resource,
            scope,
            origin,
            index,
            limits,
            earliest,
            latest,
            options,
            usageRecord,
            pricing,
            result,
          );
          result.rows.push(row);
          // Counted only for stored spans: a span rejected later was not sanitised, it was refused.
          for (const reason of row.sanitized as readonly SanitizeReason[]) counted(reason);
        } catch (err) {
          if (!(err instanceof Rejection)) throw err;
          result.rejected.push({ resourceIndex, scopeIndex, spanIndex, reason: err.reason, detail: err.message });
        }
      });
    });
  });
  return result;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What prices the spans of one request: one snapshot, and a usage and cost record reused per span. */
interface Pricing {
  readonly view: PricingView;
  readonly pricer: SpanPricer;
  readonly usage: SpanUsage;
  readonly cost: SpanCost;
}

const DEFAULT_PRICER = new SpanPricer();

/** A component as Money; zero in USD (most components of most spans) is one shared object. */
function money(pico: Pico | undefined, currency: string): Money {
  if (pico === undefined || pico === 0 || pico === 0n) return currency === 'USD' ? ZERO : Money.zero(currency);
  return Money.fromSubunits(BigInt(pico), currency);
}

function spanRow(
  span: Span,
  resource: Map<string, PlainValue>,
  scope: EmitterScope | undefined,
  origin: KafkaOrigin,
  messageIndex: number,
  limits: SpanLimits,
  earliest: bigint,
  latest: bigint,
  options: SpanRowOptions,
  usageRecord: SpanUsage,
  pricing: Pricing | undefined,
  result: Mutable<SpanRowsResult>,
): SpanCostRow {
  if (span.traceId.length !== 16 || isZeroId(span.traceId)) {
    throw new Rejection('invalid_trace_id', `trace id must be 16 non-zero bytes, got ${span.traceId.length} bytes`);
  }
  if (span.spanId.length !== 8 || isZeroId(span.spanId)) {
    throw new Rejection('invalid_span_id', `span id must be 8 non-zero bytes, got ${span.spanId.length} bytes`);
  }
  const start = span.startTimeUnixNano;
  if (start > latest)
    throw new Rejection(
      'timestamp_in_future',
      `span starts ${(start - latest) / NANOS} s beyond the allowed clock skew`,
    );
  if (start < earliest)
    throw new Rejection('timestamp_too_old', `span starts before the ${limits.maxAgeSeconds} s acceptance window`);
  let end = span.endTimeUnixNano;
  const sanitized: SanitizeReason[] = [];
  const note = (reason: SanitizeReason): void => {
    if (!sanitized.includes(reason)) sanitized.push(reason);
  };
  if (end < start) {
    end = start;
    note('end_before_start');
  }

  const own = attributeMap(span.attributes);
  const get = (key: string): PlainValue => {
    const value = own.get(key);
    return value === undefined ? resource.get(key) : value;
  };
  const cut = (text: string): string => {
    if (text.length <= limits.maxDimensionLength) return text;
    note('attribute_truncated');
    return text.slice(0, limits.maxDimensionLength);
  };
  const dim = (key: string): string => {
    const text = displayString(get(key));
    if (text.length <= limits.maxDimensionLength) return text;
    note('attribute_truncated');
    return text.slice(0, limits.maxDimensionLength);
  };

  // Usage is the span's own (as core's usage reader reads it); the resource describes the host.
  const inputTokens = tokenCount(GenAiAttr.inputTokens, own.get(TOKEN_KEYS[0]), limits.maxTokensPerSpan);
  const outputTokens = tokenCount(GenAiAttr.outputTokens, own.get(TOKEN_KEYS[1]), limits.maxTokensPerSpan);
  const cacheReadTokens = tokenCount(GenAiAttr.cacheReadInputTokens, own.get(TOKEN_KEYS[2]), limits.maxTokensPerSpan);
  const cacheWriteTokens = tokenCount(
    GenAiAttr.cacheCreationInputTokens,
    own.get(TOKEN_KEYS[3]),
    limits.maxTokensPerSpan,
  );
  const reasoningTokens = tokenCount(GenAiAttr.reasoningOutputTokens, own.get(TOKEN_KEYS[4]), limits.maxTokensPerSpan);
  const gpu = { seconds: gpuSeconds(own.get(GpuAttr.seconds)), count: gpuCount(own.get(GpuAttr.count)) };

  let service = dim(DimensionAttr.serviceName);
  if (service === '') {
    service = 'unknown_service';
    note('missing_service_name');
  }

  // The cost is an upper bound: as the SDK stamped it, or as the pricer here says.
  let upperBound = false;
  let costs: Pick<
    SpanCostRow,
    | 'costInput'
    | 'costOutput'
    | 'costCacheRead'
    | 'costCacheWrite'
    | 'costReasoning'
    | 'costGpu'
    | 'costCompute'
    | 'costTotal'
    | 'currency'
    | 'pricingVersion'
    | 'pricingSource'
    | 'priceIds'
    | 'unpricedReason'
  >;
  // What the pricer reads (also for stamped spans: the row records it for `costtrace reprice`).
  const usage = readSpanUsage(
    own,
    resource,
    usageRecord,
    undefined,
    scope,
    options.usageReader,
    span.kind === Span_SpanKind.SPAN_KIND_INTERNAL,
  );
  // Counts read in the other dialects get the same bound as the standard keys checked above.
  for (const [what, count] of [
    ['input', usage.inputTokens],
    ['output', usage.outputTokens],
    ['cache read', usage.cacheReadTokens],
    ['cache write', usage.cacheWriteTokens],
    ['reasoning', usage.reasoningTokens],
  ] as const) {
    if (count > limits.maxTokensPerSpan) {
      throw new Rejection('invalid_token_count', `${what} tokens ${count} exceed ${limits.maxTokensPerSpan} per span`);
    }
  }
  // One model call, one charge: is this span's usage its own call's?
  const pricer = options.pricer ?? DEFAULT_PRICER;
  const usageKey = usage.hasTokens ? (pricer.usageKey(usage) ?? '') : '';
  const responseId = usage.responseId === undefined ? '' : cut(usage.responseId);
  const stampedRole = own.get(CostAttr.usageRole);
  let usageRole: '' | 'duplicate' | 'rollup' =
    stampedRole === 'duplicate' || stampedRole === 'rollup' ? stampedRole : usage.rollup ? 'rollup' : '';
  let duplicateOf = usageRole === 'duplicate' ? cut(displayString(own.get(CostAttr.duplicateOf))) : '';
  const ledger = options.ledger;
  if (ledger !== undefined && (usageKey !== '' || usageRole !== '')) {
    const sighting = {
      traceId: hex(span.traceId),
      spanId: hex(span.spanId),
      parentSpanId: hex(span.parentSpanId),
      responseId: responseId === '' ? undefined : responseId,
      usageKey,
      rollup: usageRole === 'rollup',
      origin: `${origin.offset}:${messageIndex}`,
    };
    // The SDK's decision stands (it saw the spans in the order they ended); others are decided here.
    const decision =
      usageRole === 'duplicate' ? ledger.restore(sighting, 'duplicate', duplicateOf) : ledger.decide(sighting);
    if (decision.role !== 'call') {
      usageRole = decision.role;
      duplicateOf = decision.duplicateOf ?? '';
    }
  }
  const charged = usageRole === '';
  if (usageRole === 'duplicate') result.duplicates++;
  else if (usageRole === 'rollup') result.rollups++;

  const stamped = get(CostAttr.total);
  if (!charged) {
    costs = NO_COST;
  } else if (stamped !== undefined) {
    const currency = dim(CostAttr.currency) || 'USD';
    if (!/^[A-Z]{3}$/.test(currency))
      throw new Rejection('invalid_cost', `${CostAttr.currency} is not an ISO 4217 code`);
    for (const key of COST_KEYS) if (get(key) !== undefined) stampedMoney(key, get(key), currency);
    const ids = get(CostAttr.pricingPriceIds);
    upperBound = get(CostAttr.upperBound) === true;
    costs = {
      costInput: stampedMoney(CostAttr.inputTokens, get(CostAttr.inputTokens), currency),
      costOutput: stampedMoney(CostAttr.outputTokens, get(CostAttr.outputTokens), currency),
      costCacheRead: stampedMoney(CostAttr.cacheReadTokens, get(CostAttr.cacheReadTokens), currency),
      costCacheWrite: stampedMoney(CostAttr.cacheWriteTokens, get(CostAttr.cacheWriteTokens), currency),
      costReasoning: stampedMoney(CostAttr.reasoningTokens, get(CostAttr.reasoningTokens), currency),
      costGpu: stampedMoney(CostAttr.gpu, get(CostAttr.gpu), currency),
      costCompute: stampedMoney(CostAttr.compute, get(CostAttr.compute), currency),
      costTotal: stampedMoney(CostAttr.total, stamped, currency),
      currency,
      pricingVersion: dim(CostAttr.pricingVersion),
      pricingSource: dim(CostAttr.pricingSource),
      priceIds: Array.isArray(ids) ? ids.map(displayString) : [],
      unpricedReason: dim(CostAttr.unpricedReason),
    };
    if (options.audit === true && pricing !== undefined) {
      const cost = priceSpan(pricing, start);
      if (cost.priced && cost.currency === currency && !money(cost.total, currency).equals(costs.costTotal)) {
        result.auditDifferences.push({
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          stamped: costs.costTotal.toDecimalString(),
          recomputed: money(cost.total, currency).toDecimalString(),
          pricingVersion: pricing.view.version,
        });
      }
    }
  } else {
    const cost = pricing === undefined ? undefined : priceSpan(pricing, start);
    if (cost !== undefined && cost.applicable && pricing !== undefined) {
      if (cost.priced) result.pricedHere++;
      if (cost.reason !== undefined) result.unpriced++;
      upperBound = cost.priced && cost.upperBound;
      const currency = cost.currency ?? 'USD';
      costs = {
        costInput: money(cost.input, currency),
        costOutput: money(cost.output, currency),
        costCacheRead: money(cost.cacheRead, currency),
        costCacheWrite: money(cost.cacheWrite, currency),
        costReasoning: money(cost.reasoning, currency),
        costGpu: money(cost.gpu, currency),
        costCompute: money(cost.compute, currency),
        costTotal: money(cost.total, currency),
        currency,
        pricingVersion: cost.priced ? pricing.view.version : '',
        pricingSource: cost.priced ? `${AGGREGATOR_SOURCE_PREFIX}${pricing.view.source}` : '',
        priceIds: cost.ids === undefined ? [] : [...cost.ids],
        unpricedReason: cost.reason ?? '',
      };
    } else {
      // Nothing to price, or validating only: a reason the span carries is kept.
      const reason = pricing === undefined ? '' : dim(CostAttr.unpricedReason);
      if (reason !== '') result.unpriced++;
      costs = reason === '' ? NO_COST : { ...NO_COST, unpricedReason: reason };
    }
  }

  if (upperBound && pricing !== undefined) result.upperBound++;
  if (
    charged &&
    (usageKey !== '' || costs.unpricedReason !== '' || usage.hasGpu || usage.instanceNanos !== undefined)
  ) {
    if (costs.unpricedReason !== '') result.usage.unpriced++;
    else if (upperBound) result.usage.upperBound++;
    else result.usage.exact++;
  }
  // Another tool's cost on the span: compared, never added.
  const emitted = usage.emittedCost;
  if (emitted !== undefined && pricing !== undefined && costs.costTotal.subunits > 0n) {
    if (emitted.currency === costs.currency) {
      const ours = costs.costTotal.toNumber();
      result.emittedCosts.push({
        key: emitted.key,
        agrees: Math.abs(emitted.amount - ours) <= Math.max(ours * 0.005, 1e-9),
        traceId: hex(span.traceId),
        spanId: hex(span.spanId),
        emitted: emitted.amount,
        costtrace: costs.costTotal.toDecimalString(),
      });
    }
  }

  const attributeKeys: string[] = [];
  const attributeValues: string[] = [];
  for (const [key, value] of own) {
    if (COLUMN_KEYS.has(key)) continue;
    if (attributeKeys.length >= limits.maxExtraAttributes) {
      note('extra_attributes_dropped');
      break;
    }
    let text = displayString(value);
    if (text.length > limits.maxAttributeValueLength) {
      text = text.slice(0, limits.maxAttributeValueLength);
      note('attribute_truncated');
    }
    attributeKeys.push(key.length > 128 ? key.slice(0, 128) : key);
    attributeValues.push(text);
  }

  let spanName = span.name;
  if (spanName.length > limits.maxDimensionLength) {
    spanName = spanName.slice(0, limits.maxDimensionLength);
    note('attribute_truncated');
  }

  const dimensions = {
    service,
    environment: dim(DimensionAttr.environment) || dim('deployment.environment'),
    route: dim(DimensionAttr.httpRoute),
    commit: dim(DimensionAttr.vcsRevision),
    // As the usage reader reads them (any dialect; the provider normalised), else as written.
    model: cut(usage.model ?? '') || dim(GenAiAttr.responseModel) || dim(GenAiAttr.requestModel),
    provider: cut(usage.provider ?? '') || dim(GenAiAttr.providerName) || dim(GenAiAttr.system),
    team: dim(DimensionAttr.team),
    tenant: dim(DimensionAttr.tenant),
  };
  const rollupOverflow: string[] = [];
  if (options.cardinality !== undefined) {
    const seconds = Number(start / NANOS);
    for (const d of ROLLUP_DIMENSIONS) {
      if (options.cardinality.fold(d, dimensions[d], seconds)) rollupOverflow.push(d);
    }
  }

  return {
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    traceId: hex(span.traceId),
    spanId: hex(span.spanId),
    parentSpanId: hex(span.parentSpanId),
    spanName,
    spanKind: span.kind,
    statusCode: span.status?.code ?? 0,
    isRequest: span.kind === Span_SpanKind.SPAN_KIND_SERVER || span.parentSpanId.length === 0,
    ...dimensions,
    feature: dim(DimensionAttr.feature),
    // The counts the pricer used, read in any dialect (the standard keys were validated above);
    // none on a span whose usage is another's call or sums its calls, so token sums count each call once.
    inputTokens: charged ? usageCount(usage.inputTokens, inputTokens) : 0n,
    outputTokens: charged ? usageCount(usage.outputTokens, outputTokens) : 0n,
    cacheReadTokens: charged ? usageCount(usage.cacheReadTokens, cacheReadTokens) : 0n,
    cacheWriteTokens: charged ? usageCount(usage.cacheWriteTokens, cacheWriteTokens) : 0n,
    reasoningTokens: charged ? usageCount(usage.reasoningTokens, reasoningTokens) : 0n,
    gpuType: dim(GpuAttr.type),
    gpuCount: gpu.count,
    // The GPU-seconds priced (to the nanosecond) when the pricer could read them.
    gpuSeconds: usage.gpuNanos === undefined ? gpu.seconds : formatScaled(usage.gpuNanos, 9),
    // The resource's semconv host.type, as the SDK reads it.
    instanceType: dim(InstanceAttr.type),
    ...(pricing === undefined
      ? {}
      : {
          gpuProvider: cut(usage.gpuProvider ?? ''),
          gpuPricingModel: usage.gpuPricingModel ?? '',
          cloudProvider: cut(usage.cloudProvider ?? ''),
          cloudRegion: cut(usage.region ?? ''),
          instancePricingModel: usage.instancePricingModel ?? '',
          instanceSeconds: usage.instanceNanos === undefined ? '0' : formatScaled(usage.instanceNanos, 9),
          usageComplete: true,
          costUpperBound: upperBound,
          emitter: cut(
            scope === undefined || scope.name === ''
              ? ''
              : scope.version
                ? `${scope.name}@${scope.version}`
                : scope.name,
          ),
          usageRole,
          duplicateOf,
          responseId,
          usageKey,
        }),
    ...costs,
    kafkaTopic: origin.topic,
    kafkaPartition: origin.partition,
    kafkaOffset: origin.offset,
    kafkaSpanIndex: messageIndex,
    attributeKeys,
    attributeValues,
    rollupOverflow,
    sanitized,
  };
}

/** `pricing_source` of a row the aggregator priced: this prefix and the snapshot's source. */
export const AGGREGATOR_SOURCE_PREFIX = 'aggregator:';

/** A count of the usage reader when it is one (INVALID_COUNT is not), else the validated one. */
function usageCount(read: number, validated: bigint): bigint {
  return read < 0 ? validated : BigInt(read);
}

/** Prices the span whose usage `pricing.usage` holds, at its start time, with core's pricer. */
function priceSpan(pricing: Pricing, start: bigint): SpanCost {
  return pricing.pricer.price(pricing.view, pricing.usage, unixNanoToMillis(start), pricing.cost);
}

/** The spans of `request` named by `picks`, with their resource and scope, as a new request. */
export function selectSpans(
  request: ExportTraceServiceRequest,
  picks: readonly { resourceIndex: number; scopeIndex: number; spanIndex: number }[],
): ExportTraceServiceRequest {
  const wanted = new Set(picks.map((p) => `${p.resourceIndex}/${p.scopeIndex}/${p.spanIndex}`));
  const resourceSpans: ExportTraceServiceRequest['resourceSpans'] = [];
  request.resourceSpans.forEach((rs, r) => {
    const scopeSpans = rs.scopeSpans
      .map((ss, s) => ({ ...ss, spans: ss.spans.filter((_span, i) => wanted.has(`${r}/${s}/${i}`)) }))
      .filter((ss) => ss.spans.length > 0);
    if (scopeSpans.length > 0) resourceSpans.push({ ...rs, scopeSpans });
  });
  return { resourceSpans };
}

/** Number of spans in a request. */
export function spanCount(request: ExportTraceServiceRequest): number {
  let n = 0;
  for (const rs of request.resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length;
  return n;
}
