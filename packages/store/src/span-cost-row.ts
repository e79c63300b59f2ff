import type { Money } from '@costtrace/core';

/**
 * One stored row per span: when, where it belongs (attribution dimensions), what it used and
 * what it cost, and where it came from (Kafka partition/offset, for exactly-once storage).
 * Empty string means "not set" for dimensions; counts are zero when absent.
 */
export interface SpanCostRow {
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly spanName: string;
  /** OTLP SpanKind number (2 = server). */
  readonly spanKind: number;
  /** OTLP status code (2 = error). */
  readonly statusCode: number;
  /** A server span or a root span: counts as one request in per-request figures. */
  readonly isRequest: boolean;
  readonly service: string;
  readonly environment: string;
  readonly route: string;
  readonly commit: string;
  readonly model: string;
  readonly provider: string;
  readonly team: string;
  readonly tenant: string;
  readonly feature: string;
  /**
   * The job the span belongs to (migration 12, see docs/jobs.md): its id and kind as
   * `costtrace.job.id` / `costtrace.job.kind` say on the span, an ancestor or the resource; the
   * epoch (-1: none) and the samples the span itself processed. Absent: not in a job.
   */
  readonly jobId?: string | undefined;
  readonly jobKind?: string | undefined;
  readonly jobEpoch?: number | undefined;
  readonly jobSamples?: number | undefined;
  readonly inputTokens: bigint;
  readonly outputTokens: bigint;
  readonly cacheReadTokens: bigint;
  readonly cacheWriteTokens: bigint;
  readonly reasoningTokens: bigint;
  readonly gpuType: string;
  readonly gpuCount: number;
  /** Exact decimal string of GPU-seconds (count × occupied seconds). */
  readonly gpuSeconds: string;
  readonly instanceType: string;
  /**
   * What the pricer read besides the columns above (migration 8), so `costtrace reprice` can
   * price GPU and instance time again: the GPU's provider and pricing model, the host's cloud
   * provider, region and pricing model, and the instance-seconds charged to the span (exact
   * decimal). Absent: empty (0 for the seconds).
   */
  readonly gpuProvider?: string | undefined;
  readonly gpuPricingModel?: string | undefined;
  readonly cloudProvider?: string | undefined;
  readonly cloudRegion?: string | undefined;
  readonly instancePricingModel?: string | undefined;
  readonly instanceSeconds?: string | undefined;
  /** The row records every usage field above (rows stored before migration 8 do not). */
  readonly usageComplete?: boolean | undefined;
  /** The cost is an upper bound (`cost.upper_bound`: the emitter reports no cached tokens). */
  readonly costUpperBound?: boolean | undefined;
  /** The instrumentation scope that emitted the span (name, and `@version` when it has one). */
  readonly emitter?: string | undefined;
  /**
   * One model call, one charge (migration 9): '' when the span's usage is its own call's,
   * 'duplicate' when another span carries the same call (`duplicateOf` names it), 'rollup' when
   * the span sums its calls' usage. A duplicate or roll-up row has no cost and no token counts.
   */
  readonly usageRole?: string | undefined;
  readonly duplicateOf?: string | undefined;
  /** The provider's response id (`gen_ai.response.id`), when the span reports one. */
  readonly responseId?: string | undefined;
  /** What identifies the call's usage across emitters (SpanPricer.usageKey); '' without tokens. */
  readonly usageKey?: string | undefined;
  readonly costInput: Money;
  readonly costOutput: Money;
  readonly costCacheRead: Money;
  readonly costCacheWrite: Money;
  readonly costReasoning: Money;
  readonly costGpu: Money;
  readonly costCompute: Money;
  readonly costTotal: Money;
  readonly currency: string;
  readonly pricingVersion: string;
  readonly pricingSource: string;
  readonly priceIds: readonly string[];
  readonly unpricedReason: string;
  readonly kafkaTopic: string;
  readonly kafkaPartition: number;
  readonly kafkaOffset: bigint;
  /**
   * Position of the span in its Kafka message, counting every span of the message in order
   * (rejected ones too): with topic, partition and offset, the identity of the row that recovery
   * checks after a crash.
   */
  readonly kafkaSpanIndex: number;
  readonly attributeKeys: readonly string[];
  readonly attributeValues: readonly string[];
  /** Rollup dimensions folded into `__other__` by the cardinality bound (this row keeps the truth). */
  readonly rollupOverflow: readonly string[];
  /** Validation fixes applied to the span before it was stored. */
  readonly sanitized: readonly string[];
}
