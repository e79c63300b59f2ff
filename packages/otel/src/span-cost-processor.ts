import { diag, metrics, propagation, SpanKind, trace } from '@opentelemetry/api';
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
  bundledPricingView,
  CostAttr,
  DimensionAttr,
  divideRoundHalfEven,
  EMITTED_COST_CURRENCY_KEY,
  EMITTED_COST_KEYS,
  JobAttr,
  formatPico,
  ModelCallLedger,
  picoToFloat,
  readSpanUsage,
  SpanCost,
  SpanPricer,
  SpanUsage,
  StaticPriceSource,
} from '@costtrace/core';
import type {
  InputTokenRule,
  Pico,
  PriceSource,
  PricingModel,
  UnpricedReason,
  UsageReaderOptions,
} from '@costtrace/core';
import { inheritedDimension, resolveDimensionKeys, TARGET_SET } from './cost-dimensions.js';
import type { DimensionKeys, ResolvedDimension, StartContext } from './cost-dimensions.js';
import { CostStamp, writeCostAttributes } from './cost-attribute-writer.js';
import { InstanceShareMeter } from './instance/instance-share-meter.js';
import { invalidOption } from './sdk-error.js';
import { detectVcsRevision } from './vcs-revision.js';

/** Why a span (or one component of it) has no cost. Stamped as `cost.unpriced_reason`. */
export type SpanUnpricedReason = UnpricedReason;

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
  /** Per-provider rule for whether reported input tokens include cache tokens (docs/sdk.md). */
  readonly inputTokenRules?: Readonly<Record<string, InputTokenRule>> | undefined;
  /**
   * Per-emitter rule (instrumentation scope name → rule), before the per-provider one and the
   * built-in emitter table (docs/instrumentations.md).
   */
  readonly emitterInputRules?: Readonly<Record<string, InputTokenRule>> | undefined;
  /** Provider names as your instrumentations write them (lower-case) → the names prices use. */
  readonly providerAliases?: Readonly<Record<string, string>> | undefined;
  /**
   * Also write the proposed GenAI cost attributes `gen_ai.usage.cost.amount` (a double) and
   * `gen_ai.usage.cost.currency` on priced model-call spans that have none (semantic-conventions-genai
   * #443). Off by default; `cost.total` stays the exact figure.
   */
  readonly writeGenAiCost?: boolean | undefined;
  /**
   * One model call, one charge (default on): when several spans of a trace carry the same call's
   * usage (the client's own span and an instrumentation's, a wrapper repeating its child, the same
   * `gen_ai.response.id`) only the first to end is priced; the others get
   * `cost.usage_role=duplicate` and `cost.duplicate_of=<span id>`, and framework spans summing
   * their calls `cost.usage_role=rollup` (see ModelCallLedger). `maxTraces` bounds the traces
   * remembered (default 4096); false turns it off.
   */
  readonly deduplicate?: boolean | { readonly maxTraces?: number | undefined } | undefined;
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
  /** Spans skipped because they carry roll-up usage (marked, or recognised framework spans). */
  readonly rollups: number;
  /** Spans skipped because another span of their trace carries the same model call. */
  readonly duplicates: number;
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
  /** The resource's values of INHERITED_JOB_KEYS, in that order. */
  readonly jobValues: readonly (AttributeValue | undefined)[];
}

/**
 * Job attributes a cost-bearing span inherits (from its in-process ancestors, the resource, then
 * baggage, as dimensions are) when it does not carry them: the job's id, kind and model, and the epoch.
 * Samples are never inherited (each span counts its own).
 */
const INHERITED_JOB_KEYS: readonly (readonly [string])[] = [
  [JobAttr.id],
  [JobAttr.kind],
  [JobAttr.model],
  [JobAttr.epoch],
];

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
  private readonly pricer: SpanPricer;
  private readonly usage = new SpanUsage();
  private readonly readerOptions: UsageReaderOptions;
  private readonly writeGenAiCost: boolean;
  private readonly cost = new SpanCost();
  private readonly ledger: ModelCallLedger | undefined;
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

  private readonly starts = new WeakMap<Span, StartContext>();
  private readonly stamp = new CostStamp();
  private resourceCache: ResourceDimensions | undefined;
  private readonly instanceMarks = new WeakMap<Span, bigint>();

  private priced = 0;
  private unpriced = 0;
  private readonly byReason: Record<string, number> = {};
  private rollups = 0;
  private duplicates = 0;
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
    if (
      options.selfHostedProviders !== undefined &&
      (!Array.isArray(options.selfHostedProviders) || options.selfHostedProviders.some((p) => typeof p !== 'string'))
    ) {
      throw invalidOption('selfHostedProviders', 'must be an array of provider names', 'e.g. ["self-hosted", "vllm"]');
    }
    for (const [name, rules] of [
      ['emitterInputRules', options.emitterInputRules],
      ['providerAliases', options.providerAliases],
    ] as const) {
      if (rules === undefined) continue;
      for (const [key, value] of Object.entries(rules)) {
        const ok =
          name === 'providerAliases'
            ? typeof value === 'string' && value !== ''
            : value === 'input-includes-cache' || value === 'input-excludes-cache';
        if (!ok) {
          throw invalidOption(
            `${name}.${key}`,
            `is ${JSON.stringify(value)}`,
            name === 'providerAliases'
              ? 'map to a provider name, e.g. "openai"'
              : "use 'input-includes-cache' or 'input-excludes-cache'",
          );
        }
      }
    }
    this.readerOptions = { emitterInputRules: options.emitterInputRules, providerAliases: options.providerAliases };
    this.writeGenAiCost = options.writeGenAiCost === true;
    const deduplicate = options.deduplicate ?? true;
    if (typeof deduplicate !== 'boolean' && (typeof deduplicate !== 'object' || deduplicate === null)) {
      throw invalidOption(
        'deduplicate',
        'must be true, false or { maxTraces }',
        'e.g. { deduplicate: { maxTraces: 4096 } }',
      );
    }
    const maxTraces = deduplicate === true ? 4096 : deduplicate === false ? 0 : (deduplicate.maxTraces ?? 4096);
    if (deduplicate !== false && (!Number.isSafeInteger(maxTraces) || maxTraces < 1)) {
      throw invalidOption('deduplicate.maxTraces', `is ${String(maxTraces)}`, 'use a positive integer, e.g. 4096');
    }
    this.ledger = deduplicate === false ? undefined : new ModelCallLedger({ maxTraces });
    this.pricer = new SpanPricer({
      inputTokenRules: options.inputTokenRules,
      selfHostedProviders: options.selfHostedProviders,
    });
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
    const view = this.prices.current();
    // Priced with the prices in effect when the span started, as the aggregator prices it.
    const start = span.startTime;
    const at = start[0] * 1000 + start[1] / 1e6;
    // Instance time (opt-in): the span's share, rounded half to even to 1 ns (core's resolution).
    const attoseconds = this.endInstance(span);
    const instanceNanos =
      attoseconds === undefined ? undefined : divideRoundHalfEven(attoseconds, ATTOSECONDS_PER_NANOSECOND);
    const usage = readSpanUsage(
      own,
      this.resourceDimensions(span.resource).attributes,
      this.usage,
      instanceNanos,
      span.instrumentationScope,
      this.readerOptions,
      span.kind === SpanKind.INTERNAL,
    );
    if (usage.rollup || (usage.hasTokens && this.ledger !== undefined)) {
      // Not charged when another span carries the call (a roll-up never is; nor its instance time).
      if (!this.chargesCall(span, usage)) return;
    }
    if (instanceNanos !== undefined) {
      const opts = this.instance?.options;
      if (opts !== undefined) {
        usage.instanceType = opts.instanceType ?? usage.instanceType;
        usage.cloudProvider = opts.cloudProvider ?? usage.cloudProvider;
        usage.region = opts.region ?? usage.region;
        usage.instancePricingModel = opts.pricingModel ?? usage.instancePricingModel;
      }
    }
    const cost = this.pricer.price(view, usage, at, this.cost);
    if (!cost.applicable) return;
    const stamp = this.stamp;
    stamp.reset();
    const reason = cost.reason;
    if (cost.priced) {
      const pico = cost.total;
      stamp.total = formatPico(pico);
      if (this.full) {
        stamp.totalFloat = picoToFloat(pico);
        // Components are stamped when non-zero (an absent component is zero); GPU and compute when priced.
        stamp.input = component(cost.input);
        stamp.output = component(cost.output);
        stamp.cacheRead = component(cost.cacheRead);
        stamp.cacheWrite = component(cost.cacheWrite);
        stamp.reasoning = component(cost.reasoning);
        if (cost.gpu !== undefined) stamp.gpu = formatPico(cost.gpu);
        if (cost.compute !== undefined) {
          stamp.compute = formatPico(cost.compute);
          // The nanoseconds priced, in seconds, so a reader of the span (the aggregator) prices the same.
          if (instanceNanos !== undefined) stamp.shareSeconds = Number(instanceNanos) / 1e9;
        }
      }
      stamp.currency = cost.currency;
      stamp.version = view.version;
      // The stale flag only when it is news (a stale snapshot); compact also stamps the source
      // only when it is news (the bundled fallback catalog).
      if (this.full || view.source !== 'pricing-cache') stamp.source = view.source;
      if (view.stale) stamp.stale = true;
      stamp.priceIds = cost.ids;
    }
    if (reason !== undefined) stamp.reason = reason;
    writeCostAttributes(span, stamp);
    if (cost.upperBound && cost.priced) span.setAttribute(CostAttr.upperBound, true);
    if (this.writeGenAiCost && cost.priced && usage.hasTokens && own[GENAI_COST_AMOUNT] === undefined) {
      span.setAttribute(GENAI_COST_AMOUNT, picoToFloat(cost.total));
      span.setAttribute(EMITTED_COST_CURRENCY_KEY, cost.currency ?? 'USD');
    }
    // Counted once the attributes are on the span (a write that throws is counted as an error).
    if (stamp.total !== undefined) this.priced += 1;
    if (reason !== undefined) {
      if (!cost.priced) this.unpriced += 1;
      this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
    }
    if (!this.metricsRegistered) this.registerMetrics();
    this.stampDimensions(span, own);
  }

  /**
   * Whether this span's usage is its own model call's, per the ledger (marked roll-ups without
   * one). A span that is not gets `cost.usage_role` (and `cost.duplicate_of`) instead of a cost.
   */
  private chargesCall(span: Span, usage: SpanUsage): boolean {
    const ledger = this.ledger;
    let role: 'rollup' | 'duplicate' = 'rollup';
    if (ledger !== undefined && usage.hasTokens) {
      const context = span.spanContext();
      const decision = ledger.decide({
        traceId: context.traceId,
        spanId: context.spanId,
        parentSpanId: span.parentSpanContext?.spanId ?? '',
        responseId: usage.responseId,
        usageKey: this.pricer.usageKey(usage) ?? '',
        rollup: usage.rollup,
      });
      if (decision.role === 'call') return true;
      role = decision.role;
      if (decision.duplicateOf !== undefined) span.setAttribute(CostAttr.duplicateOf, decision.duplicateOf);
    }
    span.setAttribute(CostAttr.usageRole, role);
    if (role === 'duplicate') this.duplicates += 1;
    else this.rollups += 1;
    return false;
  }

  private endInstance(span: Span): bigint | undefined {
    const instance = this.instance;
    if (instance === undefined) return undefined;
    const mark = this.instanceMarks.get(span);
    if (mark === undefined) return undefined;
    this.instanceMarks.delete(span);
    return instance.meter.end(mark);
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
    for (let k = 0; k < INHERITED_JOB_KEYS.length; k++) {
      const keys = INHERITED_JOB_KEYS[k] as readonly [string];
      if (own[keys[0]] !== undefined) continue;
      const fromResource = resource.jobValues[k];
      const value = start === undefined ? fromResource : inheritedDimension(keys, start, fromResource);
      if (value !== undefined) span.setAttribute(keys[0], value);
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
      const attributes = settledAttributes(resource);
      cached = {
        resource,
        attributes,
        values: this.dimensions.map((d) => {
          for (const key of d.keys) if (attributes[key] !== undefined) return attributes[key];
          return undefined;
        }),
        hasVcs: attributes[DimensionAttr.vcsRevision] !== undefined,
        hasEnvironment: attributes[DimensionAttr.environment] !== undefined,
        jobValues: INHERITED_JOB_KEYS.map(([key]) => attributes[key]),
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
      duplicates: this.duplicates,
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

/**
 * The resource's attributes that are settled. While asynchronous detectors are still running,
 * reading `resource.attributes` logs "Accessing resource attributes before async attributes
 * settled" through diag on every call; the raw list gives the same settled values (first value
 * of a key wins, unsettled ones skipped, as the getter does) without the error.
 */
function settledAttributes(resource: Resource): Attributes {
  if (resource.asyncAttributesPending !== true) return resource.attributes;
  const attributes: Attributes = {};
  for (const [key, value] of resource.getRawAttributes()) {
    if (value === undefined || value === null || isPromiseLike(value)) continue;
    attributes[key] ??= value;
  }
  return attributes;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** A token component as stamped: absent when zero. */
function component(amount: Pico): string | undefined {
  return amount === 0 || amount === 0n ? undefined : formatPico(amount);
}

const ATTOSECONDS_PER_NANOSECOND = 1_000_000_000n;

/** The proposed GenAI cost attribute (EMITTED_COST_KEYS[0]). */
const GENAI_COST_AMOUNT = EMITTED_COST_KEYS[0];
