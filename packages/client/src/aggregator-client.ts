import type { BudgetDocument } from '@costtrace/core';
import { ApiError } from './api-error.js';
import type {
  BudgetList,
  BudgetResponse,
  BudgetStatus,
  CostRow,
  CostsRequest,
  CoverageRequest,
  CoverageRow,
  DimensionFilterParam,
  EventList,
  EventsRequest,
  PreflightAction,
  PreflightList,
  PreflightRecord,
  PreflightRequest,
  PreflightStatus,
  ThrottleList,
  TopSpanRow,
  TopSpansRequest,
} from './api-types.js';
import { readServerSentEvents } from './server-sent-events.js';
import type { ServerSentEvent } from './server-sent-events.js';

export interface AggregatorClientOptions {
  /** The aggregator API's base URL, e.g. "http://aggregator:8080" (http or https). */
  readonly baseUrl: string;
  /** Sent with every request (e.g. an authorization header of a gateway in front). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Per request, until the response headers (streams: until they open). Default 30 s. */
  readonly timeoutMs?: number | undefined;
  /** The fetch to use; the SDK passes one that runs with tracing suppressed. Default: global fetch. */
  readonly fetch?: typeof fetch | undefined;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * The aggregator's HTTP API as typed calls: budgets, events, throttles (JSON and the SSE stream)
 * and the cost queries. One place that knows the routes, the envelope and the error mapping;
 * the CLI, the SDK's throttle feed and `--store api:` use it. Every failure is an ApiError.
 */
export class AggregatorClient {
  readonly baseUrl: URL;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(options: AggregatorClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch (cause) {
      throw new TypeError(`aggregator URL ${JSON.stringify(options.baseUrl)} is not a URL: use http://HOST:PORT`, {
        cause,
      });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`aggregator URL must be http:// or https://, got ${url.protocol}`);
    }
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
      throw new RangeError(`timeoutMs must be a positive integer of milliseconds, got ${timeoutMs}`);
    }
    this.baseUrl = url;
    this.headers = options.headers ?? {};
    this.timeoutMs = timeoutMs;
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  // ---- budgets ----

  /** Creates or replaces a budget; `created` tells which. */
  async putBudget(
    id: string,
    document: Readonly<Record<string, unknown>>,
  ): Promise<BudgetResponse & { readonly created: boolean }> {
    const { status, body } = await this.request('PUT', `v1/budgets/${budgetId(id)}`, { body: document });
    return { ...objectBody<BudgetResponse>(status, body, 'budget'), created: status === 201 };
  }

  async listBudgets(): Promise<BudgetList> {
    const { status, body } = await this.request('GET', 'v1/budgets');
    return objectBody<BudgetList>(status, body, 'budgets');
  }

  async getBudget(id: string): Promise<BudgetDocument> {
    const { status, body } = await this.request('GET', `v1/budgets/${budgetId(id)}`);
    return objectBody<BudgetResponse>(status, body, 'budget').budget;
  }

  async deleteBudget(id: string): Promise<void> {
    await this.request('DELETE', `v1/budgets/${budgetId(id)}`);
  }

  /** Spend, percent, window, throttle and forecast of a budget's keys (the first `limit`). */
  async budgetStatus(id: string, options: { readonly limit?: number | undefined } = {}): Promise<BudgetStatus> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    const { status, body } = await this.request('GET', `v1/budgets/${budgetId(id)}/status`, { query });
    return objectBody<BudgetStatus>(status, body, 'keys');
  }

  /** Recent budget, throttle and anomaly events, newest first. */
  async events(request: EventsRequest = {}): Promise<EventList> {
    const query = new URLSearchParams();
    if (request.limit !== undefined) query.set('limit', String(request.limit));
    if (request.budget !== undefined) query.set('budget', request.budget);
    if (request.type !== undefined) query.set('type', request.type);
    const { status, body } = await this.request('GET', 'v1/events', { query });
    return objectBody<EventList>(status, body, 'events');
  }

  // ---- throttles ----

  /** The active throttles (`parseThrottleDocument` turns them into a guard's view). */
  async throttles(signal?: AbortSignal): Promise<ThrottleList> {
    const { status, body } = await this.request('GET', 'v1/throttles', { signal });
    return objectBody<ThrottleList>(status, body, 'throttles');
  }

  /**
   * Opens `GET /v1/throttles/stream`: a `snapshot` event, then `engaged` and `released`, and
   * keep-alive comments (events without data). Ends when the server closes or `signal` aborts.
   */
  async throttleStream(signal: AbortSignal): Promise<AsyncGenerator<ServerSentEvent>> {
    const response = await this.send('GET', 'v1/throttles/stream', { signal, accept: 'text/event-stream' });
    if (!response.ok || response.body === null) {
      throw await statusError('GET', 'v1/throttles/stream', response);
    }
    return readServerSentEvents(response.body);
  }

  // ---- preflight ----

  /**
   * Prices planned work and decides before the spend: `allow` (the amount reserved against the
   * budgets), `needs_approval` (pending) or `deny`. Every decision is a 200 with the record; an
   * invalid plan is an ApiError with status 400.
   */
  async preflight(
    request: PreflightRequest,
    options: { readonly signal?: AbortSignal | undefined } = {},
  ): Promise<PreflightRecord> {
    const { status, body } = await this.request('POST', 'v1/preflight', { body: request, signal: options.signal });
    return objectBody<PreflightRecord>(status, body, 'decision');
  }

  async getPreflight(id: string): Promise<PreflightRecord> {
    const { status, body } = await this.request('GET', `v1/preflight/${preflightId(id)}`);
    return objectBody<PreflightRecord>(status, body, 'decision');
  }

  /** Preflights, newest first, optionally of one status or job (the server caps `limit`). */
  async listPreflights(
    filter: {
      readonly status?: PreflightStatus | undefined;
      readonly jobId?: string | undefined;
      readonly limit?: number | undefined;
    } = {},
  ): Promise<PreflightList> {
    const query = new URLSearchParams();
    if (filter.status !== undefined) query.set('status', filter.status);
    if (filter.jobId !== undefined) query.set('job_id', filter.jobId);
    if (filter.limit !== undefined) query.set('limit', String(filter.limit));
    const { status, body } = await this.request('GET', 'v1/preflight', { query });
    return objectBody<PreflightList>(status, body, 'preflights');
  }

  /** Approves a pending preflight (409 when it is not pending, 403 when `by` may not approve it). */
  async approvePreflight(id: string, action: PreflightAction): Promise<PreflightRecord> {
    return this.preflightAction(id, 'approve', action);
  }

  /** Refuses a pending preflight (409 when it is not pending, 403 when `by` may not decide it). */
  async rejectPreflight(id: string, action: PreflightAction): Promise<PreflightRecord> {
    return this.preflightAction(id, 'reject', action);
  }

  /** Frees a reservation (or withdraws a pending request) before the job's spans settle it; 409 otherwise. */
  async releasePreflight(id: string, action: PreflightAction): Promise<PreflightRecord> {
    return this.preflightAction(id, 'release', action);
  }

  private async preflightAction(
    id: string,
    verb: 'approve' | 'reject' | 'release',
    action: PreflightAction,
  ): Promise<PreflightRecord> {
    const { status, body } = await this.request('POST', `v1/preflight/${preflightId(id)}/${verb}`, { body: action });
    return objectBody<PreflightRecord>(status, body, 'decision');
  }

  // ---- cost queries ----

  async costs(request: CostsRequest): Promise<CostRow[]> {
    const query = rangeQuery(request);
    if (request.groupBy.length > 0) query.set('group_by', request.groupBy.join(','));
    if (request.bucket !== undefined) query.set('bucket', request.bucket);
    if (request.orderBy !== undefined) query.set('order_by', request.orderBy);
    if (request.source !== undefined) query.set('source', request.source);
    if (request.corrections === true) query.set('corrections', 'true');
    return this.rows<CostRow>('api/v1/costs', query);
  }

  async topSpans(request: TopSpansRequest): Promise<TopSpanRow[]> {
    return this.rows<TopSpanRow>('api/v1/top/spans', rangeQuery(request));
  }

  async coverage(request: CoverageRequest): Promise<CoverageRow[]> {
    const query = rangeQuery(request);
    query.set('group_by', request.groupBy.join(','));
    return this.rows<CoverageRow>('api/v1/coverage', query);
  }

  private async rows<Row>(path: string, query: URLSearchParams): Promise<Row[]> {
    const { status, body } = await this.request('GET', path, { query });
    const rows = (body as { rows?: unknown } | null)?.rows;
    if (!Array.isArray(rows)) {
      throw new ApiError('INVALID_RESPONSE', `GET /${path} answered ${status} without rows`, { status, body });
    }
    return rows as Row[];
  }

  // ---- transport ----

  private async send(
    method: string,
    path: string,
    options: {
      readonly query?: URLSearchParams | undefined;
      readonly body?: unknown;
      readonly signal?: AbortSignal | undefined;
      readonly accept?: string | undefined;
    },
  ): Promise<Response> {
    const url = new URL(path, this.baseUrl);
    if (options.query !== undefined && [...options.query.keys()].length > 0) url.search = options.query.toString();
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
    const headers: Record<string, string> = { accept: options.accept ?? 'application/json', ...this.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await this.fetch(url, {
        method,
        headers,
        signal,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      });
    } catch (cause) {
      if (timeout.aborted) {
        throw new ApiError(
          'TIMEOUT',
          `${method} /${path}: no answer from ${this.baseUrl.origin} in ${this.timeoutMs} ms`,
          {
            cause,
          },
        );
      }
      if (options.signal?.aborted === true) throw cause;
      throw new ApiError('UNREACHABLE', `${method} /${path}: ${this.baseUrl.origin} is not reachable`, { cause });
    }
  }

  /** One JSON request; a non-2xx answer throws ApiError HTTP_STATUS with the server's message. */
  private async request(
    method: string,
    path: string,
    options: {
      readonly query?: URLSearchParams | undefined;
      readonly body?: unknown;
      readonly signal?: AbortSignal | undefined;
    } = {},
  ): Promise<{ status: number; body: unknown }> {
    const response = await this.send(method, path, options);
    if (!response.ok) throw await statusError(method, path, response);
    const text = await response.text();
    if (text === '') return { status: response.status, body: null };
    try {
      return { status: response.status, body: JSON.parse(text) as unknown };
    } catch (cause) {
      throw new ApiError(
        'INVALID_RESPONSE',
        `${method} /${path} answered ${response.status} with a body that is not JSON`,
        {
          cause,
          status: response.status,
          body: text,
        },
      );
    }
  }
}

function budgetId(id: string): string {
  if (!ID.test(id)) throw new TypeError(`budget id ${JSON.stringify(id)}: 1-64 letters, digits, ".", "_" or "-"`);
  return encodeURIComponent(id);
}

/**
 * A preflight id as one path segment: any text the server may issue (today `pf_` + 26 of
 * [0-9a-z]) is percent-encoded; what would change the path (empty, "." or "..") is refused.
 */
function preflightId(id: string): string {
  if (id === '' || id === '.' || id === '..' || id.length > 128 || /\p{Cc}/u.test(id)) {
    throw new TypeError(`preflight id ${JSON.stringify(id)}: use the id a preflight answered, e.g. pf_01k…`);
  }
  return encodeURIComponent(id);
}

function objectBody<T>(status: number, body: unknown, field: string): T {
  if (typeof body !== 'object' || body === null || !(field in body)) {
    throw new ApiError('INVALID_RESPONSE', `answer ${status} has no "${field}"`, { status, body });
  }
  return body as T;
}

/** The error envelope, whichever form a route uses: {"error": {"code"?, "message"}} or text. */
async function statusError(method: string, path: string, response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let body: unknown = text;
  try {
    body = text === '' ? null : (JSON.parse(text) as unknown);
  } catch {
    // a plain-text answer stays text
  }
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const serverMessage = typeof error?.message === 'string' ? error.message : undefined;
  return new ApiError(
    'HTTP_STATUS',
    `${method} /${path} answered ${response.status}: ${serverMessage ?? (text === '' ? response.statusText : text)}`,
    {
      status: response.status,
      serverCode: typeof error?.code === 'string' ? error.code : undefined,
      serverMessage,
      body,
    },
  );
}

function rangeQuery(request: TopSpansRequest): URLSearchParams {
  const query = new URLSearchParams();
  query.set('since', String(request.since));
  if (request.until !== undefined) query.set('until', String(request.until));
  if (request.limit !== undefined) query.set('limit', String(request.limit));
  appendFilters(query, request.where ?? []);
  return query;
}

function appendFilters(query: URLSearchParams, filters: readonly DimensionFilterParam[]): void {
  for (const filter of filters)
    for (const value of filter.values) query.append('where', `${filter.dimension}=${value}`);
}
