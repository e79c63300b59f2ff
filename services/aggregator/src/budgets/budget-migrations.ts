import type { Migration } from '@costtrace/store';

/**
 * ClickHouse tables of budgets (versions 100+, kept apart from the span schema's 1..99). They run
 * unchanged on ClickHouse 18.16 and current releases: ReplacingMergeTree keyed by a version,
 * read back with argMax, so no UPDATE is ever needed.
 */
export const BUDGET_MIGRATIONS: readonly Migration[] = [
  {
    version: 100,
    name: 'budget_documents',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.budget_documents (
        kind String,
        id String,
        version UInt64,
        deleted UInt8,
        document String,
        updated_at DateTime('UTC') DEFAULT now()
      ) ENGINE = ReplacingMergeTree(version)
      ORDER BY (kind, id)`,
    ],
  },
  {
    version: 101,
    name: 'budget_key_state',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.budget_key_state (
        delta_topic String,
        delta_partition UInt32,
        budget_id String,
        scope_key String,
        version UInt64,
        spend Decimal(38, 12),
        engaged UInt8,
        state String,
        updated_at DateTime('UTC') DEFAULT now()
      ) ENGINE = ReplacingMergeTree(version)
      ORDER BY (delta_topic, delta_partition, budget_id, scope_key)`,
    ],
  },
];
