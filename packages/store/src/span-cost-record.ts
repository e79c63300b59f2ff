import { Money } from '@costtrace/core';
import type { Pico } from '@costtrace/core';
import type { SpanCostRow } from './span-cost-row.js';

/**
 * A span cost row as the consumer's hot path builds it: one mutable record per batch, filled
 * for each span and encoded straight into the insert body, so no row object, no Money and no
 * intermediate string is made per span. Amounts are pico-units of `currency` (exact integers:
 * a number below 2^53 or a bigint), as core's pricer returns them. Field meanings are
 * SpanCostRow's; `rowOfRecord` turns a record into one where a row object is wanted (DuckDB,
 * tests, ingest).
 */
export class SpanCostRecord {
  startTimeUnixNano = 0n;
  endTimeUnixNano = 0n;
  traceId = '';
  spanId = '';
  parentSpanId = '';
  spanName = '';
  spanKind = 0;
  statusCode = 0;
  isRequest = false;
  service = '';
  environment = '';
  route = '';
  commit = '';
  model = '';
  provider = '';
  team = '';
  tenant = '';
  feature = '';
  jobId = '';
  jobKind = '';
  /** -1: no epoch. */
  jobEpoch = -1;
  jobSamples = 0;
  inputTokens = 0n;
  outputTokens = 0n;
  cacheReadTokens = 0n;
  cacheWriteTokens = 0n;
  reasoningTokens = 0n;
  gpuType = '';
  gpuCount = 0;
  gpuSeconds = '0';
  instanceType = '';
  /**
   * Whether the usage columns below were read (a priced row). A row built only to validate a
   * span leaves them out of its row object (they are written as their defaults).
   */
  usageColumns = false;
  gpuProvider = '';
  gpuPricingModel = '';
  cloudProvider = '';
  cloudRegion = '';
  instancePricingModel = '';
  instanceSeconds = '0';
  usageComplete = false;
  costUpperBound = false;
  emitter = '';
  usageRole = '';
  duplicateOf = '';
  responseId = '';
  usageKey = '';
  costInput: Pico = 0;
  costOutput: Pico = 0;
  costCacheRead: Pico = 0;
  costCacheWrite: Pico = 0;
  costReasoning: Pico = 0;
  costGpu: Pico = 0;
  costCompute: Pico = 0;
  costTotal: Pico = 0;
  currency = 'USD';
  pricingVersion = '';
  pricingSource = '';
  priceIds: readonly string[] = NONE;
  unpricedReason = '';
  kafkaTopic = '';
  kafkaPartition = 0;
  kafkaOffset = 0n;
  kafkaSpanIndex = 0;
  attributeKeys: readonly string[] = NONE;
  attributeValues: readonly string[] = NONE;
  rollupOverflow: readonly string[] = NONE;
  sanitized: readonly string[] = NONE;
}

const NONE: readonly string[] = Object.freeze([]);
const USD_ZERO = Money.zero('USD');

function money(pico: Pico, currency: string): Money {
  if (pico === 0 || pico === 0n) return currency === 'USD' ? USD_ZERO : Money.zero(currency);
  return Money.fromSubunits(BigInt(pico), currency);
}

/** The row object of a record (a copy: the record may be refilled at once). */
export function rowOfRecord(r: SpanCostRecord): SpanCostRow {
  const currency = r.currency;
  const row: SpanCostRow = {
    startTimeUnixNano: r.startTimeUnixNano,
    endTimeUnixNano: r.endTimeUnixNano,
    traceId: r.traceId,
    spanId: r.spanId,
    parentSpanId: r.parentSpanId,
    spanName: r.spanName,
    spanKind: r.spanKind,
    statusCode: r.statusCode,
    isRequest: r.isRequest,
    service: r.service,
    environment: r.environment,
    route: r.route,
    commit: r.commit,
    model: r.model,
    provider: r.provider,
    team: r.team,
    tenant: r.tenant,
    feature: r.feature,
    ...(r.jobId !== '' || r.jobKind !== '' || r.jobEpoch >= 0 || r.jobSamples > 0
      ? { jobId: r.jobId, jobKind: r.jobKind, jobEpoch: r.jobEpoch, jobSamples: r.jobSamples }
      : {}),
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    cacheReadTokens: r.cacheReadTokens,
    cacheWriteTokens: r.cacheWriteTokens,
    reasoningTokens: r.reasoningTokens,
    gpuType: r.gpuType,
    gpuCount: r.gpuCount,
    gpuSeconds: r.gpuSeconds,
    instanceType: r.instanceType,
    ...(r.usageColumns
      ? {
          gpuProvider: r.gpuProvider,
          gpuPricingModel: r.gpuPricingModel,
          cloudProvider: r.cloudProvider,
          cloudRegion: r.cloudRegion,
          instancePricingModel: r.instancePricingModel,
          instanceSeconds: r.instanceSeconds,
          usageComplete: r.usageComplete,
          costUpperBound: r.costUpperBound,
          emitter: r.emitter,
          usageRole: r.usageRole,
          duplicateOf: r.duplicateOf,
          responseId: r.responseId,
          usageKey: r.usageKey,
        }
      : {}),
    costInput: money(r.costInput, currency),
    costOutput: money(r.costOutput, currency),
    costCacheRead: money(r.costCacheRead, currency),
    costCacheWrite: money(r.costCacheWrite, currency),
    costReasoning: money(r.costReasoning, currency),
    costGpu: money(r.costGpu, currency),
    costCompute: money(r.costCompute, currency),
    costTotal: money(r.costTotal, currency),
    currency,
    pricingVersion: r.pricingVersion,
    pricingSource: r.pricingSource,
    priceIds: r.priceIds,
    unpricedReason: r.unpricedReason,
    kafkaTopic: r.kafkaTopic,
    kafkaPartition: r.kafkaPartition,
    kafkaOffset: r.kafkaOffset,
    kafkaSpanIndex: r.kafkaSpanIndex,
    attributeKeys: r.attributeKeys,
    attributeValues: r.attributeValues,
    rollupOverflow: r.rollupOverflow,
    sanitized: r.sanitized,
  };
  return row;
}

/** Fills `into` from a row object (the encoder of rows that were built as objects). */
export function recordOfRow(row: SpanCostRow, into: SpanCostRecord = new SpanCostRecord()): SpanCostRecord {
  const r = into;
  r.startTimeUnixNano = row.startTimeUnixNano;
  r.endTimeUnixNano = row.endTimeUnixNano;
  r.traceId = row.traceId;
  r.spanId = row.spanId;
  r.parentSpanId = row.parentSpanId;
  r.spanName = row.spanName;
  r.spanKind = row.spanKind;
  r.statusCode = row.statusCode;
  r.isRequest = row.isRequest;
  r.service = row.service;
  r.environment = row.environment;
  r.route = row.route;
  r.commit = row.commit;
  r.model = row.model;
  r.provider = row.provider;
  r.team = row.team;
  r.tenant = row.tenant;
  r.feature = row.feature;
  r.jobId = row.jobId ?? '';
  r.jobKind = row.jobKind ?? '';
  r.jobEpoch = row.jobEpoch ?? -1;
  r.jobSamples = row.jobSamples ?? 0;
  r.inputTokens = row.inputTokens;
  r.outputTokens = row.outputTokens;
  r.cacheReadTokens = row.cacheReadTokens;
  r.cacheWriteTokens = row.cacheWriteTokens;
  r.reasoningTokens = row.reasoningTokens;
  r.gpuType = row.gpuType;
  r.gpuCount = row.gpuCount;
  r.gpuSeconds = row.gpuSeconds;
  r.instanceType = row.instanceType;
  r.usageColumns = row.usageComplete !== undefined;
  r.gpuProvider = row.gpuProvider ?? '';
  r.gpuPricingModel = row.gpuPricingModel ?? '';
  r.cloudProvider = row.cloudProvider ?? '';
  r.cloudRegion = row.cloudRegion ?? '';
  r.instancePricingModel = row.instancePricingModel ?? '';
  r.instanceSeconds = row.instanceSeconds ?? '0';
  r.usageComplete = row.usageComplete === true;
  r.costUpperBound = row.costUpperBound === true;
  r.emitter = row.emitter ?? '';
  r.usageRole = row.usageRole ?? '';
  r.duplicateOf = row.duplicateOf ?? '';
  r.responseId = row.responseId ?? '';
  r.usageKey = row.usageKey ?? '';
  r.costInput = row.costInput.subunits;
  r.costOutput = row.costOutput.subunits;
  r.costCacheRead = row.costCacheRead.subunits;
  r.costCacheWrite = row.costCacheWrite.subunits;
  r.costReasoning = row.costReasoning.subunits;
  r.costGpu = row.costGpu.subunits;
  r.costCompute = row.costCompute.subunits;
  r.costTotal = row.costTotal.subunits;
  r.currency = row.currency;
  r.pricingVersion = row.pricingVersion;
  r.pricingSource = row.pricingSource;
  r.priceIds = row.priceIds;
  r.unpricedReason = row.unpricedReason;
  r.kafkaTopic = row.kafkaTopic;
  r.kafkaPartition = row.kafkaPartition;
  r.kafkaOffset = row.kafkaOffset;
  r.kafkaSpanIndex = row.kafkaSpanIndex;
  r.attributeKeys = row.attributeKeys;
  r.attributeValues = row.attributeValues;
  r.rollupOverflow = row.rollupOverflow;
  r.sanitized = row.sanitized;
  return r;
}
