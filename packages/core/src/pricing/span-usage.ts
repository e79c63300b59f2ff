import { readTokenCount } from '../token-count.js';
import { GenAiAttr, ROLLUP_ATTRIBUTE } from '../attributes.js';
import { parseScaled } from '../money.js';
import { GpuAttr, InstanceAttr } from '../resource-usage-attributes.js';
import type { InputTokenRule } from '../token-usage.js';
import type { PricingModel } from './price.js';
import {
  EMITTED_COST_CURRENCY_KEY,
  EMITTED_COST_KEYS,
  emitterRule,
  GENAI_USAGE_KEYS,
  normalizeProvider,
  RESPONSE_ID_KEYS,
  USAGE_KEYS,
} from './usage-dialects.js';

/**
 * Attributes as OpenTelemetry JS holds them (a plain object) or as a decoded OTLP message gives
 * them (a map). Values are read, never changed.
 */
export type AttributeBag = { readonly [key: string]: unknown } | ReadonlyMap<string, unknown>;

function read(bag: AttributeBag, key: string): unknown {
  return bag instanceof Map ? bag.get(key) : (bag as { readonly [key: string]: unknown })[key];
}

/** The key `readFirst` last found a value under (undefined when none). */
let foundKey: string | undefined;

/** The value of the first of `keys` present on `bag` (see USAGE_KEYS for the order). */
function readFirst(bag: AttributeBag, keys: readonly string[]): unknown {
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const value = read(bag, key);
    if (value !== undefined) {
      foundKey = key;
      return value;
    }
  }
  foundKey = undefined;
  return undefined;
}

/** The instrumentation scope that emitted a span (its tracer's name and version). */
export interface EmitterScope {
  readonly name: string;
  readonly version?: string | undefined;
}

/** What the reader takes from configuration (the SDK's and the aggregator's options). */
export interface UsageReaderOptions {
  /** Provider names as emitted (lower-case) → the name prices use, before the built-in table. */
  readonly providerAliases?: Readonly<Record<string, string>> | undefined;
  /** Instrumentation scope name → input-token rule, before the built-in emitter table. */
  readonly emitterInputRules?: Readonly<Record<string, InputTokenRule>> | undefined;
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
  /**
   * The span sums up its children's usage: marked so (ROLLUP_ATTRIBUTE), or a framework span the
   * reader recognises (isFrameworkRollup; only looked for on spans with tokens). Priced nowhere.
   */
  rollup = false;
  /** The provider's response id (RESPONSE_ID_KEYS), read on spans with tokens. */
  responseId: string | undefined = undefined;
  /**
   * The provider, normalised to the names prices use (`openai.chat` → openai, `aws.bedrock` →
   * bedrock; see normalizeProvider): `gen_ai.provider.name`, else the older `gen_ai.system`, else
   * OpenInference's `llm.provider` / `llm.system`, else the AI SDK's `ai.model.provider`.
   */
  provider: string | undefined = undefined;
  /** The response model, else the request model, in any dialect (USAGE_KEYS.model). */
  model: string | undefined = undefined;
  /** The emitter's instrumentation scope name, when known. */
  scope: string | undefined = undefined;
  /** The input-token rule configured for this emitter's scope (UsageReaderOptions.emitterInputRules). */
  userEmitterInputRule: InputTokenRule | undefined = undefined;
  /**
   * How this emitter counts input tokens for providers whose API reports them without the cache
   * (the built-in emitter table, EMITTER_RULES). Undefined: not known.
   */
  emitterInputRule: InputTokenRule | undefined = undefined;
  /** The emitter is known to write no cached-token count (the cost is then an upper bound). */
  cacheUnreported = false;
  /**
   * A cost another tool put on the span (EMITTED_COST_KEYS), as it wrote it: for comparison
   * only, never added to costtrace's cost. Read on spans with token usage.
   */
  emittedCost: { readonly amount: number; readonly currency: string; readonly key: string } | undefined = undefined;
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
 * `internal`: the span's kind is INTERNAL (an in-process agent's `invoke_agent` span sums its
 * model calls; a CLIENT one, a remote agent's, is the only record of them).
 */
export function readSpanUsage(
  span: AttributeBag,
  resource: AttributeBag,
  into: SpanUsage = new SpanUsage(),
  instanceNanos?: bigint,
  scope?: EmitterScope,
  options?: UsageReaderOptions,
  internal?: boolean,
): SpanUsage {
  into.rollup = read(span, ROLLUP_ATTRIBUTE) === true;
  // The current GenAI names first: most spans of most emitters have them, and then the
  // other dialects are not read at all.
  into.model =
    text(read(span, GenAiAttr.responseModel)) ??
    text(read(span, GenAiAttr.requestModel)) ??
    text(readFirst(span, USAGE_KEYS.model));
  const provider = text(read(span, GenAiAttr.providerName)) ?? text(readFirst(span, USAGE_KEYS.provider));
  into.provider = provider === undefined ? undefined : normalizeProvider(provider, options?.providerAliases);
  let input = read(span, GenAiAttr.inputTokens);
  let inputKey: string | undefined = GenAiAttr.inputTokens;
  if (input === undefined) {
    input = readFirst(span, USAGE_KEYS.input);
    inputKey = foundKey;
  }
  const output = read(span, GenAiAttr.outputTokens) ?? readFirst(span, USAGE_KEYS.output);
  into.hasTokens = input !== undefined || output !== undefined;
  into.inputTokens = tokenCount(input);
  into.outputTokens = tokenCount(output);
  if (into.hasTokens) {
    const keys = inputKey === GenAiAttr.inputTokens ? GENAI_USAGE_KEYS : USAGE_KEYS;
    const cacheRead = readFirst(span, keys.cacheRead);
    into.cacheReadTokens = tokenCount(cacheRead);
    into.cacheWriteTokens = tokenCount(readFirst(span, keys.cacheWrite));
    into.reasoningTokens = tokenCount(readFirst(span, keys.reasoning));
    into.responseId = text(readFirst(span, RESPONSE_ID_KEYS));
    if (!into.rollup && (isFrameworkRollup(span) || (internal === true && isLocalAgent(span)))) into.rollup = true;
    const name = scope?.name;
    into.scope = name;
    const rule = emitterRule(name);
    into.userEmitterInputRule = name === undefined ? undefined : options?.emitterInputRules?.[name];
    into.emitterInputRule =
      rule === undefined
        ? undefined
        : ((inputKey === undefined ? undefined : rule.byInputKey?.[inputKey]) ?? rule.inputRule);
    into.cacheUnreported = rule?.noCachedTokens === true && cacheRead === undefined;
    const emitted = readFirst(span, EMITTED_COST_KEYS);
    const amount = typeof emitted === 'string' ? Number(emitted) : emitted;
    into.emittedCost =
      typeof amount === 'number' && Number.isFinite(amount) && amount >= 0 && foundKey !== undefined
        ? { amount, currency: text(read(span, EMITTED_COST_CURRENCY_KEY)) ?? 'USD', key: foundKey }
        : undefined;
  } else {
    into.emittedCost = undefined;
    into.responseId = undefined;
    into.cacheReadTokens = 0;
    into.cacheWriteTokens = 0;
    into.reasoningTokens = 0;
    into.scope = scope?.name;
    into.userEmitterInputRule = undefined;
    into.emitterInputRule = undefined;
    into.cacheUnreported = false;
  }

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

/**
 * Framework spans whose usage sums their model calls' (the calls have spans of their own), by
 * the attribute that marks them: charged nowhere, like `costtrace.usage.rollup=true`.
 * - Vercel AI SDK: `ai.operationId` of the call as a whole (`ai.generateText`, `ai.streamText`,
 *   `ai.generateObject`, `ai.streamObject`, `ai.embedMany`, …); the model calls are the
 *   `….doGenerate` / `….doStream` / `….doEmbed` steps.
 * - OpenInference: `openinference.span.kind` other than LLM and EMBEDDING (CHAIN, AGENT, TOOL, …).
 * - OpenLLMetry / Traceloop: `traceloop.span.kind` workflow, task, agent or tool.
 * (In-process agents' `invoke_agent` spans: see isLocalAgent, which needs the span kind.)
 */
function isFrameworkRollup(span: AttributeBag): boolean {
  const operation = read(span, 'ai.operationId');
  if (typeof operation === 'string') return operation.startsWith('ai.') && !operation.includes('.do');
  const kind = read(span, 'openinference.span.kind');
  if (typeof kind === 'string') return kind !== 'LLM' && kind !== 'EMBEDDING';
  const traceloop = read(span, 'traceloop.span.kind');
  return typeof traceloop === 'string' && TRACELOOP_ROLLUP_KINDS.has(traceloop);
}

/**
 * An agent invoked in process (GenAI `gen_ai.operation.name=invoke_agent` on an INTERNAL span,
 * e.g. the Vercel AI SDK 7's `invoke_agent` over its `chat` calls): its usage sums its calls'.
 */
function isLocalAgent(span: AttributeBag): boolean {
  return read(span, 'gen_ai.operation.name') === 'invoke_agent';
}

const TRACELOOP_ROLLUP_KINDS = new Set(['workflow', 'task', 'agent', 'tool']);

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** A token count (readTokenCount's rule): absent is 0; anything it refuses is INVALID_COUNT. */
export function tokenCount(value: unknown): number {
  // The common cases without a result object (this runs for every count of every span).
  if (value === undefined) return 0;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  const read = readTokenCount(value);
  return read.ok ? read.count : INVALID_COUNT;
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

/**
 * Epoch milliseconds of a span time in nanoseconds, computed as the SDK computes it from its
 * [seconds, nanoseconds] time, so every pricer of a span picks the same prices for it.
 */
export function unixNanoToMillis(unixNano: bigint): number {
  return Number(unixNano / NANOS_PER_SECOND) * 1000 + Number(unixNano % NANOS_PER_SECOND) / 1e6;
}
