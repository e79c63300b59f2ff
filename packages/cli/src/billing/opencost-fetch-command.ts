/**
 * `costtrace bill fetch opencost --url URL [--window 7d]`: a Kubernetes cluster's cost per day and
 * namespace (or label, controller…) read from OpenCost's allocation API into the store, the same
 * import `costtrace bill import opencost` makes of saved responses: all or nothing, and per UTC day
 * idempotent, so fetching a window again replaces what the earlier fetch held for its days (today
 * included, which is incomplete until it is over).
 */
import { BillingImportError, formatScaled, MONEY_SCALE, openCostAggregateProblem, utcDay } from '@costtrace/core';
import type { BillStore } from '@costtrace/store';
import { parseLine } from '../args.js';
import type { CommandOutput } from '../command-args.js';
import { importBill } from './bill-import.js';
import type { BillImportSummary } from './bill-import.js';
import { fetchOpenCostPages, OPENCOST_TOKEN_VARIABLE, openCostEndpoint } from './opencost-fetcher.js';
import type { OpenCostFetchTuning } from './opencost-fetcher.js';

export const OPENCOST_FETCH_USAGE =
  'costtrace bill fetch opencost --url URL [--window 7d|YYYY-MM-DD,YYYY-MM-DD] [--aggregate namespace] [--account CLUSTER] [--currency USD] [--dry-run]';

export const OPENCOST_FETCH_HELP = `  opencost   OpenCost's allocation API (GET /allocation) at --url: the cluster's cost per UTC
             day and --aggregate value, by component, with its idle cost, for costtrace
             chargeback --cluster-cost opencost. An optional bearer token (OpenCost behind an
             authenticating proxy) is read from ${OPENCOST_TOKEN_VARIABLE}.
opencost options:
  --url URL        OpenCost's address, e.g. http://localhost:9003 (its /allocation endpoint is
                   read; a URL ending in /allocation or /allocation/compute is taken as it is)
  --window W       Nd: today (UTC) and the N-1 days before it; or FIRST,LAST+1 as UTC dates
                   (2026-11-01,2026-12-01); default 7d, at most 400 days
  --aggregate A    what OpenCost groups by: namespace (default), label:team, controller, pod…
  --account C      the cluster the lines are booked to (default: each allocation's cluster)
  --currency C     the currency OpenCost is configured with (ISO 4217); default USD`;

/** Longest window one fetch may cover, as for the other fetches. */
const MAX_DAYS = 400;
const DAY = 86_400;
const ACCOUNT = /^[\w.:@/-]{1,128}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export interface OpenCostFetchDeps {
  readonly store: BillStore;
  readonly output: CommandOutput;
  /** The process environment: the optional token is read from it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Injectable for tests; default the global fetch. */
  readonly fetch?: typeof fetch | undefined;
  /** Epoch milliseconds taken as now (the window of Nd, the import's time); default the clock. */
  readonly nowMs?: number | undefined;
  /** Limits and retry timing of the fetcher (tests shorten the waits). */
  readonly tuning?: OpenCostFetchTuning | undefined;
}

interface OpenCostFetchArgs {
  readonly endpoint: URL;
  readonly since: number;
  readonly until: number;
  readonly aggregate: string;
  readonly account: string | undefined;
  readonly currency: string | undefined;
  readonly dryRun: boolean;
  readonly token: string | undefined;
}

/** Runs `costtrace bill fetch opencost …` (argv after `opencost`); returns the exit code. */
export async function runOpenCostFetch(argv: readonly string[], deps: OpenCostFetchDeps): Promise<number> {
  const nowMs = deps.nowMs ?? Date.now();
  const args = parseOpenCostFetchArgs(argv, deps.env, Math.floor(nowMs / 1000));
  if (typeof args === 'string') {
    deps.output.err(`costtrace bill fetch opencost: ${args}\nusage: ${OPENCOST_FETCH_USAGE}\n`);
    return 2;
  }
  let summary: BillImportSummary;
  try {
    const pages = fetchOpenCostPages({
      ...deps.tuning,
      endpoint: args.endpoint,
      since: args.since,
      until: args.until,
      aggregate: args.aggregate,
      token: args.token,
      fetch: deps.fetch,
    });
    summary = await importBill(deps.store, 'opencost', [{ origin: args.endpoint.href, pages }], {
      account: args.account,
      aggregate: args.aggregate,
      currency: args.currency,
      dryRun: args.dryRun,
      nowMs,
    });
  } catch (err) {
    if (!(err instanceof BillingImportError)) throw err;
    deps.output.err(`costtrace bill fetch opencost: ${err.message} (nothing imported)\n`);
    return 1;
  }
  deps.output.out(summaryText(summary, args.until > utcDay(Math.floor(nowMs / 1000))));
  return 0;
}

/** What was imported: lines, the days per cluster, the cost, and what the notes counted. */
function summaryText(s: BillImportSummary, withToday: boolean): string {
  const date = (t: number): string => new Date(t * 1000).toISOString().slice(0, 10);
  const lines = [
    `${s.dryRun ? 'checked (dry run, nothing written)' : 'imported'} ${s.lines} opencost line(s) from ${s.origins.join(', ')}`,
  ];
  for (const [cluster, days] of s.days) {
    if (days.length === 0) continue;
    lines.push(
      `cluster ${cluster === '' ? '(unnamed)' : cluster}: ${days.length} day(s) ${date(days[0]!)} .. ${date(days.at(-1)!)}`,
    );
  }
  const costs = [...s.billedCost].map(([currency, pico]) => `${formatScaled(pico, MONEY_SCALE)} ${currency}`);
  if (costs.length > 0) lines.push(`cluster cost: ${costs.join(', ')}`);
  if (s.notes.rounded > 0) {
    lines.push(`${s.notes.rounded} amount(s) had more than 12 decimals: rounded half to even to 12`);
  }
  if (s.notes.empty > 0) lines.push(`${s.notes.empty} allocation(s) carried no cost and were skipped`);
  if (withToday) lines.push('today (UTC) is not over: its cost so far is imported, and a later fetch replaces it');
  if (!s.dryRun) lines.push(`import id ${s.importId}`);
  return `${lines.join('\n')}\n`;
}

/** The flags, checked; a string is the usage error to print. */
export function parseOpenCostFetchArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  nowSeconds: number,
): OpenCostFetchArgs | string {
  const parsed = parseLine(argv, {
    url: { type: 'string' },
    window: { type: 'string' },
    aggregate: { type: 'string' },
    account: { type: 'string' },
    currency: { type: 'string' },
    'dry-run': { type: 'boolean' },
  });
  if (!parsed.ok) return parsed.message;
  const { options } = parsed.value;
  const urlText = options.get('url')?.[0];
  if (urlText === undefined) return "--url: OpenCost's address is required, e.g. --url http://localhost:9003";
  const endpoint = openCostEndpoint(urlText);
  if (typeof endpoint === 'string') return `--url: ${endpoint}`;
  const window = parseWindow(options.get('window')?.[0] ?? '7d', nowSeconds);
  if (typeof window === 'string') return `--window: ${window}`;
  const aggregate = options.get('aggregate')?.[0] ?? 'namespace';
  const aggregateProblem = openCostAggregateProblem(aggregate);
  if (aggregateProblem !== undefined) return `--aggregate: ${aggregateProblem}`;
  const account = options.get('account')?.[0];
  if (account !== undefined && !ACCOUNT.test(account)) {
    return '--account: letters, digits and . _ - : @ / (at most 128)';
  }
  const currency = options.get('currency')?.[0];
  if (currency !== undefined && !/^[A-Z]{3}$/.test(currency)) {
    return '--currency: an ISO 4217 code in capitals, such as USD or EUR';
  }
  const token = env[OPENCOST_TOKEN_VARIABLE]?.trim();
  // Said without the value: an error that quoted it would print the token.
  if (token !== undefined && token !== '' && !/^[\x21-\x7e]+$/.test(token)) {
    return `${OPENCOST_TOKEN_VARIABLE} holds characters a token cannot (spaces or control characters)`;
  }
  return {
    endpoint,
    ...window,
    aggregate,
    account,
    currency,
    dryRun: options.has('dry-run'),
    token: token === '' ? undefined : token,
  };
}

/**
 * `Nd`: today (UTC) and the N-1 days before it, as OpenCost reads a window of `Nd` (the whole of
 * today, midnight to midnight); `FIRST,END` as UTC dates, END exclusive. Whole UTC days: the unit
 * an import replaces.
 */
function parseWindow(text: string, nowSeconds: number): { since: number; until: number } | string {
  const days = /^(\d{1,3})d$/.exec(text);
  if (days !== null) {
    const count = Number(days[1]);
    if (count < 1 || count > MAX_DAYS) return `1d to ${MAX_DAYS}d`;
    const until = utcDay(nowSeconds) + DAY;
    return { since: until - count * DAY, until };
  }
  const [first, end, ...rest] = text.split(',');
  const since = first === undefined ? undefined : dateSeconds(first);
  const until = end === undefined ? undefined : dateSeconds(end);
  if (rest.length > 0 || since === undefined || until === undefined) {
    return `${JSON.stringify(text.slice(0, 60))}: Nd (7d), or FIRST,END as UTC dates (2026-11-01,2026-12-01; END exclusive)`;
  }
  if (until <= since) return 'the end date must be after the first';
  if (until - since > MAX_DAYS * DAY) return `at most ${MAX_DAYS} days`;
  return { since, until };
}

function dateSeconds(text: string): number | undefined {
  const m = DATE.exec(text.trim());
  if (m === null) return undefined;
  const seconds = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 1000;
  return new Date(seconds * 1000).toISOString().startsWith(text.trim()) ? seconds : undefined;
}
