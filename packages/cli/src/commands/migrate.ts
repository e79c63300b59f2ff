import { MIGRATIONS } from '@costtrace/store';
import type { ClickHouseStore } from '@costtrace/store';
import { parseFlags } from '../command-args.js';
import type { ArgsResult, CommandOutput } from '../command-args.js';

export const MIGRATE_USAGE = 'costtrace migrate [--status]';

export function parseMigrateArgs(argv: readonly string[]): ArgsResult<{ statusOnly: boolean }> {
  const flags = parseFlags(argv, { status: { value: false } });
  if (!flags.ok) return flags;
  return { ok: true, value: { statusOnly: flags.value.has('status') } };
}

/** `costtrace migrate`: applies pending ClickHouse migrations (or lists them with --status). */
export async function runMigrate(
  argv: readonly string[],
  deps: { readonly store: ClickHouseStore; readonly output: CommandOutput },
): Promise<number> {
  const args = parseMigrateArgs(argv);
  if (!args.ok) {
    deps.output.err(`costtrace migrate: ${args.message}\nusage: ${MIGRATE_USAGE}\n`);
    return 2;
  }
  if (args.value.statusOnly) {
    const applied = new Set(await deps.store.appliedMigrations().catch(() => [] as number[]));
    for (const m of MIGRATIONS)
      deps.output.out(`${applied.has(m.version) ? 'applied' : 'pending'}  ${m.version}  ${m.name}\n`);
    return 0;
  }
  const done = await deps.store.migrate();
  deps.output.out(
    done.length === 0
      ? `database ${deps.store.database} is up to date (${MIGRATIONS.length} migrations)\n`
      : `applied migrations ${done.join(', ')} to ${deps.store.database}\n`,
  );
  return 0;
}
