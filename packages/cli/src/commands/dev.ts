import { pino } from 'pino';
import type { Logger } from 'pino';
import { parseLine } from '../args.js';

export const DEV_USAGE = `costtrace dev [--data-dir DIR] [--rps N] [--deploy-after SECONDS] [--sample-bill-after SECONDS]

Runs all of costtrace in this process with no Kafka and no ClickHouse: pricing-cache, the
aggregator on an in-process bus and DuckDB, budgets with a sample budget, the instrumented demo
inference service and a load generator that deploys a second commit half way. Ctrl-C stops
everything cleanly; data persists under the data directory.

  --data-dir DIR        where the DuckDB file, the bus log and offsets live (default ./.costtrace)
  --rps N               load generator requests per second, 0 for none (default 20)
  --deploy-after S      seconds until the second commit is deployed (default 60)
  --sample-bill-after S after S seconds stop the load and import a sample bill of the traffic so
                        far: OpenAI and Anthropic usage and cost reports with a 15 % discount and
                        an uninstrumented nightly job, for costtrace reconcile to find (default: none)

examples:
  costtrace dev
  costtrace dev --data-dir /tmp/ct --rps 50 --deploy-after 20`;

export interface EmbeddedStackOptions {
  /** Where the DuckDB file, the bus log and offsets, and the budgets outbox live. */
  readonly dataDir: string;
  /** Requests per second of the load generator; 0 runs no load. */
  readonly rps: number;
  /** Seconds after which the second commit is deployed. */
  readonly deployAfterSeconds: number;
  /** Seconds after which the load stops and a sample bill of the traffic is imported; absent: never. */
  readonly sampleBillAfterSeconds?: number | undefined;
  readonly logger: Logger;
}

export interface EmbeddedAddresses {
  readonly pricing: string;
  readonly otlpHttp: string;
  readonly otlpGrpc: string;
  readonly api: string;
  readonly demo: string;
  readonly store: string;
}

/** A running (or startable) embedded stack. */
export interface EmbeddedStackHandle {
  /** The data directory, resolved. */
  readonly dataDir: string;
  /** The sample budget it creates. */
  readonly budgetId: string;
  start(): Promise<EmbeddedAddresses>;
  /** Stops everything, storing and committing in-flight batches; idempotent. */
  stop(): Promise<void>;
}

/**
 * What `costtrace dev` needs of `@costtrace/embedded`, the composition of the services (pricing-
 * cache, aggregator, demo-inference). The CLI depends on packages only, so it loads that module
 * when the command runs, and says how to install it when it is missing.
 */
export interface EmbeddedStackModule {
  /** The demo's two commits: the load runs on `before`; `after` is deployed half way. */
  readonly DEV_COMMITS: { readonly before: string; readonly after: string };
  createEmbeddedStack(options: EmbeddedStackOptions): EmbeddedStackHandle;
}

const EMBEDDED_PACKAGE = '@costtrace/embedded';

/** Loads `@costtrace/embedded`; undefined when it is not installed. */
export async function loadEmbeddedStack(): Promise<EmbeddedStackModule | undefined> {
  // A specifier in a variable: the compiler does not follow it, so no build order runs backwards.
  const specifier: string = EMBEDDED_PACKAGE;
  try {
    return (await import(specifier)) as EmbeddedStackModule;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && (err as Error).message.includes(EMBEDDED_PACKAGE)) return undefined;
    throw err;
  }
}

export interface DevOptions {
  readonly dataDir: string;
  readonly rps: number;
  readonly deployAfterSeconds: number;
  readonly sampleBillAfterSeconds?: number | undefined;
}

/** Parses `costtrace dev` flags: the options, or a message that says what to fix. */
export function parseDevArgs(
  argv: readonly string[],
): { ok: true; options: DevOptions } | { ok: false; message: string } {
  const line = parseLine(argv, {
    'data-dir': { type: 'string' },
    rps: { type: 'string' },
    'deploy-after': { type: 'string' },
    'sample-bill-after': { type: 'string' },
  });
  if (!line.ok) {
    return {
      ok: false,
      message: line.problem === 'value' ? line.message : `${line.message}; see costtrace dev --help`,
    };
  }
  const value = (name: string): string | undefined => line.value.options.get(name)?.[0];
  const number = (name: string, fallback: number, max: number): number | string => {
    const text = value(name);
    if (text === undefined) return fallback;
    if (!/^\d+(\.\d+)?$/.test(text) || Number(text) > max) return `--${name} needs a number from 0 to ${max}`;
    return Number(text);
  };
  const dataDir = value('data-dir') ?? './.costtrace';
  if (dataDir === '') return { ok: false, message: '--data-dir needs a directory' };
  const rps = number('rps', 20, 1000);
  if (typeof rps === 'string') return { ok: false, message: rps };
  const deployAfterSeconds = number('deploy-after', 60, 86_400);
  if (typeof deployAfterSeconds === 'string') return { ok: false, message: deployAfterSeconds };
  if (value('sample-bill-after') === undefined) return { ok: true, options: { dataDir, rps, deployAfterSeconds } };
  const sampleBillAfterSeconds = number('sample-bill-after', 0, 86_400);
  if (typeof sampleBillAfterSeconds === 'string') return { ok: false, message: sampleBillAfterSeconds };
  return { ok: true, options: { dataDir, rps, deployAfterSeconds, sampleBillAfterSeconds } };
}

/**
 * Starts the embedded stack, prints what runs where and what to try, and stops cleanly when
 * `untilStopped` resolves (SIGINT/SIGTERM in the real process).
 */
export async function runDev(
  argv: readonly string[],
  io: {
    out: (text: string) => void;
    err: (text: string) => void;
    env: Readonly<Record<string, string | undefined>>;
    untilStopped: () => Promise<string>;
    /** Defaults to loading @costtrace/embedded. */
    load?: (() => Promise<EmbeddedStackModule | undefined>) | undefined;
  },
): Promise<number> {
  const parsed = parseDevArgs(argv);
  if (!parsed.ok) {
    io.err(`costtrace dev: ${parsed.message}`);
    return 2;
  }
  const embedded = await (io.load ?? loadEmbeddedStack)();
  if (embedded === undefined) {
    io.err(
      `costtrace dev: the embedded stack is the package ${EMBEDDED_PACKAGE}, which is not installed; ` +
        `install it beside the CLI (npm install ${EMBEDDED_PACKAGE}) and run costtrace dev again`,
    );
    return 1;
  }
  const { DEV_COMMITS } = embedded;
  const logger = pino(
    { level: io.env.COSTTRACE_LOG_LEVEL ?? 'warn', base: { service: 'costtrace-dev' } },
    pino.destination(2),
  );
  const stack = embedded.createEmbeddedStack({ ...parsed.options, logger });
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
      ...(parsed.options.sampleBillAfterSeconds === undefined
        ? []
        : [
            `after ${parsed.options.sampleBillAfterSeconds}s the load stops and a sample bill is imported; then:`,
            `  npx costtrace reconcile --store api:${addresses.api} --since 7d --provider openai --provider anthropic`,
          ]),
    ].join('\n'),
  );
  const signal = await stopSignal;
  io.err(`costtrace dev: ${signal}, stopping`);
  await stack.stop();
  io.err('costtrace dev: stopped');
  return 0;
}
