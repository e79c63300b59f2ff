import { pino } from 'pino';
import { DEV_COMMITS, EmbeddedStack } from '../dev/embedded-stack.js';

export const DEV_USAGE = `costtrace dev [--data-dir DIR] [--rps N] [--deploy-after SECONDS]

Runs all of costtrace in this process with no Kafka and no ClickHouse: pricing-cache, the
aggregator on an in-process bus and DuckDB, budgets with a sample budget, the instrumented demo
inference service and a load generator that deploys a second commit half way. Ctrl-C stops
everything cleanly; data persists under the data directory.

  --data-dir DIR        where the DuckDB file, the bus log and offsets live (default ./.costtrace)
  --rps N               load generator requests per second, 0 for none (default 20)
  --deploy-after S      seconds until the second commit is deployed (default 60)

examples:
  costtrace dev
  costtrace dev --data-dir /tmp/ct --rps 50 --deploy-after 20`;

export interface DevOptions {
  readonly dataDir: string;
  readonly rps: number;
  readonly deployAfterSeconds: number;
}

/** Parses `costtrace dev` flags: the options, or a message that says what to fix. */
export function parseDevArgs(
  argv: readonly string[],
): { ok: true; options: DevOptions } | { ok: false; message: string } {
  let dataDir = './.costtrace';
  let rps = 20;
  let deployAfterSeconds = 60;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    const number = (name: string, max: number): number | string => {
      if (value === undefined || !/^\d+(\.\d+)?$/.test(value) || Number(value) > max) {
        return `${name} needs a number from 0 to ${max}`;
      }
      return Number(value);
    };
    if (flag === '--data-dir') {
      if (value === undefined || value === '') return { ok: false, message: '--data-dir needs a directory' };
      dataDir = value;
    } else if (flag === '--rps') {
      const n = number('--rps', 1000);
      if (typeof n === 'string') return { ok: false, message: n };
      rps = n;
    } else if (flag === '--deploy-after') {
      const n = number('--deploy-after', 86_400);
      if (typeof n === 'string') return { ok: false, message: n };
      deployAfterSeconds = n;
    } else {
      return { ok: false, message: `unknown option ${JSON.stringify(flag)}; see costtrace dev --help` };
    }
    i++;
  }
  return { ok: true, options: { dataDir, rps, deployAfterSeconds } };
}

/**
 * Starts the embedded stack, prints what runs where and what to try, and stops cleanly when
 * `untilStopped` resolves (SIGINT/SIGTERM in the real process).
 */
export async function runDev(
  argv: readonly string[],
  io: { out: (text: string) => void; err: (text: string) => void; untilStopped: () => Promise<string> },
): Promise<number> {
  const parsed = parseDevArgs(argv);
  if (!parsed.ok) {
    io.err(`costtrace dev: ${parsed.message}`);
    return 2;
  }
  const logger = pino(
    { level: process.env.COSTTRACE_LOG_LEVEL ?? 'warn', base: { service: 'costtrace-dev' } },
    pino.destination(2),
  );
  const stack = new EmbeddedStack({ ...parsed.options, logger });
  const stopSignal = io.untilStopped();
  let addresses;
  try {
    addresses = await stack.start();
  } catch (err) {
    io.err(`costtrace dev: could not start: ${err instanceof Error ? err.message : String(err)}`);
    await stack.stop().catch(() => undefined);
    return 1;
  }
  io.out(
    [
      'costtrace dev is running (Ctrl-C stops it; data stays in ' + stack.dataDir + ')',
      '',
      `  pricing-cache      grpc ${addresses.pricing}`,
      `  aggregator         OTLP/HTTP ${addresses.otlpHttp}   OTLP/gRPC ${addresses.otlpGrpc}`,
      `  query API          ${addresses.api}/api/v1/costs`,
      `  store              DuckDB ${addresses.store} (in-process bus, no Kafka, no ClickHouse)`,
      `  demo inference     ${addresses.demo} (commit ${DEV_COMMITS.before}; ${DEV_COMMITS.after} is deployed after ${parsed.options.deployAfterSeconds}s)`,
      `  load generator     ${parsed.options.rps} requests/s`,
      `  budget             ${stack.budgetId}`,
      '',
      `dashboard: ${addresses.api}/`,
      '',
      'try, in another terminal in this repository (the running process holds the DuckDB file, so',
      "the CLI reads it through this process's query API):",
      `  npx costtrace report --store api:${addresses.api} --by route,commit --since 1h`,
      `  npx costtrace compare commit ${DEV_COMMITS.before} ${DEV_COMMITS.after} --store api:${addresses.api} --since 1h`,
      `  COSTTRACE_API_URL=${addresses.api} npx costtrace budget status ${stack.budgetId}`,
    ].join('\n'),
  );
  const signal = await stopSignal;
  io.err(`costtrace dev: ${signal}, stopping`);
  await stack.stop();
  io.err('costtrace dev: stopped');
  return 0;
}
