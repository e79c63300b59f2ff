/**
 * `costtrace bill fetch <openai|anthropic>`: the provider's usage and cost reports read from its
 * Admin API into the store, the same imports `costtrace bill import` makes of saved pages. Each
 * report is one import (all or nothing, idempotent per UTC day), so fetching a period again
 * replaces what the earlier fetch held for those days; a restated day is corrected in place.
 */
import { BillingImportError, formatScaled, MONEY_SCALE, utcDay } from '@costtrace/core';
import type { BillSource } from '@costtrace/core';
import { parseTime } from '@costtrace/store';
import type { BillStore } from '@costtrace/store';
import { parseLine } from '../args.js';
import type { CommandOutput } from '../command-args.js';
import { importBill } from './bill-import.js';
import type { BillImportSummary, BillInput } from './bill-import.js';
import {
  ADMIN_KEY_VARIABLES,
  DEFAULT_BASE_URLS,
  fetchReportPages,
  REPORT_ENDPOINTS,
} from './provider-report-fetcher.js';
import type { BillProvider, ProviderReport, ReportFetchTuning } from './provider-report-fetcher.js';
import { OPENCOST_FETCH_HELP, OPENCOST_FETCH_USAGE, runOpenCostFetch } from './opencost-fetch-command.js';

export const BILL_FETCH_USAGE = `costtrace bill fetch <openai|anthropic> [--since 30d] [--until T] [--account A] [--dry-run] [--base-url URL]
       ${OPENCOST_FETCH_USAGE}`;

export const BILL_FETCH_HELP = `usage: ${BILL_FETCH_USAGE}

Reads what the provider billed from its Admin API, page by page, into the store (as
costtrace bill import does with saved pages), to compare with the spans (costtrace reconcile):
  openai     the Usage API (completions and embeddings), then the Costs API; the key is read
             from OPENAI_ADMIN_KEY (an organization admin key)
  anthropic  the usage report (messages), then the cost report; the key is read from
             ANTHROPIC_ADMIN_KEY (an Admin API key)
The period is counted in whole UTC days: --since is widened to its midnight.

Each report is one import: it replaces, for every UTC day it covers, what earlier imports of the
same report and account held, so fetching a period again changes nothing and a restated bill
replaces the first. A failure (refused key, rate limits that do not end, a bad page) imports
nothing of that report. Rate limits and server errors are retried with backoff.

options:
  --since T       start: a duration back from now (30d), an ISO time or unix seconds; default 30d
  --until T       end (exclusive), same forms; default now; the period is at most 400 days
  --account A     the billing account the reports belong to (an organization's name or id)
  --dry-run       fetch and check everything, write nothing
  --base-url URL  the API's address (a proxy, a test server); default the public API

${OPENCOST_FETCH_HELP}

Exit codes: 0 ok, 1 failed (refused key, API unreachable, bad page, store unreachable), 2 usage error.`;

/** The reports of each provider: imports in order, each of one source from one or more endpoints. */
const PROVIDER_IMPORTS: Readonly<Record<BillProvider, readonly (readonly ProviderReport[])[]>> = {
  openai: [['openai-completions', 'openai-embeddings'], ['openai-costs']],
  anthropic: [['anthropic-usage'], ['anthropic-cost']],
};

/** Longest period one fetch may cover, as for costtrace reconcile. */
const MAX_PERIOD_SECONDS = 400 * 86_400;

const ACCOUNT = /^[\w.:@/-]{1,128}$/;
/** What an HTTP header value may carry: a key with anything else is refused before it is sent. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;

export interface BillFetchDeps {
  readonly store: BillStore;
  readonly output: CommandOutput;
  /** The process environment: the admin keys are read from it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Injectable for tests; default the global fetch. */
  readonly fetch?: typeof fetch;
  /** Epoch milliseconds taken as now (relative times, the import's time); default the clock. */
  readonly nowMs?: number;
  /** Limits and retry timing of the fetcher (tests shorten the waits); defaults as documented there. */
  readonly tuning?: ReportFetchTuning;
}

interface FetchArgs {
  readonly provider: BillProvider;
  readonly apiKey: string;
  readonly since: number;
  readonly until: number;
  readonly account: string | undefined;
  readonly dryRun: boolean;
  readonly baseUrl: string;
}

/** Runs `costtrace bill fetch`; returns the exit code. */
export async function runBillFetch(argv: readonly string[], deps: BillFetchDeps): Promise<number> {
  if (argv[0] === 'opencost') {
    return runOpenCostFetch(argv.slice(1), {
      store: deps.store,
      output: deps.output,
      env: deps.env,
      fetch: deps.fetch,
      nowMs: deps.nowMs,
    });
  }
  const nowMs = deps.nowMs ?? Date.now();
  const args = parseFetchArgs(argv, deps.env, Math.floor(nowMs / 1000));
  if (typeof args === 'string') {
    deps.output.err(`costtrace bill fetch: ${args}\nusage: ${BILL_FETCH_USAGE}\n`);
    return 2;
  }
  for (const reports of PROVIDER_IMPORTS[args.provider]) {
    const source = sourceOf(reports);
    const inputs: BillInput[] = reports.map((report) => ({
      origin: REPORT_ENDPOINTS[report].path,
      pages: fetchReportPages({
        ...deps.tuning,
        report,
        apiKey: args.apiKey,
        since: args.since,
        until: args.until,
        baseUrl: args.baseUrl,
        fetch: deps.fetch,
      }),
    }));
    let summary: BillImportSummary;
    try {
      summary = await importBill(deps.store, source, inputs, { account: args.account, dryRun: args.dryRun, nowMs });
    } catch (err) {
      if (!(err instanceof BillingImportError)) throw err;
      deps.output.err(`costtrace bill fetch: ${err.message} (${nothingImported(args.provider, source)})\n`);
      return 1;
    }
    deps.output.out(fetchSummaryText(summary));
  }
  return 0;
}

/** The flags and the key, checked; a string is the usage error to print. */
function parseFetchArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  nowSeconds: number,
): FetchArgs | string {
  const parsed = parseLine(
    argv,
    {
      since: { type: 'string' },
      until: { type: 'string' },
      account: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'base-url': { type: 'string' },
    },
    { max: 1 },
  );
  if (!parsed.ok) return parsed.message;
  const { positionals, options } = parsed.value;
  const provider = positionals[0];
  if (provider !== 'openai' && provider !== 'anthropic') {
    return 'name the provider: openai or anthropic (or opencost, with --url)';
  }
  const account = options.get('account')?.[0];
  if (account !== undefined && !ACCOUNT.test(account)) {
    return '--account: letters, digits and . _ - : @ / (at most 128)';
  }
  const baseUrl = options.get('base-url')?.[0] ?? DEFAULT_BASE_URLS[provider];
  const urlProblem = baseUrlProblem(baseUrl);
  if (urlProblem !== undefined) return `--base-url: ${urlProblem}`;
  const period = parsePeriod(options.get('since')?.[0], options.get('until')?.[0], nowSeconds);
  if (typeof period === 'string') return period;
  const variable = ADMIN_KEY_VARIABLES[provider];
  const apiKey = env[variable]?.trim() ?? '';
  if (apiKey === '') return `set ${variable} to the ${provider === 'openai' ? 'OpenAI' : 'Anthropic'} admin key`;
  // Said without the value: an error that quoted it would print the key.
  if (!HEADER_SAFE.test(apiKey)) return `${variable} holds characters an API key cannot (spaces or control characters)`;
  return { provider, apiKey, ...period, account, dryRun: options.has('dry-run'), baseUrl };
}

/** --since (default 30d, widened to its UTC day) and --until (default now), as reconcile reads them. */
function parsePeriod(
  sinceText: string | undefined,
  untilText: string | undefined,
  nowSeconds: number,
): { since: number; until: number } | string {
  let since: number;
  let until: number;
  try {
    since = utcDay(parseTime('since', sinceText ?? '30d', nowSeconds));
  } catch (err) {
    return `--since: ${err instanceof Error ? err.message : String(err)}`;
  }
  try {
    until = parseTime('until', untilText ?? 'now', nowSeconds);
  } catch (err) {
    return `--until: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (until <= since) return '--until: the end must be after the start (the start is widened to its UTC day)';
  if (until - since > MAX_PERIOD_SECONDS) return '--since: the period is at most 400 days';
  return { since, until };
}

function baseUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${JSON.stringify(text.slice(0, 100))} is not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'an http:// or https:// URL';
  if (url.username !== '' || url.password !== '') return 'no user or password in the URL (the key is sent in a header)';
  if (url.search !== '' || url.hash !== '') return 'no query or fragment';
  return undefined;
}

/** The one source the reports of an import share. */
function sourceOf(reports: readonly ProviderReport[]): BillSource {
  const [first] = reports;
  if (first === undefined) throw new Error('an import without reports');
  return REPORT_ENDPOINTS[first].source;
}

/** What a failed import left: nothing of it, but an import before it of the same fetch stands. */
function nothingImported(provider: BillProvider, source: BillSource): string {
  const imports = PROVIDER_IMPORTS[provider];
  const index = imports.findIndex((reports) => sourceOf(reports) === source);
  if (index <= 0) return 'nothing imported';
  const before = imports.slice(0, index).map(sourceOf).join(', ');
  return `nothing of ${source} imported; the ${before} import above stands`;
}

/** The summary of one import, in the words of `costtrace bill import`. */
export function fetchSummaryText(s: BillImportSummary): string {
  const days = [...s.days.values()].flat();
  const date = (t: number): string => new Date(t * 1000).toISOString().slice(0, 10);
  const costs = [...s.billedCost].map(([currency, pico]) => `${formatScaled(pico, MONEY_SCALE)} ${currency}`);
  let head = `${s.dryRun ? 'checked (dry run, nothing written)' : 'imported'} ${s.lines} ${s.source} line(s) from ${s.origins.join(', ')}`;
  if (days.length > 0) {
    head += `, ${days.length} account-day(s) ${date(Math.min(...days))} .. ${date(Math.max(...days))}`;
  }
  const lines = [head];
  if (costs.length > 0) lines.push(`billed cost: ${costs.join(', ')}`);
  if (s.notes.rounded > 0) {
    lines.push(`${s.notes.rounded} amount(s) had more than 12 decimals: rounded half to even to 12`);
  }
  if (s.notes.empty > 0) lines.push(`${s.notes.empty} result(s) carried nothing and were skipped`);
  if (!s.dryRun) lines.push(`import id ${s.importId}`);
  return `${lines.join('\n')}\n`;
}
