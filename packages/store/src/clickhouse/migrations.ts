import { CLICKHOUSE_BILL_TABLES, CLICKHOUSE_RECONCILE_TABLE } from '../billing/bill-tables.js';
import { CLICKHOUSE_JOB_ESTIMATES_TABLE } from '../jobs/job-tables.js';
import { identifier } from './sql-literals.js';

/**
 * Versioned ClickHouse schema. Every statement runs unchanged on the ClickHouse 18.16 that CI
 * provisions (no DateTime64, Map, TTL, query parameters) and on current releases. `{db}` is
 * replaced by the checked database name. Append only: never edit an applied migration.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /**
   * Columns added to an existing table, applied before `statements`. 18.16 has no
   * `ADD COLUMN IF NOT EXISTS`, so the runner adds only the columns `system.columns` lacks:
   * a migration interrupted half way can be run again.
   */
  readonly addColumns?: { readonly table: string; readonly columns: readonly (readonly [string, string])[] };
  /** Idempotent statements (`IF NOT EXISTS`), run in order. */
  readonly statements: readonly string[];
  /**
   * A table rebuilt in a new shape and swapped in, for a change ALTER cannot make (an ORDER BY).
   * `create` makes `{db}.<table>_next` and `fill` fills it, after `statements`; the old table is
   * renamed to `<table>_old` and `_next` to `<table>`. Done when `table` has `column`. RENAME of
   * two tables is not one step on 18.16, so the runner looks where a migrator that died left off
   * and resumes from there (see `SchemaMigrator`).
   */
  readonly rebuild?: {
    readonly table: string;
    readonly column: string;
    readonly create: string;
    readonly fill: string;
  };
}

/**
 * Dimensions of the per-minute rollup as migrations 3 to 11 built it. Frozen: those migrations
 * must create the same tables on a fresh database whatever the rollup has become since.
 */
export const ROLLUP_DIMENSIONS_V3 = [
  'service',
  'environment',
  'route',
  'commit',
  'model',
  'provider',
  'team',
  'tenant',
] as const;

/** As migrations 12 and 13 built it (the job added). Frozen likewise. */
const ROLLUP_DIMENSIONS_V12 = [...ROLLUP_DIMENSIONS_V3, 'job_id', 'job_kind'] as const;

/**
 * Dimensions of the per-minute rollup, in its ORDER BY order. Changing them takes a new migration
 * that rebuilds the rollup from the spans (as 6 and 12 do) with a new frozen list.
 */
export const ROLLUP_DIMENSIONS = ROLLUP_DIMENSIONS_V12;
export type RollupDimension = (typeof ROLLUP_DIMENSIONS)[number];

/**
 * The rollup's measures: column, type, and the per-span expression over a span_costs row that
 * the materialized view writes (the rollup sums them).
 */
export const ROLLUP_MEASURES: readonly (readonly [column: string, type: string, perSpan: string])[] = [
  // Signed: a repair may have to take away what a crash left counted without its spans.
  ['spans', 'Int64', 'toInt64(1)'],
  ['requests', 'Int64', 'toInt64(is_request)'],
  ['errors', 'Int64', 'toInt64(status_code = 2)'],
  ['unpriced', 'Int64', "toInt64(unpriced_reason != '')"],
  ['input_tokens', 'Int64', 'toInt64(input_tokens)'],
  ['output_tokens', 'Int64', 'toInt64(output_tokens)'],
  ['cache_read_tokens', 'Int64', 'toInt64(cache_read_tokens)'],
  ['cache_write_tokens', 'Int64', 'toInt64(cache_write_tokens)'],
  ['reasoning_tokens', 'Int64', 'toInt64(reasoning_tokens)'],
  ['gpu_seconds', 'Decimal(38, 12)', 'gpu_seconds'],
  ['cost_input', 'Decimal(38, 12)', 'cost_input'],
  ['cost_output', 'Decimal(38, 12)', 'cost_output'],
  ['cost_cache_read', 'Decimal(38, 12)', 'cost_cache_read'],
  ['cost_cache_write', 'Decimal(38, 12)', 'cost_cache_write'],
  ['cost_reasoning', 'Decimal(38, 12)', 'cost_reasoning'],
  ['cost_gpu', 'Decimal(38, 12)', 'cost_gpu'],
  ['cost_compute', 'Decimal(38, 12)', 'cost_compute'],
  ['cost_total', 'Decimal(38, 12)', 'cost_total'],
];

/**
 * The rollup's key after migration 6, in ORDER BY order: the minute, the dimensions, the currency
 * and the source Kafka partition. The source is part of the key so that the one consumer that owns
 * a partition can compare the rollup with the spans of that partition and repair a minute after a
 * crash without racing the other consumers' inserts (see `ClickHouseStore.recoverStoredSpans`).
 */
export const ROLLUP_KEY = rollupKey(ROLLUP_DIMENSIONS);

function rollupKey<D extends string>(
  dimensions: readonly D[],
): readonly ['minute', ...D[], 'currency', 'kafka_topic', 'kafka_partition'] {
  return ['minute', ...dimensions, 'currency', 'kafka_topic', 'kafka_partition'];
}

/** The minute of a span_costs row, as the rollup keys it. */
export const ROLLUP_MINUTE = "toDateTime(intDiv(toUInt32(start_time), 60) * 60, 'UTC')";

/**
 * One rollup row per span_costs row: what the materialized view writes, and what the backfill and
 * the repair aggregate (so that all three fold dimensions and compute measures identically).
 * `db` is a checked identifier, or `{db}` in migration statements; `where` is built from literals.
 */
export function rollupRowSelect(db: string, where = '', dimensions: readonly string[] = ROLLUP_DIMENSIONS): string {
  return [
    `SELECT ${ROLLUP_MINUTE} AS minute`,
    ...dimensions.map(folded),
    'currency',
    'kafka_topic',
    'kafka_partition',
    ...ROLLUP_MEASURES.map(([column, , perSpan]) => `${perSpan} AS ${column}`),
  ]
    .join(',\n        ')
    .concat(`\n      FROM ${db}.span_costs${where === '' ? '' : ` WHERE ${where}`}`);
}

/** `rollupRowSelect` summed per rollup key: the rollup as the spans say it should be. */
export function rollupTruthSelect(db: string, where = '', dimensions: readonly string[] = ROLLUP_DIMENSIONS): string {
  const key = rollupKey(dimensions).join(', ');
  return (
    `SELECT ${key}, ` +
    ROLLUP_MEASURES.map(([column]) => `sum(${column}) AS ${column}`).join(', ') +
    ` FROM (${rollupRowSelect(db, where, dimensions)}) GROUP BY ${key}`
  );
}

/** The rollup rebuilt with `dimensions`: a table `name`, and how to fill it from the spans. */
function rollupRebuild(name: string, dimensions: readonly string[]): { create: string; fill: string } {
  return {
    create: rollupTable(`${name}_next`, dimensions),
    fill:
      `INSERT INTO {db}.${name}_next (${[...rollupKey(dimensions), ...ROLLUP_MEASURES.map(([c]) => c)].join(', ')}) ` +
      rollupTruthSelect('{db}', '', dimensions),
  };
}

function rollupTable(name: string, dimensions: readonly string[]): string {
  const key = rollupKey(dimensions);
  return `CREATE TABLE {db}.${name} (
        minute DateTime('UTC'),
        ${dimensions.map((d) => `${d} String`).join(',\n        ')},
        currency String,
        kafka_topic String,
        kafka_partition UInt32,
        ${ROLLUP_MEASURES.map(([column, type]) => `${column} ${type}`).join(',\n        ')}
      ) ENGINE = SummingMergeTree()
      PARTITION BY toYYYYMM(minute)
      ORDER BY (${key.join(', ')})`;
}

/**
 * A rollup dimension as the materialized view writes it: the true value, or \`__other__\` when the
 * consumer's cardinality bound folded it (the span row lists folded dimensions in
 * rollup_overflow; span_costs itself keeps the true value).
 */
function folded(dimension: string): string {
  return `if(has(rollup_overflow, '${dimension}'), '__other__', ${dimension}) AS ${dimension}`;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'span_costs',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.span_costs (
        start_time DateTime('UTC'),
        start_time_unix_nano UInt64,
        end_time_unix_nano UInt64,
        duration_ns UInt64,
        trace_id String,
        span_id String,
        parent_span_id String,
        span_name String,
        service String,
        environment String,
        route String,
        commit String,
        model String,
        provider String,
        team String,
        tenant String,
        feature String,
        input_tokens UInt64,
        output_tokens UInt64,
        cache_read_tokens UInt64,
        cache_write_tokens UInt64,
        reasoning_tokens UInt64,
        gpu_type String,
        gpu_count Float64,
        gpu_seconds Decimal(38, 12),
        instance_type String,
        cost_input Decimal(38, 12),
        cost_output Decimal(38, 12),
        cost_cache_read Decimal(38, 12),
        cost_cache_write Decimal(38, 12),
        cost_reasoning Decimal(38, 12),
        cost_gpu Decimal(38, 12),
        cost_compute Decimal(38, 12),
        cost_total Decimal(38, 12),
        currency String,
        pricing_version String,
        pricing_source String,
        price_ids Array(String),
        unpriced_reason String,
        kafka_topic String,
        kafka_partition UInt32,
        kafka_offset UInt64,
        attribute_keys Array(String),
        attribute_values Array(String),
        inserted_at DateTime('UTC') DEFAULT now()
      ) ENGINE = MergeTree()
      PARTITION BY toYYYYMMDD(start_time)
      ORDER BY (service, start_time, trace_id, span_id)`,
    ],
  },
  {
    version: 2,
    name: 'span_costs_kind_request_overflow',
    addColumns: {
      table: 'span_costs',
      columns: [
        // OTLP SpanKind number (0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer).
        ['span_kind', 'UInt8 DEFAULT 0'],
        // OTLP status code (0 unset, 1 ok, 2 error).
        ['status_code', 'UInt8 DEFAULT 0'],
        // 1 for a span that is a request: a server span or a root span (the per-request denominator).
        ['is_request', 'UInt8 DEFAULT 0'],
        // Rollup dimensions whose value the cardinality bound folded into __other__.
        ['rollup_overflow', 'Array(String)'],
        // Validation fixes applied to this span (e.g. end_before_start, attribute_truncated).
        ['sanitized', 'Array(String)'],
      ],
    },
    statements: [],
  },
  {
    version: 3,
    name: 'span_costs_1m_rollup',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.span_costs_1m (
        minute DateTime('UTC'),
        service String,
        environment String,
        route String,
        commit String,
        model String,
        provider String,
        team String,
        tenant String,
        currency String,
        spans UInt64,
        requests UInt64,
        errors UInt64,
        unpriced UInt64,
        input_tokens UInt64,
        output_tokens UInt64,
        cache_read_tokens UInt64,
        cache_write_tokens UInt64,
        reasoning_tokens UInt64,
        gpu_seconds Decimal(38, 12),
        cost_input Decimal(38, 12),
        cost_output Decimal(38, 12),
        cost_cache_read Decimal(38, 12),
        cost_cache_write Decimal(38, 12),
        cost_reasoning Decimal(38, 12),
        cost_gpu Decimal(38, 12),
        cost_compute Decimal(38, 12),
        cost_total Decimal(38, 12)
      ) ENGINE = SummingMergeTree()
      PARTITION BY toYYYYMM(minute)
      ORDER BY (minute, service, environment, route, commit, model, provider, team, tenant, currency)`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.span_costs_1m_mv TO {db}.span_costs_1m AS
      SELECT
        toDateTime(intDiv(toUInt32(start_time), 60) * 60, 'UTC') AS minute,
        ${ROLLUP_DIMENSIONS_V3.map(folded).join(',\n        ')},
        currency,
        toUInt64(1) AS spans,
        toUInt64(is_request) AS requests,
        toUInt64(status_code = 2) AS errors,
        toUInt64(unpriced_reason != '') AS unpriced,
        input_tokens,
        output_tokens,
        cache_read_tokens,
        cache_write_tokens,
        reasoning_tokens,
        gpu_seconds,
        cost_input,
        cost_output,
        cost_cache_read,
        cost_cache_write,
        cost_reasoning,
        cost_gpu,
        cost_compute,
        cost_total
      FROM {db}.span_costs`,
    ],
  },
  {
    version: 4,
    name: 'cost_corrections',
    statements: [
      // Re-pricing writes here, never into span_costs: the original figures stay as stored and
      // each correction is a versioned delta against them (see `costtrace reprice`).
      `CREATE TABLE IF NOT EXISTS {db}.cost_corrections (
        correction_id String,
        snapshot_version String,
        applied_at DateTime('UTC'),
        reason String,
        start_time DateTime('UTC'),
        trace_id String,
        span_id String,
        service String,
        environment String,
        route String,
        commit String,
        model String,
        provider String,
        team String,
        tenant String,
        currency String,
        previous_total Decimal(38, 12),
        corrected_total Decimal(38, 12),
        delta_total Decimal(38, 12)
      ) ENGINE = MergeTree()
      PARTITION BY toYYYYMMDD(start_time)
      ORDER BY (start_time, trace_id, span_id, correction_id)`,
    ],
  },
  {
    version: 5,
    name: 'span_costs_kafka_span_index',
    addColumns: {
      table: 'span_costs',
      // The span's position in its Kafka message: (topic, partition, offset, index) identifies a
      // row, so recovery can tell exactly which spans of a message are stored.
      columns: [['kafka_span_index', 'UInt32 DEFAULT 0']],
    },
    statements: [],
  },
  {
    // The rollup rebuilt with its source Kafka partition in the key (see ROLLUP_KEY), from the
    // spans themselves (which also corrects any drift the old view left after a crash). Writers
    // must be stopped while it runs on a database that already holds spans: spans stored between
    // the backfill and migration 7 would be missing from the rollup.
    version: 6,
    name: 'span_costs_1m_by_source',
    statements: ['DROP TABLE IF EXISTS {db}.span_costs_1m_mv'],
    rebuild: {
      table: 'span_costs_1m',
      column: 'kafka_partition',
      ...rollupRebuild('span_costs_1m', ROLLUP_DIMENSIONS_V3),
    },
  },
  {
    version: 7,
    name: 'span_costs_1m_mv_by_source',
    statements: [
      `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.span_costs_1m_mv TO {db}.span_costs_1m AS\n      ${rollupRowSelect('{db}', '', ROLLUP_DIMENSIONS_V3)}`,
      'DROP TABLE IF EXISTS {db}.span_costs_1m_old',
    ],
  },
  {
    version: 8,
    name: 'span_costs_pricing_usage',
    addColumns: {
      table: 'span_costs',
      // What the pricer read beyond the usage columns (see SpanCostRow.gpuProvider…), so a
      // re-pricing run prices GPU and instance time as the consumer did; and whether the cost is
      // an upper bound (SpanCostRow.costUpperBound), and which instrumentation emitted the span.
      columns: [
        ['gpu_provider', "String DEFAULT ''"],
        ['gpu_pricing_model', "String DEFAULT ''"],
        ['cloud_provider', "String DEFAULT ''"],
        ['cloud_region', "String DEFAULT ''"],
        ['instance_pricing_model', "String DEFAULT ''"],
        ['instance_seconds', 'Decimal(38, 12) DEFAULT 0'],
        ['usage_complete', 'UInt8 DEFAULT 0'],
        ['cost_upper_bound', 'UInt8 DEFAULT 0'],
        ['emitter', "String DEFAULT ''"],
      ],
    },
    statements: [],
  },
  {
    version: 9,
    name: 'span_costs_one_charge_per_call',
    addColumns: {
      table: 'span_costs',
      // One model call, one charge (SpanCostRow.usageRole…): which spans repeat another's call
      // and which it is, the response id and usage key they were matched by, so a consumer that
      // takes over a partition restores what the previous owner decided.
      columns: [
        ['usage_role', "String DEFAULT ''"],
        ['duplicate_of', "String DEFAULT ''"],
        ['response_id', "String DEFAULT ''"],
        ['usage_key', "String DEFAULT ''"],
      ],
    },
    statements: [],
  },
  {
    version: 10,
    name: 'billed_lines',
    // Imported bills (provider usage and cost reports, FOCUS and CUR exports) beside the spans,
    // for `costtrace reconcile` (see bill-tables.ts).
    statements: CLICKHOUSE_BILL_TABLES,
  },
  {
    version: 11,
    name: 'reconcile_results',
    // Saved reconcile runs (costtrace reconcile --save, drift checks): see bill-tables.ts.
    statements: [CLICKHOUSE_RECONCILE_TABLE],
  },
  {
    // Jobs (docs/jobs.md): the job of each span, the job's id and kind as rollup dimensions, and
    // the estimates recorded for jobs.
    // The rollup is rebuilt from the spans as in migration 6, with the same caveat: writers must be
    // stopped while it runs on a database that already holds spans.
    version: 12,
    name: 'span_costs_jobs',
    addColumns: {
      table: 'span_costs',
      columns: [
        ['job_id', "String DEFAULT ''"],
        ['job_kind', "String DEFAULT ''"],
        // -1: the span is in no epoch.
        ['job_epoch', 'Int64 DEFAULT -1'],
        ['job_samples', 'UInt64 DEFAULT 0'],
      ],
    },
    statements: [CLICKHOUSE_JOB_ESTIMATES_TABLE, 'DROP TABLE IF EXISTS {db}.span_costs_1m_mv'],
    rebuild: { table: 'span_costs_1m', column: 'job_id', ...rollupRebuild('span_costs_1m', ROLLUP_DIMENSIONS_V12) },
  },
  {
    version: 13,
    name: 'span_costs_1m_mv_jobs',
    statements: [
      `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.span_costs_1m_mv TO {db}.span_costs_1m AS\n      ${rollupRowSelect('{db}', '', ROLLUP_DIMENSIONS_V12)}`,
      'DROP TABLE IF EXISTS {db}.span_costs_1m_old',
    ],
  },
];

/** Tables under the partition-drop retention job, with their partition key's granularity. */
export const RETENTION_TABLES = [
  { table: 'span_costs', partition: 'day' },
  { table: 'cost_corrections', partition: 'day' },
  { table: 'span_costs_1m', partition: 'month' },
] as const;

export function renderStatement(statement: string, database: string): string {
  return statement.replaceAll('{db}', identifier(database));
}

/**
 * Every statement of a migration for a database that has none of its added columns yet (a
 * fresh database): what `ClickHouseStore.migrate` runs there. Used to run the same schema on
 * other engines (the chDB comparison test).
 */
export function migrationStatements(migration: Migration, database: string): string[] {
  const db = identifier(database);
  const out: string[] = [];
  if (migration.addColumns !== undefined) {
    const adds = migration.addColumns.columns
      .map(([name, type]) => `ADD COLUMN ${identifier(name)} ${type}`)
      .join(', ');
    out.push(`ALTER TABLE ${db}.${identifier(migration.addColumns.table)} ${adds}`);
  }
  for (const statement of migration.statements) out.push(renderStatement(statement, db));
  out.push(...rebuildStatements(migration, db));
  return out;
}

/** The statements of a migration's table rebuild from the start (see `Migration.rebuild`). */
export function rebuildStatements(migration: Migration, database: string): string[] {
  const spec = migration.rebuild;
  if (spec === undefined) return [];
  const db = identifier(database);
  const table = `${db}.${identifier(spec.table)}`;
  return [
    `DROP TABLE IF EXISTS ${table}_next`,
    renderStatement(spec.create, db),
    renderStatement(spec.fill, db),
    `DROP TABLE IF EXISTS ${table}_old`,
    `RENAME TABLE ${table} TO ${table}_old`,
    `RENAME TABLE ${table}_next TO ${table}`,
  ];
}
