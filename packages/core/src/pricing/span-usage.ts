import { GenAiAttr, ROLLUP_ATTRIBUTE } from '../attributes.js';
import { parseScaled } from '../money.js';
import { GpuAttr, InstanceAttr } from '../resource-usage-attributes.js';
import type { PricingModel } from './price.js';

/**
 * Attributes as OpenTelemetry JS holds them (a plain object) or as a decoded OTLP message gives
 * them (a map). Values are read, never changed.
 */
export type AttributeBag = { readonly [key: string]: unknown } | ReadonlyMap<string, unknown>;

function read(bag: AttributeBag, key: string): unknown {
  return bag instanceof Map ? bag.get(key) : (bag as { readonly [key: string]: unknown })[key];
}

/** A token count of the reader: absent is 0; anything but a non-negative safe integer is -1 (invalid). */
export const INVALID_COUNT = -1;

/**
 * What a span used, read from its attributes: the model call's tokens, GPU time and instance
 * time, and what prices them (provider, model, GPU type, instance type, region, pricing model).
 * Mutable and reused: the SDK reads every span into one instance, so reading allocates nothing.
 *
 * The reading rules are the same wherever a span is priced (SDK, aggregator, reprice), so the
 * same span gives the same usage: token and GPU usage come from the span's own attributes, the
 * host (instance type, cloud provider, region) from the resource.
 */
export class SpanUsage {
  /** The span sums up its children's usage (ROLLUP_ATTRIBUTE): priced nowhere. */
  rollup = false;
  /** `gen_ai.provider.name`, else the older `gen_ai.system`. */
  provider: string | undefined = undefined;
  /** `gen_ai.response.model`, else `gen_ai.request.model`. */
  model: string | undefined = undefined;
  /** The span reports input or output tokens. */
  hasTokens = false;
  /** As reported: input per the provider's input rule, output including reasoning. INVALID_COUNT when unusable. */
  inputTokens = 0;
  outputTokens = 0;
  cacheReadTokens = 0;
  cacheWriteTokens = 0;
  reasoningTokens = 0;
  /** `costtrace.gpu.seconds` is present. */
  hasGpu = false;
  /** Billable GPU time in nanoseconds; undefined when present but not a non-negative number. */
  gpuNanos: bigint | undefined = undefined;
  gpuType: string | undefined = undefined;
  /** `costtrace.gpu.provider`, else the resource's `cloud.provider`. */
  gpuProvider: string | undefined = undefined;
  gpuPricingModel: PricingModel | undefined = undefined;
  /** Instance time charged to this span, in nanoseconds (the SDK's share meter, or `costtrace.instance.share_seconds`). */
  instanceNanos: bigint | undefined = undefined;
  /** `costtrace.instance.share_seconds` is present but not a non-negative number. */
  instanceInvalid = false;
  /** Resource `host.type`. */
  instanceType: string | undefined = undefined;
  /** Resource `cloud.provider`. */
  cloudProvider: string | undefined = undefined;
  /** Resource `cloud.region`. */
  region: string | undefined = undefined;
  /** Resource `costtrace.instance.pricing_model` (spot, reserved, …); default on-demand. */
  instancePricingModel: PricingModel | undefined = undefined;
}

/**
 * Reads the usage of one span into `into` (reset first). `instanceNanos`: instance time the
 * caller measured itself (the SDK's share meter); when absent it comes from the span's
 * `costtrace.instance.share_seconds`, which the SDK stamps and other emitters may write.
 */
export function readSpanUsage(
  span: AttributeBag,
  resource: AttributeBag,
  into: SpanUsage = new SpanUsage(),
  instanceNanos?: bigint,
): SpanUsage {
  into.rollup = read(span, ROLLUP_ATTRIBUTE) === true;
  into.model = text(read(span, GenAiAttr.responseModel)) ?? text(read(span, GenAiAttr.requestModel));
  into.provider = text(read(span, GenAiAttr.providerName)) ?? text(read(span, GenAiAttr.system));
  const input = read(span, GenAiAttr.inputTokens);
  const output = read(span, GenAiAttr.outputTokens);
  into.hasTokens = input !== undefined || output !== undefined;
  into.inputTokens = tokenCount(input);
  into.outputTokens = tokenCount(output);
  into.cacheReadTokens = tokenCount(read(span, GenAiAttr.cacheReadInputTokens));
  into.cacheWriteTokens = tokenCount(read(span, GenAiAttr.cacheCreationInputTokens));
  into.reasoningTokens = tokenCount(read(span, GenAiAttr.reasoningOutputTokens));

  const gpuSeconds = read(span, GpuAttr.seconds);
  into.hasGpu = gpuSeconds !== undefined;
  into.gpuNanos = gpuSeconds === undefined ? undefined : secondsToNanos(gpuSeconds);
  into.gpuType = into.hasGpu ? text(read(span, GpuAttr.type)) : undefined;
  into.gpuPricingModel = into.hasGpu ? pricingModelOf(read(span, GpuAttr.pricingModel)) : undefined;

  into.instanceInvalid = false;
  if (instanceNanos !== undefined) into.instanceNanos = instanceNanos;
  else {
    const share = read(span, InstanceAttr.shareSeconds);
    into.instanceNanos = share === undefined ? undefined : secondsToNanos(share);
    into.instanceInvalid = share !== undefined && into.instanceNanos === undefined;
  }

  // The host, only when something is priced by it (the resource is not read for token-only spans).
  if (into.hasGpu || into.instanceNanos !== undefined) {
    into.cloudProvider = text(read(resource, InstanceAttr.cloudProvider));
    into.region = text(read(resource, InstanceAttr.cloudRegion));
    into.instanceType = text(read(resource, InstanceAttr.type));
    into.instancePricingModel = pricingModelOf(read(resource, InstanceAttr.pricingModel));
    into.gpuProvider = into.hasGpu ? (text(read(span, GpuAttr.provider)) ?? into.cloudProvider) : undefined;
  } else {
    into.cloudProvider = undefined;
    into.region = undefined;
    into.instanceType = undefined;
    into.instancePricingModel = undefined;
    into.gpuProvider = undefined;
  }
  return into;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** A token count: absent is 0; anything but a non-negative safe integer is INVALID_COUNT. */
export function tokenCount(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : INVALID_COUNT;
  if (typeof value === 'bigint') {
    return value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : INVALID_COUNT;
  }
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return INVALID_COUNT;
}

const NANOS_PER_SECOND = 1_000_000_000n;

/**
 * Seconds to integer nanoseconds: a double (rounded to the nearest nanosecond), an integer, or
 * an exact decimal string with at most 9 fraction digits. Undefined when negative or not a number.
 */
export function secondsToNanos(value: unknown): bigint | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return undefined;
    return BigInt(Math.round(value * 1e9));
  }
  if (typeof value === 'bigint') return value < 0n ? undefined : value * NANOS_PER_SECOND;
  if (typeof value === 'string') {
    try {
      const nanos = parseScaled(value, 9);
      return nanos < 0n ? undefined : nanos;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Parses a pricing model name from an attribute; undefined for anything unknown. */
export function pricingModelOf(value: unknown): PricingModel | undefined {
  return value === 'on_demand' ||
    value === 'spot' ||
    value === 'reserved' ||
    value === 'committed' ||
    value === 'internal'
    ? value
    : undefined;
}
