import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Money } from '@costtrace/core';
import type { CostCorrectionRow } from '../cost-correction-row.js';
import { ROLLUP_MEASURES } from '../clickhouse/migrations.js';
import type { CostStore, RollupDifference, StoredSpans, StoredUsageSpan, TopSpanRow } from '../cost-store.js';
import type { BilledLine, ReconcileRow } from '@costtrace/core';
import {
  duckBilledTotalsSql,
  duckBillImportsSql,
  duckSavedRunsSql,
  duckTracedComputeSql,
  duckTracedUsageSql,
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
import {
  billedLineValues,
  billedTotalRows,
  billImportDays,
  billImportValues,
  reconcileResultTuple,
  savedReconcileRuns,
  tracedComputeRows,
  tracedUsageRows,
} from '../billing/bill-rows.js';
import { duckTracedSecondsSql, tracedSecondsRows } from '../billing/traced-seconds-sql.js';
import type { ReconcileRunRef, SavedReconcileRun } from '../billing/bill-rows.js';
import { minuteDifferences } from '../rollup-check.js';
import type { CostQuery, CoverageQuery, TopSpansQuery } from '../query/cost-query.js';
import { pricingCoverageRows } from '../query/pricing-coverage.js';
import type { PricingCoverageRow } from '../query/pricing-coverage.js';
import { costReportRows } from '../query/cost-report.js';
import type { CostReportRow, RawCostRow } from '../query/cost-report.js';
import type { SqlLiteral, SqlReader } from '../query/recommend-signals-sql.js';
import type { JobEstimateRecord, JobEstimateStore } from '../jobs/job-store.js';
import type { SpanCostRow } from '../span-cost-row.js';
import { StoreError } from '../store-error.js';
import { repriceCandidateRow } from '../span-repricing-store.js';
import type { RawRepriceCandidate, RepriceCandidateRow, SpanRepricingStore } from '../span-repricing-store.js';
import {
  duckCorrectionDeltasSql,
  duckCostQuerySql,
  duckCoverageSql,
  duckRepriceCandidatesSql,
  duckTopSpansSql,
} from './duckdb-cost-sql.js';
import { duckDecimal, duckInt, duckString, duckStringList } from './duckdb-literals.js';
import { DUCKDB_MIGRATIONS, ROLLUP_SUMS, rollupInsertSql } from './duckdb-schema.js';
import type { DuckDbMigration } from './duckdb-schema.js';

export interface DuckDbStoreOptions {
  /** Database file; `:memory:` for a throwaway store. Its folder is created when missing. */
  readonly path: string;
  /**
   * Open without writing. Several read-only processes may share a file, but not with a writer:
   * while another process has it open for writing (a running `costtrace dev`), opening fails
   * with UNAVAILABLE ("Conflicting lock is held", checked with @duckdb/node-api 1.5.6). Readers
   * of a live embedded store go through its query API instead.
   */
  readonly readOnly?: boolean | undefined;
}

const NANOS_PER_SECOND = 1_000_000_000n;
/** Rows per INSERT statement inside one transaction. */
const STATEMENT_ROWS = 1000;

function money(value: Money): string {
  return duckDecimal(value.subunits === 0n ? '0' : value.toDecimalString());
}

function spanValues(batchId: bigint, r: SpanCostRow): string {
  const duration = r.endTimeUnixNano > r.startTimeUnixNano ? r.endTimeUnixNano - r.startTimeUnixNano : 0n;
  return `(${[
    duckInt(batchId),
    duckInt(r.startTimeUnixNano / NANOS_PER_SECOND),
    duckInt(r.startTimeUnixNano),
    duckInt(r.endTimeUnixNano),
    duckInt(duration),
    duckString(r.traceId),
    duckString(r.spanId),
    duckString(r.parentSpanId),
    duckString(r.spanName),
    duckInt(r.spanKind),
    duckInt(r.statusCode),
    r.isRequest ? '1' : '0',
    duckString(r.service),
    duckString(r.environment),
    duckString(r.route),
    duckString(r.commit),
    duckString(r.model),
    duckString(r.provider),
    duckString(r.team),
    duckString(r.tenant),
    duckString(r.feature),
    duckInt(r.inputTokens),
    duckInt(r.outputTokens),
    duckInt(r.cacheReadTokens),
    duckInt(r.cacheWriteTokens),
    duckInt(r.reasoningTokens),
    duckString(r.gpuType),
    `${Number(r.gpuCount)}::DOUBLE`,
    duckDecimal(r.gpuSeconds),
    duckString(r.instanceType),
    money(r.costInput),
    money(r.costOutput),
    money(r.costCacheRead),
    money(r.costCacheWrite),
    money(r.costReasoning),
    money(r.costGpu),
    money(r.costCompute),
    money(r.costTotal),
    duckString(r.currency),
    duckString(r.pricingVersion),
    duckString(r.pricingSource),
    duckStringList(r.priceIds),
    duckString(r.unpricedReason),
    duckString(r.kafkaTopic),
    duckInt(r.kafkaPartition),
    duckInt(r.kafkaOffset),
    duckInt(r.kafkaSpanIndex),
    duckStringList(r.attributeKeys),
    duckStringList(r.attributeValues),
    duckStringList(r.rollupOverflow),
    duckStringList(r.sanitized),
    duckString(r.gpuProvider ?? ''),
    duckString(r.gpuPricingModel ?? ''),
    duckString(r.cloudProvider ?? ''),
    duckString(r.cloudRegion ?? ''),
    duckString(r.instancePricingModel ?? ''),
    duckDecimal(r.instanceSeconds ?? '0'),
    r.usageComplete === true ? '1' : '0',
    r.costUpperBound === true ? '1' : '0',
    duckString(r.emitter ?? ''),
    duckString(r.usageRole ?? ''),
    duckString(r.duplicateOf ?? ''),
    duckString(r.responseId ?? ''),
    duckString(r.usageKey ?? ''),
    duckString(r.jobId ?? ''),
    duckString(r.jobKind ?? ''),
    duckInt(r.jobEpoch ?? -1),
    duckInt(r.jobSamples ?? 0),
  ].join(', ')})`;
}

const SPAN_COLUMNS =
  'batch_id, start_time, start_time_unix_nano, end_time_unix_nano, duration_ns, trace_id, span_id, parent_span_id, ' +
  'span_name, span_kind, status_code, is_request, service, environment, route, "commit", model, provider, team, tenant, ' +
  'feature, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, gpu_type, gpu_count, ' +
  'gpu_seconds, instance_type, cost_input, cost_output, cost_cache_read, cost_cache_write, cost_reasoning, cost_gpu, ' +
  'cost_compute, cost_total, currency, pricing_version, pricing_source, price_ids, unpriced_reason, kafka_topic, ' +
  'kafka_partition, kafka_offset, kafka_span_index, attribute_keys, attribute_values, rollup_overflow, sanitized, ' +
  'gpu_provider, gpu_pricing_model, cloud_provider, cloud_region, instance_pricing_model, instance_seconds, usage_complete, ' +
  'cost_upper_bound, emitter, usage_role, duplicate_of, response_id, usage_key, job_id, job_kind, job_epoch, job_samples';

function correctionValues(r: CostCorrectionRow): string {
  const delta = r.correctedTotal.subtract(r.previousTotal);
  return `(${[
    duckString(r.correctionId),
    duckString(r.snapshotVersion),
    duckInt(r.appliedAtUnixSeconds),
    duckString(r.reason),
    duckInt(r.startTimeUnixSeconds),
    duckString(r.traceId),
    duckString(r.spanId),
    duckString(r.service),
    duckString(r.environment),
    duckString(r.route),
    duckString(r.commit),
    duckString(r.model),
    duckString(r.provider),
    duckString(r.team),
    duckString(r.tenant),
    duckString(r.currency),
    duckDecimal(r.previousTotal.toDecimalString()),
    duckDecimal(r.correctedTotal.toDecimalString()),
    duckDecimal(delta.toDecimalString()),
  ].join(', ')})`;
}

/**
 * Embedded cost storage on DuckDB (`costtrace dev`): the ClickHouse schema and query semantics in
 * one local file. DuckDB runs one statement at a time per connection, so operations are
 * serialized here; an insert is one transaction (span rows plus their rollup rows).
 */
export class DuckDbStore implements CostStore, BillStore, SqlReader, SpanRepricingStore, JobEstimateStore {
  readonly kind = 'duckdb' as const;
  readonly path: string;
  /** The schema that holds the tables, as the store-neutral SQL builders' table prefix. */
  readonly database = 'main';
  /** DuckDB string literals (quotes doubled) for the store-neutral SQL builders. */
  readonly literal: SqlLiteral = duckString;
  private readonly readOnly: boolean;
  private opened: Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(options: DuckDbStoreOptions) {
    if (typeof options.path !== 'string' || options.path === '') {
      throw new StoreError('INVALID_CONFIG', 'DuckDB path is empty: give a file such as ./.costtrace/costtrace.duckdb');
    }
    this.path = options.path;
    this.readOnly = options.readOnly ?? false;
  }

  private connection(): Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }> {
    this.opened ??= (async () => {
      try {
        if (this.path !== ':memory:' && !this.readOnly) await mkdir(dirname(this.path), { recursive: true });
        // Loaded on first use: the native engine costs ~130 ms to load, which a process that only
        // talks to ClickHouse (the aggregator and its worker threads) never pays.
        const { DuckDBInstance } = await import('@duckdb/node-api');
        const instance = await DuckDBInstance.create(
          this.path,
          this.readOnly ? { access_mode: 'READ_ONLY' } : undefined,
        );
        return { instance, connection: await instance.connect() };
      } catch (cause) {
        this.opened = undefined;
        throw new StoreError(
          'UNAVAILABLE',
          `cannot open DuckDB ${this.path}: ${cause instanceof Error ? cause.message : String(cause)}`,
          { cause },
        );
      }
    })();
    return this.opened;
  }

  /** Runs `work` after every earlier operation: one statement sequence at a time. */
  private serial<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => {
      if (this.closed) throw new StoreError('UNAVAILABLE', 'the DuckDB store is closed');
      const { connection } = await this.connection();
      return work(connection);
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private static async rows<T>(connection: DuckDBConnection, sql: string): Promise<T[]> {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJson() as unknown as T[];
  }

  async ping(): Promise<boolean> {
    try {
      await this.serial((c) => DuckDbStore.rows(c, 'SELECT 1'));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Applies every pending migration, each in one transaction. Other schemas on the same file
   * (e.g. budgets) pass their own list with versions apart from these (1..99).
   */
  async migrate(migrations: readonly DuckDbMigration[] = DUCKDB_MIGRATIONS): Promise<number[]> {
    return this.serial(async (c) => {
      try {
        await c.run(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at BIGINT NOT NULL)',
        );
        const applied = new Set(
          (await DuckDbStore.rows<{ version: number }>(c, 'SELECT version FROM schema_migrations')).map((r) =>
            Number(r.version),
          ),
        );
        const done: number[] = [];
        for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
          if (applied.has(migration.version)) continue;
          await c.run('BEGIN TRANSACTION');
          try {
            for (const statement of migration.statements) await c.run(statement);
            await c.run(
              `INSERT INTO schema_migrations VALUES (${migration.version}, ${duckString(migration.name)}, epoch(now())::BIGINT)`,
            );
            await c.run('COMMIT');
          } catch (err) {
            await c.run('ROLLBACK').catch(() => undefined);
            throw err;
          }
          done.push(migration.version);
        }
        // Schema changes go into the database file now, not only the WAL: DuckDB 1.5.6 cannot
        // replay this schema's DDL from the WAL ("Failure while replaying WAL file ... no default
        // database set"), so a process killed -9 before the next automatic checkpoint would leave
        // a store that does not open again. Data inserts replay fine (embedded-crash.test.ts).
        if (done.length > 0) await c.run('CHECKPOINT');
        return done;
      } catch (cause) {
        throw wrap('MIGRATION_FAILED', 'DuckDB migration failed', cause);
      }
    });
  }

  /** One transaction: the span rows and their rollup rows, all or none. */
  async insertSpanCosts(rows: readonly SpanCostRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.serial(async (c) => {
      try {
        await c.run('BEGIN TRANSACTION');
        try {
          const [seq] = await DuckDbStore.rows<{ id: string }>(
            c,
            "SELECT nextval('span_costs_batch_seq')::VARCHAR AS id",
          );
          const batchId = BigInt(seq!.id);
          for (let i = 0; i < rows.length; i += STATEMENT_ROWS) {
            const values = rows.slice(i, i + STATEMENT_ROWS).map((r) => spanValues(batchId, r));
            await c.run(`INSERT INTO span_costs (${SPAN_COLUMNS}) VALUES ${values.join(', ')}`);
          }
          await c.run(rollupInsertSql(batchId));
          await c.run('COMMIT');
        } catch (err) {
          await c.run('ROLLBACK').catch(() => undefined);
          throw err;
        }
      } catch (cause) {
        throw wrap('INSERT_FAILED', `inserting ${rows.length} rows into span_costs failed`, cause);
      }
    });
  }

  async storedOffsets(topic: string, partitions?: readonly number[]): Promise<Map<number, bigint>> {
    const only =
      partitions !== undefined && partitions.length > 0
        ? ` AND kafka_partition IN (${partitions.map((p) => duckInt(p)).join(', ')})`
        : '';
    const rows = await this.select<{ partition: string | number; offset: string }>(
      `SELECT kafka_partition AS partition, max(kafka_offset)::VARCHAR AS "offset" FROM span_costs ` +
        `WHERE kafka_topic = ${duckString(topic)}${only} GROUP BY kafka_partition`,
    );
    return new Map(rows.map((r) => [Number(r.partition), BigInt(r.offset)]));
  }

  async recentUsageSpans(
    topic: string,
    partition: number,
    sinceUnixSeconds: number,
    limit: number,
  ): Promise<StoredUsageSpan[]> {
    return this.select<StoredUsageSpan>(
      `SELECT trace_id AS "traceId", span_id AS "spanId", parent_span_id AS "parentSpanId", ` +
        `response_id AS "responseId", usage_key AS "usageKey", usage_role AS "usageRole", duplicate_of AS "duplicateOf", ` +
        `kafka_offset::VARCHAR || ':' || kafka_span_index::VARCHAR AS "origin" ` +
        `FROM (SELECT * FROM span_costs WHERE kafka_topic = ${duckString(topic)} AND kafka_partition = ${duckInt(partition)} ` +
        `AND start_time >= ${duckInt(Math.max(0, Math.trunc(sinceUnixSeconds)))} ` +
        `AND (usage_key != '' OR usage_role != '') ORDER BY kafka_offset DESC, kafka_span_index DESC ` +
        `LIMIT ${duckInt(limit)}) ORDER BY kafka_offset, kafka_span_index`,
    );
  }

  /** Span rows and their rollup are written in one transaction: the rollup never needs repair. */
  async recoverStoredSpans(
    topic: string,
    partition: number,
    fromOffset: bigint,
    toOffset: bigint,
  ): Promise<StoredSpans> {
    const rows = await this.select<{ offset: string; index: string | number }>(
      `SELECT kafka_offset::VARCHAR AS "offset", kafka_span_index AS "index" FROM span_costs ` +
        `WHERE kafka_topic = ${duckString(topic)} AND kafka_partition = ${duckInt(partition)} ` +
        `AND kafka_offset BETWEEN ${duckInt(fromOffset)} AND ${duckInt(toOffset)}`,
    );
    const spans = new Map<bigint, Set<number>>();
    for (const row of rows) {
      const offset = BigInt(row.offset);
      let indexes = spans.get(offset);
      if (indexes === undefined) spans.set(offset, (indexes = new Set()));
      indexes.add(Number(row.index));
    }
    return { spans, rollupRowsRepaired: 0, rollupExcessKeys: [] };
  }

  async rollupDifferences(range?: { fromUnixSeconds: number; toUnixSeconds: number }): Promise<RollupDifference[]> {
    const where = (column: string): string =>
      range === undefined
        ? ''
        : ` WHERE ${column} >= ${duckInt(range.fromUnixSeconds)} AND ${column} < ${duckInt(range.toUnixSeconds)}`;
    const truth = await this.select<Record<string, string>>(
      `SELECT ((start_time // 60) * 60)::VARCHAR AS minute, ` +
        ROLLUP_SUMS.map((sum, i) => `(${sum})::VARCHAR AS ${ROLLUP_MEASURES[i]![0]}`).join(', ') +
        ` FROM span_costs${where('start_time')} GROUP BY 1`,
    );
    const held = await this.select<Record<string, string>>(
      `SELECT minute::VARCHAR AS minute, ` +
        ROLLUP_MEASURES.map(([column]) => `sum(${column})::VARCHAR AS ${column}`).join(', ') +
        ` FROM span_costs_1m${where('minute')} GROUP BY 1`,
    );
    return minuteDifferences(truth, held);
  }

  async insertCorrections(rows: readonly CostCorrectionRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.serial(async (c) => {
      try {
        await c.run('BEGIN TRANSACTION');
        try {
          for (let i = 0; i < rows.length; i += STATEMENT_ROWS) {
            await c.run(
              `INSERT INTO cost_corrections VALUES ${rows
                .slice(i, i + STATEMENT_ROWS)
                .map(correctionValues)
                .join(', ')}`,
            );
          }
          await c.run('COMMIT');
        } catch (err) {
          await c.run('ROLLBACK').catch(() => undefined);
          throw err;
        }
      } catch (cause) {
        throw wrap('INSERT_FAILED', `inserting ${rows.length} rows into cost_corrections failed`, cause);
      }
    });
  }

  /** Inserts VALUES tuples into `table` in one transaction, STATEMENT_ROWS at a time. */
  private async insertValues(table: string, tuples: readonly string[]): Promise<void> {
    if (tuples.length === 0) return;
    await this.serial(async (c) => {
      try {
        await c.run('BEGIN TRANSACTION');
        try {
          for (let i = 0; i < tuples.length; i += STATEMENT_ROWS) {
            await c.run(`INSERT INTO ${table} VALUES ${tuples.slice(i, i + STATEMENT_ROWS).join(', ')}`);
          }
          await c.run('COMMIT');
        } catch (err) {
          await c.run('ROLLBACK').catch(() => undefined);
          throw err;
        }
      } catch (cause) {
        throw wrap('INSERT_FAILED', `inserting ${tuples.length} rows into ${table} failed`, cause);
      }
    });
  }

  async recordJobEstimate(e: JobEstimateRecord): Promise<void> {
    const values = [
      duckString(e.jobId),
      duckInt(e.recordedAt),
      duckString(e.jobKind),
      duckDecimal(e.total),
      duckString(e.currency),
      duckDecimal(e.gpuHours),
      duckInt(e.epochs),
      duckInt(e.samples),
      duckString(e.description),
    ];
    await this.insertValues('job_estimates', [`(${values.join(', ')})`]);
  }

  async insertBilledLines(importId: string, lines: readonly BilledLine[]): Promise<void> {
    await this.insertValues(
      'billed_lines',
      lines.map((line) => billedLineValues(importId, line)),
    );
  }

  async commitBillImport(records: readonly BillImportRecord[]): Promise<void> {
    await this.insertValues('bill_imports', records.flatMap(billImportValues));
  }

  async discardBillImport(importId: string): Promise<void> {
    await this.command(`DELETE FROM billed_lines WHERE import_id = ${duckString(importId)}`);
  }

  async billImports(limit: number): Promise<BillImportDay[]> {
    return billImportDays(await this.select(duckBillImportsSql(limit)));
  }

  async billedTotals(query: BilledTotalsQuery): Promise<BilledTotalRow[]> {
    return billedTotalRows(query.groupBy, await this.select(duckBilledTotalsSql(query)));
  }

  async tracedUsage(query: TracedUsageQuery): Promise<TracedUsageRow[]> {
    return tracedUsageRows(query.groupBy, await this.select(duckTracedUsageSql(query)));
  }

  async tracedCompute(since: number, until: number): Promise<TracedComputeRow[]> {
    return tracedComputeRows(await this.select(duckTracedComputeSql(since, until)));
  }

  async tracedSeconds(query: TracedSecondsQuery): Promise<TracedSecondsRow[]> {
    return tracedSecondsRows(await this.select(duckTracedSecondsSql(query)));
  }

  async saveReconcileRun(run: ReconcileRunRef, rows: readonly ReconcileRow[]): Promise<void> {
    await this.insertValues(
      'reconcile_results',
      rows.map((row) => reconcileResultTuple(run, row)),
    );
  }

  async savedReconcileRuns(limit: number): Promise<SavedReconcileRun[]> {
    return savedReconcileRuns(await this.select(duckSavedRunsSql(limit)));
  }

  async queryCosts(query: CostQuery): Promise<CostReportRow[]> {
    return costReportRows(query, await this.select<RawCostRow>(duckCostQuerySql(query)));
  }

  async topSpans(query: TopSpansQuery): Promise<TopSpanRow[]> {
    const rows = await this.select<Omit<TopSpanRow, 'startTime' | 'tokens'> & { start_unix: string; tokens: string }>(
      duckTopSpansSql(query),
    );
    return rows.map(({ start_unix, tokens, ...rest }) => ({
      ...rest,
      startTime: Number(start_unix),
      tokens: Number(tokens),
    }));
  }

  async pricingCoverage(query: CoverageQuery): Promise<PricingCoverageRow[]> {
    return pricingCoverageRows(query, await this.select<Record<string, unknown>>(duckCoverageSql(query)));
  }

  async repriceCandidates(query: TopSpansQuery, limit: number): Promise<RepriceCandidateRow[]> {
    return (await this.select<RawRepriceCandidate>(duckRepriceCandidatesSql(query, limit))).map(repriceCandidateRow);
  }

  async correctionDeltas(query: TopSpansQuery): Promise<Map<string, string>> {
    const rows = await this.select<{ trace_id: string; span_id: string; delta: string }>(
      duckCorrectionDeltasSql(query),
    );
    return new Map(rows.map((r) => [`${r.trace_id}/${r.span_id}`, r.delta]));
  }

  /** Versions in schema_migrations (none when the file has no schema yet). */
  async appliedMigrations(): Promise<number[]> {
    const tables = await this.select<{ n: string | number }>(
      "SELECT count(*)::VARCHAR AS n FROM information_schema.tables WHERE table_name = 'schema_migrations'",
    );
    if (Number(tables[0]?.n ?? 0) === 0) return [];
    const rows = await this.select<{ version: number | string }>(
      'SELECT DISTINCT version FROM schema_migrations ORDER BY version',
    );
    return rows.map((r) => Number(r.version));
  }

  /** A read query on this database; rows as JSON objects (64-bit and decimal values as text). */
  async select<T>(sql: string): Promise<T[]> {
    return this.serial(async (c) => {
      try {
        return await DuckDbStore.rows<T>(c, sql);
      } catch (cause) {
        throw wrap('QUERY_FAILED', 'DuckDB query failed', cause);
      }
    });
  }

  /** A statement without result rows. */
  async command(sql: string): Promise<void> {
    await this.serial(async (c) => {
      try {
        await c.run(sql);
      } catch (cause) {
        throw wrap('QUERY_FAILED', `DuckDB statement failed: ${sql.slice(0, 120)}`, cause);
      }
    });
  }

  /** Waits for running operations, then closes the file. Idempotent. */
  async close(): Promise<void> {
    await this.queue;
    if (this.closed) return;
    this.closed = true;
    const opened = this.opened;
    this.opened = undefined;
    if (opened === undefined) return;
    const { instance, connection } = await opened.catch(() => ({ instance: undefined, connection: undefined }));
    connection?.closeSync();
    instance?.closeSync();
  }
}

function wrap(
  code: 'INSERT_FAILED' | 'QUERY_FAILED' | 'MIGRATION_FAILED',
  message: string,
  cause: unknown,
): StoreError {
  if (cause instanceof StoreError) return cause;
  return new StoreError(code, `${message}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}
