import { DUCKDB_MIGRATIONS, MIGRATIONS } from '@costtrace/store';
import type { ClickHouseStore, DuckDbStore } from '@costtrace/store';
import { parseFlags } from '../command-args.js';
import type { CommandOutput } from '../command-args.js';
import type { ArgsResult } from '../args.js';

export const MIGRATE_USAGE = 'costtrace migrate [--status | --check-rollup] [--store clickhouse|duckdb:PATH]';

export function parseMigrateArgs(argv: readonly string[]): ArgsResult<{ statusOnly: boolean; checkRollup: boolean }> {
  const flags = parseFlags(argv, { status: { type: 'boolean' }, 'check-rollup': { type: 'boolean' } });
  if (!flags.ok) return flags;
  const statusOnly = flags.value.has('status');
  const checkRollup = flags.value.has('check-rollup');
  if (statusOnly && checkRollup) return { ok: false, message: '--status and --check-rollup exclude each other' };
  return { ok: true, value: { statusOnly, checkRollup } };
}

/** Differing minutes listed at most; the count is always given. */
const SHOWN_DIFFERENCES = 20;

/** The schema a store keeps and how to name it in output. */
function schemaOf(store: ClickHouseStore | DuckDbStore): {
  migrations: readonly { version: number; name: string }[];
  label: string;
} {
  return store.kind === 'duckdb'
    ? { migrations: DUCKDB_MIGRATIONS, label: `DuckDB ${store.path}` }
    : { migrations: MIGRATIONS, label: `database ${store.database}` };
}

/**
 * `costtrace migrate`: applies pending migrations of ClickHouse or a DuckDB file, lists them with
 * --status, or with --check-rollup compares every minute of the rollup with the span rows (exit 1
 * when any differs).
 */
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
  if (args.value.checkRollup) {
    // Every minute of the rollup against the span rows it summarises (every measure compared).
    const differences = await deps.store.rollupDifferences();
    if (differences.length === 0) {
      deps.output.out(`${label}: the rollup equals span_costs in every minute\n`);
      return 0;
    }
    deps.output.out(`${label}: the rollup differs from span_costs in ${differences.length} minute(s)\n`);
    deps.output.out('minute (UTC)          spans (rows / rollup)  cost_total (rows / rollup)\n');
    for (const d of differences.slice(0, SHOWN_DIFFERENCES)) {
      const minute = new Date(d.minute * 1000).toISOString().slice(0, 16).replace('T', ' ');
      deps.output.out(
        `${minute}      ${`${d.spans[0]} / ${d.spans[1]}`.padEnd(23)}${d.costTotal[0]} / ${d.costTotal[1]}\n`,
      );
    }
    if (differences.length > SHOWN_DIFFERENCES) {
      deps.output.out(`… and ${differences.length - SHOWN_DIFFERENCES} more\n`);
    }
    return 1;
  }
  const done = await deps.store.migrate();
  deps.output.out(
    done.length === 0
      ? `${label} is up to date (${migrations.length} migrations)\n`
      : `applied migrations ${done.join(', ')} to ${label}\n`,
  );
  return 0;
}
