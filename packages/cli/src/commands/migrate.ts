import { DUCKDB_MIGRATIONS, MIGRATIONS } from '@costtrace/store';
import type { ClickHouseStore, DuckDbStore } from '@costtrace/store';
import { parseFlags } from '../command-args.js';
import type { ArgsResult, CommandOutput } from '../command-args.js';

export const MIGRATE_USAGE = 'costtrace migrate [--status] [--store clickhouse|duckdb:PATH]';

export function parseMigrateArgs(argv: readonly string[]): ArgsResult<{ statusOnly: boolean }> {
  const flags = parseFlags(argv, { status: { value: false } });
  if (!flags.ok) return flags;
  return { ok: true, value: { statusOnly: flags.value.has('status') } };
}

/** The schema a store keeps and how to name it in output. */
function schemaOf(store: ClickHouseStore | DuckDbStore): {
  migrations: readonly { version: number; name: string }[];
  label: string;
} {
  return store.kind === 'duckdb'
    ? { migrations: DUCKDB_MIGRATIONS, label: `DuckDB ${store.path}` }
    : { migrations: MIGRATIONS, label: `database ${store.database}` };
}

/** `costtrace migrate`: applies pending migrations of ClickHouse or a DuckDB file (or lists them with --status). */
export async function runMigrate(
  argv: readonly string[],
  deps: { readonly store: ClickHouseStore | DuckDbStore; readonly output: CommandOutput },
): Promise<number> {
  const args = parseMigrateArgs(argv);
  if (!args.ok) {
    deps.output.err(`costtrace migrate: ${args.message}\nusage: ${MIGRATE_USAGE}\n`);
    return 2;
  }
  const { migrations, label } = schemaOf(deps.store);
  if (args.value.statusOnly) {
    const applied = new Set(await deps.store.appliedMigrations().catch(() => [] as number[]));
    for (const m of migrations)
      deps.output.out(`${applied.has(m.version) ? 'applied' : 'pending'}  ${m.version}  ${m.name}\n`);
    return 0;
  }
  const done = await deps.store.migrate();
  deps.output.out(
    done.length === 0
      ? `${label} is up to date (${migrations.length} migrations)\n`
      : `applied migrations ${done.join(', ')} to ${label}\n`,
  );
  return 0;
}
