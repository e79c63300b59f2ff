export { Aggregator } from './aggregator.js';
export type { AggregatorAddresses, AggregatorOptions } from './aggregator.js';
export { QueryApiServer } from './api/query-api-server.js';
export type { QueryApiServerOptions } from './api/query-api-server.js';
export { AGGREGATOR_BUDGETS_SWITCH_ENV, AGGREGATOR_ENV_VARS, ConfigError, loadConfig } from './config.js';
export type { AggregatorConfig } from './config.js';
export { IngestError } from './ingest/ingest-error.js';
export type { IngestErrorCode } from './ingest/ingest-error.js';
export { splitRequest } from './ingest/request-splitter.js';
export type { SplitResult } from './ingest/request-splitter.js';
export { serviceKey, SpanIngest } from './ingest/span-ingest.js';
export type { SpanIngestOptions } from './ingest/span-ingest.js';
export { DLQ_HEADERS, SpanConsumer } from './kafka/span-consumer.js';
export type { ConsumerStage, SpanConsumerOptions } from './kafka/span-consumer.js';
export { decodeSpanMessage, detectEncoding, SpanMessageError } from './kafka/span-message-codec.js';
export type { SpanEncoding } from './kafka/span-message-codec.js';
export { SpanProducer } from './kafka/span-producer.js';
export { AggregatorMetrics } from './operations/aggregator-metrics.js';
export { pipelineHealth } from './operations/pipeline-health.js';
export { DEPENDENCY_RETRY, StartAborted, untilAvailable } from './operations/dependency-wait.js';
export type { DependencyWaitOptions } from './operations/dependency-wait.js';
export type { PipelineHealth } from './operations/pipeline-health.js';
export { createDashboardHandler, DASHBOARD_CSP } from './dashboard/dashboard-handler.js';
export type { DashboardHandler } from './dashboard/dashboard-handler.js';
export { CardinalityLimiter, OTHER_VALUE } from './otlp/cardinality-limiter.js';
export { decodeOtlpJson, exportRequestFromJson, exportRequestToJson, OtlpJsonError } from './otlp/otlp-json.js';
export {
  AGGREGATOR_SOURCE_PREFIX,
  DEFAULT_SPAN_LIMITS,
  REJECT_REASONS,
  SANITIZE_REASONS,
  selectSpans,
  spanCostRows,
  spanCount,
} from './otlp/span-rows.js';
export type {
  AuditDifference,
  EmittedCostComparison,
  KafkaOrigin,
  RejectedSpan,
  RejectReason,
  SanitizeReason,
  SpanLimits,
  SpanRowOptions,
  SpanRowsResult,
} from './otlp/span-rows.js';
export { PricingFollower, readPriceSnapshotFile, retroactiveChanges } from './pricing/pricing-follower.js';
export type { PricingFollowerOptions, PricingFollowerStatus } from './pricing/pricing-follower.js';
export { BudgetCatalog } from './budgets/budget-catalog.js';
export type { CompiledBudget } from './budgets/budget-catalog.js';
export { BudgetEngine } from './budgets/budget-engine.js';
export type {
  BudgetEngineOptions,
  EngineOutput,
  EngineStats,
  KeySnapshot,
  KeyStatus,
} from './budgets/budget-engine.js';
export {
  activeThrottle,
  anomalyEventPayload,
  budgetEventId,
  budgetEventPayload,
  throttleSelector,
} from './budgets/budget-events.js';
export type { KeyView } from './budgets/budget-events.js';
export { BudgetEvaluator } from './budgets/budget-evaluator.js';
export type { BudgetEvaluatorOptions } from './budgets/budget-evaluator.js';
export { BUDGET_MIGRATIONS } from './budgets/budget-migrations.js';
export { BudgetRegistry, parseBudgetFile } from './budgets/budget-registry.js';
export type { BudgetFile, BudgetRegistryOptions } from './budgets/budget-registry.js';
export { BudgetService } from './budgets/budget-service.js';
export type { BudgetServiceOptions } from './budgets/budget-service.js';
export { ClickHouseBudgetStore, MemoryBudgetStore } from './budgets/budget-store.js';
export type { BudgetStore, DocumentKind, StoredDocument } from './budgets/budget-store.js';
export { BUDGETS_ENV_VARS, loadBudgetsConfig } from './budgets/budgets-config.js';
export { BusError, InProcessBus, partitionForKey } from './bus/in-process-bus.js';
export type { InProcessBusOptions } from './bus/in-process-bus.js';
export { InProcessMessageLog } from './message-log/in-process-message-log.js';
export { KafkaMessageLog } from './message-log/kafka-message-log.js';
export type { KafkaMessageLogOptions } from './message-log/kafka-message-log.js';
export { consumerSettings, heartbeatIntervalFor } from './message-log/message-log.js';
export type {
  BatchContext,
  ConsumerGroupOptions,
  ConsumerListeners,
  ConsumerSettings,
  LogBatch,
  LogConsumer,
  LogMessage,
  LogProducer,
  LogRecord,
  MessageLog,
  ProducerPurpose,
} from './message-log/message-log.js';
export { DUCKDB_BUDGET_MIGRATIONS, DuckDbBudgetStore } from './budgets/duckdb-budget-store.js';
export type { BudgetsConfig } from './budgets/budgets-config.js';
export { BudgetsApi, budgetsErrorMapper, keyStatusJson } from './budgets/budgets-http.js';
export type { BudgetsHttpOptions } from './budgets/budgets-http.js';
export { CostDeltaProducer, DEFAULT_COST_DELTAS_TOPIC } from './budgets/cost-delta-producer.js';
export { anomalyScopeKey, budgetDeltas, decodeDelta, encodeDelta } from './budgets/cost-delta.js';
export type {
  BudgetCostDelta,
  BudgetDeltaStats,
  CostDelta,
  DeltaSource,
  ScopeCostDelta,
} from './budgets/cost-delta.js';
export type { ActiveThrottle } from './budgets/throttle.js';
export { ThrottleBoard, ThrottleSync } from './budgets/throttle-board.js';
export type { ThrottleChange, ThrottleSyncOptions } from './budgets/throttle-board.js';
export { DEFAULT_RETRY_POLICY, nextAttemptAt } from './webhooks/retry-policy.js';
export type { RetryPolicy } from './webhooks/retry-policy.js';
export { embeddedIPv4, guardedLookup, parseAllowList, refusalReason, systemResolver } from './webhooks/ssrf-guard.js';
export type { LookupFunction, Resolver } from './webhooks/ssrf-guard.js';
export { WebhookDispatcher } from './webhooks/webhook-dispatcher.js';
export type { DispatcherOptions } from './webhooks/webhook-dispatcher.js';
export { endpointToDocument, parseWebhookEndpoint, publicEndpoint } from './webhooks/webhook-endpoint.js';
export type { WebhookEndpoint, WebhookEndpointDocument } from './webhooks/webhook-endpoint.js';
export { WebhookError } from './webhooks/webhook-error.js';
export type { WebhookErrorCode } from './webhooks/webhook-error.js';
export { buildEvent, eventId, WEBHOOK_EVENT_TYPES, WEBHOOK_SCHEMA_VERSION } from './webhooks/webhook-event.js';
export type {
  AnomalyEventData,
  BudgetEventData,
  WebhookEvent,
  WebhookEventType,
  WebhookPayload,
} from './webhooks/webhook-event.js';
export { WebhookOutbox } from './webhooks/webhook-outbox.js';
export type { Delivery, DeliveryAttempt, DeliveryStatus, OutboxOptions } from './webhooks/webhook-outbox.js';
export { parseRetryAfter, WebhookSender } from './webhooks/webhook-sender.js';
export type { SendResult, SenderOptions } from './webhooks/webhook-sender.js';
export { decodeSecret, generateSecret, signatureHeader, verifySignature } from './webhooks/webhook-signing.js';
export { SpanDeltaRelay } from './budgets/span-delta-relay.js';
export type { SpanDeltaRelayOptions, SpanMessageOrigin } from './budgets/span-delta-relay.js';
