import type { CostCorrectionRow } from './cost-correction-row.js';
import type { TopSpansQuery } from './query/cost-query.js';

/**
 * One span a re-pricing run may correct: its dimensions, token counts and the cost components
 * that are kept (GPU, compute), with the dimensions a correction row carries. Money is exact
 * decimal text; counts are numbers.
 */
export interface RepriceCandidateRow extends Pick<
  CostCorrectionRow,
  | 'startTimeUnixSeconds'
  | 'traceId'
  | 'spanId'
  | 'service'
  | 'environment'
  | 'route'
  | 'commit'
  | 'model'
  | 'provider'
  | 'team'
  | 'tenant'
  | 'currency'
> {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
  readonly reasoningTokens: number;
  /** The span's start, to the nanosecond (prices are chosen by it). */
  readonly startTimeUnixNano: bigint;
  /** What prices GPU and instance time (see SpanCostRow); meaningful when usageComplete. */
  readonly gpuType: string;
  readonly gpuSeconds: string;
  readonly gpuProvider: string;
  readonly gpuPricingModel: string;
  readonly cloudProvider: string;
  readonly cloudRegion: string;
  readonly instanceType: string;
  readonly instancePricingModel: string;
  readonly instanceSeconds: string;
  readonly usageComplete: boolean;
  readonly costGpu: string;
  readonly costCompute: string;
  readonly costTotal: string;
}

/**
 * What re-pricing needs from a store (ClickHouse or DuckDB): the priced spans of a range, the
 * corrections already applied to them, and an append of new corrections. Both stores return the
 * same rows in the same order, so a run gives identical corrections on either.
 */
export interface SpanRepricingStore {
  /**
   * Spans of the range with a model and tokens, ordered by start time, trace id, span id; at
   * most `limit` rows.
   */
  repriceCandidates(query: TopSpansQuery, limit: number): Promise<RepriceCandidateRow[]>;
  /** Sum of the applied correction deltas per span of the range, keyed `traceId/spanId`. */
  correctionDeltas(query: TopSpansQuery): Promise<Map<string, string>>;
  insertCorrections(rows: readonly CostCorrectionRow[]): Promise<void>;
}

/** The row shape both stores' candidate SQL selects (numbers and money as text). */
export interface RawRepriceCandidate {
  trace_id: string;
  span_id: string;
  start_unix: string | number;
  start_nanos: string;
  service: string;
  environment: string;
  route: string;
  commit: string;
  model: string;
  provider: string;
  team: string;
  tenant: string;
  currency: string;
  input_tokens: string | number;
  output_tokens: string | number;
  cache_read_tokens: string | number;
  cache_write_tokens: string | number;
  reasoning_tokens: string | number;
  gpu_type: string;
  /** Aliased: a ClickHouse alias named like its column would shadow it in WHERE. */
  gpu_seconds_text: string;
  gpu_provider: string;
  gpu_pricing_model: string;
  cloud_provider: string;
  cloud_region: string;
  instance_type: string;
  instance_pricing_model: string;
  instance_seconds_text: string;
  usage_complete: string | number;
  cost_gpu: string;
  cost_compute: string;
  cost_total: string;
}

export function repriceCandidateRow(r: RawRepriceCandidate): RepriceCandidateRow {
  return {
    traceId: r.trace_id,
    spanId: r.span_id,
    startTimeUnixSeconds: Number(r.start_unix),
    startTimeUnixNano: BigInt(r.start_nanos),
    service: r.service,
    environment: r.environment,
    route: r.route,
    commit: r.commit,
    model: r.model,
    provider: r.provider,
    team: r.team,
    tenant: r.tenant,
    currency: r.currency,
    inputTokens: Number(r.input_tokens),
    outputTokens: Number(r.output_tokens),
    cacheReadTokens: Number(r.cache_read_tokens),
    cacheWriteTokens: Number(r.cache_write_tokens),
    reasoningTokens: Number(r.reasoning_tokens),
    gpuType: r.gpu_type,
    gpuSeconds: r.gpu_seconds_text,
    gpuProvider: r.gpu_provider,
    gpuPricingModel: r.gpu_pricing_model,
    cloudProvider: r.cloud_provider,
    cloudRegion: r.cloud_region,
    instanceType: r.instance_type,
    instancePricingModel: r.instance_pricing_model,
    instanceSeconds: r.instance_seconds_text,
    usageComplete: Number(r.usage_complete) === 1,
    costGpu: r.cost_gpu,
    costCompute: r.cost_compute,
    costTotal: r.cost_total,
  };
}
