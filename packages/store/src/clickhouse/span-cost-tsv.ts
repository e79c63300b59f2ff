import type { CostCorrectionRow } from '../cost-correction-row.js';
import { recordOfRow, SpanCostRecord } from '../span-cost-record.js';
import type { SpanCostRow } from '../span-cost-row.js';
import { tsvString } from './tsv.js';
import { TsvWriter } from './tsv-writer.js';

/** Column order of span_costs inserts; `spanCostTsv` writes fields in exactly this order. */
export const SPAN_COST_COLUMNS = [
  'start_time',
  'start_time_unix_nano',
  'end_time_unix_nano',
  'duration_ns',
  'trace_id',
  'span_id',
  'parent_span_id',
  'span_name',
  'span_kind',
  'status_code',
  'is_request',
  'service',
  'environment',
  'route',
  'commit',
  'model',
  'provider',
  'team',
  'tenant',
  'feature',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'gpu_type',
  'gpu_count',
  'gpu_seconds',
  'instance_type',
  'cost_input',
  'cost_output',
  'cost_cache_read',
  'cost_cache_write',
  'cost_reasoning',
  'cost_gpu',
  'cost_compute',
  'cost_total',
  'currency',
  'pricing_version',
  'pricing_source',
  'price_ids',
  'unpriced_reason',
  'kafka_topic',
  'kafka_partition',
  'kafka_offset',
  'kafka_span_index',
  'attribute_keys',
  'attribute_values',
  'rollup_overflow',
  'sanitized',
  'gpu_provider',
  'gpu_pricing_model',
  'cloud_provider',
  'cloud_region',
  'instance_pricing_model',
  'instance_seconds',
  'usage_complete',
  'cost_upper_bound',
  'emitter',
  'usage_role',
  'duplicate_of',
  'response_id',
  'usage_key',
  'job_id',
  'job_kind',
  'job_epoch',
  'job_samples',
] as const;

const NANOS_PER_SECOND = 1_000_000_000n;

/**
 * Writes one span_costs row (a TabSeparated line, columns in SPAN_COST_COLUMNS order) from a
 * record. The one encoder of span rows: `spanCostTsv` and the consumer's batch encoder both
 * write through it.
 */
export function writeSpanCostTsv(w: TsvWriter, r: SpanCostRecord): void {
  const start = r.startTimeUnixNano;
  const end = r.endTimeUnixNano;
  w.integer(start / NANOS_PER_SECOND);
  w.tab();
  w.integer(start);
  w.tab();
  w.integer(end);
  w.tab();
  w.integer(end > start ? end - start : 0n);
  w.tab();
  w.string(r.traceId);
  w.tab();
  w.string(r.spanId);
  w.tab();
  w.string(r.parentSpanId);
  w.tab();
  w.string(r.spanName);
  w.tab();
  w.integer(r.spanKind);
  w.tab();
  w.integer(r.statusCode);
  w.tab();
  w.flag(r.isRequest);
  w.tab();
  w.string(r.service);
  w.tab();
  w.string(r.environment);
  w.tab();
  w.string(r.route);
  w.tab();
  w.string(r.commit);
  w.tab();
  w.string(r.model);
  w.tab();
  w.string(r.provider);
  w.tab();
  w.string(r.team);
  w.tab();
  w.string(r.tenant);
  w.tab();
  w.string(r.feature);
  w.tab();
  w.integer(r.inputTokens);
  w.tab();
  w.integer(r.outputTokens);
  w.tab();
  w.integer(r.cacheReadTokens);
  w.tab();
  w.integer(r.cacheWriteTokens);
  w.tab();
  w.integer(r.reasoningTokens);
  w.tab();
  w.string(r.gpuType);
  w.tab();
  w.integer(r.gpuCount);
  w.tab();
  w.ascii(r.gpuSeconds);
  w.tab();
  w.string(r.instanceType);
  w.tab();
  w.pico(r.costInput);
  w.tab();
  w.pico(r.costOutput);
  w.tab();
  w.pico(r.costCacheRead);
  w.tab();
  w.pico(r.costCacheWrite);
  w.tab();
  w.pico(r.costReasoning);
  w.tab();
  w.pico(r.costGpu);
  w.tab();
  w.pico(r.costCompute);
  w.tab();
  w.pico(r.costTotal);
  w.tab();
  w.string(r.currency);
  w.tab();
  w.string(r.pricingVersion);
  w.tab();
  w.string(r.pricingSource);
  w.tab();
  w.stringArray(r.priceIds);
  w.tab();
  w.string(r.unpricedReason);
  w.tab();
  w.string(r.kafkaTopic);
  w.tab();
  w.integer(r.kafkaPartition);
  w.tab();
  w.integer(r.kafkaOffset);
  w.tab();
  w.integer(r.kafkaSpanIndex);
  w.tab();
  w.stringArray(r.attributeKeys);
  w.tab();
  w.stringArray(r.attributeValues);
  w.tab();
  w.stringArray(r.rollupOverflow);
  w.tab();
  w.stringArray(r.sanitized);
  w.tab();
  w.string(r.gpuProvider);
  w.tab();
  w.string(r.gpuPricingModel);
  w.tab();
  w.string(r.cloudProvider);
  w.tab();
  w.string(r.cloudRegion);
  w.tab();
  w.string(r.instancePricingModel);
  w.tab();
  w.ascii(r.instanceSeconds);
  w.tab();
  w.flag(r.usageComplete);
  w.tab();
  w.flag(r.costUpperBound);
  w.tab();
  w.string(r.emitter);
  w.tab();
  w.string(r.usageRole);
  w.tab();
  w.string(r.duplicateOf);
  w.tab();
  w.string(r.responseId);
  w.tab();
  w.string(r.usageKey);
  w.tab();
  w.string(r.jobId);
  w.tab();
  w.string(r.jobKind);
  w.tab();
  w.integer(r.jobEpoch);
  w.tab();
  w.integer(r.jobSamples);
  w.newline();
}

const scratchWriter = new TsvWriter(4096);
const scratchRecord = new SpanCostRecord();

/** One span_costs row as a TabSeparated line. */
export function spanCostTsv(row: SpanCostRow): string {
  scratchWriter.reset();
  writeSpanCostTsv(scratchWriter, recordOfRow(row, scratchRecord));
  return scratchWriter.bytes().toString('utf8');
}

/** Column order of cost_corrections inserts. */
export const COST_CORRECTION_COLUMNS = [
  'correction_id',
  'snapshot_version',
  'applied_at',
  'reason',
  'start_time',
  'trace_id',
  'span_id',
  'service',
  'environment',
  'route',
  'commit',
  'model',
  'provider',
  'team',
  'tenant',
  'currency',
  'previous_total',
  'corrected_total',
  'delta_total',
] as const;

/** One cost_corrections row as a TabSeparated line; the delta is computed here, exactly. */
export function costCorrectionTsv(r: CostCorrectionRow): string {
  const text = [
    r.correctionId,
    r.snapshotVersion,
    String(r.appliedAtUnixSeconds),
    r.reason,
    String(r.startTimeUnixSeconds),
    r.traceId,
    r.spanId,
    r.service,
    r.environment,
    r.route,
    r.commit,
    r.model,
    r.provider,
    r.team,
    r.tenant,
    r.currency,
  ]
    .map(tsvString)
    .join('\t');
  const delta = r.correctedTotal.subtract(r.previousTotal);
  return `${text}\t${r.previousTotal.toDecimalString()}\t${r.correctedTotal.toDecimalString()}\t${delta.toDecimalString()}\n`;
}
