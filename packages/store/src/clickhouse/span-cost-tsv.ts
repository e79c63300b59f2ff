import type { Money } from '@costtrace/core';
import type { CostCorrectionRow } from '../cost-correction-row.js';
import type { SpanCostRow } from '../span-cost-row.js';
import { tsvString, tsvStringArray } from './tsv.js';

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
] as const;

const NANOS_PER_SECOND = 1_000_000_000n;

function money(value: Money): string {
  return value.subunits === 0n ? '0' : value.toDecimalString();
}

/** One span_costs row as a TabSeparated line (hot path: no intermediate arrays). */
export function spanCostTsv(r: SpanCostRow): string {
  const duration = r.endTimeUnixNano > r.startTimeUnixNano ? r.endTimeUnixNano - r.startTimeUnixNano : 0n;
  return (
    `${r.startTimeUnixNano / NANOS_PER_SECOND}\t${r.startTimeUnixNano}\t${r.endTimeUnixNano}\t${duration}\t` +
    `${tsvString(r.traceId)}\t${tsvString(r.spanId)}\t${tsvString(r.parentSpanId)}\t${tsvString(r.spanName)}\t` +
    `${r.spanKind}\t${r.statusCode}\t${r.isRequest ? 1 : 0}\t` +
    `${tsvString(r.service)}\t${tsvString(r.environment)}\t${tsvString(r.route)}\t${tsvString(r.commit)}\t` +
    `${tsvString(r.model)}\t${tsvString(r.provider)}\t${tsvString(r.team)}\t${tsvString(r.tenant)}\t` +
    `${tsvString(r.feature)}\t` +
    `${r.inputTokens}\t${r.outputTokens}\t${r.cacheReadTokens}\t${r.cacheWriteTokens}\t${r.reasoningTokens}\t` +
    `${tsvString(r.gpuType)}\t${r.gpuCount}\t${r.gpuSeconds}\t${tsvString(r.instanceType)}\t` +
    `${money(r.costInput)}\t${money(r.costOutput)}\t${money(r.costCacheRead)}\t${money(r.costCacheWrite)}\t` +
    `${money(r.costReasoning)}\t${money(r.costGpu)}\t${money(r.costCompute)}\t${money(r.costTotal)}\t` +
    `${tsvString(r.currency)}\t${tsvString(r.pricingVersion)}\t${tsvString(r.pricingSource)}\t` +
    `${tsvStringArray(r.priceIds)}\t${tsvString(r.unpricedReason)}\t` +
    `${tsvString(r.kafkaTopic)}\t${r.kafkaPartition}\t${r.kafkaOffset}\t${r.kafkaSpanIndex}\t` +
    `${tsvStringArray(r.attributeKeys)}\t${tsvStringArray(r.attributeValues)}\t` +
    `${tsvStringArray(r.rollupOverflow)}\t${tsvStringArray(r.sanitized)}\t` +
    `${tsvString(r.gpuProvider ?? '')}\t${tsvString(r.gpuPricingModel ?? '')}\t${tsvString(r.cloudProvider ?? '')}\t` +
    `${tsvString(r.cloudRegion ?? '')}\t${tsvString(r.instancePricingModel ?? '')}\t${r.instanceSeconds ?? '0'}\t` +
    `${r.usageComplete === true ? 1 : 0}\t${r.costUpperBound === true ? 1 : 0}\t` +
    `${tsvString(r.emitter ?? '')}\t${tsvString(r.usageRole ?? '')}\t${tsvString(r.duplicateOf ?? '')}\t` +
    `${tsvString(r.responseId ?? '')}\t${tsvString(r.usageKey ?? '')}\n`
  );
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
