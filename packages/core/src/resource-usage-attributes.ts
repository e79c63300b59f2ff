/**
 * Attribute names for GPU and instance usage on spans: what the SDK's GPU helpers and the GPU
 * sampler write, and what the CostSpanProcessor (or the aggregator, for spans that arrive
 * unpriced) reads to price `cost.gpu` and `cost.compute`.
 */
export const GpuAttr = {
  /** GPU model as a lower-case SKU, e.g. "h100-80gb", "a100-40gb", "l4" (pricing-cache naming). */
  type: 'costtrace.gpu.type',
  /** Number of devices used (integer ≥ 1). Informational: `seconds` already includes it. */
  count: 'costtrace.gpu.count',
  /**
   * Fraction of each device this workload holds, in (0, 1]: a MIG slice (3g.40gb on an H100 is
   * 3/7) or time-sliced sharing (1/N). Informational: `seconds` already includes it.
   */
  share: 'costtrace.gpu.share',
  /**
   * Billable GPU-seconds: occupied (or measured) wall seconds × count × share. A double, or an
   * exact decimal string with at most 9 fraction digits.
   */
  seconds: 'costtrace.gpu.seconds',
  /** Who bills the GPU: "aws", "gcp", "azure", "internal"…; default `cloud.provider`, then "reference". */
  provider: 'costtrace.gpu.provider',
  /** Pricing model of the GPUs: "on_demand" (default), "spot", "reserved", "committed", "internal". */
  pricingModel: 'costtrace.gpu.pricing_model',
  /** How `seconds` was obtained: "timer" (wall time of a withGpu block), "sampler", "manual". */
  source: 'costtrace.gpu.source',
  /** Mean utilisation (0..1) the sampler measured while the span held the device. */
  utilization: 'costtrace.gpu.utilization',
} as const;

/** OpenTelemetry resource semantic conventions used for instance pricing. */
export const InstanceAttr = {
  /** Instance type, e.g. "p5.48xlarge", "n1-standard-8" (semconv `host.type`). */
  type: 'host.type',
  cloudProvider: 'cloud.provider',
  cloudRegion: 'cloud.region',
  /**
   * Pricing model of the host (resource attribute): "on_demand" (default), "spot", "reserved",
   * "committed", "internal".
   */
  pricingModel: 'costtrace.instance.pricing_model',
  /**
   * Instance-seconds charged to this span after the concurrency share: a double, or an exact
   * decimal string with at most 9 fraction digits. The SDK stamps it; a service without the SDK
   * may write it, and the aggregator then prices it like the SDK.
   */
  shareSeconds: 'costtrace.instance.share_seconds',
} as const;
