import { identifier } from './sql-literals.js';

/**
 * Versioned ClickHouse schema. Every statement runs unchanged on the ClickHouse 18.16 that CI
 * provisions (no DateTime64, Map, TTL, query parameters) and on current releases. `{db}` is
 * replaced by the checked database name. Append only: never edit an applied migration.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
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
];

export function renderStatement(statement: string, database: string): string {
  return statement.replaceAll('{db}', identifier(database));
}
