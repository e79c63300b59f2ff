/**
 * Attribute names costtrace reads and writes. Usage comes from OpenTelemetry semantic
 * conventions where they exist (GenAI, service, HTTP, VCS); cost lives under `cost.*`.
 *
 * Every `cost.*` amount is an exact decimal string in `cost.currency` (see Money); the only
 * floating point copy is `cost.total_float`, for display tools.
 */
export const CostAttr = {
  /** Exact decimal string: sum of every component below. */
  total: 'cost.total',
  /** Same amount as a double, for display only; never sum it. */
  totalFloat: 'cost.total_float',
  currency: 'cost.currency',
  /** Components, each an exact decimal string. */
  inputTokens: 'cost.input_tokens',
  outputTokens: 'cost.output_tokens',
  cacheReadTokens: 'cost.cache_read_tokens',
  cacheWriteTokens: 'cost.cache_write_tokens',
  reasoningTokens: 'cost.reasoning_tokens',
  gpu: 'cost.gpu',
  compute: 'cost.compute',
  /** Version of the price snapshot used, e.g. "bundled-2026-11-01" or "pcache-1042". */
  pricingVersion: 'cost.pricing.version',
  /** Ids of the prices used, a string array. */
  pricingPriceIds: 'cost.pricing.price_ids',
  /** Where the snapshot came from: "bundled" (no pricing-cache yet), "pricing-cache". */
  pricingSource: 'cost.pricing.source',
  /** True when the snapshot is older than its refresh interval allows. */
  pricingStale: 'cost.pricing.stale',
  /** Set instead of a cost when the span could not be priced; see UnpricedReason. */
  unpricedReason: 'cost.unpriced_reason',
  /**
   * True when the cost is an upper bound: the emitter reports no cached-token count for a
   * provider that caches prompts, so cached input was billed at the uncached price.
   */
  upperBound: 'cost.upper_bound',
  /**
   * Set on a span with token usage that is not charged because another span carries the same
   * model call: "duplicate" (the same call's usage again: the client's span and an
   * instrumentation's, a wrapper repeating its child, the same `gen_ai.response.id`) or "rollup"
   * (a framework or agent span summing its calls). Absent: the span's usage is its own call's.
   * See ModelCallLedger.
   */
  usageRole: 'cost.usage_role',
  /** On a duplicate: the span id (hex) of the span that carries the call's charge. */
  duplicateOf: 'cost.duplicate_of',
} as const;

/** OpenTelemetry GenAI semantic conventions (gen_ai.*). */
export const GenAiAttr = {
  providerName: 'gen_ai.provider.name',
  /** Older name of gen_ai.provider.name, still emitted by many instrumentations. */
  system: 'gen_ai.system',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  cacheReadInputTokens: 'gen_ai.usage.cache_read.input_tokens',
  cacheCreationInputTokens: 'gen_ai.usage.cache_creation.input_tokens',
  reasoningOutputTokens: 'gen_ai.usage.reasoning.output_tokens',
} as const;

/** Attribution dimensions from semantic conventions, plus costtrace's configurable keys. */
export const DimensionAttr = {
  serviceName: 'service.name',
  environment: 'deployment.environment.name',
  httpRoute: 'http.route',
  vcsRevision: 'vcs.ref.head.revision',
  team: 'costtrace.team',
  tenant: 'costtrace.tenant',
  feature: 'costtrace.feature',
} as const;

/**
 * Marks a span whose usage attributes sum up its children's: never priced, by the SDK or the
 * aggregator, so one model call is charged once (see docs/instrumentations.md, one model call, one charge).
 */
export const ROLLUP_ATTRIBUTE = 'costtrace.usage.rollup';

/** Why a span (or one component of it) has no cost, as stamped in `cost.unpriced_reason`. */
export type UnpricedReason =
  | 'no_usage'
  | 'unknown_model'
  | 'unknown_provider'
  | 'invalid_usage'
  | 'unknown_gpu'
  | 'unknown_instance'
  | 'currency_mismatch'
  | 'internal_error';
