#!/usr/bin/env node
// The `costtrace` command: a thin dispatcher over command functions that take their
// dependencies, so each command is testable without spawning a process.
import { storeFromEnv } from './clickhouse-from-env.js';
import type { CommandOutput } from './command-args.js';
import { MIGRATE_USAGE, runMigrate } from './commands/migrate.js';
import { REPORT_USAGE, runReport } from './commands/report.js';
import { REPRICE_USAGE, runReprice } from './commands/reprice.js';

const output: CommandOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};
const COMMANDS = { report: runReport, migrate: runMigrate, reprice: runReprice } as const;
const USAGE = `usage:\n  ${REPORT_USAGE}\n  ${MIGRATE_USAGE}\n  ${REPRICE_USAGE}\nClickHouse from CLICKHOUSE_URL, CLICKHOUSE_DATABASE, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD.\n`;

const [name, ...rest] = process.argv.slice(2);
const command = name === undefined ? undefined : COMMANDS[name as keyof typeof COMMANDS];
if (command === undefined) {
  output.err(name === undefined || name === '--help' ? USAGE : `costtrace: unknown command ${name}\n${USAGE}`);
  process.exitCode = name === '--help' ? 0 : 2;
} else {
  const store = storeFromEnv();
  try {
    process.exitCode = await command(rest, { store, output });
  } catch (err) {
    output.err(`costtrace ${name}: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await store.close();
  }
}
