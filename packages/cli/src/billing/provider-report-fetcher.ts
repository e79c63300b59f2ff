/**
 * The providers' usage and cost reports read straight from their Admin APIs, page by page, as the
 * `JsonPage`s a bill import takes (`importBill(store, source, [{ origin, pages }])`): the same
 * parsers and the same all-or-nothing import as saved API pages, without a file in between.
 *
 * One report is one endpoint over one period, followed through `has_more` / `next_page` until it
 * ends. Every page is read whole (up to a byte limit, so a misbehaving proxy cannot exhaust
 * memory) and parsed losslessly (numbers stay text: these are bills). Rate limits, server errors,
 * timeouts and dropped connections are retried with backoff; refused credentials and other client
 * errors are not, since asking again cannot change the answer.
 *
 * The admin key travels in a header only, never in the URL, so the URL can name the page in
 * every error; any text a provider or the network sends back is scrubbed of the key as well.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { checkedCount, clip, errorBody, discard, errorText, readBody, rfc3339, scrub } from './report-http.js';
import {
  backoffDelay,
  backoffProblem,
  BillingImportError,
  JSON_MAX_LENGTH,
  JsonObject,
  parseJson,
  utcDay,
} from '@costtrace/core';
import type { BackoffPolicy, BillSource, JsonPage, JsonValue } from '@costtrace/core';

/** The providers whose Admin APIs report usage and cost. */
export type BillProvider = 'openai' | 'anthropic';

/** The reports fetched, one per endpoint. */
export type ProviderReport =
  'openai-completions' | 'openai-embeddings' | 'openai-costs' | 'anthropic-usage' | 'anthropic-cost';

/** Where a report is read from and what its pages are parsed as. */
export interface ReportEndpoint {
  readonly provider: BillProvider;
  /** The bill source its pages are imported as (picks the page parser). */
  readonly source: BillSource;
  /** The endpoint's path below the base URL; also the import's origin. */
  readonly path: string;
}

export const REPORT_ENDPOINTS: Readonly<Record<ProviderReport, ReportEndpoint>> = {
  'openai-completions': { provider: 'openai', source: 'openai-usage', path: '/v1/organization/usage/completions' },
  'openai-embeddings': { provider: 'openai', source: 'openai-usage', path: '/v1/organization/usage/embeddings' },
  'openai-costs': { provider: 'openai', source: 'openai-costs', path: '/v1/organization/costs' },
  'anthropic-usage': {
    provider: 'anthropic',
    source: 'anthropic-usage',
    path: '/v1/organizations/usage_report/messages',
  },
  'anthropic-cost': { provider: 'anthropic', source: 'anthropic-cost', path: '/v1/organizations/cost_report' },
};

/** The public APIs; `baseUrl` replaces them (a proxy, a test server). */
export const DEFAULT_BASE_URLS: Readonly<Record<BillProvider, string>> = {
  openai: 'https://api.openai.com',
  anthropic: 'https://api.anthropic.com',
};

/** The environment variable that holds each provider's admin key, named when a key is refused. */
export const ADMIN_KEY_VARIABLES: Readonly<Record<BillProvider, string>> = {
  openai: 'OPENAI_ADMIN_KEY',
  anthropic: 'ANTHROPIC_ADMIN_KEY',
};

const API_NAMES: Readonly<Record<BillProvider, string>> = {
  openai: 'the OpenAI Admin API',
  anthropic: 'the Anthropic Admin API',
};

/** The Anthropic API version the report schemas (and core's parsers) are written against. */
export const ANTHROPIC_VERSION = '2023-06-01';

/**
 * Daily buckets per page: the most every one of these endpoints accepts with 1d buckets (the
 * OpenAI Costs API would take 180; 31 keeps its pages as small as the others').
 */
export const BUCKETS_PER_PAGE = 31;

/**
 * The dimensions each report is grouped by: everything the page parsers read into a line
 * (model, project or workspace, API key, service tier or batch, the cost line item). The
 * embeddings endpoint groups by neither `batch` nor `service_tier` (it accepts project_id,
 * user_id, api_key_id and model only), so it is not asked to.
 */
const GROUP_BY: Readonly<Record<ProviderReport, readonly string[]>> = {
  'openai-completions': ['model', 'project_id', 'api_key_id', 'batch', 'service_tier'],
  'openai-embeddings': ['model', 'project_id', 'api_key_id'],
  'openai-costs': ['line_item', 'project_id'],
  'anthropic-usage': ['model', 'workspace_id', 'api_key_id', 'service_tier'],
  'anthropic-cost': ['workspace_id', 'description'],
};

/**
 * How each API spells an array in a query. Anthropic's reference shows `group_by[]=model&…` in
 * its examples. OpenAI's reference types `group_by` as an array without showing the wire form;
 * its cookbook sends the repeated form (`group_by=model&group_by=project_id`, what Python's
 * requests writes for a list), which is used here.
 */
const ARRAY_PARAMETER: Readonly<Record<BillProvider, string>> = {
  openai: 'group_by',
  anthropic: 'group_by[]',
};

/** The limits and retry timing of a fetch; each has a production default. */
export interface ReportFetchTuning {
  /** Pages one report may span before the fetch stops with TOO_LARGE; default 1000. */
  readonly maxPages?: number | undefined;
  /** Largest response body read, in bytes; default 32 MiB. */
  readonly maxBodyBytes?: number | undefined;
  /** Attempts per page, the first included; default 5. */
  readonly maxAttempts?: number | undefined;
  /** Limit of one request, headers and body, in ms; default 30 s. */
  readonly timeoutMs?: number | undefined;
  /** Waits between attempts when the provider names none; default 1 s doubling to 30 s, ±20 %. */
  readonly backoff?: BackoffPolicy | undefined;
  /** Longest `retry-after` wait honoured, in ms (a longer one is cut to it); default 60 s. */
  readonly maxRetryAfterMs?: number | undefined;
}

export interface ReportFetchOptions extends ReportFetchTuning {
  readonly report: ProviderReport;
  /** The provider's admin key: sent in a header, never written anywhere. */
  readonly apiKey: string;
  /** Start, unix seconds; widened to its UTC midnight (days are the unit of a bill import). */
  readonly since: number;
  /** End (exclusive), unix seconds. */
  readonly until: number;
  /** http(s) URL, optionally with a path prefix; default the provider's public API. */
  readonly baseUrl?: string | undefined;
  /** Injectable for tests; default the global fetch. */
  readonly fetch?: typeof fetch | undefined;
  /** Cancels the whole fetch (no retry follows a cancellation). */
  readonly signal?: AbortSignal | undefined;
}

export const DEFAULT_MAX_PAGES = 1000;
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;
export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 30_000, jitter: 0.2 };
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

const MAX_CURSOR_LENGTH = 4096;

interface FetchContext {
  readonly endpoint: ReportEndpoint;
  readonly apiKey: string;
  readonly fetch: typeof fetch;
  readonly signal: AbortSignal | undefined;
  readonly maxBodyBytes: number;
  readonly maxAttempts: number;
  readonly timeoutMs: number;
  readonly backoff: BackoffPolicy;
  readonly maxRetryAfterMs: number;
}

/**
 * The pages of one report, fetched as they are consumed (a consumer that stops early stops the
 * fetching). Options are checked at once (a TypeError or RangeError for a caller's mistake);
 * everything the network or the provider does wrong is a BillingImportError thrown by the
 * iteration: UNAUTHENTICATED (401, 403), FETCH_FAILED (other 4xx, retries spent, a cursor that
 * repeats), TOO_LARGE (a body over the limit, more pages than the limit), INVALID_FORMAT (a body
 * that is not JSON), INVALID_VALUE (`has_more` without a cursor).
 */
export function fetchReportPages(options: ReportFetchOptions): AsyncIterable<JsonPage> {
  const endpoint = REPORT_ENDPOINTS[options.report];
  if (endpoint === undefined) throw new TypeError(`not a provider report: ${JSON.stringify(options.report)}`);
  const base = checkedBaseUrl(options.baseUrl ?? DEFAULT_BASE_URLS[endpoint.provider]);
  if (options.apiKey === '') throw new TypeError('the admin key is empty');
  const start = utcDay(checkedSeconds('since', options.since));
  const until = checkedSeconds('until', options.until);
  if (until <= start) throw new RangeError(`until (${until}) must be after since (${start}, widened to its day)`);
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const problem = backoffProblem(backoff);
  if (problem !== undefined) throw new RangeError(`backoff: ${problem}`);
  const context: FetchContext = {
    endpoint,
    apiKey: options.apiKey,
    fetch: options.fetch ?? globalThis.fetch,
    signal: options.signal,
    maxBodyBytes: checkedCount('maxBodyBytes', options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, JSON_MAX_LENGTH),
    maxAttempts: checkedCount('maxAttempts', options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, 100),
    timeoutMs: checkedCount('timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 3_600_000),
    backoff,
    maxRetryAfterMs: checkedCount('maxRetryAfterMs', options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS, 3_600_000),
  };
  const maxPages = checkedCount('maxPages', options.maxPages ?? DEFAULT_MAX_PAGES, 1_000_000);
  return reportPages(context, options.report, base, start, until, maxPages);
}

/**
 * The query of one page request, in the order it is sent: the period (`start` a UTC midnight,
 * `until` exclusive, unix seconds), daily buckets, the grouping, the page size, and the cursor of
 * any page after the first.
 */
export function reportQuery(
  report: ProviderReport,
  start: number,
  until: number,
  cursor: string | undefined,
): URLSearchParams {
  const { provider } = REPORT_ENDPOINTS[report];
  const query = new URLSearchParams();
  if (provider === 'openai') {
    query.append('start_time', String(start));
    query.append('end_time', String(until));
  } else {
    query.append('starting_at', rfc3339(start));
    query.append('ending_at', rfc3339(until));
  }
  // The cost report has daily buckets only and takes no bucket_width.
  if (report !== 'anthropic-cost') query.append('bucket_width', '1d');
  for (const dimension of GROUP_BY[report]) query.append(ARRAY_PARAMETER[provider], dimension);
  query.append('limit', String(BUCKETS_PER_PAGE));
  if (cursor !== undefined) query.append('page', cursor);
  return query;
}

async function* reportPages(
  context: FetchContext,
  report: ProviderReport,
  base: URL,
  start: number,
  until: number,
  maxPages: number,
): AsyncGenerator<JsonPage, void, undefined> {
  const endpointUrl = new URL(base.pathname.replace(/\/+$/, '') + context.endpoint.path, base);
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let count = 1; ; count++) {
    const url = new URL(endpointUrl);
    url.search = reportQuery(report, start, until, cursor).toString();
    // Named in every error: it holds no secret (the key is in a header, the base URL no credentials).
    const shown = url.href;
    const page = parseJson(await fetchPageText(context, url, shown), { file: shown });
    yield { page, location: { file: shown } };
    const next = nextCursor(page, shown);
    if (next === undefined) return;
    if (seen.has(next)) {
      throw new BillingImportError(
        'FETCH_FAILED',
        `the API returned the cursor ${JSON.stringify(next.slice(0, 80))} a second time: it would page forever`,
        { file: shown, field: 'next_page' },
      );
    }
    if (count >= maxPages) {
      throw new BillingImportError(
        'TOO_LARGE',
        `the report has more than ${maxPages} pages: fetch a shorter period (--since, --until)`,
        { file: shown },
      );
    }
    seen.add(next);
    cursor = next;
  }
}

/** The cursor of the next page; undefined on the last page (or a page that is no envelope). */
function nextCursor(page: JsonValue, shown: string): string | undefined {
  if (!(page instanceof JsonObject) || page.get('has_more') !== true) return undefined;
  const next = page.get('next_page');
  if (typeof next !== 'string' || next === '' || next.length > MAX_CURSOR_LENGTH) {
    throw new BillingImportError(
      'INVALID_VALUE',
      `has_more is true but next_page is not a cursor (a string of 1 to ${MAX_CURSOR_LENGTH} characters)`,
      { file: shown, line: page.lineOf('next_page') ?? page.line, field: 'next_page' },
    );
  }
  return next;
}

/**
 * One page's body text. Retried: 408, 429 and 5xx answers (after `retry-after` when given, else
 * backoff), timeouts and network failures, also while the body streams in. Not retried: refused
 * keys, other client errors, redirects (never followed: the key would go along), oversized bodies.
 */
async function fetchPageText(context: FetchContext, url: URL, shown: string): Promise<string> {
  const { endpoint, maxAttempts } = context;
  let last = '';
  let wait = 0;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) await sleep(wait, undefined, { signal: context.signal });
    const timeout = AbortSignal.timeout(context.timeoutMs);
    const signal = context.signal === undefined ? timeout : AbortSignal.any([timeout, context.signal]);
    let response: Response;
    try {
      response = await context.fetch(url, {
        headers: requestHeaders(endpoint.provider, context.apiKey),
        signal,
        redirect: 'manual',
      });
    } catch (err) {
      if (context.signal?.aborted === true) throw err;
      last = timeout.aborted
        ? `no answer within ${context.timeoutMs} ms`
        : `network error: ${errorText(err, context.apiKey, 'admin key')}`;
      wait = backoffDelay(context.backoff, attempt);
      continue;
    }
    const { status } = response;
    if (status >= 200 && status < 300) {
      try {
        return await readBody(response, context.maxBodyBytes, shown, 'fetch a shorter period (--since, --until)');
      } catch (err) {
        if (err instanceof BillingImportError || context.signal?.aborted === true) throw err;
        last = timeout.aborted
          ? `the body did not arrive within ${context.timeoutMs} ms`
          : `the body broke off: ${errorText(err, context.apiKey, 'admin key')}`;
        wait = backoffDelay(context.backoff, attempt);
        continue;
      }
    }
    if (status === 401 || status === 403) throw await refused(context, response, shown);
    if (status === 408 || status === 429 || status >= 500) {
      await discard(response);
      last = `HTTP ${status}`;
      wait =
        retryAfterMs(response.headers.get('retry-after'), context.maxRetryAfterMs) ??
        backoffDelay(context.backoff, attempt);
      continue;
    }
    const message = await providerMessage(response, context.apiKey);
    throw new BillingImportError(
      'FETCH_FAILED',
      `${API_NAMES[endpoint.provider]} answered HTTP ${status}${message === '' ? '' : `: ${message}`}`,
      { file: shown },
    );
  }
  throw new BillingImportError(
    'FETCH_FAILED',
    `${API_NAMES[endpoint.provider]} failed ${maxAttempts} time(s), the last with ${last}: try again later`,
    { file: shown },
  );
}

function requestHeaders(provider: BillProvider, apiKey: string): Record<string, string> {
  return provider === 'openai'
    ? { accept: 'application/json', authorization: `Bearer ${apiKey}` }
    : { accept: 'application/json', 'x-api-key': apiKey, 'anthropic-version': ANTHROPIC_VERSION };
}

/** UNAUTHENTICATED for a 401 or 403, naming the variable that holds the key. */
async function refused(context: FetchContext, response: Response, shown: string): Promise<BillingImportError> {
  const { provider } = context.endpoint;
  const variable = ADMIN_KEY_VARIABLES[provider];
  if (response.status === 401) {
    // The message of a 401 quotes (part of) the key: it is not repeated.
    await discard(response);
    return new BillingImportError(
      'UNAUTHENTICATED',
      `${API_NAMES[provider]} refused the key (HTTP 401): set ${variable} to an admin key of the organization`,
      { file: shown },
    );
  }
  const message = await providerMessage(response, context.apiKey);
  return new BillingImportError(
    'UNAUTHENTICATED',
    `${API_NAMES[provider]} denied access (HTTP 403${message === '' ? '' : `: ${message}`}): ` +
      `${variable} must hold an admin key of the organization that may read its usage and costs`,
    { file: shown },
  );
}

/**
 * The provider's error message: `error.message` of the JSON body (both providers' envelope),
 * else the body's text; whitespace folded, the key scrubbed, clipped.
 */
async function providerMessage(response: Response, apiKey: string): Promise<string> {
  const text = await errorBody(response);
  let message = text;
  try {
    const root = parseJson(text);
    const error = root instanceof JsonObject ? root.get('error') : undefined;
    const quoted = error instanceof JsonObject ? error.get('message') : undefined;
    if (typeof quoted === 'string') message = quoted;
  } catch {
    // Not JSON (a proxy's page): its text is quoted as it is.
  }
  return clip(scrub(message.replace(/\s+/g, ' ').trim(), apiKey, 'admin key'));
}

/**
 * The wait a 429 or 503 asks for, in ms, from `retry-after` in seconds (the form both providers
 * send), capped; undefined when absent or not seconds (the HTTP-date form), then backoff decides.
 */
export function retryAfterMs(header: string | null, capMs: number): number | undefined {
  if (header === null || !/^\s*\d+(\.\d+)?\s*$/.test(header)) return undefined;
  return Math.min(Math.round(Number(header) * 1000), capMs);
}

function checkedBaseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`base URL ${JSON.stringify(text.slice(0, 200))} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('the base URL must be http(s)');
  if (url.username !== '' || url.password !== '') throw new TypeError('the base URL must not hold credentials');
  if (url.search !== '' || url.hash !== '') throw new TypeError('the base URL must have no query or fragment');
  return url;
}

function checkedSeconds(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be whole unix seconds ≥ 0`);
  return value;
}
