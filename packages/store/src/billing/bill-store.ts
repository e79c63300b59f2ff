import type { BilledLine, BillSource, ReconcileRow, TracedComputeInput } from '@costtrace/core';
import type { ReconcileRunRef, SavedReconcileRun } from './bill-rows.js';

/**
 * One import of a bill: the UTC days it covers, per source and account. An import replaces, for
 * each day it covers, whatever earlier imports of the same source and account held for that day:
 * importing the same period twice is the same as importing it once, and a restated bill (billing
 * exports are re-delivered with corrections) replaces the first one. All files of one export go
 * into one import.
 */
export interface BillImportRecord {
  readonly importId: string;
  readonly source: BillSource;
  readonly account: string;
  /** Unix seconds of each covered UTC day's midnight. */
  readonly days: readonly number[];
  /** Microseconds since the epoch: the later import of a day wins. */
  readonly importedAtMicros: bigint;
  readonly lines: number;
  /** Files or API endpoints read, for `costtrace bill imports`. */
  readonly origin: string;
}

/** A covered day of an import, as listed back. */
export interface BillImportDay {
  readonly importId: string;
  readonly source: string;
  readonly account: string;
  /** Unix seconds of the day's midnight (UTC). */
  readonly day: number;
  readonly importedAtMicros: string;
  readonly lines: number;
  readonly origin: string;
  /** Whether this import is the one that holds the day now (the latest). */
  readonly current: boolean;
}

/** What billed totals can be grouped by: an allow-list, columns of billed_lines. */
export const BILL_DIMENSIONS = [
  'day',
  'source',
  'provider',
  'account',
  'project',
  'api_key',
  'model',
  'service_tier',
  'charge_category',
  'service',
] as const;
export type BillDimension = (typeof BILL_DIMENSIONS)[number];

export interface BilledTotalsQuery {
  /** Inclusive, unix seconds; lines whose charge period starts in [since, until). */
  readonly since: number;
  readonly until: number;
  readonly groupBy: readonly BillDimension[];
  /** Only these providers (empty: all). */
  readonly providers?: readonly string[] | undefined;
}

/** Sums of the current lines (the latest import of each day) per group, kind and currency. */
export interface BilledTotalRow {
  readonly dimensions: Readonly<Partial<Record<BillDimension, string>>>;
  readonly kind: string;
  readonly unit: string;
  readonly currency: string;
  /** Exact decimal sum of quantities. */
  readonly quantity: string;
  /** Exact decimal sum of billed cost over lines that state one. */
  readonly billedCost: string;
  /** Exact decimal sum of list cost over lines that state one. */
  readonly listCost: string;
  readonly lines: number;
  /** Lines that state a billed cost (usage reports state none). */
  readonly costLines: number;
  /** Lines that state a list cost. */
  readonly listCostLines: number;
}

/** What the traced side can be grouped by when compared with a bill. */
export const TRACED_DIMENSIONS = [
  'day',
  'provider',
  'model',
  'service',
  'team',
  'tenant',
  'environment',
  'feature',
  'route',
] as const;
export type TracedDimension = (typeof TRACED_DIMENSIONS)[number];

export interface TracedUsageQuery {
  readonly since: number;
  readonly until: number;
  readonly groupBy: readonly TracedDimension[];
  readonly providers?: readonly string[] | undefined;
  /** Only spans on these routes (`http.route`, as stored; empty: all). */
  readonly routes?: readonly string[] | undefined;
}

/**
 * What the spans say per group: the charged spans' tokens by kind as stored (input as reported,
 * per the provider's input rule), their cost, and the usage-bearing spans left unpriced.
 */
export interface TracedUsageRow {
  readonly dimensions: Readonly<Partial<Record<TracedDimension, string>>>;
  readonly currency: string;
  readonly spans: number;
  readonly requests: number;
  /** Charged spans' tokens (duplicates and roll-ups of a model call excluded). */
  readonly inputTokens: bigint;
  readonly outputTokens: bigint;
  readonly cacheReadTokens: bigint;
  readonly cacheWriteTokens: bigint;
  /**
   * All input tokens, cache reads and writes included, each span counted by its own input rule:
   * the input its usage key records (SpanPricer.usageKey, `<input with the cache>:<output>`,
   * written by the aggregator with the rule it priced the span by, emitter rules included).
   * Spans without a usage key (stored before it existed) add their input as stored; their cache
   * tokens are in `unkeyedCacheTokens`, to be added where the provider's default rule says its
   * input excludes the cache (see defaultInputTokenRule).
   */
  readonly inputWithCacheTokens: bigint;
  readonly unkeyedCacheTokens: bigint;
  /** Exact decimal: the spans' cost (the effective prices, overrides applied). */
  readonly cost: string;
  /** Usage-bearing charged spans without a cost, and their tokens by kind (as stored). */
  readonly unpricedSpans: number;
  readonly unpricedInputTokens: bigint;
  readonly unpricedOutputTokens: bigint;
  readonly unpricedCacheReadTokens: bigint;
  readonly unpricedCacheWriteTokens: bigint;
  /** Spans whose cost is an upper bound. */
  readonly upperBoundSpans: number;
}

/** Spans' instance time of one day, cloud provider and instance type: what core's compute reconcile reads. */
export type TracedComputeRow = TracedComputeInput;

/**
 * Imported bills, beside the spans: implemented by both stores (ClickHouse and DuckDB) with the
 * same results to the last decimal.
 */
export interface BillStore {
  /**
   * Stores lines of an import that is not committed yet: they count for nothing until
   * `commitBillImport` names their import (a crash before it leaves them invisible).
   */
  insertBilledLines(importId: string, lines: readonly BilledLine[]): Promise<void>;
  /**
   * Makes an import current for the days it covers (see BillImportRecord), for every account it
   * holds at once (one insert: a crash leaves all of it current or none).
   */
  commitBillImport(records: readonly BillImportRecord[]): Promise<void>;
  /** Removes the lines of an import that failed before its commit (best effort: they are invisible anyway). */
  discardBillImport(importId: string): Promise<void>;
  /** The imports' covered days, newest first, at most `limit`. */
  billImports(limit: number): Promise<BillImportDay[]>;
  billedTotals(query: BilledTotalsQuery): Promise<BilledTotalRow[]>;
  tracedUsage(query: TracedUsageQuery): Promise<TracedUsageRow[]>;
  /** Instance time the spans carry per UTC day, cloud provider and instance type, with its GPU and compute cost. */
  tracedCompute(since: number, until: number): Promise<TracedComputeRow[]>;
  /**
   * GPU-seconds and instance-seconds the charged spans carry per team or tenant: the traced
   * weights a cluster's idle and shared cost is spread by (`costtrace chargeback --cluster-cost`).
   */
  tracedSeconds(query: TracedSecondsQuery): Promise<TracedSecondsRow[]>;
  /** Saves a reconcile run's rows as they were (one insert). */
  saveReconcileRun(run: ReconcileRunRef, rows: readonly ReconcileRow[]): Promise<void>;
  /** Saved runs, newest first, summed per run and currency; at most `limit`. */
  savedReconcileRuns(limit: number): Promise<SavedReconcileRun[]>;
}

/** What traced GPU and instance time can be grouped by: an allow-list, columns of span_costs. */
export const TRACED_SECONDS_DIMENSIONS = ['team', 'tenant'] as const;
export type TracedSecondsDimension = (typeof TRACED_SECONDS_DIMENSIONS)[number];

export interface TracedSecondsQuery {
  /** Spans that start in [since, until), unix seconds. */
  readonly since: number;
  readonly until: number;
  readonly by: TracedSecondsDimension;
}

/** The charged spans' GPU and instance time of one team or tenant ('' for spans without one). */
export interface TracedSecondsRow {
  readonly value: string;
  /** Exact decimals: the sums of span_costs.gpu_seconds (count × seconds) and instance_seconds. */
  readonly gpuSeconds: string;
  readonly instanceSeconds: string;
  /** Spans with GPU or instance time. */
  readonly spans: number;
}
