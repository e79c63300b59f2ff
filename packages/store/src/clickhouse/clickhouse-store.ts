import { Readable } from 'node:stream';
import { createClient, ClickHouseLogLevel } from '@clickhouse/client';
import type { ClickHouseClient } from '@clickhouse/client';
import type { CostCorrectionRow } from '../cost-correction-row.js';
import type { CostStore, RollupDifference, StoredSpans, StoredUsageSpan, TopSpanRow } from '../cost-store.js';
import type { BilledLine, ReconcileRow } from '@costtrace/core';
import {
  clickhouseBilledTotalsSql,
  clickhouseBillImportsSql,
  clickhouseSavedRunsSql,
  clickhouseTracedComputeSql,
  clickhouseTracedUsageSql,
} from '../billing/bill-sql.js';
import type {
  BilledTotalRow,
  BilledTotalsQuery,
  BillImportDay,
  BillImportRecord,
  BillStore,
  TracedComputeRow,
  TracedSecondsQuery,
  TracedSecondsRow,
  TracedUsageQuery,
  TracedUsageRow,
} from '../billing/bill-store.js';
import { BILL_IMPORT_COLUMNS, BILLED_LINE_COLUMNS, RECONCILE_RESULT_COLUMNS } from '../billing/bill-tables.js';
import { JOB_ESTIMATE_COLUMNS } from '../jobs/job-tables.js';
import type { JobEstimateRecord, JobEstimateStore } from '../jobs/job-store.js';
import {
  billedLineTsv,
  billedTotalRows,
  billImportDays,
  billImportTsv,
  reconcileResultTsv,
  savedReconcileRuns,
  tracedComputeRows,
  tracedUsageRows,
} from '../billing/bill-rows.js';
import { clickhouseTracedSecondsSql, tracedSecondsRows } from '../billing/traced-seconds-sql.js';
import type { ReconcileRunRef, SavedReconcileRun } from '../billing/bill-rows.js';
import { minuteDifferences } from '../rollup-check.js';
import {
  correctionDeltasSql,
  costQuerySql,
  coverageSql,
  repriceCandidatesSql,
  topSpansSql,
} from '../query/clickhouse-cost-sql.js';
import type { CostQuery, CoverageQuery, TopSpansQuery } from '../query/cost-query.js';
import { pricingCoverageRows } from '../query/pricing-coverage.js';
import type { PricingCoverageRow } from '../query/pricing-coverage.js';
import { costReportRows } from '../query/cost-report.js';
import type { CostReportRow, RawCostRow } from '../query/cost-report.js';
import type { SqlLiteral, SqlReader } from '../query/recommend-signals-sql.js';
import type { SpanCostRow } from '../span-cost-row.js';
import { StoreError } from '../store-error.js';
import { repriceCandidateRow } from '../span-repricing-store.js';
import type { RawRepriceCandidate, RepriceCandidateRow, SpanRepricingStore } from '../span-repricing-store.js';
import { MIGRATIONS, RETENTION_TABLES } from './migrations.js';
import {
  minuteHeldSql,
  minuteTruthSql,
  ROLLUP_COLUMNS,
  rollupHeldByKeySql,
  rollupTruthByKeySql,
  sourceCondition,
  storedSpanKeysSql,
} from './recovery-sql.js';
import type { MinuteRange } from './recovery-sql.js';
import type { Migration } from './migrations.js';
import { COST_CORRECTION_COLUMNS, costCorrectionTsv, SPAN_COST_COLUMNS } from './span-cost-tsv.js';
import { encodedSpanCostsByDay, sliceEncodedSpanCosts, SpanCostEncoder } from './encoded-span-costs.js';
import type { EncodedSpanCosts } from './encoded-span-costs.js';
import { recordOfRow, SpanCostRecord } from '../span-cost-record.js';
import { rollupDelta } from './rollup-repair.js';
import { SchemaMigrator } from './schema-migrator.js';
import type { RollupTextRow } from './rollup-repair.js';
import { identifier, stringLiteral, uintLiteral } from './sql-literals.js';
import { tsvRow } from './tsv.js';

export interface ClickHouseStoreOptions {
  /** HTTP(S) URL of the server, e.g. http://127.0.0.1:8123. */
  readonly url: string;
  readonly database?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** Per-request timeout. Default 30 s. */
  readonly requestTimeoutMs?: number | undefined;
}

/**
 * Rows per insert request, at most. A request must stay one block (and, holding one day, one
 * part) to be all-or-nothing: a larger insert could be split into blocks and half written, so
 * requests stay far below ClickHouse's max_insert_block_size (1,048,576), which inserts also set.
 */
export const MAX_INSERT_ROWS = 500_000;
const INSERT_BLOCK_SETTINGS = {
  max_insert_block_size: '1048576',
  min_insert_block_size_rows: '1048576',
  min_insert_block_size_bytes: String(2 ** 31),
} as const;

/** Days of history to keep per table kind; partitions entirely older are dropped. */
export interface RetentionPolicy {
  readonly spanDays: number;
  readonly rollupDays: number;
}

/** Production cost storage on ClickHouse: migrations, batched span inserts, queries. */
export class ClickHouseStore implements CostStore, BillStore, SqlReader, SpanRepricingStore, JobEstimateStore {
  readonly kind = 'clickhouse' as const;
  readonly database: string;
  /** ClickHouse string literals (backslash escapes) for the store-neutral SQL builders. */
  readonly literal: SqlLiteral = stringLiteral;
  private readonly client: ClickHouseClient;

  constructor(options: ClickHouseStoreOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (cause) {
      throw new StoreError(
        'INVALID_CONFIG',
        `ClickHouse url ${JSON.stringify(options.url)} is not a URL; use e.g. http://127.0.0.1:8123`,
        { cause },
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new StoreError('INVALID_CONFIG', `ClickHouse url must be http:// or https://, got ${url.protocol}`);
    }
    this.database = identifier(options.database ?? 'costtrace');
    this.client = createClient({
      url: `${url.protocol}//${url.host}`,
      username: options.username ?? (url.username || 'default'),
      password: options.password ?? url.password,
      request_timeout: options.requestTimeoutMs ?? 30_000,
      log: { level: ClickHouseLogLevel.OFF },
    });
  }

  async ping(): Promise<boolean> {
    try {
      const result = await this.client.ping();
      return result.success;
    } catch {
      return false;
    }
  }

  /**
   * Creates the database and applies every pending migration, in order, one migrator at a time
   * (see `SchemaMigrator`). Idempotent. Returns the versions applied now.
   */
  async migrate(migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
    return new SchemaMigrator(this).migrate(migrations);
  }

  async repriceCandidates(query: TopSpansQuery, limit: number): Promise<RepriceCandidateRow[]> {
    const rows = await this.select<RawRepriceCandidate>(
      `${repriceCandidatesSql(this.database, query)} LIMIT ${uintLiteral(limit)}`,
    );
    return rows.map(repriceCandidateRow);
  }

  async correctionDeltas(query: TopSpansQuery): Promise<Map<string, string>> {
    const rows = await this.select<{ trace_id: string; span_id: string; delta: string }>(
      correctionDeltasSql(this.database, query),
    );
    return new Map(rows.map((r) => [`${r.trace_id}/${r.span_id}`, r.delta]));
  }

  /** Versions of the applied migrations, ascending. */
  async appliedMigrations(): Promise<number[]> {
    const rows = await this.select<{ version: number }>(
      `SELECT DISTINCT version FROM ${this.database}.schema_migrations ORDER BY version`,
    );
    return rows.map((r) => Number(r.version));
  }

  /**
   * Inserts rows as one request per UTC day of their start time. ClickHouse writes one part per
   * table partition (span_costs is partitioned by day) and commits the parts of one insert one
   * at a time, so only an insert whose rows share a day is all-or-nothing: each of these requests
   * is one block and one part, and then the rollup's part (the materialized view writes it after
   * the span part). `recoverStoredSpans` handles everything a crash between two of them leaves.
   * The body is sent chunked, so a client killed mid-request leaves a body without its final
   * chunk, which the server rejects whole.
   */
  async insertSpanCosts(rows: readonly SpanCostRow[]): Promise<void> {
    if (rows.length === 0) return;
    const encoder = new SpanCostEncoder('RowBinary');
    const record = new SpanCostRecord();
    for (const row of rows) encoder.add(recordOfRow(row, record));
    await this.insertEncodedSpanCosts(encoder.finish());
  }

  /**
   * Inserts rows encoded by SpanCostEncoder (the consumer's path: encoded where they were
   * built, in RowBinary). One insert per day of start time and at most MAX_INSERT_ROWS rows, so
   * that each insert is one part, which ClickHouse commits atomically; days in ascending order.
   */
  async insertEncodedSpanCosts(encoded: EncodedSpanCosts): Promise<void> {
    for (const day of encodedSpanCostsByDay(encoded)) {
      for (let i = 0; i < day.rows; i += MAX_INSERT_ROWS) {
        const part = sliceEncodedSpanCosts(day, i, i + MAX_INSERT_ROWS);
        if (part.format === 'RowBinary')
          await this.insertRowBinary('span_costs', SPAN_COST_COLUMNS, part.body, part.rows);
        else await this.insertTsv('span_costs', SPAN_COST_COLUMNS, part.body, part.rows);
      }
    }
  }

  /**
   * Inserts a RowBinary body (the client's insert() takes RowBinary only as row objects, so the
   * body goes as the request of an INSERT … FORMAT RowBinary).
   */
  private async insertRowBinary(
    table: string,
    columns: readonly string[],
    body: Uint8Array,
    rowCount: number,
  ): Promise<void> {
    const name = identifier(table);
    try {
      const result = await this.client.exec({
        query: `INSERT INTO ${this.database}.${name} (${columns.map(identifier).join(', ')}) FORMAT RowBinary`,
        values: Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)], { objectMode: false }),
        clickhouse_settings: INSERT_BLOCK_SETTINGS,
      });
      // The answer is empty; reading it to its end releases the connection.
      for await (const chunk of result.stream) void chunk;
    } catch (cause) {
      throw toStoreError('INSERT_FAILED', `inserting ${rowCount} rows into ${name} failed`, cause);
    }
  }

  /** Inserts prepared TabSeparated text (rows end with a newline) into a table of this database. */
  async insertTsv(table: string, columns: readonly string[], body: Uint8Array, rowCount: number): Promise<void> {
    const name = identifier(table);
    try {
      await this.client.insert({
        table: `${this.database}.${name}`,
        columns: columns.map(identifier) as [string, ...string[]],
        format: 'TabSeparated',
        values: Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)], { objectMode: false }),
        clickhouse_settings: INSERT_BLOCK_SETTINGS,
      });
    } catch (cause) {
      throw toStoreError('INSERT_FAILED', `inserting ${rowCount} rows into ${name} failed`, cause);
    }
  }

  /**
   * The highest Kafka offset stored per partition of `topic` (partitions without rows are absent).
   * On partition assignment and after an ambiguous insert failure, messages above it have no
   * stored row; for those at or below it the consumer asks `recoverStoredSpans`.
   */
  async storedOffsets(topic: string, partitions?: readonly number[]): Promise<Map<number, bigint>> {
    const only =
      partitions !== undefined && partitions.length > 0
        ? ` AND kafka_partition IN (${partitions.map((p) => uintLiteral(p)).join(', ')})`
        : '';
    const rows = await this.select<{ partition: number; offset: string }>(
      `SELECT kafka_partition AS partition, toString(max(kafka_offset)) AS offset FROM ${this.database}.span_costs ` +
        `WHERE kafka_topic = ${stringLiteral(topic)}${only} GROUP BY kafka_partition`,
    );
    return new Map(rows.map((r) => [Number(r.partition), BigInt(r.offset)]));
  }

  async recentUsageSpans(
    topic: string,
    partition: number,
    sinceUnixSeconds: number,
    limit: number,
  ): Promise<StoredUsageSpan[]> {
    const columns =
      'trace_id AS traceId, span_id AS spanId, parent_span_id AS parentSpanId, response_id AS responseId, ' +
      'usage_key AS usageKey, usage_role AS usageRole, duplicate_of AS duplicateOf, ' +
      "concat(toString(o), ':', toString(i)) AS origin";
    // The newest `limit` in the inner query, replayed oldest first.
    return this.select<StoredUsageSpan>(
      `SELECT ${columns} FROM (SELECT *, kafka_offset AS o, kafka_span_index AS i FROM ${this.database}.span_costs ` +
        `WHERE kafka_topic = ${stringLiteral(topic)} AND kafka_partition = ${uintLiteral(partition)} ` +
        `AND start_time >= toDateTime(${uintLiteral(Math.max(0, Math.trunc(sinceUnixSeconds)))}, 'UTC') ` +
        `AND (usage_key != '' OR usage_role != '') ORDER BY o DESC, i DESC LIMIT ${uintLiteral(limit)}) ORDER BY o, i`,
    );
  }

  async recoverStoredSpans(
    topic: string,
    partition: number,
    fromOffset: bigint,
    toOffset: bigint,
    also: Iterable<number> = [],
  ): Promise<StoredSpans> {
    const found = await this.select<{ offset: string; index: number; minute: string }>(
      storedSpanKeysSql(this.database, topic, partition, fromOffset, toOffset),
    );
    const spans = new Map<bigint, Set<number>>();
    const minutes = new Set<number>(also);
    for (const row of found) {
      const offset = BigInt(row.offset);
      let indexes = spans.get(offset);
      if (indexes === undefined) spans.set(offset, (indexes = new Set()));
      indexes.add(Number(row.index));
      minutes.add(Number(row.minute));
    }
    const sorted = [...minutes].sort((a, b) => a - b);
    const { repaired, excess } = await this.repairRollup(sourceCondition(topic, partition), sorted);
    return { spans, rollupRowsRepaired: repaired, rollupExcessKeys: excess };
  }

  /**
   * Makes the rollup of one source partition equal its spans in the given minutes: reads both,
   * sums per key and inserts the differences, one insert (one part) per month partition.
   * Exact because the caller owns the source partition: no other writer adds to these keys.
   */
  private async repairRollup(
    source: string,
    minutes: readonly number[],
  ): Promise<{ repaired: number; excess: string[] }> {
    let repaired = 0;
    const excess: string[] = [];
    for (let i = 0; i < minutes.length; i += 500) {
      const chunk = minutes.slice(i, i + 500);
      const truth = await this.select<RollupTextRow>(rollupTruthByKeySql(this.database, source, chunk));
      const held = await this.select<RollupTextRow>(rollupHeldByKeySql(this.database, source, chunk));
      const delta = rollupDelta(truth, held);
      excess.push(...delta.excess);
      const months = new Map<string, string[]>();
      for (const row of delta.rows) {
        const date = new Date(Number(row.minute) * 1000);
        const month = `${date.getUTCFullYear()}-${date.getUTCMonth()}`;
        let lines = months.get(month);
        if (lines === undefined) months.set(month, (lines = []));
        lines.push(tsvRow(ROLLUP_COLUMNS.map((column) => row[column] ?? '')));
      }
      for (const lines of months.values()) {
        await this.insertTsv('span_costs_1m', ROLLUP_COLUMNS, Buffer.from(lines.join(''), 'utf8'), lines.length);
        repaired += lines.length;
      }
    }
    return { repaired, excess };
  }

  async rollupDifferences(range?: MinuteRange): Promise<RollupDifference[]> {
    const truth = await this.select<RollupTextRow>(minuteTruthSql(this.database, range));
    const held = await this.select<RollupTextRow>(minuteHeldSql(this.database, range));
    return minuteDifferences(truth, held);
  }

  /** Appends versioned correction rows (re-pricing); span_costs is never modified. */
  async insertCorrections(rows: readonly CostCorrectionRow[]): Promise<void> {
    if (rows.length === 0) return;
    const body = Buffer.from(rows.map(costCorrectionTsv).join(''), 'utf8');
    await this.insertTsv('cost_corrections', COST_CORRECTION_COLUMNS, body, rows.length);
  }

  async recordJobEstimate(e: JobEstimateRecord): Promise<void> {
    const line = tsvRow([
      e.jobId,
      BigInt(e.recordedAt),
      e.jobKind,
      e.total,
      e.currency,
      e.gpuHours,
      e.epochs,
      e.samples,
      e.description,
    ]);
    await this.insertTsv('job_estimates', JOB_ESTIMATE_COLUMNS, Buffer.from(line, 'utf8'), 1);
  }

  async insertBilledLines(importId: string, lines: readonly BilledLine[]): Promise<void> {
    if (lines.length === 0) return;
    let body = '';
    for (const line of lines) body += billedLineTsv(importId, line);
    await this.insertTsv('billed_lines', BILLED_LINE_COLUMNS, Buffer.from(body, 'utf8'), lines.length);
  }

  async commitBillImport(records: readonly BillImportRecord[]): Promise<void> {
    const days = records.reduce((n, r) => n + r.days.length, 0);
    if (days === 0) return;
    // One insert of a few rows: one part, all of it stored or none.
    const body = Buffer.from(records.map(billImportTsv).join(''), 'utf8');
    await this.insertTsv('bill_imports', BILL_IMPORT_COLUMNS, body, days);
  }

  async discardBillImport(importId: string): Promise<void> {
    await this.command(`ALTER TABLE ${this.database}.billed_lines DELETE WHERE import_id = ${stringLiteral(importId)}`);
  }

  async billImports(limit: number): Promise<BillImportDay[]> {
    return billImportDays(await this.select(clickhouseBillImportsSql(this.database, limit)));
  }

  async billedTotals(query: BilledTotalsQuery): Promise<BilledTotalRow[]> {
    return billedTotalRows(query.groupBy, await this.select(clickhouseBilledTotalsSql(this.database, query)));
  }

  async tracedUsage(query: TracedUsageQuery): Promise<TracedUsageRow[]> {
    return tracedUsageRows(query.groupBy, await this.select(clickhouseTracedUsageSql(this.database, query)));
  }

  async tracedCompute(since: number, until: number): Promise<TracedComputeRow[]> {
    return tracedComputeRows(await this.select(clickhouseTracedComputeSql(this.database, since, until)));
  }

  async tracedSeconds(query: TracedSecondsQuery): Promise<TracedSecondsRow[]> {
    return tracedSecondsRows(await this.select(clickhouseTracedSecondsSql(this.database, query)));
  }

  async saveReconcileRun(run: ReconcileRunRef, rows: readonly ReconcileRow[]): Promise<void> {
    if (rows.length === 0) return;
    const body = Buffer.from(rows.map((row) => reconcileResultTsv(run, row)).join(''), 'utf8');
    await this.insertTsv('reconcile_results', RECONCILE_RESULT_COLUMNS, body, rows.length);
  }

  async savedReconcileRuns(limit: number): Promise<SavedReconcileRun[]> {
    return savedReconcileRuns(await this.select(clickhouseSavedRunsSql(this.database, limit)));
  }

  /**
   * Retention without TTL (18.16 has none): drops whole partitions older than the policy. Span
   * tables are partitioned by day, the rollup by month; a partition goes only when all of it is
   * past the limit. Returns the dropped `table/partition` names.
   */
  async dropExpiredPartitions(policy: RetentionPolicy, nowMs: number = Date.now()): Promise<string[]> {
    const dropped: string[] = [];
    for (const { table, partition } of RETENTION_TABLES) {
      const days = partition === 'month' ? policy.rollupDays : policy.spanDays;
      const cutoff = new Date(nowMs - days * 86_400_000);
      const parts = await this.select<{ partition: string }>(
        `SELECT DISTINCT partition FROM system.parts WHERE database = ${stringLiteral(this.database)} AND table = ${stringLiteral(table)} AND active`,
      );
      for (const { partition: id } of parts) {
        if (!/^\d{6}(\d{2})?$/.test(id)) continue;
        const year = Number(id.slice(0, 4));
        const month = Number(id.slice(4, 6)) - 1;
        // First instant after the partition: next day or next month.
        const end = id.length === 8 ? Date.UTC(year, month, Number(id.slice(6, 8)) + 1) : Date.UTC(year, month + 1, 1);
        if (end <= cutoff.getTime()) {
          await this.command(`ALTER TABLE ${this.database}.${table} DROP PARTITION ${id}`);
          dropped.push(`${table}/${id}`);
        }
      }
    }
    return dropped;
  }

  /** Runs a cost query (grouped, filtered, optionally bucketed) with exact per-unit costs. */
  async queryCosts(query: CostQuery): Promise<CostReportRow[]> {
    return costReportRows(query, await this.select<RawCostRow>(costQuerySql(this.database, query)));
  }

  /** The most expensive single spans of a time range. */
  async topSpans(query: TopSpansQuery): Promise<TopSpanRow[]> {
    const rows = await this.select<Omit<TopSpanRow, 'startTime'> & { start_unix: number }>(
      topSpansSql(this.database, query),
    );
    return rows.map(({ start_unix, ...rest }) => ({
      ...rest,
      startTime: Number(start_unix),
      tokens: Number(rest.tokens),
    }));
  }

  async pricingCoverage(query: CoverageQuery): Promise<PricingCoverageRow[]> {
    return pricingCoverageRows(query, await this.select<Record<string, unknown>>(coverageSql(this.database, query)));
  }

  /** Runs a read query built from allow-listed parts and quoted literals; rows as JSON objects. */
  async select<T>(query: string): Promise<T[]> {
    try {
      // 64-bit integers stay quoted (the server default): nanosecond times and offsets exceed 2^53.
      const result = await this.client.query({ query, format: 'JSONEachRow' });
      return await result.json<T>();
    } catch (cause) {
      throw toStoreError('QUERY_FAILED', 'ClickHouse query failed', cause);
    }
  }

  async command(query: string, code: 'MIGRATION_FAILED' | 'QUERY_FAILED' = 'QUERY_FAILED'): Promise<void> {
    try {
      await this.client.command({ query });
    } catch (cause) {
      throw toStoreError(code, `ClickHouse statement failed: ${query.slice(0, 120)}`, cause);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
]);

function toStoreError(
  code: 'INSERT_FAILED' | 'QUERY_FAILED' | 'MIGRATION_FAILED',
  message: string,
  cause: unknown,
): StoreError {
  const errno = (cause as { code?: unknown } | null)?.code;
  const text = cause instanceof Error ? cause.message : String(cause);
  if ((typeof errno === 'string' && NETWORK_CODES.has(errno)) || /timeout|socket hang up|ECONNREFUSED/i.test(text)) {
    return new StoreError('UNAVAILABLE', `${message}: ClickHouse unreachable (${text})`, { cause });
  }
  return new StoreError(code, `${message}: ${text}`, { cause });
}
