import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from '../store-error.js';
import { renderStatement } from './migrations.js';
import type { Migration } from './migrations.js';
import { identifier, stringLiteral } from './sql-literals.js';

/** What the migrator needs of a ClickHouse connection. */
export interface MigrationSql {
  readonly database: string;
  command(query: string, code?: 'MIGRATION_FAILED' | 'QUERY_FAILED'): Promise<void>;
  select<T>(query: string): Promise<T[]>;
}

export interface SchemaMigratorOptions {
  /** A lock not renewed for this long belongs to a migrator that died: it is taken over. */
  readonly leaseMs?: number | undefined;
  /** How often the holder renews the lock while it migrates. */
  readonly renewMs?: number | undefined;
}

/**
 * Applies pending migrations, one migrator at a time. Several aggregator instances start at once
 * in a scaled deployment, and a table rebuild (migration 6) is not safe to run twice at the same
 * time, so whoever has something to apply first takes a lock: the table
 * `schema_migrations_lock`, created with its holder row in one statement (CREATE fails for
 * everyone else). The holder renews it while it works and drops it at the end; the others wait,
 * then find the migrations applied. A lock nobody renewed within the lease is taken over: its
 * holder died, and each migration is written to be resumed (IF NOT EXISTS, columns added only
 * when missing, rebuilds that look where they stopped).
 */
export class SchemaMigrator {
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private readonly db: string;

  constructor(
    private readonly sql: MigrationSql,
    options: SchemaMigratorOptions = {},
  ) {
    this.db = identifier(sql.database);
    this.leaseMs = options.leaseMs ?? 60_000;
    this.renewMs = options.renewMs ?? 10_000;
  }

  /** Creates the database and applies every pending migration, in order. Returns those applied now. */
  async migrate(migrations: readonly Migration[]): Promise<number[]> {
    await this.sql.command(`CREATE DATABASE IF NOT EXISTS ${this.db}`, 'MIGRATION_FAILED');
    await this.sql.command(
      `CREATE TABLE IF NOT EXISTS ${this.db}.schema_migrations (version UInt32, name String, applied_at DateTime('UTC') DEFAULT now()) ENGINE = MergeTree() ORDER BY version`,
      'MIGRATION_FAILED',
    );
    const ordered = [...migrations].sort((a, b) => a.version - b.version);
    if ((await this.pending(ordered)).length === 0) return [];
    return this.withLock(async () => {
      const done: number[] = [];
      for (const migration of await this.pending(ordered)) {
        if (migration.addColumns !== undefined) await this.addMissingColumns(migration.addColumns);
        if (
          migration.rebuild === undefined ||
          !(await this.hasColumn(migration.rebuild.table, migration.rebuild.column))
        ) {
          for (const statement of migration.statements) {
            await this.sql.command(renderStatement(statement, this.db), 'MIGRATION_FAILED');
          }
          if (migration.rebuild !== undefined) await this.rebuild(migration.rebuild);
        }
        await this.sql.command(
          `INSERT INTO ${this.db}.schema_migrations (version, name) VALUES (${migration.version}, ${stringLiteral(migration.name)})`,
          'MIGRATION_FAILED',
        );
        done.push(migration.version);
      }
      return done;
    });
  }

  private async pending(ordered: readonly Migration[]): Promise<Migration[]> {
    const applied = new Set(
      (await this.sql.select<{ version: number }>(`SELECT DISTINCT version FROM ${this.db}.schema_migrations`)).map(
        (r) => Number(r.version),
      ),
    );
    return ordered.filter((m) => !applied.has(m.version));
  }

  private async withLock<T>(work: () => Promise<T>): Promise<T> {
    const lock = `${this.db}.schema_migrations_lock`;
    const holder = stringLiteral(randomUUID());
    for (;;) {
      try {
        await this.sql.command(`CREATE TABLE ${lock} ENGINE = Log AS SELECT ${holder} AS holder, now() AS at`);
        break;
      } catch (err) {
        if (!(err instanceof StoreError) || !/already exists/i.test(err.message)) throw err;
      }
      const [age] = await this.sql
        .select<{ age: string }>(`SELECT toString(toUInt32(now()) - toUInt32(max(at))) AS age FROM ${lock}`)
        .catch(() => []);
      if (age !== undefined && Number(age.age) * 1000 > this.leaseMs) {
        await this.sql.command(`DROP TABLE IF EXISTS ${lock}`);
        continue;
      }
      await sleep(250 + Math.floor(Math.random() * 500));
    }
    const renew = setInterval(() => {
      this.sql.command(`INSERT INTO ${lock} SELECT ${holder}, now()`).catch(() => undefined);
    }, this.renewMs);
    renew.unref();
    try {
      return await work();
    } finally {
      clearInterval(renew);
      await this.sql.command(`DROP TABLE IF EXISTS ${lock}`).catch(() => undefined);
    }
  }

  private async hasColumn(table: string, column: string): Promise<boolean> {
    const rows = await this.sql.select<{ n: string }>(
      `SELECT count() AS n FROM system.columns WHERE database = ${stringLiteral(this.db)} ` +
        `AND table = ${stringLiteral(table)} AND name = ${stringLiteral(column)}`,
    );
    return Number(rows[0]?.n ?? 0) > 0;
  }

  private async tableExists(table: string): Promise<boolean> {
    const rows = await this.sql.select<{ n: string }>(
      `SELECT count() AS n FROM system.tables WHERE database = ${stringLiteral(this.db)} AND name = ${stringLiteral(table)}`,
    );
    return Number(rows[0]?.n ?? 0) > 0;
  }

  /**
   * A table rebuild (see `Migration.rebuild`), resumed where a migrator that died left it: with
   * the table gone and `_next` present it died between the two renames, after `_next` was
   * filled, so only the last rename is left; otherwise `_next` is built again from the start.
   */
  private async rebuild(spec: NonNullable<Migration['rebuild']>): Promise<void> {
    const name = identifier(spec.table);
    const [table, next, old] = [name, `${name}_next`, `${name}_old`].map((t) => `${this.db}.${t}`) as [
      string,
      string,
      string,
    ];
    const run = (statement: string): Promise<void> => this.sql.command(statement, 'MIGRATION_FAILED');
    if (!(await this.tableExists(name)) && (await this.tableExists(`${name}_next`))) {
      await run(`RENAME TABLE ${next} TO ${table}`);
      return;
    }
    await run(`DROP TABLE IF EXISTS ${next}`);
    await run(renderStatement(spec.create, this.db));
    await run(renderStatement(spec.fill, this.db));
    if (await this.tableExists(name)) {
      await run(`DROP TABLE IF EXISTS ${old}`);
      await run(`RENAME TABLE ${table} TO ${old}`);
    }
    await run(`RENAME TABLE ${next} TO ${table}`);
  }

  /**
   * Adds the columns a table lacks (18.16 has no ADD COLUMN IF NOT EXISTS), so a migration
   * interrupted half way can be run again.
   */
  private async addMissingColumns(spec: NonNullable<Migration['addColumns']>): Promise<void> {
    const table = identifier(spec.table);
    const existing = new Set(
      (
        await this.sql.select<{ name: string }>(
          `SELECT name FROM system.columns WHERE database = ${stringLiteral(this.db)} AND table = ${stringLiteral(table)}`,
        )
      ).map((r) => r.name),
    );
    const todo = spec.columns.filter(([name]) => !existing.has(name));
    if (todo.length === 0) return;
    const adds = todo.map(([name, type]) => `ADD COLUMN ${identifier(name)} ${type}`).join(', ');
    await this.sql.command(`ALTER TABLE ${this.db}.${table} ${adds}`, 'MIGRATION_FAILED');
  }
}
