import { formatScaled, MONEY_SCALE, parseScaled } from '@costtrace/core';
import type { DuckDbMigration, DuckDbStore } from '@costtrace/store';
import type { KeySnapshot } from './budget-engine.js';
import { storedDocuments } from './budget-store.js';
import type { BudgetStore, DocumentKind, StoredDocument } from './budget-store.js';

/**
 * Budget tables on the embedded DuckDB file, versions 100+ like their ClickHouse twins. Rows are
 * appended with a version and read back as the latest version per key (what ReplacingMergeTree
 * plus argMax give on ClickHouse).
 */
export const DUCKDB_BUDGET_MIGRATIONS: readonly DuckDbMigration[] = [
  {
    version: 100,
    name: 'budget_documents',
    statements: [
      `CREATE TABLE IF NOT EXISTS budget_documents (
        kind VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        version UBIGINT NOT NULL,
        deleted UTINYINT NOT NULL,
        document VARCHAR NOT NULL
      )`,
    ],
  },
  {
    version: 101,
    name: 'budget_key_state',
    statements: [
      `CREATE TABLE IF NOT EXISTS budget_key_state (
        delta_topic VARCHAR NOT NULL,
        delta_partition UINTEGER NOT NULL,
        budget_id VARCHAR NOT NULL,
        scope_key VARCHAR NOT NULL,
        version UBIGINT NOT NULL,
        spend DECIMAL(38,12) NOT NULL,
        engaged UTINYINT NOT NULL,
        state VARCHAR NOT NULL
      )`,
    ],
  },
];

/** A SQL string literal for DuckDB: quotes doubled; NUL refused. */
function text(value: string): string {
  if (value.includes('\0')) throw new RangeError('DuckDB strings cannot contain NUL');
  return `'${value.replaceAll("'", "''")}'`;
}

function int(value: bigint | number): string {
  const big = BigInt(value);
  if (big < 0n) throw new RangeError(`expected a non-negative integer, got ${value}`);
  return big.toString();
}

/** BudgetStore of the embedded mode, on the same DuckDB file as the span costs. */
export class DuckDbBudgetStore implements BudgetStore {
  constructor(private readonly store: DuckDbStore) {}

  async migrate(): Promise<void> {
    await this.store.migrate(DUCKDB_BUDGET_MIGRATIONS);
  }

  async loadDocuments(kinds: readonly DocumentKind[]): Promise<StoredDocument[]> {
    if (kinds.length === 0) return [];
    const rows = await this.store.select<{ kind: string; id: string; v: string; del: number; doc: string }>(
      `SELECT kind, id, max(version)::VARCHAR AS v, arg_max(deleted, version) AS del, arg_max(document, version) AS doc
       FROM budget_documents WHERE kind IN (${kinds.map(text).join(', ')}) GROUP BY kind, id ORDER BY kind, id`,
    );
    return storedDocuments(rows);
  }

  async saveDocument(doc: StoredDocument): Promise<void> {
    await this.store.command(
      `INSERT INTO budget_documents VALUES (${text(doc.kind)}, ${text(doc.id)}, ${int(doc.version)}, ${doc.deleted ? 1 : 0}, ${text(doc.document)})`,
    );
  }

  async loadKeyStates(topic: string, partitions: readonly number[]): Promise<KeySnapshot[]> {
    if (partitions.length === 0) return [];
    const rows = await this.store.select<{ state: string }>(
      `SELECT arg_max(state, version) AS state FROM budget_key_state
       WHERE delta_topic = ${text(topic)} AND delta_partition IN (${partitions.map(int).join(', ')})
       GROUP BY delta_partition, budget_id, scope_key`,
    );
    return rows.map((r) => JSON.parse(r.state) as KeySnapshot);
  }

  async loadBudgetKeys(
    topic: string,
    budgetId: string,
    limit: number,
  ): Promise<{ snapshot: KeySnapshot; spend: bigint }[]> {
    const rows = await this.store.select<{ state: string; spend: string }>(
      `SELECT arg_max(state, version) AS state, arg_max(spend, version)::VARCHAR AS spend FROM budget_key_state
       WHERE delta_topic = ${text(topic)} AND budget_id = ${text(budgetId)}
       GROUP BY scope_key ORDER BY scope_key LIMIT ${int(limit)}`,
    );
    return rows.map((r) => ({
      snapshot: JSON.parse(r.state) as KeySnapshot,
      spend: parseScaled(r.spend, MONEY_SCALE),
    }));
  }

  async saveKeyStates(
    topic: string,
    snapshots: readonly { snapshot: KeySnapshot; spend: bigint; version: bigint }[],
  ): Promise<void> {
    if (snapshots.length === 0) return;
    const values = snapshots.map(
      ({ snapshot, spend, version }) =>
        `(${text(topic)}, ${int(snapshot.partition)}, ${text(snapshot.budgetId)}, ${text(snapshot.scopeKey)}, ${int(version)}, ` +
        `${formatScaled(spend, MONEY_SCALE)}::DECIMAL(38,12), ${snapshot.thresholds.throttle.engaged ? 1 : 0}, ${text(JSON.stringify(snapshot))})`,
    );
    await this.store.command(`INSERT INTO budget_key_state VALUES ${values.join(', ')}`);
  }
}
