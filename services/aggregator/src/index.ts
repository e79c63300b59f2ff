export { Aggregator } from './aggregator.js';
export type { AggregatorOptions } from './aggregator.js';
export { ConfigError, loadConfig } from './config.js';
export type { AggregatorConfig } from './config.js';
export { spanCostRows } from './otlp/span-rows.js';
export type { KafkaOrigin, SpanRowOptions } from './otlp/span-rows.js';
