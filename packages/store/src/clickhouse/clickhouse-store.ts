import { Readable } from 'node:stream';
import { createClient, ClickHouseLogLevel } from '@clickhouse/client';
import type { ClickHouseClient } from '@clickhouse/client';
import type { SpanCostRow } from '../span-cost-row.js';
import { StoreError } from '../store-error.js';
import { MIGRATIONS, renderStatement } from './migrations.js';
import type { Migration } from './migrations.js';
import { identifier, stringLiteral } from './sql-literals.js';
import { tsvRow } from './tsv.js';
import type { TsvValue } from './tsv.js';

export interface ClickHouseStoreOptions {
  /** HTTP(S) URL of the server, e.g. http://127.0.0.1:8123. */
  readonly url: string;
  readonly database?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** Per-request timeout. Default 30 s. */
  readonly requestTimeoutMs?: number | undefined;
}

/** Column order of span_costs inserts, with how each value is read from a row. */
const SPAN_COLUMNS: readonly (readonly [string, (row: SpanCostRow) => TsvValue])[] = [
  ['start_time', (r) => (r.startTimeUnixNano / 1_000_000_000n).toString()],
  ['start_time_unix_nano', (r) => r.startTimeUnixNano],
  ['end_time_unix_nano', (r) => r.endTimeUnixNano],
  ['duration_ns', (r) => (r.endTimeUnixNano > r.startTimeUnixNano ? r.endTimeUnixNano - r.startTimeUnixNano : 0n)],
  ['trace_id', (r) => r.traceId],
  ['span_id', (r) => r.spanId],
  ['parent_span_id', (r) => r.parentSpanId],
  ['span_name', (r) => r.spanName],
  ['service', (r) => r.service],
  ['environment', (r) => r.environment],
  ['route', (r) => r.route],
  ['commit', (r) => r.commit],
  ['model', (r) => r.model],
  ['provider', (r) => r.provider],
  ['team', (r) => r.team],
  ['tenant', (r) => r.tenant],
  ['feature', (r) => r.feature],
  ['input_tokens', (r) => r.inputTokens],
  ['output_tokens', (r) => r.outputTokens],
  ['cache_read_tokens', (r) => r.cacheReadTokens],
  ['cache_write_tokens', (r) => r.cacheWriteTokens],
  ['reasoning_tokens', (r) => r.reasoningTokens],
  ['gpu_type', (r) => r.gpuType],
  ['gpu_count', (r) => r.gpuCount],
  ['gpu_seconds', (r) => r.gpuSeconds],
  ['instance_type', (r) => r.instanceType],
  ['cost_input', (r) => r.costInput.toDecimalString()],
  ['cost_output', (r) => r.costOutput.toDecimalString()],
  ['cost_cache_read', (r) => r.costCacheRead.toDecimalString()],
  ['cost_cache_write', (r) => r.costCacheWrite.toDecimalString()],
  ['cost_reasoning', (r) => r.costReasoning.toDecimalString()],
  ['cost_gpu', (r) => r.costGpu.toDecimalString()],
  ['cost_compute', (r) => r.costCompute.toDecimalString()],
  ['cost_total', (r) => r.costTotal.toDecimalString()],
  ['currency', (r) => r.currency],
  ['pricing_version', (r) => r.pricingVersion],
  ['pricing_source', (r) => r.pricingSource],
  ['price_ids', (r) => r.priceIds],
  ['unpriced_reason', (r) => r.unpricedReason],
  ['kafka_topic', (r) => r.kafkaTopic],
  ['kafka_partition', (r) => r.kafkaPartition],
  ['kafka_offset', (r) => r.kafkaOffset],
  ['attribute_keys', (r) => r.attributeKeys],
  ['attribute_values', (r) => r.attributeValues],
];

/** Production cost storage on ClickHouse: migrations, batched span inserts, queries. */
export class ClickHouseStore {
  readonly database: string;
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
    const result = await this.client.ping();
    return result.success;
  }

  /** Creates the database and applies every pending migration, in order. Idempotent. */
  async migrate(migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
    const db = this.database;
    await this.command(`CREATE DATABASE IF NOT EXISTS ${db}`, 'MIGRATION_FAILED');
    await this.command(
      `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (version UInt32, name String, applied_at DateTime('UTC') DEFAULT now()) ENGINE = MergeTree() ORDER BY version`,
      'MIGRATION_FAILED',
    );
    const applied = new Set(
      (await this.select<{ version: number }>(`SELECT DISTINCT version FROM ${db}.schema_migrations`)).map((r) =>
        Number(r.version),
      ),
    );
    const done: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      for (const statement of migration.statements) {
        await this.command(renderStatement(statement, db), 'MIGRATION_FAILED');
      }
      await this.command(
        `INSERT INTO ${db}.schema_migrations (version, name) VALUES (${migration.version}, ${stringLiteral(migration.name)})`,
        'MIGRATION_FAILED',
      );
      done.push(migration.version);
    }
    return done;
  }

  /** Inserts rows in one request (one atomic block for batches under max_insert_block_size). */
  async insertSpanCosts(rows: readonly SpanCostRow[]): Promise<void> {
    if (rows.length === 0) return;
    let body = '';
    for (const row of rows) body += tsvRow(SPAN_COLUMNS.map(([, read]) => read(row)));
    const columns = SPAN_COLUMNS.map(([name]) => name);
    try {
      await this.client.insert({
        table: `${this.database}.span_costs`,
        values: Readable.from([Buffer.from(body, 'utf8')], { objectMode: false }),
        format: 'TabSeparated',
        columns: columns as [string, ...string[]],
      });
    } catch (cause) {
      throw toStoreError('INSERT_FAILED', `inserting ${rows.length} span cost rows failed`, cause);
    }
  }

  /** Runs a read query built from allow-listed parts and quoted literals; rows as JSON objects. */
  async select<T>(query: string): Promise<T[]> {
    try {
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
