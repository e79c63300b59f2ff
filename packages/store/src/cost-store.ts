import type { EncodedSpanCosts } from './clickhouse/encoded-span-costs.js';
import type { CostCorrectionRow } from './cost-correction-row.js';
import type { CostQuery, CoverageQuery, TopSpansQuery } from './query/cost-query.js';
import type { PricingCoverageRow } from './query/pricing-coverage.js';
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

/** Which spans of a range of messages are stored (see `CostStore.recoverStoredSpans`). */
export interface StoredSpans {
  /** Message offset → indexes (`kafkaSpanIndex`) of the message's spans that are stored. */
  readonly spans: ReadonlyMap<bigint, ReadonlySet<number>>;
  /** Rollup rows written so that the rollup equals the stored spans again (0: it already did). */
  readonly rollupRowsRepaired: number;
  /**
   * Rollup keys that held more than the spans they summarise (corrected too). Not expected on
   * ClickHouse 18.16, which writes the view's part after the table's; counted where users look.
   */
  readonly rollupExcessKeys: readonly string[];
}

/** A stored usage-bearing span, as the consumer's ModelCallLedger remembers it (see `recentUsageSpans`). */
export interface StoredUsageSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly responseId: string;
  readonly usageKey: string;
  /** '', 'duplicate' or 'rollup' (SpanCostRow.usageRole). */
  readonly usageRole: string;
  readonly duplicateOf: string;
  /** The row's Kafka offset and span index, as `<offset>:<index>` (ModelCallLedger's origin). */
  readonly origin: string;
}

/** One minute where the rollup and the spans disagree. */
export interface RollupDifference {
  /** Unix seconds of the minute. */
  readonly minute: number;
  /** Span count per the spans and per the rollup. */
  readonly spans: readonly [bigint, bigint];
  /** Exact cost_total per the spans and per the rollup, decimal text. */
  readonly costTotal: readonly [string, string];
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
   * Stores rows in atomic units: all rows of a unit are stored or none. ClickHouse commits one unit
   * per UTC day of the spans' start (one part per table partition; the server writes the parts of
   * a larger insert one at a time, so a crash could leave some of them), DuckDB one transaction.
   * After a failed or ambiguous call any subset of the units may be stored, and what derives from
   * the spans (the rollup) may lag them: the caller asks `recoverStoredSpans`, which finds out
   * exactly which spans are stored and repairs the rollup, before it inserts the rest.
   */
  insertSpanCosts(rows: readonly SpanCostRow[]): Promise<void>;
  /**
   * The same for rows already encoded in the store's insert format (SpanCostTsvEncoder), where
   * the store has one (ClickHouse): the consumer then encodes each span where it prices it, in a
   * worker thread, and never builds a row object. Same units, same recovery contract.
   */
  insertEncodedSpanCosts?(encoded: EncodedSpanCosts): Promise<void>;
  /**
   * The highest message offset stored per partition of `topic` (partitions without rows absent):
   * messages above it have no stored span, messages at or below it may have some.
   */
  storedOffsets(topic: string, partitions?: readonly number[]): Promise<Map<number, bigint>>;
  /**
   * Exactly which spans of the messages `fromOffset..toOffset` of one partition are stored, after
   * making the rollup equal to the stored spans again in the minutes those spans fall in and in
   * `minutes` (unix seconds: those of the spans the caller is about to insert, whose rollup part
   * a crash may have kept without their span part). Only the partition's owner calls it, with
   * none of that partition's inserts in flight.
   */
  recoverStoredSpans(
    topic: string,
    partition: number,
    fromOffset: bigint,
    toOffset: bigint,
    minutes?: Iterable<number>,
  ): Promise<StoredSpans>;
  /**
   * The latest `limit` usage-bearing spans (token usage, or a usage role) of one partition that
   * started at or after `sinceUnixSeconds`, in message order: what the partition's previous owner
   * decided about which spans carry a model call's charge, restored by the new owner before it
   * decides anything (one model call, one charge across restarts and rebalances).
   */
  recentUsageSpans(
    topic: string,
    partition: number,
    sinceUnixSeconds: number,
    limit: number,
  ): Promise<StoredUsageSpan[]>;
  /** Minutes where the rollup differs from the spans (empty when they agree), oldest first. */
  rollupDifferences(range?: {
    readonly fromUnixSeconds: number;
    readonly toUnixSeconds: number;
  }): Promise<RollupDifference[]>;
  /** Appends versioned re-pricing corrections; span rows are never modified. */
  insertCorrections(rows: readonly CostCorrectionRow[]): Promise<void>;
  /** A grouped, filtered, optionally bucketed cost query with exact per-unit costs. */
  queryCosts(query: CostQuery): Promise<CostReportRow[]>;
  /** The most expensive single spans of a time range. */
  topSpans(query: TopSpansQuery): Promise<TopSpanRow[]>;
  /** Pricing coverage of usage-bearing spans, grouped by service, model, provider or emitter. */
  pricingCoverage(query: CoverageQuery): Promise<PricingCoverageRow[]>;
  close(): Promise<void>;
}
