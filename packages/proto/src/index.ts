// Wire types generated from proto/ by `npm run generate` (ts-proto via buf). Never hand-edited.
export {
  ExportTracePartialSuccess,
  ExportTraceServiceRequest,
  ExportTraceServiceResponse,
  TraceServiceClient,
  TraceServiceService,
} from './gen/opentelemetry/proto/collector/trace/v1/trace_service.js';
export type { TraceServiceServer } from './gen/opentelemetry/proto/collector/trace/v1/trace_service.js';
export {
  AnyValue,
  ArrayValue,
  InstrumentationScope,
  KeyValue,
  KeyValueList,
} from './gen/opentelemetry/proto/common/v1/common.js';
export { Resource } from './gen/opentelemetry/proto/resource/v1/resource.js';
export {
  ResourceSpans,
  ScopeSpans,
  Span,
  Span_Event,
  Span_Link,
  Span_SpanKind,
  SpanFlags,
  Status,
  Status_StatusCode,
  TracesData,
} from './gen/opentelemetry/proto/trace/v1/trace.js';
export { Timestamp } from './gen/google/protobuf/timestamp.js';
export {
  AppliedOverride,
  EgressUsage,
  GetPriceRequest,
  GetPriceResponse,
  GpuUsage,
  Heartbeat,
  InputTokenRule,
  InstanceUsage,
  ListPricesRequest,
  ListPricesResponse,
  ModelUsage,
  Money as MoneyMessage,
  Override as OverrideMessage,
  Price as PriceMessage,
  PriceChanges,
  PriceSnapshot as PriceSnapshotMessage,
  PriceUnit as PriceUnitEnum,
  PricingModel as PricingModelEnum,
  PricingServiceClient,
  PricingServiceService,
  QuoteLine as QuoteLineMessage,
  QuoteRequest,
  QuoteResponse,
  ResourceType as ResourceTypeEnum,
  ServiceTier as ServiceTierEnum,
  StorageUsage,
  UsageKind as UsageKindEnum,
  WatchPricesRequest,
  WatchPricesResponse,
} from './gen/costtrace/pricing/v1/pricing.js';
export type { PricingServiceServer } from './gen/costtrace/pricing/v1/pricing.js';
