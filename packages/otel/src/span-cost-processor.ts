import { diag, metrics, propagation, trace } from '@opentelemetry/api';
import type {
  Attributes,
  AttributeValue,
  Context,
  DiagLogger,
  MeterProvider,
  ObservableResult,
} from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  addPico,
  bundledPricingView,
  defaultInputTokenRule,
  DimensionAttr,
  divideRoundHalfEven,
  formatPico,
  GenAiAttr,
  GpuAttr,
  InstanceAttr,
  KIND_BIT,
  parseScaled,
  picoToFloat,
  priceIdsFor,
  pricingModelOf,
  REFERENCE_PROVIDER,
  ROLLUP_ATTRIBUTE,
  StaticPriceSource,
  tokenLine,
} from '@costtrace/core';
import type { InputTokenRule, PriceSource, PricingModel, PricingView, Quote } from '@costtrace/core';
import { inheritedDimension, resolveDimensionKeys, TARGET_SET } from './cost-dimensions.js';
import type { DimensionKeys, ResolvedDimension, StartContext } from './cost-dimensions.js';
import { CostStamp, writeCostAttributes } from './cost-attribute-writer.js';
import { InstanceShareMeter } from './instance/instance-share-meter.js';
import { invalidOption } from './sdk-error.js';
import { detectVcsRevision } from './vcs-revision.js';

/** Why a span (or one component of it) has no cost. Stamped as `cost.unpriced_reason`. */
export type SpanUnpricedReason =
  | 'no_usage'
  | 'unknown_model'
  | 'unknown_provider'
  | 'invalid_usage'
  | 'unknown_gpu'
  | 'unknown_instance'
  | 'currency_mismatch'
  | 'internal_error';

export interface InstanceCostOptions {
  /** Instance type; default: resource `host.type`. */
  readonly instanceType?: string | undefined;
  /** Cloud provider ("aws", "gcp", "azure"); default: resource `cloud.provider`. */
  readonly cloudProvider?: string | undefined;
  /** Region; default: resource `cloud.region`. */
  readonly region?: string | undefined;
  /**
   * Which spans share the instance time. Default "local-roots": spans with no parent in this
   * process (the request, job or message handler spans), so nested spans never double count.
   */
  readonly spans?: 'local-roots' | ((span: Span) => boolean) | undefined;
  /** Pricing model of the host (spot, reserved, committed, internal); default on-demand. */
  readonly pricingModel?: PricingModel | undefined;
  /** Monotonic clock in nanoseconds (tests). */
  readonly nowNs?: (() => bigint) | undefined;
}

export interface CostSpanProcessorOptions {
  /**
   * Where prices come from. Default: the catalog bundled with the package. Pass a
   * `PricingClient` to follow pricing-cache; the processor only ever reads its in-memory
   * snapshot.
   */
  readonly prices?: PriceSource | undefined;
  /** Per-provider rule for whether reported input tokens include cache tokens (README). */
  readonly inputTokenRules?: Readonly<Record<string, InputTokenRule>> | undefined;
  /** Keys team / tenant / feature are read from (span, ancestors, resource, baggage). */
  readonly dimensions?: DimensionKeys | undefined;
  /**
   * VCS revision stamped on cost-bearing spans when the resource has no `vcs.ref.head.revision`.
   * Default: detected from CI/CD environment variables (GITHUB_SHA, CI_COMMIT_SHA, …); false
   * turns detection off.
   */
  readonly vcsRevision?: string | false | undefined;
  /** Environment stamped when the resource has no `deployment.environment.name`. */
  readonly environment?: string | undefined;
  /**
   * Providers whose models you run yourself (e.g. "self-hosted", "vllm"): their token counts are
   * recorded but not billed; the cost of such a call is its GPU time. Default none.
   */
  readonly selfHostedProviders?: readonly string[] | undefined;
  /**
   * Which cost attributes to stamp. "full" (default): total, float total, currency, every
   * non-zero component, pricing version, source and price ids, and `cost.pricing.stale=true` when
   * the snapshot is stale (absent means fresh). "compact": total,
   * currency, pricing version and price ids, plus source/stale only when the snapshot is the
   * bundled fallback or stale; about half the attributes, for high-volume pipelines (the
   * aggregator can recompute components from the usage attributes and price ids).
   */
  readonly attributeSet?: 'full' | 'compact' | undefined;
  /** Opt in to instance-time cost (`cost.compute`): true, or options. */
  readonly instanceCost?: boolean | InstanceCostOptions | undefined;
  /** Meter provider for the `costtrace.sdk.spans` counter; default: the global one. */
  readonly meterProvider?: MeterProvider | undefined;
  /** Logger for the one-time warnings; default: OpenTelemetry `diag`. */
  readonly logger?: DiagLogger | undefined;
  /** Environment variables to read (tests); default process.env. */
  readonly env?: NodeJS.ProcessEnv | undefined;
}

export interface CostSpanProcessorStats {
  readonly priced: number;
  readonly unpriced: number;
  readonly unpricedByReason: Readonly<Record<string, number>>;
  /** Spans skipped because they carry roll-up usage. */
  readonly rollups: number;
  /** Spans whose pricing threw (a bug): they were left without cost attributes. */
  readonly errors: number;
  /** Instance-seconds during which no tracked span was open (instance cost only). */
  readonly idleInstanceSeconds: number;
}

/** The SDK's resource type, as the span carries it. */
type Resource = Span['resource'];

interface ResourceDimensions {
  readonly resource: Resource;
  readonly attributes: Attributes;
  readonly values: readonly (AttributeValue | undefined)[];
  readonly hasVcs: boolean;
  readonly hasEnvironment: boolean;
}

interface Priced {
  readonly pico: number | bigint;
  readonly currency: string;
  readonly ids: readonly string[];
}

const PRICED_ATTRS: Attributes = Object.freeze({ outcome: 'priced' });
const EMPTY_START: StartContext | undefined = undefined;

/**
 * Stamps `cost.*` attributes on spans at `onEnding`, the SDK hook (sdk-trace-base ≥ 2.1) that
 * runs after the end time is set and before the span becomes read-only, so every exporter sees
 * the cost. Prices GenAI token usage, GPU time and (opt-in) instance time from an in-memory
 * snapshot: no I/O, never blocks, never throws into the application.
 */
export class CostSpanProcessor implements SpanProcessor {
  private readonly prices: PriceSource;
  private readonly inputTokenRules: Readonly<Record<string, InputTokenRule>> | undefined;
  private readonly selfHosted: ReadonlySet<string>;
  private readonly full: boolean;
  private readonly dimensions: readonly ResolvedDimension[];
  private readonly vcsRevision: string | undefined;
  private readonly environment: string | undefined;
  private readonly instance:
    | {
        readonly meter: InstanceShareMeter;
        readonly options: InstanceCostOptions;
        readonly select: ((span: Span) => boolean) | undefined;
      }
    | undefined;
  private readonly logger: DiagLogger;
  private readonly meterProvider: MeterProvider | undefined;
  private metricsRegistered = false;
  private lastRuleProvider: string | undefined;
  private lastRule: InputTokenRule = 'input-includes-cache';

  private readonly starts = new WeakMap<Span, StartContext>();
  private readonly stamp = new CostStamp();
  private resourceCache: ResourceDimensions | undefined;
  private readonly instanceMarks = new WeakMap<Span, bigint>();

  private priced = 0;
  private unpriced = 0;
  private readonly byReason: Record<string, number> = {};
  private rollups = 0;
  private errors = 0;
  private warnedError = false;
  private sawOnEnding = false;
  private warnedNoOnEnding = false;
  private shutDown = false;

  constructor(options: CostSpanProcessorOptions = {}) {
    if (options.prices !== undefined && typeof options.prices.current !== 'function') {
      throw invalidOption('prices', 'must have a current() method', 'pass a PricingClient or a StaticPriceSource');
    }
    this.prices = options.prices ?? new StaticPriceSource(bundledPricingView());
    if (options.inputTokenRules !== undefined) {
      for (const [provider, rule] of Object.entries(options.inputTokenRules)) {
        if (rule !== 'input-includes-cache' && rule !== 'input-excludes-cache') {
          throw invalidOption(
            `inputTokenRules.${provider}`,
            `is ${JSON.stringify(rule)}`,
            "use 'input-includes-cache' or 'input-excludes-cache'",
          );
        }
      }
    }
    this.inputTokenRules = options.inputTokenRules;
    if (
      options.selfHostedProviders !== undefined &&
      (!Array.isArray(options.selfHostedProviders) || options.selfHostedProviders.some((p) => typeof p !== 'string'))
    ) {
      throw invalidOption('selfHostedProviders', 'must be an array of provider names', 'e.g. ["self-hosted", "vllm"]');
    }
    this.selfHosted = new Set(options.selfHostedProviders ?? []);
    const attributeSet = options.attributeSet ?? 'full';
    if (attributeSet !== 'full' && attributeSet !== 'compact') {
      throw invalidOption('attributeSet', `is ${JSON.stringify(attributeSet)}`, "use 'full' or 'compact'");
    }
    this.full = attributeSet === 'full';
    this.dimensions = resolveDimensionKeys(options.dimensions);
    const env = options.env ?? process.env;
    if (options.vcsRevision !== undefined && options.vcsRevision !== false && typeof options.vcsRevision !== 'string') {
      throw invalidOption('vcsRevision', 'must be a string or false', 'pass the commit id, or false to disable');
    }
    this.vcsRevision =
      options.vcsRevision === false ? undefined : (options.vcsRevision ?? detectVcsRevision(env)?.revision);
    this.environment = options.environment;
    const instance = options.instanceCost;
    if (instance !== undefined && instance !== false) {
      const opts: InstanceCostOptions = instance === true ? {} : instance;
      if (typeof opts !== 'object' || opts === null) {
        throw invalidOption('instanceCost', 'must be true, false or an options object', 'e.g. { instanceCost: true }');
      }
      if (opts.spans !== undefined && opts.spans !== 'local-roots' && typeof opts.spans !== 'function') {
        throw invalidOption('instanceCost.spans', "must be 'local-roots' or a function", "use 'local-roots'");
      }
      this.instance = {
        meter: new InstanceShareMeter(opts.nowNs),
        options: opts,
        select: typeof opts.spans === 'function' ? opts.spans : undefined,
      };
    }
    this.logger = options.logger ?? diag;
    this.meterProvider = options.meterProvider;
  }

  onStart(span: Span, parentContext: Context): void {
    if (this.shutDown) return;
    try {
      const parent = trace.getSpan(parentContext);
      const baggage = propagation.getBaggage(parentContext);
      const local = parent !== undefined && 'attributes' in parent;
      if (local || baggage !== undefined) {
        this.starts.set(span, {
          parent: local ? (parent as unknown as { attributes: Attributes }) : undefined,
          baggage,
          parentContext: local ? this.starts.get(parent as unknown as Span) : EMPTY_START,
        });
      }
      const instance = this.instance;
      if (instance !== undefined) {
        const tracked =
          instance.select !== undefined
            ? instance.select(span)
            : span.parentSpanContext === undefined || span.parentSpanContext.isRemote === true;
        if (tracked) this.instanceMarks.set(span, instance.meter.start());
      }
    } catch (err) {
      this.fail(err);
    }
  }

  onEnding(span: Span): void {
    this.sawOnEnding = true;
    if (this.shutDown) return;
    try {
      this.price(span);
    } catch (err) {
      this.fail(err);
    }
  }

  onEnd(_span: ReadableSpan): void {
    if (!this.sawOnEnding && !this.warnedNoOnEnding) {
      this.warnedNoOnEnding = true;
      this.logger.warn(
        'costtrace: the tracer provider never called onEnding; CostSpanProcessor needs @opentelemetry/sdk-trace-base >= 2.1 and prices nothing on older SDKs',
      );
    }
  }

  private price(span: Span): void {
    const own = span.attributes;
    if (own[ROLLUP_ATTRIBUTE] === true) {
      this.rollups += 1;
      this.endInstance(span); // a roll-up span is never charged instance time either
      return;
    }
    const view = this.prices.current();
    const end = span.endTime;
    const at = end[0] * 1000 + end[1] / 1e6;
    let pico: number | bigint = 0;
    let currency: string | undefined;
    let reason: SpanUnpricedReason | undefined;
    let priceIds: readonly string[] | undefined;
    let applicable = false;
    const stamp = this.stamp;
    stamp.reset();

    // Tokens.
    const inputTokens = own[GenAiAttr.inputTokens];
    const outputTokens = own[GenAiAttr.outputTokens];
    const model = stringValue(own[GenAiAttr.responseModel]) ?? stringValue(own[GenAiAttr.requestModel]);
    const tokenProvider = stringValue(own[GenAiAttr.providerName]) ?? stringValue(own[GenAiAttr.system]);
    const selfHosted = tokenProvider !== undefined && this.selfHosted.size !== 0 && this.selfHosted.has(tokenProvider);
    if (!selfHosted && (inputTokens !== undefined || outputTokens !== undefined || model !== undefined)) {
      applicable = true;
      const tokens = this.priceTokens(stamp, own, view, at, tokenProvider, model, inputTokens, outputTokens);
      if (typeof tokens === 'string') reason = tokens;
      else {
        pico = tokens.pico;
        currency = tokens.currency;
        priceIds = tokens.ids;
      }
    }

    // GPU time.
    const gpuSeconds = own[GpuAttr.seconds];
    if (gpuSeconds !== undefined) {
      applicable = true;
      const gpu = this.priceGpu(own, this.resourceDimensions(span.resource).attributes, view, at, gpuSeconds);
      if (typeof gpu === 'string') reason ??= gpu;
      else if (currency !== undefined && gpu.currency !== currency) reason ??= 'currency_mismatch';
      else {
        if (this.full) stamp.gpu = formatPico(gpu.pico);
        pico = addPico(pico, gpu.pico);
        currency = gpu.currency;
        priceIds = priceIds === undefined ? gpu.ids : [...priceIds, ...gpu.ids];
      }
    }

    // Instance time (opt-in).
    const instance = this.endInstance(span);
    if (instance !== undefined) {
      applicable = true;
      const compute = this.priceInstance(this.resourceDimensions(span.resource).attributes, view, at, instance);
      if (typeof compute === 'string') reason ??= compute;
      else if (currency !== undefined && compute.currency !== currency) reason ??= 'currency_mismatch';
      else {
        if (this.full) {
          stamp.compute = formatPico(compute.pico);
          stamp.shareSeconds = Number(instance) / 1e18;
        }
        pico = addPico(pico, compute.pico);
        currency = compute.currency;
        priceIds = priceIds === undefined ? compute.ids : [...priceIds, ...compute.ids];
      }
    }

    if (!applicable) return;
    if (currency !== undefined && priceIds !== undefined) {
      stamp.total = formatPico(pico);
      if (this.full) stamp.totalFloat = picoToFloat(pico);
      stamp.currency = currency;
      stamp.version = view.version;
      // The stale flag only when it is news (a stale snapshot); compact also stamps the source
      // only when it is news (the bundled fallback catalog).
      if (this.full || view.source !== 'pricing-cache') stamp.source = view.source;
      if (view.stale) stamp.stale = true;
      stamp.priceIds = priceIds;
    }
    if (reason !== undefined) stamp.reason = reason;
    writeCostAttributes(span, stamp);
    // Counted once the attributes are on the span (a write that throws is counted as an error).
    if (stamp.total !== undefined) this.priced += 1;
    if (reason !== undefined) {
      if (currency === undefined) this.unpriced += 1;
      this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
    }
    if (!this.metricsRegistered) this.registerMetrics();
    this.stampDimensions(span, own);
  }

  private inputRule(provider: string): InputTokenRule {
    // Remembers the last provider's rule: traffic is mostly one provider at a time.
    if (provider === this.lastRuleProvider) return this.lastRule;
    const rule = this.inputTokenRules?.[provider] ?? defaultInputTokenRule(provider);
    this.lastRuleProvider = provider;
    this.lastRule = rule;
    return rule;
  }

  private priceTokens(
    stamp: CostStamp,
    own: Attributes,
    view: PricingView,
    at: number,
    provider: string | undefined,
    model: string | undefined,
    inputValue: AttributeValue | undefined,
    outputValue: AttributeValue | undefined,
  ): SpanUnpricedReason | Priced {
    if (inputValue === undefined && outputValue === undefined) return 'no_usage';
    if (model === undefined) return 'unknown_model';
    if (provider === undefined) return 'unknown_provider';
    const lookup = view.tokenPrice(provider, model, at);
    if (lookup.kind === 'unknown_model' || lookup.kind === 'unknown_provider') return lookup.kind;
    const input = tokenCount(inputValue);
    const output = tokenCount(outputValue);
    const cacheRead = tokenCount(own[GenAiAttr.cacheReadInputTokens]);
    const cacheWrite = tokenCount(own[GenAiAttr.cacheCreationInputTokens]);
    const reasoning = tokenCount(own[GenAiAttr.reasoningOutputTokens]);
    if (input < 0 || output < 0 || cacheRead < 0 || cacheWrite < 0 || reasoning < 0) return 'invalid_usage';
    // The per-provider input rule makes token kinds disjoint, so nothing is billed twice or missed.
    const rule = this.inputRule(provider);
    const uncached = rule === 'input-includes-cache' ? input - cacheRead - cacheWrite : input;
    if (uncached < 0 || reasoning > output) return 'invalid_usage';
    if (lookup.kind === 'quote') {
      return this.quoteTokens(stamp, view, at, provider, model, rule, {
        input,
        output,
        cacheRead,
        cacheWrite,
        reasoning,
      });
    }
    const compiled = lookup.price;
    const plainOutput = compiled.reasoningSeparate ? output - reasoning : output;
    const billedReasoning = compiled.reasoningSeparate ? reasoning : 0;
    // Fast path: each line is tokens × integer pico-units per token. Every operand is a
    // non-negative integer, so while the sum stays at or below 2^53 - 1 every product and partial
    // sum is below it too and exact in doubles (a NaN per-token price, meaning "not an integer",
    // fails the comparison). Otherwise the bigint lines, rounded half to even once each.
    let inputLine: number | bigint = uncached * compiled.input;
    let readLine: number | bigint = cacheRead * compiled.cacheRead;
    let writeLine: number | bigint = cacheWrite * compiled.cacheWrite;
    let outputLine: number | bigint = plainOutput * compiled.output;
    let reasoningLine: number | bigint = billedReasoning * compiled.reasoning;
    let total: number | bigint = inputLine + readLine + writeLine + outputLine + reasoningLine;
    if (!(total <= Number.MAX_SAFE_INTEGER)) {
      inputLine = tokenLine(uncached, compiled.input, compiled.inputPerMillion);
      readLine = tokenLine(cacheRead, compiled.cacheRead, compiled.cacheReadPerMillion);
      writeLine = tokenLine(cacheWrite, compiled.cacheWrite, compiled.cacheWritePerMillion);
      outputLine = tokenLine(plainOutput, compiled.output, compiled.outputPerMillion);
      reasoningLine = tokenLine(billedReasoning, compiled.reasoning, compiled.reasoningPerMillion);
      total = addPico(addPico(addPico(inputLine, readLine), addPico(writeLine, outputLine)), reasoningLine);
    }
    // Components are stamped when non-zero (an absent component is zero), in the full set only.
    if (this.full) {
      if (inputLine !== 0) stamp.input = formatPico(inputLine);
      if (outputLine !== 0) stamp.output = formatPico(outputLine);
      if (readLine !== 0) stamp.cacheRead = formatPico(readLine);
      if (writeLine !== 0) stamp.cacheWrite = formatPico(writeLine);
      if (reasoningLine !== 0) stamp.reasoning = formatPico(reasoningLine);
    }
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

  /** Models with overrides or long-context tiers: core's quote (effective cost, after overrides). */
  private quoteTokens(
    stamp: CostStamp,
    view: PricingView,
    at: number,
    provider: string,
    model: string,
    rule: InputTokenRule,
    t: { input: number; output: number; cacheRead: number; cacheWrite: number; reasoning: number },
  ): SpanUnpricedReason | Priced {
    const result = view.quote({
      at,
      models: [
        {
          provider,
          model,
          inputTokenRule: rule,
          inputTokens: BigInt(t.input),
          outputTokens: BigInt(t.output),
          cacheReadTokens: BigInt(t.cacheRead),
          cacheWriteTokens: BigInt(t.cacheWrite),
          reasoningTokens: BigInt(t.reasoning),
        },
      ],
    });
    if ('error' in result) return result.error.code === 'NOT_FOUND' ? 'unknown_model' : 'invalid_usage';
    const byKind: Record<string, bigint> = {};
    for (const line of result.quote.lines) {
      byKind[line.kind] = (byKind[line.kind] ?? 0n) + line.effectiveCost.subunits;
    }
    if (this.full) {
      const component = (amount: bigint | undefined): string | undefined =>
        amount === undefined || amount === 0n ? undefined : formatPico(amount);
      stamp.input = component(byKind.input_tokens);
      stamp.output = component(byKind.output_tokens);
      stamp.cacheRead = component(byKind.cache_read_tokens);
      stamp.cacheWrite = component(byKind.cache_write_tokens);
      stamp.reasoning = component(byKind.reasoning_tokens);
    }
    return quoted(result.quote);
  }

  private priceGpu(
    own: Attributes,
    resource: Attributes,
    view: PricingView,
    at: number,
    secondsValue: AttributeValue,
  ): SpanUnpricedReason | Priced {
    const nanos = secondsToNanos(secondsValue);
    if (nanos === undefined) return 'invalid_usage';
    const gpuType = stringValue(own[GpuAttr.type]);
    if (gpuType === undefined) return 'unknown_gpu';
    const provider = stringValue(own[GpuAttr.provider]) ?? stringValue(resource[InstanceAttr.cloudProvider]);
    const usage = {
      gpuType,
      gpuCount: 1,
      seconds: nanos,
      region: stringValue(resource[InstanceAttr.cloudRegion]),
      pricingModel: pricingModelOf(own[GpuAttr.pricingModel]),
    };
    let result = view.quote({ at, gpus: [{ ...usage, provider }] });
    if ('error' in result && provider !== undefined && provider !== REFERENCE_PROVIDER) {
      // The named provider has no rate for this GPU type: fall back to the reference rate.
      result = view.quote({ at, gpus: [{ ...usage, provider: REFERENCE_PROVIDER }] });
    }
    if ('error' in result) return result.error.code === 'NOT_FOUND' ? 'unknown_gpu' : 'invalid_usage';
    return quoted(result.quote);
  }

  private endInstance(span: Span): bigint | undefined {
    const instance = this.instance;
    if (instance === undefined) return undefined;
    const mark = this.instanceMarks.get(span);
    if (mark === undefined) return undefined;
    this.instanceMarks.delete(span);
    return instance.meter.end(mark);
  }

  private priceInstance(
    resource: Attributes,
    view: PricingView,
    at: number,
    attoseconds: bigint,
  ): SpanUnpricedReason | Priced {
    const opts = this.instance?.options ?? {};
    const type = opts.instanceType ?? stringValue(resource[InstanceAttr.type]);
    const provider = opts.cloudProvider ?? stringValue(resource[InstanceAttr.cloudProvider]);
    if (type === undefined || provider === undefined) return 'unknown_instance';
    const result = view.quote({
      at,
      instances: [
        {
          provider,
          instanceType: type,
          region: opts.region ?? stringValue(resource[InstanceAttr.cloudRegion]),
          // core quantities have nanosecond resolution: the share is rounded half to even to 1 ns.
          seconds: divideRoundHalfEven(attoseconds, ATTOSECONDS_PER_NANOSECOND),
          pricingModel: opts.pricingModel,
        },
      ],
    });
    if ('error' in result) return result.error.code === 'NOT_FOUND' ? 'unknown_instance' : 'invalid_usage';
    return quoted(result.quote);
  }

  private stampDimensions(span: Span, own: Attributes): void {
    const start = this.starts.get(span);
    const resource = this.resourceDimensions(span.resource);
    const dimensions = this.dimensions;
    for (let i = 0; i < dimensions.length; i++) {
      const dimension = dimensions[i] as ResolvedDimension;
      const ownValue = dimension.ownValue(own, dimension.target, dimension.ownKeys);
      if (ownValue === TARGET_SET) continue;
      const value =
        ownValue ??
        (start === undefined ? resource.values[i] : inheritedDimension(dimension.keys, start, resource.values[i]));
      if (value !== undefined) span.setAttribute(dimension.target, value);
    }
    if (start !== undefined && own[DimensionAttr.httpRoute] === undefined) {
      const route = inheritedDimension(ROUTE_KEYS, start, undefined);
      if (route !== undefined) span.setAttribute(DimensionAttr.httpRoute, route);
    }
    if (this.vcsRevision !== undefined && !resource.hasVcs && own[DimensionAttr.vcsRevision] === undefined) {
      span.setAttribute(DimensionAttr.vcsRevision, this.vcsRevision);
    }
    if (this.environment !== undefined && !resource.hasEnvironment && own[DimensionAttr.environment] === undefined) {
      span.setAttribute(DimensionAttr.environment, this.environment);
    }
  }

  /**
   * The resource's attributes and the dimension values it provides, cached per resource object
   * (a tracer provider has one), so a span does not go through the resource's attribute getter.
   * Not cached while the resource still waits for asynchronous detectors.
   */
  private resourceDimensions(resource: Resource): ResourceDimensions {
    let cached = this.resourceCache;
    if (cached === undefined || cached.resource !== resource) {
      const attributes = resource.attributes;
      cached = {
        resource,
        attributes,
        values: this.dimensions.map((d) => {
          for (const key of d.keys) if (attributes[key] !== undefined) return attributes[key];
          return undefined;
        }),
        hasVcs: attributes[DimensionAttr.vcsRevision] !== undefined,
        hasEnvironment: attributes[DimensionAttr.environment] !== undefined,
      };
      if (resource.asyncAttributesPending !== true) this.resourceCache = cached;
    }
    return cached;
  }

  /**
   * `costtrace.sdk.spans`, an observable counter read from the processor's own tallies at
   * collection time, so pricing a span never calls into the metrics SDK. Registered on the first
   * cost-bearing span (the global meter provider is usually installed after the processor is
   * constructed).
   */
  private registerMetrics(): void {
    this.metricsRegistered = true;
    const provider = this.meterProvider ?? metrics.getMeterProvider();
    const counter = provider.getMeter('@costtrace/otel').createObservableCounter('costtrace.sdk.spans', {
      description: 'Spans the CostSpanProcessor priced, or could not price (by cost.unpriced_reason)',
      unit: '{span}',
    });
    counter.addCallback((result: ObservableResult) => {
      result.observe(this.priced, PRICED_ATTRS);
      for (const [reason, count] of Object.entries(this.byReason)) {
        result.observe(count, { outcome: 'unpriced', 'cost.unpriced_reason': reason });
      }
    });
  }

  private fail(err: unknown): void {
    this.errors += 1;
    if (!this.warnedError) {
      this.warnedError = true;
      this.logger.warn('costtrace: CostSpanProcessor failed on a span; further failures are only counted', err);
    }
  }

  stats(): CostSpanProcessorStats {
    return {
      priced: this.priced,
      unpriced: this.unpriced,
      unpricedByReason: { ...this.byReason },
      rollups: this.rollups,
      errors: this.errors,
      idleInstanceSeconds: this.instance?.meter.idleSeconds() ?? 0,
    };
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /** Idempotent. Later spans pass through unpriced; the price source is the caller's to close. */
  shutdown(): Promise<void> {
    this.shutDown = true;
    return Promise.resolve();
  }
}

const ROUTE_KEYS: readonly string[] = [DimensionAttr.httpRoute];

function stringValue(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** A token count: absent is 0; anything but a non-negative safe integer is -1 (invalid). */
function tokenCount(value: AttributeValue | undefined): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : -1;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return -1;
}

/** Seconds (double, or exact decimal string with ≤ 9 decimals) to integer nanoseconds. */
function secondsToNanos(value: AttributeValue): bigint | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return undefined;
    return BigInt(Math.round(value * 1e9));
  }
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

const ATTOSECONDS_PER_NANOSECOND = 1_000_000_000n;

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
