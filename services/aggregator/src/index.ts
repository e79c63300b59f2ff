export { Aggregator } from './aggregator.js';
export type { AggregatorAddresses, AggregatorOptions } from './aggregator.js';
export { QueryApiServer } from './api/query-api-server.js';
export type { QueryApiServerOptions } from './api/query-api-server.js';
export { ConfigError, loadConfig } from './config.js';
export type { AggregatorConfig } from './config.js';
export { IngestError } from './ingest/ingest-error.js';
export type { IngestErrorCode } from './ingest/ingest-error.js';
export { splitRequest } from './ingest/request-splitter.js';
export type { SplitResult } from './ingest/request-splitter.js';
export { serviceKey, SpanIngest } from './ingest/span-ingest.js';
export type { SpanIngestOptions } from './ingest/span-ingest.js';
export { createKafka } from './kafka/kafka-client.js';
export { DLQ_HEADERS, SpanConsumer } from './kafka/span-consumer.js';
export type { ConsumerStage, SpanConsumerOptions } from './kafka/span-consumer.js';
export { decodeSpanMessage, detectEncoding, SpanMessageError } from './kafka/span-message-codec.js';
export type { SpanEncoding } from './kafka/span-message-codec.js';
export { SpanProducer } from './kafka/span-producer.js';
export { AggregatorMetrics } from './operations/aggregator-metrics.js';
export { CardinalityLimiter, OTHER_VALUE } from './otlp/cardinality-limiter.js';
export { decodeOtlpJson, exportRequestFromJson, exportRequestToJson, OtlpJsonError } from './otlp/otlp-json.js';
export {
  DEFAULT_SPAN_LIMITS,
  GpuAttr,
  REJECT_REASONS,
  SANITIZE_REASONS,
  selectSpans,
  spanCostRows,
  spanCount,
} from './otlp/span-rows.js';
export type {
  AuditDifference,
  KafkaOrigin,
  RejectedSpan,
  RejectReason,
  SanitizeReason,
  SpanLimits,
  SpanRowOptions,
  SpanRowsResult,
} from './otlp/span-rows.js';
export {
  bundledTable,
  loadPriceSnapshots,
  PriceFileError,
  PriceSnapshots,
  readPriceSnapshotFile,
  tableFromSnapshot,
} from './pricing/price-snapshots.js';
export type { PriceSnapshotRecord } from './pricing/price-snapshots.js';
export { repriceSpans } from './reprice/span-repricer.js';
export type { RepriceLine, RepriceOptions, RepriceReport } from './reprice/span-repricer.js';
