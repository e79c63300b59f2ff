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
