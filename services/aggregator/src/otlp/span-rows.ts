import {
  CostAttr,
  DimensionAttr,
  formatPico,
  formatScaled,
  GenAiAttr,
  GpuAttr,
  InstanceAttr,
  JobAttr,
  MAX_JOB_EPOCH,
  MAX_JOB_SAMPLES,
  Money,
  MoneyError,
  readJobCount,
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
import { ROLLUP_DIMENSIONS, rowOfRecord, SpanCostRecord } from '@costtrace/store';
import type { RollupDimension, SpanCostRow } from '@costtrace/store';
import { Span_SpanKind } from '@costtrace/proto';
import type { ExportTraceServiceRequest } from '@costtrace/proto';
import type { CardinalityLimiter } from './cardinality-limiter.js';
import { displayString } from './otlp-attributes.js';
import type { PlainValue } from './otlp-attributes.js';
import { viewOfRequest } from './otlp-wire-reader.js';
import type { OtlpSpanView, OtlpTracesView } from './otlp-wire-reader.js';

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
  'invalid_enum_value',
  'attribute_truncated',
  'extra_attributes_dropped',
  'invalid_job_attribute',
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

const NANOS = 1_000_000_000n;
/** OTLP span kinds as the wire reader gives them (plain numbers). */
const KIND_INTERNAL: number = Span_SpanKind.SPAN_KIND_INTERNAL;
const KIND_SERVER: number = Span_SpanKind.SPAN_KIND_SERVER;
/** The largest values of OTLP's SpanKind (CONSUMER) and Status.StatusCode (ERROR). */
const MAX_SPAN_KIND: number = Span_SpanKind.SPAN_KIND_CONSUMER;
const MAX_STATUS_CODE = 2;

/** Attributes that become columns of their own and are not repeated among the extras. */
const COLUMN_KEYS = new Set<string>([
  ...Object.values(CostAttr),
  ...Object.values(GenAiAttr),
  ...Object.values(DimensionAttr),
  ...Object.values(JobAttr),
  GpuAttr.type,
  GpuAttr.count,
  GpuAttr.seconds,
  InstanceAttr.type,
  'deployment.environment',
]);
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

const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);
const NONE: readonly string[] = Object.freeze([]);
const NO_ATTRIBUTES: ReadonlyMap<string, PlainValue> = new Map();

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

/** A stamped cost component in pico-units of `currency`; 0 when absent. */
function stampedPico(key: string, value: PlainValue, currency: string): bigint {
  if (value === undefined) return 0n;
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Rejection('not_a_number', `${key} is not finite`);
  if (typeof value !== 'string' || !DECIMAL.test(value)) {
    throw new Rejection(
      'invalid_cost',
      `${key} must be a non-negative exact decimal string, got ${displayString(value).slice(0, 40)}`,
    );
  }
  try {
    return Money.parse(value, currency).subunits;
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

/** Counts of a request's rows, without the rows (see SpanRowsResult). */
export type SpanRowsSummary = Omit<SpanRowsResult, 'rows'>;

function isView(request: ExportTraceServiceRequest | OtlpTracesView): request is OtlpTracesView {
  return (request as Partial<OtlpTracesView>).resources !== undefined;
}

/**
 * Turns an OTLP export request into one SpanCostRow per valid span. Pure: no I/O.
 * `referenceUnixMs` is the time timestamps are judged against (the Kafka message timestamp in
 * the consumer, so that redelivery validates the same way).
 */
export function spanCostRows(
  request: ExportTraceServiceRequest | OtlpTracesView,
  origin: KafkaOrigin,
  referenceUnixMs: number,
  options: SpanRowOptions,
): SpanRowsResult {
  const rows: SpanCostRow[] = [];
  const summary = buildSpanRecords(
    isView(request) ? request : viewOfRequest(request),
    origin,
    referenceUnixMs,
    options,
    new SpanCostRecord(),
    (record) => {
      rows.push(rowOfRecord(record));
    },
  );
  return { rows, ...summary };
}

/**
 * The row builder: fills `record` with each valid span's row in turn and hands it to `emit`
 * (which must use it before returning: the record is refilled for the next span), and returns
 * what it rejected, fixed and priced. The consumer's hot path passes an emitter that encodes
 * the record straight into the insert body; `spanCostRows` one that copies it into a row object.
 */
export function buildSpanRecords(
  view: OtlpTracesView,
  origin: KafkaOrigin,
  referenceUnixMs: number,
  options: SpanRowOptions,
  record: SpanCostRecord,
  emit: (record: SpanCostRecord) => void,
): SpanRowsSummary {
  const limits = options.limits === undefined ? DEFAULT_SPAN_LIMITS : { ...DEFAULT_SPAN_LIMITS, ...options.limits };
  const reference = BigInt(Math.trunc(referenceUnixMs)) * 1_000_000n;
  const summary: Mutable<SpanRowsSummary> = {
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
  const usage = new SpanUsage();
  const pricer = options.pricer ?? DEFAULT_PRICER;
  const context: RowContext = {
    limits,
    earliest: reference - BigInt(limits.maxAgeSeconds) * NANOS,
    latest: reference + BigInt(limits.maxFutureSeconds) * NANOS,
    options,
    pricer,
    usage,
    pricing:
      options.price === false ? undefined : { view: options.prices.current(), pricer, usage, cost: new SpanCost() },
    summary,
    origin,
    resource: NO_ATTRIBUTES,
    own: NO_ATTRIBUTES,
    jobSpans: jobSpansOf(view),
    sanitized: undefined,
  };
  // The span's position in the message, rejected spans included: the same on every decode.
  let messageIndex = 0;
  const resources = view.resources;
  for (let resourceIndex = 0; resourceIndex < resources.length; resourceIndex++) {
    const resource = resources[resourceIndex]!;
    context.resource = resource.attributes;
    for (let scopeIndex = 0; scopeIndex < resource.scopes.length; scopeIndex++) {
      const { scope, spans } = resource.scopes[scopeIndex]!;
      const emitter =
        scope === undefined || scope.name === '' ? '' : scope.version ? `${scope.name}@${scope.version}` : scope.name;
      for (let spanIndex = 0; spanIndex < spans.length; spanIndex++) {
        const index = messageIndex++;
        try {
          fillRecord(spans[spanIndex]!, scope, emitter, index, context, record);
        } catch (err) {
          if (!(err instanceof Rejection)) throw err;
          summary.rejected.push({ resourceIndex, scopeIndex, spanIndex, reason: err.reason, detail: err.message });
          continue;
        }
        // Counted only for stored spans: a span rejected later was not sanitised, it was refused.
        for (const reason of record.sanitized as readonly SanitizeReason[]) {
          summary.sanitized.set(reason, (summary.sanitized.get(reason) ?? 0) + 1);
        }
        emit(record);
      }
    }
  }
  return summary;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What prices the spans of one request: one snapshot, and a usage and cost record reused per span. */
interface Pricing {
  readonly view: PricingView;
  readonly pricer: SpanPricer;
  readonly usage: SpanUsage;
  readonly cost: SpanCost;
}

/** One request's settings and per-span scratch, so that building a row allocates no closures. */
interface RowContext {
  readonly limits: SpanLimits;
  readonly earliest: bigint;
  readonly latest: bigint;
  readonly options: SpanRowOptions;
  readonly pricer: SpanPricer;
  readonly usage: SpanUsage;
  readonly pricing: Pricing | undefined;
  readonly summary: Mutable<SpanRowsSummary>;
  readonly origin: KafkaOrigin;
  resource: ReadonlyMap<string, PlainValue>;
  own: ReadonlyMap<string, PlainValue>;
  /** The request's spans that carry a job attribute, for their descendants (undefined: none does). */
  jobSpans: ReadonlyMap<string, OtlpSpanView> | undefined;
  /** The current span's fixes, in the order they were made; undefined while there are none. */
  sanitized: SanitizeReason[] | undefined;
}

const DEFAULT_PRICER = new SpanPricer();

function note(context: RowContext, reason: SanitizeReason): void {
  if (context.sanitized === undefined) context.sanitized = [reason];
  else if (!context.sanitized.includes(reason)) context.sanitized.push(reason);
}

/** Job attributes a span passes on to its descendants (the samples are the span's own). */
type InheritedJobKey = typeof JobAttr.id | typeof JobAttr.kind | typeof JobAttr.model | typeof JobAttr.epoch;

/** Ancestors looked at, at most: a parent chain in one request is rarely deeper. */
const MAX_JOB_ANCESTORS = 64;

/**
 * The request's spans that carry a job's id, kind or epoch, by trace and span id; undefined when
 * none does (then no ancestor lookup is made). Spans of a job exported in other requests are not
 * seen here: a job's id and kind belong on the resource of the process that runs the job, or on
 * each span (docs/jobs.md).
 */
function jobSpansOf(view: OtlpTracesView): Map<string, OtlpSpanView> | undefined {
  let found: Map<string, OtlpSpanView> | undefined;
  for (const resource of view.resources) {
    for (const scope of resource.scopes) {
      for (const span of scope.spans) {
        const a = span.attributes;
        if (
          a.get(JobAttr.id) !== undefined ||
          a.get(JobAttr.kind) !== undefined ||
          a.get(JobAttr.model) !== undefined ||
          a.get(JobAttr.epoch) !== undefined
        )
          (found ??= new Map()).set(span.traceId + span.spanId, span);
      }
    }
  }
  return found;
}

/**
 * A job attribute of the span: its own, else its nearest ancestor's in the same request, else
 * the resource's.
 */
function jobAttribute(context: RowContext, span: OtlpSpanView, key: InheritedJobKey): PlainValue {
  const value = context.own.get(key);
  if (value !== undefined) return value;
  const spans = context.jobSpans;
  if (spans !== undefined) {
    let parentId = span.parentSpanId;
    for (let depth = 0; parentId !== '' && depth < MAX_JOB_ANCESTORS; depth++) {
      const parent = spans.get(span.traceId + parentId);
      if (parent === undefined) break;
      const inherited = parent.attributes.get(key);
      if (inherited !== undefined) return inherited;
      parentId = parent.parentSpanId;
    }
  }
  return context.resource.get(key);
}

/** A job counter (epoch, samples) or `fallback`, noting a value that is not a whole number in range. */
function jobCount(context: RowContext, value: PlainValue, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const count = readJobCount(value, max);
  if (count === undefined) {
    note(context, 'invalid_job_attribute');
    return fallback;
  }
  return count;
}

/** The span's attribute, else the resource's. */
function attribute(context: RowContext, key: string): PlainValue {
  const value = context.own.get(key);
  return value === undefined ? context.resource.get(key) : value;
}

/** A dimension value cut to the configured length (and the fix noted). */
function cut(context: RowContext, text: string): string {
  const max = context.limits.maxDimensionLength;
  if (text.length <= max) return text;
  note(context, 'attribute_truncated');
  return text.slice(0, max);
}

function dim(context: RowContext, key: string): string {
  return cut(context, displayString(attribute(context, key)));
}

/** A count read in another dialect gets the same bound as the standard keys checked earlier. */
function boundedUsageCount(what: string, count: number, max: number): void {
  if (count > max) throw new Rejection('invalid_token_count', `${what} tokens ${count} exceed ${max} per span`);
}

function noCost(r: SpanCostRecord, unpricedReason: string): void {
  r.costInput = 0;
  r.costOutput = 0;
  r.costCacheRead = 0;
  r.costCacheWrite = 0;
  r.costReasoning = 0;
  r.costGpu = 0;
  r.costCompute = 0;
  r.costTotal = 0;
  r.currency = 'USD';
  r.pricingVersion = '';
  r.pricingSource = '';
  r.priceIds = NONE;
  r.unpricedReason = unpricedReason;
}

function isPositive(amount: Pico): boolean {
  return typeof amount === 'number' ? amount > 0 : amount > 0n;
}

/** Fills `r` with the span's row, or throws a Rejection (leaving `r` partly filled). */
function fillRecord(
  span: OtlpSpanView,
  scope: EmitterScope | undefined,
  emitter: string,
  messageIndex: number,
  context: RowContext,
  r: SpanCostRecord,
): void {
  const { limits, options, pricing, summary, origin } = context;
  if (span.traceId.length !== 32 || span.traceId === ZERO_TRACE_ID) {
    throw new Rejection('invalid_trace_id', `trace id must be 16 non-zero bytes, got ${span.traceId.length / 2} bytes`);
  }
  if (span.spanId.length !== 16 || span.spanId === ZERO_SPAN_ID) {
    throw new Rejection('invalid_span_id', `span id must be 8 non-zero bytes, got ${span.spanId.length / 2} bytes`);
  }
  const start = span.startTimeUnixNano;
  if (start > context.latest)
    throw new Rejection(
      'timestamp_in_future',
      `span starts ${(start - context.latest) / NANOS} s beyond the allowed clock skew`,
    );
  if (start < context.earliest)
    throw new Rejection('timestamp_too_old', `span starts before the ${limits.maxAgeSeconds} s acceptance window`);
  context.sanitized = undefined;
  const own = span.attributes;
  context.own = own;
  let end = span.endTimeUnixNano;
  if (end < start) {
    end = start;
    note(context, 'end_before_start');
  }

  // Usage is the span's own (as core's usage reader reads it); the resource describes the host.
  const max = limits.maxTokensPerSpan;
  const inputTokens = tokenCount(GenAiAttr.inputTokens, own.get(GenAiAttr.inputTokens), max);
  const outputTokens = tokenCount(GenAiAttr.outputTokens, own.get(GenAiAttr.outputTokens), max);
  const cacheReadTokens = tokenCount(GenAiAttr.cacheReadInputTokens, own.get(GenAiAttr.cacheReadInputTokens), max);
  const cacheWriteTokens = tokenCount(
    GenAiAttr.cacheCreationInputTokens,
    own.get(GenAiAttr.cacheCreationInputTokens),
    max,
  );
  const reasoningTokens = tokenCount(GenAiAttr.reasoningOutputTokens, own.get(GenAiAttr.reasoningOutputTokens), max);
  const gpuSecondsText = gpuSeconds(own.get(GpuAttr.seconds));
  const gpuCountValue = gpuCount(own.get(GpuAttr.count));

  let service = dim(context, DimensionAttr.serviceName);
  if (service === '') {
    service = 'unknown_service';
    note(context, 'missing_service_name');
  }

  // What the pricer reads (also for stamped spans: the row records it for `costtrace reprice`).
  const usage = readSpanUsage(
    own,
    context.resource,
    context.usage,
    undefined,
    scope,
    options.usageReader,
    span.kind === KIND_INTERNAL,
  );
  // Counts read in the other dialects get the same bound as the standard keys checked above.
  boundedUsageCount('input', usage.inputTokens, max);
  boundedUsageCount('output', usage.outputTokens, max);
  boundedUsageCount('cache read', usage.cacheReadTokens, max);
  boundedUsageCount('cache write', usage.cacheWriteTokens, max);
  boundedUsageCount('reasoning', usage.reasoningTokens, max);
  // One model call, one charge: is this span's usage its own call's?
  const usageKey = usage.hasTokens ? (context.pricer.usageKey(usage) ?? '') : '';
  const responseId = usage.responseId === undefined ? '' : cut(context, usage.responseId);
  const stampedRole = own.get(CostAttr.usageRole);
  let usageRole: '' | 'duplicate' | 'rollup' =
    stampedRole === 'duplicate' || stampedRole === 'rollup' ? stampedRole : usage.rollup ? 'rollup' : '';
  let duplicateOf = usageRole === 'duplicate' ? cut(context, displayString(own.get(CostAttr.duplicateOf))) : '';
  const ledger = options.ledger;
  if (ledger !== undefined && (usageKey !== '' || usageRole !== '')) {
    const sighting = {
      traceId: span.traceId,
      spanId: span.spanId,
      parentSpanId: span.parentSpanId,
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
  if (usageRole === 'duplicate') summary.duplicates++;
  else if (usageRole === 'rollup') summary.rollups++;

  // The cost is an upper bound: as the SDK stamped it, or as the pricer here says.
  let upperBound = false;
  const stamped = attribute(context, CostAttr.total);
  if (!charged) {
    noCost(r, '');
  } else if (stamped !== undefined) {
    const currency = dim(context, CostAttr.currency) || 'USD';
    if (!/^[A-Z]{3}$/.test(currency))
      throw new Rejection('invalid_cost', `${CostAttr.currency} is not an ISO 4217 code`);
    for (const key of COST_KEYS) {
      const value = attribute(context, key);
      if (value !== undefined) stampedPico(key, value, currency);
    }
    const ids = attribute(context, CostAttr.pricingPriceIds);
    upperBound = attribute(context, CostAttr.upperBound) === true;
    r.costInput = stampedPico(CostAttr.inputTokens, attribute(context, CostAttr.inputTokens), currency);
    r.costOutput = stampedPico(CostAttr.outputTokens, attribute(context, CostAttr.outputTokens), currency);
    r.costCacheRead = stampedPico(CostAttr.cacheReadTokens, attribute(context, CostAttr.cacheReadTokens), currency);
    r.costCacheWrite = stampedPico(CostAttr.cacheWriteTokens, attribute(context, CostAttr.cacheWriteTokens), currency);
    r.costReasoning = stampedPico(CostAttr.reasoningTokens, attribute(context, CostAttr.reasoningTokens), currency);
    r.costGpu = stampedPico(CostAttr.gpu, attribute(context, CostAttr.gpu), currency);
    r.costCompute = stampedPico(CostAttr.compute, attribute(context, CostAttr.compute), currency);
    r.costTotal = stampedPico(CostAttr.total, stamped, currency);
    r.currency = currency;
    r.pricingVersion = dim(context, CostAttr.pricingVersion);
    r.pricingSource = dim(context, CostAttr.pricingSource);
    r.priceIds = Array.isArray(ids) ? ids.map(displayString) : NONE;
    r.unpricedReason = dim(context, CostAttr.unpricedReason);
    if (options.audit === true && pricing !== undefined) {
      const cost = priceSpan(pricing, start);
      if (cost.priced && cost.currency === currency && BigInt(cost.total) !== r.costTotal) {
        summary.auditDifferences.push({
          traceId: span.traceId,
          spanId: span.spanId,
          stamped: formatPico(r.costTotal),
          recomputed: formatPico(cost.total),
          pricingVersion: pricing.view.version,
        });
      }
    }
  } else {
    const cost = pricing === undefined ? undefined : priceSpan(pricing, start);
    if (cost !== undefined && cost.applicable && pricing !== undefined) {
      if (cost.priced) summary.pricedHere++;
      if (cost.reason !== undefined) summary.unpriced++;
      upperBound = cost.priced && cost.upperBound;
      r.costInput = cost.input;
      r.costOutput = cost.output;
      r.costCacheRead = cost.cacheRead;
      r.costCacheWrite = cost.cacheWrite;
      r.costReasoning = cost.reasoning;
      r.costGpu = cost.gpu ?? 0;
      r.costCompute = cost.compute ?? 0;
      r.costTotal = cost.total;
      r.currency = cost.currency ?? 'USD';
      r.pricingVersion = cost.priced ? pricing.view.version : '';
      r.pricingSource = cost.priced ? `${AGGREGATOR_SOURCE_PREFIX}${pricing.view.source}` : '';
      // The pricer's lists are shared and frozen (kept as they are: the encoder caches their
      // encoding); others are copied, the cost record being reused for the next span.
      r.priceIds = cost.ids === undefined ? NONE : Object.isFrozen(cost.ids) ? cost.ids : [...cost.ids];
      r.unpricedReason = cost.reason ?? '';
    } else {
      // Nothing to price, or validating only: a reason the span carries is kept.
      const reason = pricing === undefined ? '' : dim(context, CostAttr.unpricedReason);
      if (reason !== '') summary.unpriced++;
      noCost(r, reason);
    }
  }

  if (upperBound && pricing !== undefined) summary.upperBound++;
  if (charged && (usageKey !== '' || r.unpricedReason !== '' || usage.hasGpu || usage.instanceNanos !== undefined)) {
    if (r.unpricedReason !== '') summary.usage.unpriced++;
    else if (upperBound) summary.usage.upperBound++;
    else summary.usage.exact++;
  }
  // Another tool's cost on the span: compared, never added.
  const emitted = usage.emittedCost;
  if (emitted !== undefined && pricing !== undefined && isPositive(r.costTotal) && emitted.currency === r.currency) {
    const text = formatPico(r.costTotal);
    const ours = Number(text);
    summary.emittedCosts.push({
      key: emitted.key,
      agrees: Math.abs(emitted.amount - ours) <= Math.max(ours * 0.005, 1e-9),
      traceId: span.traceId,
      spanId: span.spanId,
      emitted: emitted.amount,
      costtrace: text,
    });
  }

  let attributeKeys: string[] | undefined;
  let attributeValues: string[] | undefined;
  for (const [key, value] of own) {
    if (COLUMN_KEYS.has(key)) continue;
    if (attributeKeys === undefined || attributeValues === undefined) {
      attributeKeys = [];
      attributeValues = [];
    }
    if (attributeKeys.length >= limits.maxExtraAttributes) {
      note(context, 'extra_attributes_dropped');
      break;
    }
    let text = displayString(value);
    if (text.length > limits.maxAttributeValueLength) {
      text = text.slice(0, limits.maxAttributeValueLength);
      note(context, 'attribute_truncated');
    }
    attributeKeys.push(key.length > 128 ? key.slice(0, 128) : key);
    attributeValues.push(text);
  }

  let spanName = span.name;
  if (spanName.length > limits.maxDimensionLength) {
    spanName = spanName.slice(0, limits.maxDimensionLength);
    note(context, 'attribute_truncated');
  }

  r.service = service;
  r.environment = dim(context, DimensionAttr.environment) || dim(context, 'deployment.environment');
  r.route = dim(context, DimensionAttr.httpRoute);
  r.commit = dim(context, DimensionAttr.vcsRevision);
  // As the usage reader reads them (any dialect; the provider normalised), else as written.
  r.model =
    cut(context, usage.model ?? '') ||
    dim(context, GenAiAttr.responseModel) ||
    dim(context, GenAiAttr.requestModel) ||
    cut(context, displayString(jobAttribute(context, span, JobAttr.model)));
  r.provider =
    cut(context, usage.provider ?? '') || dim(context, GenAiAttr.providerName) || dim(context, GenAiAttr.system);
  r.team = dim(context, DimensionAttr.team);
  r.tenant = dim(context, DimensionAttr.tenant);
  r.jobId = cut(context, displayString(jobAttribute(context, span, JobAttr.id)));
  r.jobKind = cut(context, displayString(jobAttribute(context, span, JobAttr.kind)));
  r.jobEpoch = jobCount(context, jobAttribute(context, span, JobAttr.epoch), MAX_JOB_EPOCH, -1);
  r.jobSamples = jobCount(context, own.get(JobAttr.samples), MAX_JOB_SAMPLES, 0);
  let rollupOverflow: string[] | undefined;
  if (options.cardinality !== undefined) {
    const seconds = Number(start / NANOS);
    for (const d of ROLLUP_DIMENSIONS) {
      if (options.cardinality.fold(d, rollupValue(r, d), seconds)) (rollupOverflow ??= []).push(d);
    }
  }

  r.startTimeUnixNano = start;
  r.endTimeUnixNano = end;
  r.traceId = span.traceId;
  r.spanId = span.spanId;
  r.parentSpanId = span.parentSpanId;
  r.spanName = spanName;
  // Kinds and status codes outside OTLP's enums (a negative or huge int32 from a broken
  // emitter) would fail the whole ClickHouse insert (the columns are UInt8): stored as 0.
  const kindKnown = span.kind >= 0 && span.kind <= MAX_SPAN_KIND;
  const statusKnown = span.statusCode >= 0 && span.statusCode <= MAX_STATUS_CODE;
  if (!kindKnown || !statusKnown) note(context, 'invalid_enum_value');
  r.spanKind = kindKnown ? span.kind : 0;
  r.statusCode = statusKnown ? span.statusCode : 0;
  r.isRequest = span.kind === KIND_SERVER || span.parentSpanId.length === 0;
  r.feature = dim(context, DimensionAttr.feature);
  // The counts the pricer used, read in any dialect (the standard keys were validated above);
  // none on a span whose usage is another's call or sums its calls, so token sums count each call once.
  r.inputTokens = charged ? usageCount(usage.inputTokens, inputTokens) : 0n;
  r.outputTokens = charged ? usageCount(usage.outputTokens, outputTokens) : 0n;
  r.cacheReadTokens = charged ? usageCount(usage.cacheReadTokens, cacheReadTokens) : 0n;
  r.cacheWriteTokens = charged ? usageCount(usage.cacheWriteTokens, cacheWriteTokens) : 0n;
  r.reasoningTokens = charged ? usageCount(usage.reasoningTokens, reasoningTokens) : 0n;
  r.gpuType = dim(context, GpuAttr.type);
  r.gpuCount = gpuCountValue;
  // The GPU-seconds priced (to the nanosecond) when the pricer could read them.
  r.gpuSeconds = usage.gpuNanos === undefined ? gpuSecondsText : formatScaled(usage.gpuNanos, 9);
  // The resource's semconv host.type, as the SDK reads it.
  r.instanceType = dim(context, InstanceAttr.type);
  r.usageColumns = pricing !== undefined;
  if (pricing !== undefined) {
    r.gpuProvider = cut(context, usage.gpuProvider ?? '');
    r.gpuPricingModel = usage.gpuPricingModel ?? '';
    r.cloudProvider = cut(context, usage.cloudProvider ?? '');
    r.cloudRegion = cut(context, usage.region ?? '');
    r.instancePricingModel = usage.instancePricingModel ?? '';
    r.instanceSeconds = usage.instanceNanos === undefined ? '0' : formatScaled(usage.instanceNanos, 9);
    r.usageComplete = true;
    r.costUpperBound = upperBound;
    r.emitter = cut(context, emitter);
    r.usageRole = usageRole;
    r.duplicateOf = duplicateOf;
    r.responseId = responseId;
    r.usageKey = usageKey;
  } else {
    r.gpuProvider = '';
    r.gpuPricingModel = '';
    r.cloudProvider = '';
    r.cloudRegion = '';
    r.instancePricingModel = '';
    r.instanceSeconds = '0';
    r.usageComplete = false;
    r.costUpperBound = false;
    r.emitter = '';
    r.usageRole = '';
    r.duplicateOf = '';
    r.responseId = '';
    r.usageKey = '';
  }
  r.kafkaTopic = origin.topic;
  r.kafkaPartition = origin.partition;
  r.kafkaOffset = origin.offset;
  r.kafkaSpanIndex = messageIndex;
  r.attributeKeys = attributeKeys ?? NONE;
  r.attributeValues = attributeValues ?? NONE;
  r.rollupOverflow = rollupOverflow ?? NONE;
  r.sanitized = context.sanitized ?? NONE;
}

/** A rollup dimension's value in a record (the columns are snake_case, the record's fields camelCase). */
function rollupValue(r: SpanCostRecord, dimension: RollupDimension): string {
  return dimension === 'job_id' ? r.jobId : dimension === 'job_kind' ? r.jobKind : r[dimension];
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
