/**
 * OpenCost's allocation API read over HTTP (`GET /allocation`, documented at
 * opencost.io/docs/integrations/api), as the `JsonPage`s a bill import takes: one response per
 * stretch of at most DAYS_PER_REQUEST whole UTC days, each in daily steps (`step=1d`,
 * `accumulate=false`) with the cluster's idle cost as its own allocation (`includeIdle=true`,
 * `shareIdle=false`), so that every day of the import is one set OpenCost computed and the idle
 * cost is there for costtrace to spread.
 *
 * Every body is read whole up to a byte limit and parsed losslessly (costs stay exact decimal
 * text). Server errors, rate limits, timeouts and dropped connections are retried with backoff; a
 * client error, a refused token, a redirect (never followed: the token would go along) or an
 * answer with `code` other than 200 is not. An answer for another window than the one asked for
 * (an old OpenCost that ignored the window) is refused. The optional bearer token travels in a
 * header only and is scrubbed from every message, so errors can name the URL.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { checkedCount, clip, errorBody, errorText, readBody, rfc3339, scrub } from './report-http.js';
import {
  backoffDelay,
  backoffProblem,
  BillingImportError,
  JSON_MAX_LENGTH,
  JsonArray,
  JsonNumber,
  JsonObject,
  parseJson,
  utcSeconds,
} from '@costtrace/core';
import type { BackoffPolicy, JsonPage, JsonValue } from '@costtrace/core';

/** Days one request covers: a month of daily sets stays far below the body limit for hundreds of namespaces. */
export const DAYS_PER_REQUEST = 31;
export const OPENCOST_DEFAULT_TIMEOUT_MS = 120_000;
export const OPENCOST_DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;
export const OPENCOST_DEFAULT_MAX_ATTEMPTS = 3;
export const OPENCOST_DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 15_000, jitter: 0.2 };
/** The environment variable of an optional bearer token (OpenCost behind an authenticating proxy). */
export const OPENCOST_TOKEN_VARIABLE = 'COSTTRACE_OPENCOST_TOKEN';

const DAY = 86_400;

/** The limits and retry timing of a fetch; each has a default. */
export interface OpenCostFetchTuning {
  /** Limit of one request, headers and body, in ms; default 120 s (OpenCost computes on request). */
  readonly timeoutMs?: number | undefined;
  /** Largest response body read, in bytes; default 32 MiB. */
  readonly maxBodyBytes?: number | undefined;
  /** Attempts per request, the first included; default 3. */
  readonly maxAttempts?: number | undefined;
  readonly backoff?: BackoffPolicy | undefined;
}

export interface OpenCostFetchOptions extends OpenCostFetchTuning {
  /** The allocation endpoint: an http(s) URL without query (see openCostEndpoint). */
  readonly endpoint: URL;
  /** First day, unix seconds of a UTC midnight. */
  readonly since: number;
  /** End (exclusive), unix seconds of a UTC midnight after `since`. */
  readonly until: number;
  /** The `aggregate` parameter (checked by the caller: openCostAggregateProblem). */
  readonly aggregate: string;
  /** Sent as `Authorization: Bearer …` when given; never written anywhere. */
  readonly token?: string | undefined;
  /** Injectable for tests; default the global fetch. */
  readonly fetch?: typeof fetch | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * The allocation endpoint of an OpenCost address: `http://host:9003` → `http://host:9003/allocation`;
 * a URL that already ends in `/allocation` or `/allocation/compute` (a path prefix, Kubecost's
 * `/model/allocation`) is taken as it is. Returns the problem as a string: not http(s), with a
 * user or password (the token goes in a header), with a query or fragment.
 */
export function openCostEndpoint(text: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${JSON.stringify(text.slice(0, 100))} is not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'an http:// or https:// URL';
  if (url.username !== '' || url.password !== '') {
    return `no user or password in the URL (a token is read from ${OPENCOST_TOKEN_VARIABLE} and sent in a header)`;
  }
  if (url.search !== '' || url.hash !== '') return 'no query or fragment: costtrace sets the query';
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = /\/allocation(\/compute)?$/.test(path) ? path : `${path}/allocation`;
  return url;
}

/** The query of one request, in the order it is sent. */
export function openCostQuery(aggregate: string, start: number, end: number): URLSearchParams {
  const query = new URLSearchParams();
  query.append('window', `${rfc3339(start)},${rfc3339(end)}`);
  query.append('aggregate', aggregate);
  query.append('step', '1d');
  query.append('accumulate', 'false');
  query.append('includeIdle', 'true');
  query.append('shareIdle', 'false');
  return query;
}

interface FetchContext {
  readonly token: string;
  readonly fetch: typeof fetch;
  readonly signal: AbortSignal | undefined;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly maxAttempts: number;
  readonly backoff: BackoffPolicy;
}

/**
 * The responses of the period, one per stretch of days, fetched as they are consumed. Options are
 * checked at once (TypeError, RangeError: a caller's mistake); what the network or OpenCost does
 * wrong is a BillingImportError thrown by the iteration: FETCH_FAILED (an error status or `code`,
 * retries spent, a redirect, another window), UNAUTHENTICATED (401, 403), TOO_LARGE (a body over
 * the limit), INVALID_FORMAT (a body that is not JSON or not UTF-8).
 */
export function fetchOpenCostPages(options: OpenCostFetchOptions): AsyncIterable<JsonPage> {
  const { since, until } = options;
  if (!Number.isSafeInteger(since) || since % DAY !== 0 || !Number.isSafeInteger(until) || until % DAY !== 0) {
    throw new RangeError('since and until must be UTC midnights, in unix seconds');
  }
  if (until <= since) throw new RangeError(`until (${until}) must be after since (${since})`);
  const backoff = options.backoff ?? OPENCOST_DEFAULT_BACKOFF;
  const problem = backoffProblem(backoff);
  if (problem !== undefined) throw new RangeError(`backoff: ${problem}`);
  const token = options.token ?? '';
  if (token !== '' && !/^[\x21-\x7e]+$/.test(token)) {
    throw new TypeError(`${OPENCOST_TOKEN_VARIABLE} holds characters a token cannot (spaces or control characters)`);
  }
  const context: FetchContext = {
    token,
    fetch: options.fetch ?? globalThis.fetch,
    signal: options.signal,
    timeoutMs: checkedCount('timeoutMs', options.timeoutMs ?? OPENCOST_DEFAULT_TIMEOUT_MS, 3_600_000),
    maxBodyBytes: checkedCount(
      'maxBodyBytes',
      options.maxBodyBytes ?? OPENCOST_DEFAULT_MAX_BODY_BYTES,
      JSON_MAX_LENGTH,
    ),
    maxAttempts: checkedCount('maxAttempts', options.maxAttempts ?? OPENCOST_DEFAULT_MAX_ATTEMPTS, 100),
    backoff,
  };
  return responses(context, new URL(options.endpoint), options.aggregate, since, until);
}

async function* responses(
  context: FetchContext,
  endpoint: URL,
  aggregate: string,
  since: number,
  until: number,
): AsyncGenerator<JsonPage, void, undefined> {
  for (let start = since; start < until; start += DAYS_PER_REQUEST * DAY) {
    const end = Math.min(until, start + DAYS_PER_REQUEST * DAY);
    const url = new URL(endpoint);
    url.search = openCostQuery(aggregate, start, end).toString();
    // Named in every error: it holds no secret (the token is in a header, the URL has no credentials).
    const shown = url.href;
    const page = parseJson(await fetchText(context, url, shown), { file: shown });
    checkAnswer(page, shown, start, end);
    yield { page, location: { file: shown } };
  }
}

/**
 * An answer must be a success (`code` 200; OpenCost's error envelope carries a message) for the
 * window asked for: every allocation's window within [start, end).
 */
function checkAnswer(page: JsonValue, shown: string, start: number, end: number): void {
  if (!(page instanceof JsonObject)) return; // the parser names what is wrong with it
  const code = page.get('code');
  if (code !== undefined && !(code instanceof JsonNumber && code.text === '200')) {
    const message = page.get('message');
    throw new BillingImportError(
      'FETCH_FAILED',
      `OpenCost answered code ${code instanceof JsonNumber ? code.text : JSON.stringify(code)}${typeof message === 'string' ? `: ${clip(message)}` : ''}`,
      { file: shown, line: page.lineOf('code'), field: 'code' },
    );
  }
  const data = page.get('data');
  if (!(data instanceof JsonArray)) return;
  for (const set of data) {
    if (!(set instanceof JsonObject)) return;
    for (const [name, allocation] of set.entries()) {
      if (!(allocation instanceof JsonObject)) return;
      const window = allocation.get('window');
      if (!(window instanceof JsonObject)) return;
      const from = window.get('start');
      const to = window.get('end');
      if (typeof from !== 'string' || typeof to !== 'string' || from === 'null' || to === 'null') return;
      let s: number;
      let e: number;
      try {
        s = utcSeconds(from, {});
        e = utcSeconds(to, {});
      } catch {
        return; // the parser says where
      }
      if (s < start || e > end) {
        throw new BillingImportError(
          'FETCH_FAILED',
          `OpenCost answered for the window ${from} .. ${to} (allocation ${JSON.stringify(name.slice(0, 80))}), ` +
            `outside the one asked for (${rfc3339(start)} .. ${rfc3339(end)}): is it an OpenCost that reads the window parameter?`,
          { file: shown, line: window.line },
        );
      }
    }
  }
}

async function fetchText(context: FetchContext, url: URL, shown: string): Promise<string> {
  let last = '';
  let wait = 0;
  for (let attempt = 1; attempt <= context.maxAttempts; attempt++) {
    if (attempt > 1) await sleep(wait, undefined, { signal: context.signal });
    const timeout = AbortSignal.timeout(context.timeoutMs);
    const signal = context.signal === undefined ? timeout : AbortSignal.any([timeout, context.signal]);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (context.token !== '') headers.authorization = `Bearer ${context.token}`;
    let response: Response;
    try {
      response = await context.fetch(url, { headers, signal, redirect: 'manual' });
    } catch (err) {
      if (context.signal?.aborted === true) throw err;
      last = timeout.aborted
        ? `no answer within ${context.timeoutMs} ms`
        : `network error: ${errorText(err, context.token, 'token')}`;
      wait = backoffDelay(context.backoff, attempt);
      continue;
    }
    const { status } = response;
    if (status === 200) {
      try {
        return await readBody(response, context.maxBodyBytes, shown, 'fetch a shorter window or a coarser aggregate');
      } catch (err) {
        if (err instanceof BillingImportError || context.signal?.aborted === true) throw err;
        last = timeout.aborted
          ? `the body did not arrive within ${context.timeoutMs} ms`
          : `the body broke off: ${errorText(err, context.token, 'token')}`;
        wait = backoffDelay(context.backoff, attempt);
        continue;
      }
    }
    if (status === 408 || status === 429 || status >= 500) {
      const message = await errorMessage(response, context.token);
      last = `HTTP ${status}${message === '' ? '' : ` (${message})`}`;
      wait = backoffDelay(context.backoff, attempt);
      continue;
    }
    const message = await errorMessage(response, context.token);
    const said = message === '' ? '' : `: ${message}`;
    if (status === 401 || status === 403) {
      throw new BillingImportError(
        'UNAUTHENTICATED',
        `OpenCost refused the request (HTTP ${status}${said}): set ${OPENCOST_TOKEN_VARIABLE} to a token its proxy accepts`,
        { file: shown },
      );
    }
    throw new BillingImportError(
      'FETCH_FAILED',
      status >= 300 && status < 400
        ? `OpenCost answered HTTP ${status} (a redirect to ${JSON.stringify(clip(response.headers.get('location') ?? ''))}, not followed): give the final address with --url`
        : `OpenCost answered HTTP ${status}${said}`,
      { file: shown },
    );
  }
  throw new BillingImportError(
    'FETCH_FAILED',
    `OpenCost failed ${context.maxAttempts} time(s), the last with ${last}: is it reachable at this address?`,
    { file: shown },
  );
}

/**
 * What an error answer says: OpenCost's `message` (its error envelope `{ code, message }`), else the
 * body's text (`http.Error` writes plain text); whitespace folded, the token scrubbed, clipped.
 */
async function errorMessage(response: Response, token: string): Promise<string> {
  const text = await errorBody(response);
  let message = text;
  try {
    const root = parseJson(text);
    const quoted = root instanceof JsonObject ? root.get('message') : undefined;
    if (typeof quoted === 'string') message = quoted;
  } catch {
    // Not JSON: quoted as it is.
  }
  return clip(scrub(message.replace(/\s+/g, ' ').trim(), token, 'token'));
}
