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
  cost_gpu: string;
  cost_compute: string;
  cost_total: string;
}

export function repriceCandidateRow(r: RawRepriceCandidate): RepriceCandidateRow {
  return {
    traceId: r.trace_id,
    spanId: r.span_id,
    startTimeUnixSeconds: Number(r.start_unix),
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
    costGpu: r.cost_gpu,
    costCompute: r.cost_compute,
    costTotal: r.cost_total,
  };
}
