import type { UnpricedReason } from '../attributes.js';
import { defaultInputTokenRule } from '../token-usage.js';
import type { InputTokenRule } from '../token-usage.js';
import { addPico, KIND_BIT, priceIdsFor, tokenLine } from './compiled-token-price.js';
import { invalidArgument } from './pricing-error.js';
import type { PricingView } from './pricing-view.js';
import { REFERENCE_PROVIDER } from './pricing-view.js';
import type { Quote } from './quote.js';
import { INVALID_COUNT } from './span-usage.js';
import type { SpanUsage } from './span-usage.js';

/** An amount in pico-units (10^-12) of its currency: a double while a safe integer, else a bigint. */
export type Pico = number | bigint;

/**
 * The cost of one span: total, components, currency and the ids of the prices and overrides
 * used, or why (part of) it has no cost. Mutable and reused by the pricer's callers.
 */
export class SpanCost {
  /** The span had usage to price (tokens, a model, GPU or instance time). */
  applicable = false;
  /** Sum of the priced components; 0 when nothing was priced. */
  total: Pico = 0;
  /** Undefined when nothing was priced. */
  currency: string | undefined = undefined;
  ids: readonly string[] | undefined = undefined;
  /** The first component that could not be priced (the others still are). */
  reason: UnpricedReason | undefined = undefined;
  /**
   * The token cost is an upper bound: the emitter writes no cached-token count (see
   * EMITTER_RULES), so cached input, if any, was billed at the uncached price.
   */
  upperBound = false;
  input: Pico = 0;
  output: Pico = 0;
  cacheRead: Pico = 0;
  cacheWrite: Pico = 0;
  reasoning: Pico = 0;
  /** GPU and instance cost; undefined when not priced. */
  gpu: Pico | undefined = undefined;
  compute: Pico | undefined = undefined;

  reset(): this {
    this.applicable = false;
    this.total = 0;
    this.currency = undefined;
    this.ids = undefined;
    this.reason = undefined;
    this.upperBound = false;
    this.input = 0;
    this.output = 0;
    this.cacheRead = 0;
    this.cacheWrite = 0;
    this.reasoning = 0;
    this.gpu = undefined;
    this.compute = undefined;
    return this;
  }

  /** The span has a cost (some component was priced). */
  get priced(): boolean {
    return this.currency !== undefined && this.ids !== undefined;
  }
}

export interface SpanPricerOptions {
  /** Per-provider rule for whether reported input tokens include cache tokens; default core's. */
  readonly inputTokenRules?: Readonly<Record<string, InputTokenRule>> | undefined;
  /**
   * Providers whose models run on your own hardware ("self-hosted", "vllm"): their tokens are
   * recorded but not billed; such a call costs its GPU time.
   */
  readonly selfHostedProviders?: readonly string[] | undefined;
}

interface Priced {
  readonly pico: Pico;
  readonly currency: string;
  readonly ids: readonly string[];
}

/**
 * The one span pricer: the SDK stamps with it, the aggregator prices unstamped spans and
 * reprices with it, so the same usage and snapshot give the same cost and price ids everywhere.
 *
 * Tokens take a compiled fast path (exact integer pico-units in doubles) when the model has no
 * override and no long-context tier; everything else (overrides, tiers, GPU and instance time)
 * goes through core's quote, whose effective cost (after overrides) is the span's cost.
 * Pure, synchronous, never throws for bad usage (it becomes a reason).
 */
export class SpanPricer {
  private readonly inputTokenRules: Readonly<Record<string, InputTokenRule>> | undefined;
  private readonly selfHosted: ReadonlySet<string>;
  private lastRuleProvider: string | undefined;
  private lastRule: InputTokenRule = 'input-includes-cache';
  private lastRuleConfigured = false;

  constructor(options: SpanPricerOptions = {}) {
    if (options.inputTokenRules !== undefined) {
      for (const [provider, rule] of Object.entries(options.inputTokenRules)) {
        if (rule !== 'input-includes-cache' && rule !== 'input-excludes-cache') {
          throw invalidArgument(
            `inputTokenRules.${provider}`,
            `is ${JSON.stringify(rule)}; use 'input-includes-cache' or 'input-excludes-cache'`,
          );
        }
      }
    }
    this.inputTokenRules = options.inputTokenRules;
    const selfHosted = options.selfHostedProviders;
    if (selfHosted !== undefined && (!Array.isArray(selfHosted) || selfHosted.some((p) => typeof p !== 'string'))) {
      throw invalidArgument('selfHostedProviders', 'must be an array of provider names, e.g. ["self-hosted", "vllm"]');
    }
    this.selfHosted = new Set(selfHosted ?? []);
  }

  /**
   * Prices `usage` from `view` at `at` (epoch ms: the span's start) into `out` (reset first).
   * A roll-up span is not applicable: its usage is its children's.
   */
  price(view: PricingView, usage: SpanUsage, at: number, out: SpanCost): SpanCost {
    out.reset();
    if (usage.rollup) return out;
    let pico: Pico = 0;
    let currency: string | undefined;
    let ids: readonly string[] | undefined;

    // Tokens.
    const provider = usage.provider;
    const selfHosted = provider !== undefined && this.selfHosted.size !== 0 && this.selfHosted.has(provider);
    if (!selfHosted && (usage.hasTokens || usage.model !== undefined)) {
      out.applicable = true;
      const tokens = this.priceTokens(out, view, usage, at);
      if (typeof tokens === 'string') out.reason = tokens;
      else {
        pico = tokens.pico;
        currency = tokens.currency;
        ids = tokens.ids;
      }
    }

    // GPU time.
    if (usage.hasGpu) {
      out.applicable = true;
      const gpu = priceGpu(view, usage, at);
      if (typeof gpu === 'string') out.reason ??= gpu;
      else if (currency !== undefined && gpu.currency !== currency) out.reason ??= 'currency_mismatch';
      else {
        out.gpu = gpu.pico;
        pico = addPico(pico, gpu.pico);
        currency = gpu.currency;
        ids = ids === undefined ? gpu.ids : [...ids, ...gpu.ids];
      }
    }

    // Instance time.
    if (usage.instanceNanos !== undefined || usage.instanceInvalid) {
      out.applicable = true;
      const compute = priceInstance(view, usage, at);
      if (typeof compute === 'string') out.reason ??= compute;
      else if (currency !== undefined && compute.currency !== currency) out.reason ??= 'currency_mismatch';
      else {
        out.compute = compute.pico;
        pico = addPico(pico, compute.pico);
        currency = compute.currency;
        ids = ids === undefined ? compute.ids : [...ids, ...compute.ids];
      }
    }

    out.total = pico;
    out.currency = currency;
    out.ids = ids;
    return out;
  }

  /**
   * Whether `usage.inputTokens` includes cache tokens. In order: the rule configured for the
   * emitter (instrumentation scope), the rule configured for the provider, the built-in emitter
   * table (only for providers whose API reports input without the cache, e.g. Anthropic: every
   * emitter reports OpenAI's input with the cache), the provider's default.
   */
  private inputRule(provider: string, usage: SpanUsage): InputTokenRule {
    if (usage.userEmitterInputRule !== undefined) return usage.userEmitterInputRule;
    // Remembers the last provider's rule: traffic is mostly one provider at a time.
    let rule: InputTokenRule;
    if (provider === this.lastRuleProvider) rule = this.lastRule;
    else {
      rule = this.inputTokenRules?.[provider] ?? defaultInputTokenRule(provider);
      this.lastRuleProvider = provider;
      this.lastRule = rule;
      this.lastRuleConfigured = this.inputTokenRules?.[provider] !== undefined;
    }
    if (this.lastRuleConfigured || rule !== 'input-excludes-cache') return rule;
    return usage.emitterInputRule ?? rule;
  }

  /**
   * What identifies a model call's usage across emitters, for one-charge-per-call
   * (ModelCallLedger): `<all input tokens>:<output tokens>`, input counted with the cache per this
   * span's input rule, so an emitter that includes the cache in its input count and one that
   * reports it apart give the same key for the same call (and one that reports no cached count at
   * all, too). Undefined when the span has no token usage or an unusable count.
   */
  usageKey(usage: SpanUsage): string | undefined {
    if (!usage.hasTokens) return undefined;
    const { inputTokens: input, outputTokens: output, cacheReadTokens: read, cacheWriteTokens: write } = usage;
    if (input < 0 || output < 0 || read < 0 || write < 0) return undefined;
    const provider = usage.provider;
    const rule = provider === undefined ? 'input-includes-cache' : this.inputRule(provider, usage);
    return `${rule === 'input-includes-cache' ? input : input + read + write}:${output}`;
  }

  private priceTokens(out: SpanCost, view: PricingView, usage: SpanUsage, at: number): UnpricedReason | Priced {
    if (!usage.hasTokens) return 'no_usage';
    const model = usage.model;
    const provider = usage.provider;
    if (model === undefined) return 'unknown_model';
    if (provider === undefined) return 'unknown_provider';
    const lookup = view.tokenPrice(provider, model, at);
    if (lookup.kind === 'unknown_model' || lookup.kind === 'unknown_provider') return lookup.kind;
    const input = usage.inputTokens;
    const output = usage.outputTokens;
    const cacheRead = usage.cacheReadTokens;
    const cacheWrite = usage.cacheWriteTokens;
    const reasoning = usage.reasoningTokens;
    if (
      input === INVALID_COUNT ||
      output === INVALID_COUNT ||
      cacheRead === INVALID_COUNT ||
      cacheWrite === INVALID_COUNT ||
      reasoning === INVALID_COUNT
    ) {
      return 'invalid_usage';
    }
    // The per-provider input rule makes token kinds disjoint, so nothing is billed twice or missed.
    const rule = this.inputRule(provider, usage);
    const uncached = rule === 'input-includes-cache' ? input - cacheRead - cacheWrite : input;
    if (uncached < 0 || reasoning > output) return 'invalid_usage';
    out.upperBound = usage.cacheUnreported && input > 0;
    if (lookup.kind === 'quote') return quoteTokens(out, view, at, provider, model, rule, usage);
    const compiled = lookup.price;
    const plainOutput = compiled.reasoningSeparate ? output - reasoning : output;
    const billedReasoning = compiled.reasoningSeparate ? reasoning : 0;
    // Fast path: each line is tokens × integer pico-units per token. Every operand is a
    // non-negative integer, so while the sum stays at or below 2^53 - 1 every product and partial
    // sum is below it too and exact in doubles (a NaN per-token price, meaning "not an integer",
    // fails the comparison). Otherwise the bigint lines, rounded half to even once each.
    let inputLine: Pico = uncached * compiled.input;
    let readLine: Pico = cacheRead * compiled.cacheRead;
    let writeLine: Pico = cacheWrite * compiled.cacheWrite;
    let outputLine: Pico = plainOutput * compiled.output;
    let reasoningLine: Pico = billedReasoning * compiled.reasoning;
    let total: Pico = inputLine + readLine + writeLine + outputLine + reasoningLine;
    if (!(total <= Number.MAX_SAFE_INTEGER)) {
      inputLine = tokenLine(uncached, compiled.input, compiled.inputPerMillion);
      readLine = tokenLine(cacheRead, compiled.cacheRead, compiled.cacheReadPerMillion);
      writeLine = tokenLine(cacheWrite, compiled.cacheWrite, compiled.cacheWritePerMillion);
      outputLine = tokenLine(plainOutput, compiled.output, compiled.outputPerMillion);
      reasoningLine = tokenLine(billedReasoning, compiled.reasoning, compiled.reasoningPerMillion);
      total = addPico(addPico(addPico(inputLine, readLine), addPico(writeLine, outputLine)), reasoningLine);
    }
    out.input = inputLine;
    out.output = outputLine;
    out.cacheRead = readLine;
    out.cacheWrite = writeLine;
    out.reasoning = reasoningLine;
    const mask =
      (uncached > 0 ? KIND_BIT.input : 0) |
      (cacheRead > 0 ? KIND_BIT.cacheRead : 0) |
      (cacheWrite > 0 ? KIND_BIT.cacheWrite : 0) |
      (plainOutput > 0 ? KIND_BIT.output : 0) |
      (billedReasoning > 0 ? KIND_BIT.reasoning : 0);
    return {
      pico: total,
      currency: compiled.currency,
      ids: priceIdsFor(compiled, mask === 0 ? KIND_BIT.input : mask),
    };
  }
}

/** Models with overrides or long-context tiers: core's quote (effective cost, after overrides). */
function quoteTokens(
  out: SpanCost,
  view: PricingView,
  at: number,
  provider: string,
  model: string,
  rule: InputTokenRule,
  usage: SpanUsage,
): UnpricedReason | Priced {
  const result = view.quote({
    at,
    models: [
      {
        provider,
        model,
        inputTokenRule: rule,
        inputTokens: BigInt(usage.inputTokens),
        outputTokens: BigInt(usage.outputTokens),
        cacheReadTokens: BigInt(usage.cacheReadTokens),
        cacheWriteTokens: BigInt(usage.cacheWriteTokens),
        reasoningTokens: BigInt(usage.reasoningTokens),
      },
    ],
  });
  if ('error' in result) return result.error.code === 'NOT_FOUND' ? 'unknown_model' : 'invalid_usage';
  for (const line of result.quote.lines) {
    const amount = line.effectiveCost.subunits;
    if (amount === 0n) continue; // a zero component stays the number 0
    switch (line.kind) {
      case 'input_tokens':
        out.input = addPico(out.input, amount);
        break;
      case 'output_tokens':
        out.output = addPico(out.output, amount);
        break;
      case 'cache_read_tokens':
        out.cacheRead = addPico(out.cacheRead, amount);
        break;
      case 'cache_write_tokens':
        out.cacheWrite = addPico(out.cacheWrite, amount);
        break;
      case 'reasoning_tokens':
        out.reasoning = addPico(out.reasoning, amount);
        break;
      default:
        break;
    }
  }
  return quoted(result.quote);
}

function priceGpu(view: PricingView, usage: SpanUsage, at: number): UnpricedReason | Priced {
  const nanos = usage.gpuNanos;
  if (nanos === undefined) return 'invalid_usage';
  const gpuType = usage.gpuType;
  if (gpuType === undefined) return 'unknown_gpu';
  const provider = usage.gpuProvider;
  // `costtrace.gpu.seconds` already counts every device and the share held: one device here.
  const gpu = { gpuType, gpuCount: 1, seconds: nanos, region: usage.region, pricingModel: usage.gpuPricingModel };
  let result = view.quote({ at, gpus: [{ ...gpu, provider }] });
  if ('error' in result && provider !== undefined && provider !== REFERENCE_PROVIDER) {
    // The named provider has no rate for this GPU type: fall back to the reference rate.
    result = view.quote({ at, gpus: [{ ...gpu, provider: REFERENCE_PROVIDER }] });
  }
  if ('error' in result) return result.error.code === 'NOT_FOUND' ? 'unknown_gpu' : 'invalid_usage';
  return quoted(result.quote);
}

function priceInstance(view: PricingView, usage: SpanUsage, at: number): UnpricedReason | Priced {
  const nanos = usage.instanceNanos;
  if (nanos === undefined) return 'invalid_usage';
  const type = usage.instanceType;
  const provider = usage.cloudProvider;
  if (type === undefined || provider === undefined) return 'unknown_instance';
  const result = view.quote({
    at,
    instances: [
      { provider, instanceType: type, region: usage.region, seconds: nanos, pricingModel: usage.instancePricingModel },
    ],
  });
  if ('error' in result) return result.error.code === 'NOT_FOUND' ? 'unknown_instance' : 'invalid_usage';
  return quoted(result.quote);
}

/** Effective cost of a core quote, with the ids of the prices and overrides it used. */
function quoted(quote: Quote): Priced {
  const ids: string[] = [];
  for (const line of quote.lines) {
    if (!ids.includes(line.priceId)) ids.push(line.priceId);
    if (line.effectivePriceId !== line.priceId && !ids.includes(line.effectivePriceId)) ids.push(line.effectivePriceId);
    for (const o of line.overrides) if (!ids.includes(o.id)) ids.push(o.id);
  }
  return { pico: quote.effectiveCost.subunits, currency: quote.effectiveCost.currency, ids };
}
