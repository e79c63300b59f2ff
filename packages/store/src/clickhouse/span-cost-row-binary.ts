import type { SpanCostRecord } from '../span-cost-record.js';
import type { RowBinaryWriter } from './row-binary-writer.js';
import type { SPAN_COST_COLUMNS } from './span-cost-tsv.js';

/**
 * The ClickHouse type of each span_costs column an insert writes, in SPAN_COST_COLUMNS order:
 * what `writeSpanCostRowBinary` writes for it (a store test checks it against the server's
 * schema, so a migration that changes a type cannot silently misalign the binary rows).
 */
export const SPAN_COST_TYPES: Readonly<Record<(typeof SPAN_COST_COLUMNS)[number], string>> = {
  start_time: "DateTime('UTC')",
  start_time_unix_nano: 'UInt64',
  end_time_unix_nano: 'UInt64',
  duration_ns: 'UInt64',
  trace_id: 'String',
  span_id: 'String',
  parent_span_id: 'String',
  span_name: 'String',
  span_kind: 'UInt8',
  status_code: 'UInt8',
  is_request: 'UInt8',
  service: 'String',
  environment: 'String',
  route: 'String',
  commit: 'String',
  model: 'String',
  provider: 'String',
  team: 'String',
  tenant: 'String',
  feature: 'String',
  input_tokens: 'UInt64',
  output_tokens: 'UInt64',
  cache_read_tokens: 'UInt64',
  cache_write_tokens: 'UInt64',
  reasoning_tokens: 'UInt64',
  gpu_type: 'String',
  gpu_count: 'Float64',
  gpu_seconds: 'Decimal(38, 12)',
  instance_type: 'String',
  cost_input: 'Decimal(38, 12)',
  cost_output: 'Decimal(38, 12)',
  cost_cache_read: 'Decimal(38, 12)',
  cost_cache_write: 'Decimal(38, 12)',
  cost_reasoning: 'Decimal(38, 12)',
  cost_gpu: 'Decimal(38, 12)',
  cost_compute: 'Decimal(38, 12)',
  cost_total: 'Decimal(38, 12)',
  currency: 'String',
  pricing_version: 'String',
  pricing_source: 'String',
  price_ids: 'Array(String)',
  unpriced_reason: 'String',
  kafka_topic: 'String',
  kafka_partition: 'UInt32',
  kafka_offset: 'UInt64',
  kafka_span_index: 'UInt32',
  attribute_keys: 'Array(String)',
  attribute_values: 'Array(String)',
  rollup_overflow: 'Array(String)',
  sanitized: 'Array(String)',
  gpu_provider: 'String',
  gpu_pricing_model: 'String',
  cloud_provider: 'String',
  cloud_region: 'String',
  instance_pricing_model: 'String',
  instance_seconds: 'Decimal(38, 12)',
  usage_complete: 'UInt8',
  cost_upper_bound: 'UInt8',
  emitter: 'String',
  usage_role: 'String',
  duplicate_of: 'String',
  response_id: 'String',
  usage_key: 'String',
  job_id: 'String',
  job_kind: 'String',
  job_epoch: 'Int64',
  job_samples: 'UInt64',
};

const NANOS_PER_SECOND = 1_000_000_000n;

/**
 * Writes one span_costs row in RowBinary, columns in SPAN_COST_COLUMNS order with the types of
 * SPAN_COST_TYPES. The same values as `writeSpanCostTsv` writes as text (a store test inserts
 * both and compares what ClickHouse holds).
 */
export function writeSpanCostRowBinary(w: RowBinaryWriter, r: SpanCostRecord): void {
  const start = r.startTimeUnixNano;
  const end = r.endTimeUnixNano;
  w.uint32(Number(start / NANOS_PER_SECOND));
  w.uint64(start);
  w.uint64(end);
  w.uint64(end > start ? end - start : 0n);
  w.string(r.traceId);
  w.string(r.spanId);
  w.string(r.parentSpanId);
  w.string(r.spanName);
  w.uint8(r.spanKind);
  w.uint8(r.statusCode);
  w.uint8(r.isRequest ? 1 : 0);
  w.string(r.service);
  w.string(r.environment);
  w.string(r.route);
  w.string(r.commit);
  w.string(r.model);
  w.string(r.provider);
  w.string(r.team);
  w.string(r.tenant);
  w.string(r.feature);
  w.uint64(r.inputTokens);
  w.uint64(r.outputTokens);
  w.uint64(r.cacheReadTokens);
  w.uint64(r.cacheWriteTokens);
  w.uint64(r.reasoningTokens);
  w.string(r.gpuType);
  w.float64(r.gpuCount);
  w.decimalText(r.gpuSeconds);
  w.string(r.instanceType);
  w.pico(r.costInput);
  w.pico(r.costOutput);
  w.pico(r.costCacheRead);
  w.pico(r.costCacheWrite);
  w.pico(r.costReasoning);
  w.pico(r.costGpu);
  w.pico(r.costCompute);
  w.pico(r.costTotal);
  w.string(r.currency);
  w.string(r.pricingVersion);
  w.string(r.pricingSource);
  w.stringArray(r.priceIds);
  w.string(r.unpricedReason);
  w.string(r.kafkaTopic);
  w.uint32(r.kafkaPartition);
  w.uint64(r.kafkaOffset);
  w.uint32(r.kafkaSpanIndex);
  w.stringArray(r.attributeKeys);
  w.stringArray(r.attributeValues);
  w.stringArray(r.rollupOverflow);
  w.stringArray(r.sanitized);
  w.string(r.gpuProvider);
  w.string(r.gpuPricingModel);
  w.string(r.cloudProvider);
  w.string(r.cloudRegion);
  w.string(r.instancePricingModel);
  w.decimalText(r.instanceSeconds);
  w.uint8(r.usageComplete ? 1 : 0);
  w.uint8(r.costUpperBound ? 1 : 0);
  w.string(r.emitter);
  w.string(r.usageRole);
  w.string(r.duplicateOf);
  w.string(r.responseId);
  w.string(r.usageKey);
  w.string(r.jobId);
  w.string(r.jobKind);
  w.uint64(r.jobEpoch >= 0 ? r.jobEpoch : MINUS_ONE_INT64);
  w.uint64(r.jobSamples);
}

/** -1 as an Int64's bytes (two's complement). */
const MINUS_ONE_INT64 = 0xffff_ffff_ffff_ffffn;
