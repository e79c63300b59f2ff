import type { CostCorrectionRow } from './cost-correction-row.js';
import type { CostQuery, TopSpansQuery } from './query/cost-query.js';
import type { CostReportRow } from './query/cost-report.js';
import type { SpanCostRow } from './span-cost-row.js';

/** One of the most expensive spans. */
export interface TopSpanRow {
  readonly trace_id: string;
  readonly span_id: string;
  readonly span_name: string;
  readonly service: string;
  readonly route: string;
  readonly commit: string;
  readonly model: string;
  readonly provider: string;
  readonly tenant: string;
  /** Unix seconds. */
  readonly startTime: number;
  /** Exact decimal. */
  readonly cost: string;
  readonly currency: string;
  readonly tokens: number;
}

/**
 * What the pipeline needs from cost storage, whichever engine holds it: ClickHouse in
 * production, DuckDB in embedded mode. Both implementations answer every query identically to
 * the last decimal (the store conformance suite checks this).
 */
export interface CostStore {
  /** Which engine: for logs and health output. */
  readonly kind: 'clickhouse' | 'duckdb';
  /** Whether the store answers. Never throws. */
  ping(): Promise<boolean>;
  /** Creates or upgrades the schema; idempotent. Returns the versions applied now. */
  migrate(): Promise<number[]>;
  /**
   * Inserts rows atomically: all or none. With `storedOffsets` this gives exactly-once storage:
   * the consumer skips messages at or below the highest stored offset of their partition.
   */
  insertSpanCosts(rows: readonly SpanCostRow[]): Promise<void>;
  /** The highest message offset stored per partition of `topic` (partitions without rows absent). */
  storedOffsets(topic: string, partitions?: readonly number[]): Promise<Map<number, bigint>>;
  /** Appends versioned re-pricing corrections; span rows are never modified. */
  insertCorrections(rows: readonly CostCorrectionRow[]): Promise<void>;
  /** A grouped, filtered, optionally bucketed cost query with exact per-unit costs. */
  queryCosts(query: CostQuery): Promise<CostReportRow[]>;
  /** The most expensive single spans of a time range. */
  topSpans(query: TopSpansQuery): Promise<TopSpanRow[]>;
  close(): Promise<void>;
}
