export { Aggregator } from './aggregator.js';
export type { AggregatorAddresses, AggregatorOptions } from './aggregator.js';
export { AGGREGATOR_BUDGETS_SWITCH_ENV, AGGREGATOR_ENV_VARS, ConfigError, loadConfig } from './config.js';
export type { AggregatorConfig } from './config.js';
export { DLQ_HEADERS } from './kafka/span-consumer.js';
export { StartAborted } from './operations/dependency-wait.js';
export { buildSpanRecords, spanCostRows } from './otlp/span-rows.js';
export { readOtlpTraces } from './otlp/otlp-wire-reader.js';
export type { OtlpTracesView } from './otlp/otlp-wire-reader.js';
export { SpanBatchProcessor } from './kafka/span-batch.js';
export { InlineSpanBatchRunner, WorkerSpanBatchRunner } from './kafka/span-batch-runner.js';
export type { SpanBatchRunner } from './kafka/span-batch-runner.js';
export type { SpanBatchSettings } from './kafka/span-batch.js';
export { BudgetCatalog } from './budgets/budget-catalog.js';
export { BudgetEngine } from './budgets/budget-engine.js';
export { BudgetService } from './budgets/budget-service.js';
export type { BudgetServiceOptions } from './budgets/budget-service.js';
export { ClickHouseBudgetStore } from './budgets/budget-store.js';
export type { BudgetStore } from './budgets/budget-store.js';
export { BUDGETS_ENV_VARS, loadBudgetsConfig } from './budgets/budgets-config.js';
export { InProcessBus } from './bus/in-process-bus.js';
export type { InProcessBusOptions } from './bus/in-process-bus.js';
export { InProcessMessageLog } from './message-log/in-process-message-log.js';
export { KafkaMessageLog } from './message-log/kafka-message-log.js';
export type { KafkaMessageLogOptions } from './message-log/kafka-message-log.js';
export { consumerSettings } from './message-log/message-log.js';
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
export { DuckDbBudgetStore } from './budgets/duckdb-budget-store.js';
export type { BudgetsConfig } from './budgets/budgets-config.js';
export { budgetDeltas } from './budgets/cost-delta.js';
export type { BudgetRow } from './budgets/cost-delta.js';
export { generateSecret, signatureHeader, verifySignature } from './webhooks/webhook-signing.js';
