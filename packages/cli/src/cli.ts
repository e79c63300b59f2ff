import { closestNames, PricingError } from '@costtrace/core';
import { parseArgs } from './args.js';
import { offlineBackend, remoteBackend } from './commands/pricing-backend.js';
import type { PricingBackend, RemoteOptions } from './commands/pricing-backend.js';
import { PRICING_COMMANDS, runPricing } from './commands/pricing.js';
import type { CommandOutput } from './command-args.js';
import { MIGRATE_USAGE, runMigrate } from './commands/migrate.js';
import { REPORT_USAGE, runReport } from './commands/report.js';
import { REPRICE_USAGE, runReprice } from './commands/reprice.js';
import { DEV_USAGE, runDev } from './commands/dev.js';
import {
  extractStoreFlag,
  openSelected,
  openWritable,
  parseStoreSelection,
  STORE_HELP,
  storeOpenHint,
  WRITABLE_STORE_HELP,
} from './store-selection.js';
import type { StoreSelection } from './store-selection.js';
import type { BillStore, ClickHouseStore, DuckDbStore } from '@costtrace/store';
import { StoreError } from '@costtrace/store';
import type { CostSource } from './analysis/common-flags.js';
import type { AnalysisDeps } from './analysis/command-deps.js';
import { usageError } from './analysis/command-deps.js';
import { TOP_HELP, TOP_USAGE, runTop } from './analysis/top.js';
import { COMPARE_HELP, COMPARE_USAGE, runCompare } from './analysis/compare.js';
import { UNIT_ECONOMICS_HELP, UNIT_ECONOMICS_USAGE, runUnitEconomics } from './analysis/unit-economics.js';
import { CHARGEBACK_HELP, CHARGEBACK_USAGE, runChargeback } from './analysis/chargeback.js';
import type { ChargebackDeps } from './analysis/chargeback.js';
import { ESTIMATE_HELP, ESTIMATE_USAGE, parseEstimateArgs, runEstimate } from './analysis/estimate.js';
import { storeFocusUsage, EXPORT_HELP, EXPORT_USAGE, runExport } from './analysis/focus-export.js';
import {
  parseRecommendArgs,
  storeSignals,
  RECOMMEND_HELP,
  RECOMMEND_USAGE,
  runRecommend,
} from './analysis/recommend.js';
import { FORECAST_HELP, FORECAST_USAGE, runForecast } from './analysis/forecast.js';
import { AggregatorClient } from '@costtrace/client';
import { BUDGET_USAGE, parseBudgetArgs, runBudgetCommand } from './commands/budget.js';
import { PREFLIGHT_HELP, PREFLIGHT_USAGE, runPreflightCommand } from './commands/preflight.js';
import { RECONCILE_HELP, RECONCILE_USAGE, runReconcile } from './billing/reconcile-command.js';
import { JOBS_HELP, JOBS_USAGE, runJobs } from './analysis/jobs.js';
import { BILL_HELP, BILL_USAGE, runBillImport, runBillImports } from './billing/bill-command.js';
import { BILL_FETCH_HELP, runBillFetch } from './billing/bill-fetch-command.js';

/** Everything the CLI touches outside itself, injected so commands run in tests without a process. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Defaults to the real backends (bundled catalog offline, gRPC otherwise). */
  readonly pricingBackend?: ((offline: boolean, remote: RemoteOptions) => Promise<PricingBackend>) | undefined;
  /** Resolves with the signal name when the process is asked to stop (long-running commands). */
  readonly untilStopped?: (() => Promise<string>) | undefined;
  /** Whether stdout is a terminal: colour and progress notes only then. */
  readonly isTTY?: boolean | undefined;
  /** The data the analysis commands read; defaults to the ClickHouse store from the environment. */
  readonly costSource?: (() => { source: CostSource; close: () => Promise<void> }) | undefined;
  /** The clock of `estimate` (what `--record` stamps), in Unix seconds; defaults to the system's. */
  readonly nowSeconds?: number | undefined;
}

/**
 * The one shape of every command: a name, a summary for the command list, its usage, and `run`,
 * which parses the rest of the line (with the CLI's one parser, `parseLine`) and returns an exit
 * code. The dispatcher only routes to it and supplies its dependencies.
 */
export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly run: (argv: readonly string[], io: CliIo) => Promise<number>;
  /** Sub-commands listed in the top-level help in place of the summary (`pricing get`, …). */
  readonly listed?: readonly { readonly words: string; readonly summary: string }[] | undefined;
}

/** `costtrace pricing get|list|quote|…`: a table of sub-commands (PRICING_COMMANDS). */
const pricingCommand: CliCommand = {
  name: 'pricing',
  summary: 'prices, quotes and price history from pricing-cache or the bundled catalog',
  usage: 'costtrace pricing <get|list|quote|…> [options]',
  listed: PRICING_COMMANDS.map((c) => ({ words: c.path.join(' '), summary: c.summary })),
  run: async (argv, io) => {
    const parsed = parseArgs(['pricing', ...argv], PRICING_COMMANDS);
    if (!parsed.ok) {
      io.err(parsed.error);
      return 2;
    }
    if ('help' in parsed) {
      io.out(parsed.help);
      return 0;
    }
    try {
      return await runPricing(parsed.value, {
        out: io.out,
        env: io.env,
        backend:
          io.pricingBackend ??
          ((offline, remote) => (offline ? offlineBackend() : Promise.resolve(remoteBackend(remote)))),
      });
    } catch (err) {
      if (!(err instanceof PricingError)) throw err;
      io.err(`error: ${err.message}`);
      return err.code === 'INVALID_ARGUMENT' ? 2 : 1;
    }
  },
};

/** Adapts a command's raw text output (newline-terminated) to the CLI's line-based io. */
function commandOutput(io: CliIo): CommandOutput {
  const strip = (text: string): string => (text.endsWith('\n') ? text.slice(0, -1) : text);
  return { out: (text) => io.out(strip(text)), err: (text) => io.err(strip(text)) };
}

type Opened<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/**
 * The one path of every command that reads or writes a store: takes `--store` / COSTTRACE_STORE
 * out of argv, opens the selection with `open`, runs `command`, turns store-opening failures
 * into a message that says what to do, and closes what it opened.
 */
async function onSelectedStore<T>(
  name: string,
  argv: readonly string[],
  io: CliIo,
  open: (selection: StoreSelection) => Opened<T & { close(): Promise<void> }>,
  command: (argv: readonly string[], opened: T) => Promise<number>,
  options: { writing?: boolean; onStoreError?: (err: StoreError) => number } = {},
): Promise<number> {
  const { argv: rest, store: storeText } = extractStoreFlag(argv, io.env);
  const selection = parseStoreSelection(storeText);
  if (!selection.ok) {
    io.err(`costtrace ${name}: ${selection.message}`);
    return 2;
  }
  const opened = open(selection.value);
  if (!opened.ok) {
    io.err(`costtrace ${name}: ${opened.message}`);
    return 2;
  }
  try {
    return await command(rest, opened.value);
  } catch (err) {
    const hint = storeOpenHint(selection.value, err, options.writing === true);
    if (hint !== undefined) {
      io.err(`costtrace ${name}: ${hint}`);
      return 1;
    }
    if (err instanceof StoreError && options.onStoreError !== undefined) return options.onStoreError(err);
    throw err;
  } finally {
    await opened.value.close();
  }
}

/**
 * What a reading command reads: a cost source injected by the caller (tests), or the selected
 * store (ClickHouse, a DuckDB file read-only, or a query API; `store` is absent for the API).
 */
function readable(
  io: CliIo,
): (
  selection: StoreSelection,
) => Opened<{ store: ClickHouseStore | DuckDbStore | undefined; source: CostSource; close(): Promise<void> }> {
  return (selection) => {
    const custom = io.costSource?.();
    return {
      ok: true,
      value: custom === undefined ? openSelected(selection, io.env) : { store: undefined, ...custom },
    };
  };
}

const CLICKHOUSE_ENV_HELP =
  'ClickHouse from CLICKHOUSE_URL, CLICKHOUSE_DATABASE, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD.';

/**
 * A command that changes the store chosen by `--store` / COSTTRACE_STORE (migrate, reprice):
 * ClickHouse (default, CLICKHOUSE_URL …) or an embedded DuckDB file, opened read-write.
 */
function writingStoreCommand(
  name: string,
  summary: string,
  usage: string,
  command: (
    argv: readonly string[],
    deps: { store: ClickHouseStore | DuckDbStore; output: CommandOutput },
  ) => Promise<number>,
): CliCommand {
  return {
    name,
    summary,
    usage,
    run: async (argv, io) => {
      if (argv.includes('--help') || argv.includes('-h')) {
        io.out(`usage: ${usage}\n\n${WRITABLE_STORE_HELP}\n${CLICKHOUSE_ENV_HELP}`);
        return 0;
      }
      return onSelectedStore(
        name,
        argv,
        io,
        (selection) => {
          const opened = openWritable(selection, io.env);
          return opened.ok ? { ok: true, value: opened.store } : opened;
        },
        (rest, store) => command(rest, { store, output: commandOutput(io) }),
        { writing: true },
      );
    },
  };
}

/**
 * A read-only command over the store chosen by `--store` / COSTTRACE_STORE: ClickHouse (default,
 * CLICKHOUSE_URL …), an embedded DuckDB file opened read-only, or a query API.
 */
function costStoreCommand(
  name: string,
  summary: string,
  usage: string,
  command: (
    argv: readonly string[],
    deps: { store: Pick<CostSource, 'queryCosts' | 'pricingCoverage'>; output: CommandOutput },
  ) => Promise<number>,
): CliCommand {
  return {
    name,
    summary,
    usage,
    run: async (argv, io) => {
      if (argv.includes('--help') || argv.includes('-h')) {
        io.out(`usage: ${usage}\n\n${STORE_HELP}\n${CLICKHOUSE_ENV_HELP}`);
        return 0;
      }
      return onSelectedStore(name, argv, io, readable(io), (rest, { source }) =>
        command(rest, { store: source, output: commandOutput(io) }),
      );
    },
  };
}

/** An analysis command (top, compare, …): full help with examples, data through a CostSource. */
function analysisCommand(
  name: string,
  summary: string,
  help: string,
  usage: string,
  command: (argv: readonly string[], deps: AnalysisDeps & Pick<ChargebackDeps, 'bills'>) => Promise<number>,
): CliCommand {
  return {
    name,
    summary,
    usage,
    run: async (argv, io) => {
      if (argv.includes('--help') || argv.includes('-h')) {
        io.out(`${help}\n\n${ANALYSIS_STORE_HELP}`);
        return 0;
      }
      return onSelectedStore(
        name,
        argv,
        io,
        readable(io),
        // The store's bills too, where there is a store (chargeback --cluster-cost reads them).
        (rest, { store, source }) =>
          command(rest, { source, bills: store, output: commandOutput(io), isTTY: io.isTTY === true }),
        {
          onStoreError: (err) => {
            io.err(
              `costtrace ${name}: ${err.message}. Is ClickHouse running at CLICKHOUSE_URL (${io.env.CLICKHOUSE_URL ?? 'default'}) with the schema (costtrace migrate)?`,
            );
            return 1;
          },
        },
      );
    },
  };
}

const ANALYSIS_STORE_HELP =
  `${STORE_HELP}\n${CLICKHOUSE_ENV_HELP}\n` +
  'Exit codes: 0 ok, 1 failed (store unreachable, nothing to allocate…), 2 usage error, 3 no data matched.';

/**
 * Runs a command that reads beyond the cost query model (export, recommend) over the store chosen
 * by --store / COSTTRACE_STORE: `store` is that store's SQL reader, or undefined when the CLI was
 * given a custom cost source (tests) or an API, and the command falls back to the query model.
 */
function withSelectedStore(
  name: string,
  argv: readonly string[],
  io: CliIo,
  command: (
    argv: readonly string[],
    store: ClickHouseStore | DuckDbStore | undefined,
    source: CostSource,
  ) => Promise<number>,
): Promise<number> {
  return onSelectedStore(name, argv, io, readable(io), (rest, { store, source }) => command(rest, store, source));
}

/**
 * A command over imported bills and the spans beside them (reconcile): ClickHouse or a DuckDB
 * file, read-only; the query API does not serve bills.
 */
function billReadingCommand(
  name: string,
  summary: string,
  usage: string,
  help: string,
  command: (argv: readonly string[], deps: { store: BillStore; output: CommandOutput }) => Promise<number>,
  /** Runs the command through an aggregator's API (`--store api:URL`); absent: refused. */
  throughApi?: (argv: readonly string[], deps: { store: { apiUrl: string }; output: CommandOutput }) => Promise<number>,
): CliCommand {
  type Opened = { readonly store: BillStore | { readonly apiUrl: string }; close(): Promise<void> };
  return {
    name,
    summary,
    usage,
    run: async (argv, io) => {
      if (argv.includes('--help') || argv.includes('-h')) {
        io.out(`${help}\n\n${STORE_HELP}\n${CLICKHOUSE_ENV_HELP}`);
        return 0;
      }
      return onSelectedStore<Opened>(
        name,
        argv,
        io,
        (selection) => {
          if (selection.kind === 'api') {
            if (throughApi === undefined) {
              return {
                ok: false,
                message: 'bills are read from the store: use --store clickhouse or --store duckdb:PATH',
              };
            }
            return { ok: true, value: { store: { apiUrl: selection.url }, close: () => Promise.resolve() } };
          }
          const opened = openSelected(selection, io.env);
          return { ok: true, value: { store: opened.store as ClickHouseStore | DuckDbStore, close: opened.close } };
        },
        (rest, { store }) =>
          'apiUrl' in store && throughApi !== undefined
            ? throughApi(rest, { store, output: commandOutput(io) })
            : command(rest, { store: store as BillStore, output: commandOutput(io) }),
        {
          onStoreError: (err) => {
            io.err(`costtrace ${name}: ${err.message}. Is the store reachable, with the schema (costtrace migrate)?`);
            return 1;
          },
        },
      );
    },
  };
}

/** A command against the aggregator's HTTP API (--url, or COSTTRACE_API_URL, default :8080). */
function apiCommand(name: string, summary: string): CliCommand {
  return {
    name,
    summary,
    usage: BUDGET_USAGE,
    run: async (argv, io) => {
      if (argv.includes('--help') || argv.includes('-h')) {
        io.out(BUDGET_USAGE);
        return 0;
      }
      const parsed = parseBudgetArgs([name, ...argv]);
      const url = parsed.url ?? io.env.COSTTRACE_API_URL ?? 'http://127.0.0.1:8080';
      let api: AggregatorClient;
      try {
        api = new AggregatorClient({ baseUrl: url });
      } catch (err) {
        io.err(`costtrace ${name}: --url: ${err instanceof Error ? err.message : String(err)}`);
        return 2;
      }
      const result = await runBudgetCommand([name, ...argv], api);
      if (result.stdout !== '') io.out(result.stdout.replace(/\n$/, ''));
      if (result.stderr !== '') io.err(result.stderr.replace(/\n$/, ''));
      return result.exitCode;
    },
  };
}

export const CLI_COMMANDS: readonly CliCommand[] = [
  pricingCommand,
  {
    name: 'dev',
    summary: 'all of costtrace in one process: no Kafka, no ClickHouse (embedded mode with a demo)',
    usage: DEV_USAGE,
    run: async (argv, io) => {
      if (argv.includes('--help') || argv.includes('-h')) {
        io.out(`usage: ${DEV_USAGE}`);
        return 0;
      }
      if (io.untilStopped === undefined) {
        io.err('costtrace dev runs until stopped: start it from the costtrace command');
        return 2;
      }
      return runDev(argv, { out: io.out, err: io.err, env: io.env, untilStopped: io.untilStopped });
    },
  },
  costStoreCommand(
    'report',
    'cost by any dimensions over time, with per-request and per-token columns',
    REPORT_USAGE,
    runReport,
  ),
  writingStoreCommand('migrate', 'create or upgrade the schema (ClickHouse or DuckDB)', MIGRATE_USAGE, runMigrate),
  apiCommand('budget', 'budgets and their spend, alerts and throttles (set|list|get|delete|status|alerts)'),
  apiCommand('throttles', 'active throttles, with the budget, spend and limit behind each'),
  {
    name: 'preflight',
    summary: 'price planned work and decide before the spend: allow (reserve), needs approval, deny',
    usage: PREFLIGHT_USAGE,
    run: async (argv, io) => {
      if (argv.length === 0) {
        io.err(`costtrace preflight: a sub-command is missing\nusage: ${PREFLIGHT_USAGE}`);
        return 2;
      }
      if (argv.includes('--help') || argv.includes('-h')) {
        io.out(PREFLIGHT_HELP);
        return 0;
      }
      const result = await runPreflightCommand(argv, {
        client: (apiUrl) =>
          new AggregatorClient({ baseUrl: apiUrl ?? io.env.COSTTRACE_API_URL ?? 'http://127.0.0.1:8080' }),
      });
      if (result.stdout !== '') io.out(result.stdout.replace(/\n$/, ''));
      if (result.stderr !== '') io.err(result.stderr.replace(/\n$/, ''));
      return result.exitCode;
    },
  },
  writingStoreCommand(
    'reprice',
    'what spans would cost under another price snapshot; --apply writes corrections',
    REPRICE_USAGE,
    runReprice,
  ),
  analysisCommand('top', 'most expensive routes, commits, models, tenants, traces, spans', TOP_HELP, TOP_USAGE, runTop),
  analysisCommand(
    'compare',
    'two commits, models or periods side by side, with the difference',
    COMPARE_HELP,
    COMPARE_USAGE,
    runCompare,
  ),
  analysisCommand(
    'unit-economics',
    'cost per request, per tenant, per 1M tokens, and margin',
    UNIT_ECONOMICS_HELP,
    UNIT_ECONOMICS_USAGE,
    runUnitEconomics,
  ),
  analysisCommand(
    'chargeback',
    'cost per team or tenant with shared cost allocated; CSV for finance',
    CHARGEBACK_HELP,
    CHARGEBACK_USAGE,
    runChargeback,
  ),
  {
    name: 'export',
    summary: 'the period as a FinOps FOCUS 1.2 dataset (CSV or Parquet)',
    usage: EXPORT_USAGE,
    run: async (argv, io) => {
      if (argv.includes('--help') || argv.includes('-h')) {
        io.out(`${EXPORT_HELP}\n\n${ANALYSIS_STORE_HELP}`);
        return 0;
      }
      return withSelectedStore('export', argv, io, (rest, store, source) =>
        runExport(rest, {
          source,
          focus: store === undefined ? undefined : storeFocusUsage(store),
          output: commandOutput(io),
          isTTY: io.isTTY === true,
        }),
      );
    },
  },
  {
    name: 'bill',
    summary:
      'provider usage and cost reports (files or the Admin APIs), FOCUS and CUR exports (bill import|fetch|imports)',
    usage: BILL_USAGE,
    run: async (argv, io) => {
      const [sub, ...rest] = argv;
      if (sub === undefined || sub === '--help' || sub === '-h' || rest.includes('--help') || rest.includes('-h')) {
        const help = sub === 'fetch' ? BILL_FETCH_HELP : BILL_HELP;
        io.out(`${help}\n\n${WRITABLE_STORE_HELP}\n${CLICKHOUSE_ENV_HELP}`);
        return sub === undefined ? 2 : 0;
      }
      if (sub === 'import' || sub === 'fetch') {
        return onSelectedStore(
          'bill import',
          rest,
          io,
          (selection) => {
            const opened = openWritable(selection, io.env);
            return opened.ok ? { ok: true, value: opened.store } : opened;
          },
          async (args, store) => {
            // The bill tables come with the schema: an import into a fresh store creates it.
            await store.migrate();
            return sub === 'import'
              ? runBillImport(args, { store, output: commandOutput(io) })
              : runBillFetch(args, { store, output: commandOutput(io), env: io.env });
          },
          { writing: true },
        );
      }
      if (sub === 'imports') {
        return billReadingCommand('bill imports', '', BILL_USAGE, BILL_HELP, runBillImports).run(rest, io);
      }
      io.err(
        `costtrace bill: unknown sub-command ${JSON.stringify(sub)}: use import, fetch or imports\nusage: ${BILL_USAGE}`,
      );
      return 2;
    },
  },
  billReadingCommand(
    'reconcile',
    'imported bills beside the spans: the drift split into untraced, cache/tier, unpriced, rate, timing',
    RECONCILE_USAGE,
    RECONCILE_HELP,
    runReconcile,
    runReconcile,
  ),
  {
    name: 'jobs',
    summary: 'training, fine-tuning, batch and evaluation jobs: cost per epoch, sample and GPU-hour, vs estimate',
    usage: JOBS_USAGE,
    run: async (argv, io) => {
      if (argv.includes('--help') || argv.includes('-h')) {
        io.out(`${JOBS_HELP}\n\n${ANALYSIS_STORE_HELP}`);
        return 0;
      }
      return withSelectedStore('jobs', argv, io, (rest, store) => runJobs(rest, { store, output: commandOutput(io) }));
    },
  },
  analysisCommand(
    'forecast',
    'month-end projection from the burn rate, budget exhaustion date',
    FORECAST_HELP,
    FORECAST_USAGE,
    runForecast,
  ),
  {
    name: 'recommend',
    summary: 'findings with evidence and estimated monthly savings',
    usage: RECOMMEND_USAGE,
    run: async (argv, io) => {
      if (argv.includes('--help') || argv.includes('-h')) {
        io.out(`${RECOMMEND_HELP}\n\n${ANALYSIS_STORE_HELP}`);
        return 0;
      }
      return withSelectedStore('recommend', argv, io, (rest, store, source) => {
        // Its own parser knows --api-url; a line it refuses is reported by runRecommend below.
        const args = parseRecommendArgs(rest, Math.floor(Date.now() / 1000));
        const url = (args.ok ? args.value.apiUrl : undefined) ?? io.env.COSTTRACE_API_URL ?? 'http://127.0.0.1:8080';
        return runRecommend(rest, {
          source,
          signals: store === undefined ? undefined : storeSignals(store),
          budgets: new AggregatorClient({ baseUrl: url }),
          output: commandOutput(io),
          isTTY: io.isTTY === true,
        });
      });
    },
  },
  {
    name: 'estimate',
    summary: 'price a training job or an inference service before it runs; build vs buy; cache savings',
    usage: ESTIMATE_USAGE,
    run: async (argv, io) => {
      if (argv.includes('--help') || argv.includes('-h')) {
        io.out(`${ESTIMATE_HELP}\n\n${ANALYSIS_STORE_HELP}`);
        return 0;
      }
      const factory =
        io.pricingBackend ??
        ((offline: boolean) =>
          offline ? offlineBackend() : Promise.reject(new Error('remote pricing is not used by estimate')));
      const estimate = async (
        rest: readonly string[],
        store: ClickHouseStore | DuckDbStore | undefined,
        source: CostSource,
        recorder: ClickHouseStore | DuckDbStore | undefined,
      ): Promise<number> => {
        try {
          return await runEstimate(rest, {
            pricing: () =>
              factory(true, { address: '', token: undefined, caFile: undefined, tls: false, timeoutMs: 5000 }),
            source,
            // A route's tokens by kind (estimate cache): ClickHouse or DuckDB, not the query API.
            traffic: store,
            recorder,
            output: commandOutput(io),
            nowSeconds: io.nowSeconds,
          });
        } catch (err) {
          if (!(err instanceof PricingError)) throw err;
          io.err(`costtrace estimate: ${err.message}`);
          return err.code === 'INVALID_ARGUMENT' ? 2 : 1;
        }
      };
      if (argv.includes('--record')) {
        // Recording writes the estimate beside the spans: a writable store, its schema migrated.
        return onSelectedStore(
          'estimate',
          argv,
          io,
          (selection) => {
            const opened = openWritable(selection, io.env);
            return opened.ok ? { ok: true, value: opened.store } : opened;
          },
          async (rest, store) => {
            // A usage error is reported before the store is touched.
            const parsed = parseEstimateArgs(rest, io.nowSeconds ?? Math.floor(Date.now() / 1000));
            if (!parsed.ok) return usageError('estimate', parsed.message, ESTIMATE_USAGE, commandOutput(io));
            await store.migrate();
            return estimate(rest, store, store, store);
          },
          { writing: true },
        );
      }
      return withSelectedStore('estimate', argv, io, (rest, store, source) => estimate(rest, store, source, undefined));
    },
  },
];

function topLevelHelp(): string {
  const lines = CLI_COMMANDS.flatMap((c) => c.listed ?? [{ words: c.name, summary: c.summary }]);
  const width = Math.max(...lines.map((l) => l.words.length));
  return [
    'usage: costtrace <command> [options]',
    '',
    ...lines.map((l) => `  ${l.words.padEnd(width)}  ${l.summary}`),
    '',
    'Run "costtrace <command> --help" for its options and examples.',
    'Exit codes: 0 ok, 1 the command failed, 2 usage error, 3 no data matched;',
    '  preflight request also 4 needs approval and 5 denied (0: allowed, the amount reserved).',
  ].join('\n');
}

/** Parses and runs one invocation; returns the exit code (0 ok, 1 failed, 2 usage error). */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(topLevelHelp());
    return 0;
  }
  const name = argv[0] ?? '';
  const command = CLI_COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    // Not a command at all (a typo, or an option first): say so, with the whole command list,
    // whatever else the line holds (--help included).
    const near = name.startsWith('-')
      ? []
      : closestNames(
          name,
          CLI_COMMANDS.map((c) => c.name),
          2,
        );
    io.err(
      `costtrace: unknown command "${name}"${near.length > 0 ? ` (did you mean ${near.map((n) => `"${n}"`).join(' or ')}?)` : ''}\n\n${topLevelHelp()}`,
    );
    return 2;
  }
  try {
    return await command.run(argv.slice(1), io);
  } catch (err) {
    io.err(`costtrace ${command.name}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
