// `costtrace bill fetch` and its page fetcher against a real local HTTP server that answers as the
// providers' Admin APIs do (response shapes from their API references), page by page through
// has_more / next_page, checking the key headers and the exact query of every request, and
// failing on demand: rate limits, server errors, dropped connections, timeouts, refused keys,
// client errors, oversized bodies, cursor loops and a malformed page. The imports land in a real
// DuckDB file; expected totals are written out by hand from the fixtures.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { BillingImportError } from '@costtrace/core';
import type { JsonPage } from '@costtrace/core';
import { DuckDbStore } from '@costtrace/store';
import { BILL_FETCH_HELP, BILL_FETCH_USAGE, runBillFetch } from '../src/billing/bill-fetch-command.js';
import { fetchReportPages, reportQuery, retryAfterMs } from '../src/billing/provider-report-fetcher.js';
import type { ProviderReport, ReportFetchOptions } from '../src/billing/provider-report-fetcher.js';

const OPENAI_KEY = 'sk-admin-TESTKEY-0123456789abcdefSECRET';
const ANTHROPIC_KEY = 'sk-ant-admin01-TESTKEY-fedcba9876543210SECRET';

const D0 = Date.UTC(2026, 10, 10) / 1000;
const D1 = D0 + 86_400;
const D2 = D1 + 86_400;
/** "Now" for the command: the afternoon of the third day. */
const NOW_MS = (D2 + 15 * 3600 + 30 * 60) * 1000;
const SINCE_TEXT = '2026-11-10T08:00:00Z'; // widened to D0
const UNTIL_TEXT = '2026-11-12T00:00:00Z'; // D2

/** Fast retries: the policy is injectable so the tests do not sleep for seconds. */
const TUNING = { backoff: { initialMs: 1, maxMs: 4, jitter: 0 }, maxRetryAfterMs: 80, timeoutMs: 2_000 } as const;

// ---- the fake API ----

interface SeenRequest {
  readonly method: string;
  readonly path: string;
  /** The query exactly as sent, in order, decoded. */
  readonly query: [string, string][];
  readonly headers: IncomingHttpHeaders;
}

type Reply =
  | {
      readonly status?: number;
      readonly headers?: Readonly<Record<string, string>>;
      /** An object is sent as JSON; a string as it is. */
      readonly body?: unknown;
      /** Waits this long before answering (a slow server). */
      readonly delayMs?: number;
      /** Sends the body in pieces without a content-length. */
      readonly chunked?: boolean;
    }
  | 'hang-up';

/** Answers a request; `nth` is its number among all requests since the last reset, from 1. */
type Handler = (request: SeenRequest, nth: number) => Reply;

class FakeApi {
  readonly seen: SeenRequest[] = [];
  handler: Handler = () => ({ status: 404, body: { error: { message: 'no handler' } } });
  private server: Server | undefined;
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const request: SeenRequest = {
        method: req.method ?? '',
        path: url.pathname,
        query: [...url.searchParams],
        headers: req.headers,
      };
      this.seen.push(request);
      const reply = this.handler(request, this.seen.length);
      if (reply === 'hang-up') {
        req.socket.destroy();
        return;
      }
      const send = (): void => {
        const body =
          reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
        const headers: Record<string, string> = { 'content-type': 'application/json', ...reply.headers };
        if (reply.chunked === true) {
          res.writeHead(reply.status ?? 200, headers);
          const step = 4096;
          for (let i = 0; i < body.length; i += step) res.write(body.slice(i, i + step));
          res.end();
          return;
        }
        res.writeHead(reply.status ?? 200, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
        res.end(body);
      };
      if (reply.delayMs === undefined) send();
      else setTimeout(() => (res.destroyed ? undefined : send()), reply.delayMs);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    assert.ok(address !== null && typeof address === 'object');
    this.base = `http://127.0.0.1:${address.port}`;
  }

  reset(handler: Handler): void {
    this.seen.length = 0;
    this.handler = handler;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** Serves each path's pages in order: page i+1 is asked for by page i's next_page cursor. */
function paged(routes: Readonly<Record<string, readonly unknown[]>>, fallback?: Handler): Handler {
  return (request, nth) => {
    const pages = routes[request.path];
    if (pages === undefined) {
      return fallback?.(request, nth) ?? { status: 404, body: { error: { message: `no route ${request.path}` } } };
    }
    const cursor = request.query.find(([k]) => k === 'page')?.[1];
    let index = 0;
    if (cursor !== undefined) {
      index =
        pages.findIndex(
          (p) => typeof p === 'object' && p !== null && (p as { next_page?: unknown }).next_page === cursor,
        ) + 1;
      if (index === 0) return { status: 400, body: { error: { message: `unknown cursor ${cursor}` } } };
    }
    const page = pages[index];
    return typeof page === 'string' ? { body: page } : { body: page };
  };
}

// ---- fixtures, in the documented response shapes ----

interface CompletionsResult {
  readonly model: string;
  readonly input: number;
  readonly cached: number;
  readonly output: number;
  readonly requests: number;
  readonly apiKey?: string;
}

function completions(r: CompletionsResult): object {
  return {
    object: 'organization.usage.completions.result',
    input_tokens: r.input,
    output_tokens: r.output,
    input_cached_tokens: r.cached,
    input_audio_tokens: 0,
    output_audio_tokens: 0,
    num_model_requests: r.requests,
    project_id: 'proj_alpha',
    user_id: null,
    api_key_id: r.apiKey ?? 'key_alpha',
    model: r.model,
    batch: false,
    service_tier: 'default',
  };
}

function openAiPage(buckets: readonly [number, readonly object[]][], next: string | null): object {
  return {
    object: 'page',
    data: buckets.map(([start, results]) => ({
      object: 'bucket',
      start_time: start,
      end_time: start + 86_400,
      results,
    })),
    has_more: next !== null,
    next_page: next,
  };
}

function openAiCost(value: number, lineItem: string): object {
  return {
    object: 'organization.costs.result',
    amount: { value, currency: 'usd' },
    line_item: lineItem,
    project_id: 'proj_alpha',
  };
}

const COMPLETIONS = '/v1/organization/usage/completions';
const EMBEDDINGS = '/v1/organization/usage/embeddings';
const COSTS = '/v1/organization/costs';
const MESSAGES = '/v1/organizations/usage_report/messages';
const COST_REPORT = '/v1/organizations/cost_report';

const OPENAI_ROUTES: Readonly<Record<string, readonly unknown[]>> = {
  [COMPLETIONS]: [
    openAiPage(
      [
        [
          D0,
          [
            completions({ model: 'gpt-4o', input: 1000, cached: 200, output: 300, requests: 4 }),
            completions({ model: 'gpt-4o-mini', input: 500, cached: 0, output: 50, requests: 2 }),
          ],
        ],
      ],
      'cmpl_page_2',
    ),
    openAiPage([[D1, [completions({ model: 'gpt-4o', input: 2000, cached: 0, output: 100, requests: 3 })]]], null),
  ],
  [EMBEDDINGS]: [
    openAiPage(
      [
        [
          D0,
          [
            {
              object: 'organization.usage.embeddings.result',
              input_tokens: 10_000,
              num_model_requests: 5,
              project_id: 'proj_alpha',
              user_id: null,
              api_key_id: 'key_alpha',
              model: 'text-embedding-3-small',
            },
          ],
        ],
        [D1, []],
      ],
      null,
    ),
  ],
  [COSTS]: [
    openAiPage(
      [
        [
          D0,
          [
            openAiCost(0.002, 'gpt-4o, input'),
            openAiCost(0.00025, 'gpt-4o, cached input'),
            openAiCost(0.003, 'gpt-4o, output'),
          ],
        ],
      ],
      'cost_page_2',
    ),
    openAiPage([[D1, [openAiCost(0.005, 'gpt-4o, input'), openAiCost(0.01, 'web search tool calls')]]], null),
  ],
};

function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

function anthropicPage(buckets: readonly [number, readonly object[]][], next: string | null): object {
  return {
    data: buckets.map(([start, results]) => ({
      starting_at: rfc3339(start),
      ending_at: rfc3339(start + 86_400),
      results,
    })),
    has_more: next !== null,
    next_page: next,
  };
}

function messagesUsage(
  uncached: number,
  write1h: number,
  write5m: number,
  read: number,
  output: number,
  searches: number,
): object {
  return {
    uncached_input_tokens: uncached,
    cache_creation: { ephemeral_1h_input_tokens: write1h, ephemeral_5m_input_tokens: write5m },
    cache_read_input_tokens: read,
    output_tokens: output,
    server_tool_use: { web_search_requests: searches },
    api_key_id: 'apikey_01',
    workspace_id: 'wrkspc_01',
    model: 'claude-sonnet-4-20250514',
    service_tier: 'standard',
    context_window: '0-200k',
  };
}

function anthropicCost(amount: string, description: string, tokenType: string | null, model: string | null): object {
  return {
    currency: 'USD',
    amount,
    workspace_id: 'wrkspc_01',
    description,
    cost_type: tokenType === null ? 'web_search' : 'tokens',
    context_window: tokenType === null ? null : '0-200k',
    model,
    service_tier: tokenType === null ? null : 'standard',
    token_type: tokenType,
  };
}

const ANTHROPIC_ROUTES: Readonly<Record<string, readonly unknown[]>> = {
  [MESSAGES]: [
    anthropicPage([[D0, [messagesUsage(1000, 100, 200, 300, 400, 2)]]], 'page_MjAyNi0xMS0xMQ=='),
    anthropicPage([[D1, [messagesUsage(50, 0, 0, 0, 5, 0)]]], null),
  ],
  [COST_REPORT]: [
    anthropicPage(
      [
        [
          D0,
          [
            anthropicCost(
              '123.45',
              'Claude Sonnet 4 Usage - Input Tokens',
              'uncached_input_tokens',
              'claude-sonnet-4-20250514',
            ),
            anthropicCost('10', 'Claude Sonnet 4 Usage - Output Tokens', 'output_tokens', 'claude-sonnet-4-20250514'),
          ],
        ],
        [D1, [anthropicCost('0.5', 'Web Search', null, null)]],
      ],
      null,
    ),
  ],
};

// ---- the exact queries ----

const OPENAI_USAGE_QUERY: [string, string][] = [
  ['start_time', String(D0)],
  ['end_time', String(D2)],
  ['bucket_width', '1d'],
  ['group_by', 'model'],
  ['group_by', 'project_id'],
  ['group_by', 'api_key_id'],
  ['group_by', 'batch'],
  ['group_by', 'service_tier'],
  ['limit', '31'],
];
const OPENAI_EMBEDDINGS_QUERY: [string, string][] = [
  ['start_time', String(D0)],
  ['end_time', String(D2)],
  ['bucket_width', '1d'],
  ['group_by', 'model'],
  ['group_by', 'project_id'],
  ['group_by', 'api_key_id'],
  ['limit', '31'],
];
const OPENAI_COSTS_QUERY: [string, string][] = [
  ['start_time', String(D0)],
  ['end_time', String(D2)],
  ['bucket_width', '1d'],
  ['group_by', 'line_item'],
  ['group_by', 'project_id'],
  ['limit', '31'],
];
const ANTHROPIC_USAGE_QUERY: [string, string][] = [
  ['starting_at', '2026-11-10T00:00:00Z'],
  ['ending_at', '2026-11-12T00:00:00Z'],
  ['bucket_width', '1d'],
  ['group_by[]', 'model'],
  ['group_by[]', 'workspace_id'],
  ['group_by[]', 'api_key_id'],
  ['group_by[]', 'service_tier'],
  ['limit', '31'],
];
const ANTHROPIC_COST_QUERY: [string, string][] = [
  ['starting_at', '2026-11-10T00:00:00Z'],
  ['ending_at', '2026-11-12T00:00:00Z'],
  ['group_by[]', 'workspace_id'],
  ['group_by[]', 'description'],
  ['limit', '31'],
];

const withPage = (query: [string, string][], cursor: string): [string, string][] => [...query, ['page', cursor]];

// ---- helpers ----

/** Every text the code under test produced: checked for the key at the end. */
const texts: string[] = [];

async function collect(options: Omit<ReportFetchOptions, 'apiKey'> & { apiKey?: string }): Promise<JsonPage[]> {
  const pages: JsonPage[] = [];
  for await (const page of fetchReportPages({ apiKey: OPENAI_KEY, ...TUNING, ...options })) pages.push(page);
  return pages;
}

async function fetchError(
  options: Omit<ReportFetchOptions, 'apiKey'> & { apiKey?: string },
): Promise<BillingImportError> {
  try {
    await collect(options);
  } catch (err) {
    assert.ok(err instanceof BillingImportError, `expected a BillingImportError, got ${String(err)}`);
    texts.push(err.message);
    return err;
  }
  assert.fail('the fetch succeeded');
}

function headerOf(request: SeenRequest | undefined, name: string): string | undefined {
  const value = request?.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** billedTotals as "day provider model kind unit currency" → "quantity billedCost". */
async function totals(store: DuckDbStore, providers?: readonly string[]): Promise<Record<string, string>> {
  const rows = await store.billedTotals({ since: D0, until: D2, groupBy: ['day', 'provider', 'model'], providers });
  const out: Record<string, string> = {};
  for (const r of rows) {
    const day = new Date(Number(r.dimensions.day) * 1000).toISOString().slice(0, 10);
    const key = [day, r.dimensions.provider, r.dimensions.model || '-', r.kind, r.unit || '-', r.currency].join(' ');
    out[key] = `${r.quantity} ${r.billedCost}`;
  }
  return out;
}

async function rawLines(store: DuckDbStore): Promise<number> {
  const [row] = await store.select<{ n: number | string }>('SELECT count(*) AS n FROM billed_lines');
  return Number(row?.n ?? -1);
}

const EXPECTED_OPENAI: Record<string, string> = {
  // usage: input is input_tokens less the cached tokens
  '2026-11-10 openai gpt-4o input tokens USD': '800 0',
  '2026-11-10 openai gpt-4o cache_read tokens USD': '200 0',
  '2026-11-10 openai gpt-4o output tokens USD': '300 0',
  '2026-11-10 openai gpt-4o requests requests USD': '4 0',
  '2026-11-10 openai gpt-4o-mini input tokens USD': '500 0',
  '2026-11-10 openai gpt-4o-mini output tokens USD': '50 0',
  '2026-11-10 openai gpt-4o-mini requests requests USD': '2 0',
  '2026-11-10 openai text-embedding-3-small input tokens USD': '10000 0',
  '2026-11-10 openai text-embedding-3-small requests requests USD': '5 0',
  '2026-11-11 openai gpt-4o input tokens USD': '2000 0',
  '2026-11-11 openai gpt-4o output tokens USD': '100 0',
  '2026-11-11 openai gpt-4o requests requests USD': '3 0',
  // costs: cost-only lines, exact decimals
  '2026-11-10 openai gpt-4o input - USD': '0 0.002',
  '2026-11-10 openai gpt-4o cache_read - USD': '0 0.00025',
  '2026-11-10 openai gpt-4o output - USD': '0 0.003',
  '2026-11-11 openai gpt-4o input - USD': '0 0.005',
  '2026-11-11 openai - other - USD': '0 0.01',
};

const EXPECTED_ANTHROPIC: Record<string, string> = {
  '2026-11-10 anthropic claude-sonnet-4-20250514 input tokens USD': '1000 0',
  '2026-11-10 anthropic claude-sonnet-4-20250514 cache_read tokens USD': '300 0',
  // 5-minute (200) and 1-hour (100) cache writes, one kind
  '2026-11-10 anthropic claude-sonnet-4-20250514 cache_write tokens USD': '300 0',
  '2026-11-10 anthropic claude-sonnet-4-20250514 output tokens USD': '400 0',
  '2026-11-10 anthropic claude-sonnet-4-20250514 other web_search_requests USD': '2 0',
  '2026-11-11 anthropic claude-sonnet-4-20250514 input tokens USD': '50 0',
  '2026-11-11 anthropic claude-sonnet-4-20250514 output tokens USD': '5 0',
  // the cost report states cents: 123.45 → $1.2345, 10 → $0.10, 0.5 → $0.005
  '2026-11-10 anthropic claude-sonnet-4-20250514 input - USD': '0 1.2345',
  '2026-11-10 anthropic claude-sonnet-4-20250514 output - USD': '0 0.1',
  '2026-11-11 anthropic - other - USD': '0 0.005',
};

// ---- the tests ----

const api = new FakeApi();
before(() => api.start());
after(async () => {
  await api.stop();
  for (const text of texts) {
    assert.ok(!text.includes(OPENAI_KEY) && !text.includes(ANTHROPIC_KEY), `a key leaked into: ${text}`);
  }
});

describe('provider report fetcher', () => {
  const since = D0 + 8 * 3600;

  it('follows the OpenAI cursors page by page with the admin key as a bearer token', async () => {
    api.reset(paged(OPENAI_ROUTES));
    const pages = await collect({ report: 'openai-completions', since, until: D2, baseUrl: api.base });
    assert.equal(pages.length, 2);
    assert.deepEqual(
      api.seen.map((r) => [r.method, r.path, r.query]),
      [
        ['GET', COMPLETIONS, OPENAI_USAGE_QUERY],
        ['GET', COMPLETIONS, withPage(OPENAI_USAGE_QUERY, 'cmpl_page_2')],
      ],
    );
    for (const request of api.seen) {
      assert.equal(headerOf(request, 'authorization'), `Bearer ${OPENAI_KEY}`);
      assert.equal(headerOf(request, 'x-api-key'), undefined);
      assert.equal(headerOf(request, 'accept'), 'application/json');
    }
    // Each page is named by its URL, which holds no key.
    assert.equal(
      pages[1]!.location.file,
      `${api.base}${COMPLETIONS}?${new URLSearchParams(withPage(OPENAI_USAGE_QUERY, 'cmpl_page_2')).toString()}`,
    );
    assert.ok(!pages.some((p) => p.location.file?.includes(OPENAI_KEY)));
  });

  it('asks Anthropic with x-api-key, the API version and group_by[] in RFC 3339 days', async () => {
    api.reset(paged(ANTHROPIC_ROUTES));
    const pages = await collect({
      report: 'anthropic-usage',
      apiKey: ANTHROPIC_KEY,
      since,
      until: D2,
      baseUrl: api.base,
    });
    assert.equal(pages.length, 2);
    assert.deepEqual(
      api.seen.map((r) => r.query),
      [ANTHROPIC_USAGE_QUERY, withPage(ANTHROPIC_USAGE_QUERY, 'page_MjAyNi0xMS0xMQ==')],
    );
    for (const request of api.seen) {
      assert.equal(headerOf(request, 'x-api-key'), ANTHROPIC_KEY);
      assert.equal(headerOf(request, 'anthropic-version'), '2023-06-01');
      assert.equal(headerOf(request, 'authorization'), undefined);
    }
  });

  it('keeps a base URL path prefix (a proxy)', async () => {
    api.reset((request) => ({ body: request.path === `/openai${COSTS}` ? openAiPage([], null) : 'wrong path' }));
    await collect({ report: 'openai-costs', since, until: D2, baseUrl: `${api.base}/openai/` });
    assert.equal(api.seen[0]?.path, `/openai${COSTS}`);
  });

  it('waits as retry-after asks (capped) after a 429, then goes on', async () => {
    api.reset((request, nth) =>
      nth === 1
        ? { status: 429, headers: { 'retry-after': '30' }, body: { error: { message: 'slow down' } } }
        : paged(OPENAI_ROUTES)(request, nth),
    );
    const started = Date.now();
    const pages = await collect({ report: 'openai-completions', since, until: D2, baseUrl: api.base });
    const elapsed = Date.now() - started;
    assert.equal(pages.length, 2);
    assert.equal(api.seen.length, 3);
    // The cap (80 ms) is waited, not the 1-4 ms backoff, nor the 30 s asked for.
    assert.ok(elapsed >= 75 && elapsed < 5_000, `waited ${elapsed} ms`);
  });

  it('retries a 500 and a 503 with backoff', async () => {
    api.reset((request, nth) =>
      nth <= 2 ? { status: nth === 1 ? 500 : 503, body: 'upstream error' } : paged(ANTHROPIC_ROUTES)(request, nth),
    );
    const pages = await collect({
      report: 'anthropic-cost',
      apiKey: ANTHROPIC_KEY,
      since,
      until: D2,
      baseUrl: api.base,
    });
    assert.equal(pages.length, 1);
    assert.equal(api.seen.length, 3);
    assert.deepEqual(api.seen[2]?.query, ANTHROPIC_COST_QUERY);
  });

  it('retries a dropped connection and a request that times out', async () => {
    api.reset((request, nth) => {
      if (nth === 1) return 'hang-up';
      if (nth === 2) return { delayMs: 500, body: openAiPage([], null) };
      return paged(OPENAI_ROUTES)(request, nth);
    });
    const pages = await collect({ report: 'openai-costs', since, until: D2, baseUrl: api.base, timeoutMs: 100 });
    assert.equal(pages.length, 2);
    assert.equal(api.seen.filter((r) => !r.query.some(([k]) => k === 'page')).length, 3);
  });

  it('gives up after the attempts, naming the URL and the last status', async () => {
    api.reset(() => ({ status: 502, body: 'bad gateway' }));
    const err = await fetchError({ report: 'openai-completions', since, until: D2, baseUrl: api.base, maxAttempts: 3 });
    assert.equal(err.code, 'FETCH_FAILED');
    assert.equal(api.seen.length, 3);
    assert.match(err.message, /failed 3 time\(s\), the last with HTTP 502/);
    assert.ok(err.message.startsWith(`${api.base}${COMPLETIONS}?start_time=${D0}&`), err.message);
  });

  it('names the OpenAI variable on a 401 and does not retry', async () => {
    api.reset(() => ({
      status: 401,
      body: { error: { message: `Incorrect API key provided: ${OPENAI_KEY}.`, type: 'invalid_request_error' } },
    }));
    const err = await fetchError({ report: 'openai-completions', since, until: D2, baseUrl: api.base });
    assert.equal(err.code, 'UNAUTHENTICATED');
    assert.match(err.message, /HTTP 401.*set OPENAI_ADMIN_KEY/);
    assert.equal(api.seen.length, 1);
  });

  it('names the Anthropic variable on a 403, with the provider message', async () => {
    api.reset(() => ({
      status: 403,
      body: { type: 'error', error: { type: 'permission_error', message: 'Your API key does not have permission' } },
    }));
    const err = await fetchError({
      report: 'anthropic-usage',
      apiKey: ANTHROPIC_KEY,
      since,
      until: D2,
      baseUrl: api.base,
    });
    assert.equal(err.code, 'UNAUTHENTICATED');
    assert.match(err.message, /HTTP 403: Your API key does not have permission\): ANTHROPIC_ADMIN_KEY must hold/);
    assert.equal(api.seen.length, 1);
  });

  it('quotes a 400 error message, cut to 300 characters and without the key', async () => {
    const message = `Invalid value for 'group_by' (key ${OPENAI_KEY}): ${'x'.repeat(400)}`;
    api.reset(() => ({ status: 400, body: { error: { message, type: 'invalid_request_error', param: 'group_by' } } }));
    const err = await fetchError({ report: 'openai-costs', since, until: D2, baseUrl: api.base });
    assert.equal(err.code, 'FETCH_FAILED');
    assert.equal(api.seen.length, 1);
    const quoted = err.problem.slice(err.problem.indexOf('HTTP 400: ') + 'HTTP 400: '.length);
    assert.equal(quoted.length, 300);
    assert.ok(quoted.startsWith("Invalid value for 'group_by' (key [admin key]): xxx"), quoted);
    assert.ok(quoted.endsWith('…'));
  });

  it('refuses a body over the limit, declared or streamed', async () => {
    const big = openAiPage([[D0, Array.from({ length: 50 }, () => openAiCost(1, 'gpt-4o, input'))]], null);
    for (const chunked of [false, true]) {
      api.reset(() => ({ body: big, chunked }));
      const err = await fetchError({ report: 'openai-costs', since, until: D2, baseUrl: api.base, maxBodyBytes: 2048 });
      assert.equal(err.code, 'TOO_LARGE', err.message);
      assert.match(err.message, /larger than 2048 bytes/);
      assert.equal(api.seen.length, 1, 'not retried');
    }
  });

  it('stops a cursor that comes back (a loop)', async () => {
    api.reset((request) => {
      const cursor = request.query.find(([k]) => k === 'page')?.[1];
      return {
        body: openAiPage([], cursor === undefined ? 'cursor_a' : cursor === 'cursor_a' ? 'cursor_b' : 'cursor_a'),
      };
    });
    const err = await fetchError({ report: 'openai-completions', since, until: D2, baseUrl: api.base });
    assert.equal(err.code, 'FETCH_FAILED');
    assert.match(err.message, /"cursor_a" a second time/);
    assert.equal(api.seen.length, 3);
  });

  it('stops after the page limit', async () => {
    api.reset((_request, nth) => ({ body: openAiPage([], `cursor_${api.seen.length}_${nth}`) }));
    const err = await fetchError({ report: 'openai-completions', since, until: D2, baseUrl: api.base, maxPages: 4 });
    assert.equal(err.code, 'TOO_LARGE');
    assert.match(err.message, /more than 4 pages/);
    assert.equal(api.seen.length, 4);
  });

  it('refuses has_more without a cursor, and a body that is not JSON', async () => {
    api.reset(() => ({ body: { object: 'page', data: [], has_more: true, next_page: null } }));
    assert.equal(
      (await fetchError({ report: 'openai-costs', since, until: D2, baseUrl: api.base })).code,
      'INVALID_VALUE',
    );
    api.reset(() => ({ body: '<html>gateway</html>' }));
    const err = await fetchError({ report: 'openai-costs', since, until: D2, baseUrl: api.base });
    assert.equal(err.code, 'INVALID_FORMAT');
    assert.equal(api.seen.length, 1);
  });

  it('checks its options before any request', () => {
    const base = { report: 'openai-costs' as ProviderReport, apiKey: OPENAI_KEY, since, until: D2 };
    assert.throws(() => fetchReportPages({ ...base, until: D0 }), RangeError);
    assert.throws(() => fetchReportPages({ ...base, baseUrl: 'ftp://example.com' }), TypeError);
    assert.throws(() => fetchReportPages({ ...base, baseUrl: 'https://user:pw@example.com' }), TypeError);
    assert.throws(() => fetchReportPages({ ...base, maxPages: 0 }), RangeError);
    assert.throws(() => fetchReportPages({ ...base, apiKey: '' }), TypeError);
  });

  it('reads retry-after in seconds, capped', () => {
    assert.equal(retryAfterMs('2', 60_000), 2_000);
    assert.equal(retryAfterMs('0.5', 60_000), 500);
    assert.equal(retryAfterMs('600', 60_000), 60_000);
    assert.equal(retryAfterMs('Wed, 21 Oct 2026 07:28:00 GMT', 60_000), undefined);
    assert.equal(retryAfterMs(null, 60_000), undefined);
  });

  it('builds each endpoint query in order', () => {
    const cases: [ProviderReport, [string, string][]][] = [
      ['openai-completions', OPENAI_USAGE_QUERY],
      ['openai-embeddings', OPENAI_EMBEDDINGS_QUERY],
      ['openai-costs', OPENAI_COSTS_QUERY],
      ['anthropic-usage', ANTHROPIC_USAGE_QUERY],
      ['anthropic-cost', ANTHROPIC_COST_QUERY],
    ];
    for (const [report, query] of cases) assert.deepEqual([...reportQuery(report, D0, D2, undefined)], query, report);
  });
});

describe('costtrace bill fetch', () => {
  let dir: string;
  let store: DuckDbStore;
  const out: string[] = [];
  const err: string[] = [];
  const output = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
  const env = { OPENAI_ADMIN_KEY: OPENAI_KEY, ANTHROPIC_ADMIN_KEY: ANTHROPIC_KEY };

  async function fetchBill(...argv: string[]): Promise<number> {
    out.length = 0;
    err.length = 0;
    const code = await runBillFetch(argv, { store, output, env, nowMs: NOW_MS, tuning: TUNING });
    texts.push(...out, ...err);
    return code;
  }

  const period = ['--since', SINCE_TEXT, '--until', UNTIL_TEXT];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-bill-fetch-'));
    store = new DuckDbStore({ path: join(dir, 'costtrace.duckdb') });
    await store.migrate();
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('imports OpenAI usage (completions and embeddings) and then costs, exactly', async () => {
    api.reset(paged(OPENAI_ROUTES));
    assert.equal(
      await fetchBill('openai', ...period, '--base-url', api.base, '--account', 'org-acme'),
      0,
      err.join(''),
    );
    assert.deepEqual(
      api.seen.map((r) => [r.path, r.query]),
      [
        [COMPLETIONS, OPENAI_USAGE_QUERY],
        [COMPLETIONS, withPage(OPENAI_USAGE_QUERY, 'cmpl_page_2')],
        [EMBEDDINGS, OPENAI_EMBEDDINGS_QUERY],
        [COSTS, OPENAI_COSTS_QUERY],
        [COSTS, withPage(OPENAI_COSTS_QUERY, 'cost_page_2')],
      ],
    );
    assert.ok(api.seen.every((r) => headerOf(r, 'authorization') === `Bearer ${OPENAI_KEY}`));
    assert.deepEqual(await totals(store), EXPECTED_OPENAI);
    const text = out.join('');
    assert.match(
      text,
      new RegExp(
        `^imported 12 openai-usage line\\(s\\) from ${COMPLETIONS}, ${EMBEDDINGS}, 2 account-day\\(s\\) 2026-11-10 \\.\\. 2026-11-11\n`,
      ),
    );
    assert.match(
      text,
      /\nimported 5 openai-costs line\(s\) from \/v1\/organization\/costs, 2 account-day\(s\) 2026-11-10 \.\. 2026-11-11\nbilled cost: 0\.02025 USD\n/,
    );
    const imports = await store.billImports(100);
    assert.deepEqual(
      imports.map((i) => [i.source, i.account, new Date(i.day * 1000).toISOString().slice(0, 10), i.origin]).sort(),
      [
        ['openai-costs', 'org-acme', '2026-11-10', COSTS],
        ['openai-costs', 'org-acme', '2026-11-11', COSTS],
        ['openai-usage', 'org-acme', '2026-11-10', `${COMPLETIONS}, ${EMBEDDINGS}`],
        ['openai-usage', 'org-acme', '2026-11-11', `${COMPLETIONS}, ${EMBEDDINGS}`],
      ],
    );
    assert.equal(err.join(''), '');
  });

  it('fetching the same period again changes nothing (the later import replaces its days)', async () => {
    api.reset(paged(OPENAI_ROUTES));
    assert.equal(await fetchBill('openai', ...period, '--base-url', api.base), 0, err.join(''));
    assert.equal(await fetchBill('openai', ...period, '--base-url', api.base), 0, err.join(''));
    assert.deepEqual(await totals(store), EXPECTED_OPENAI);
    const imports = await store.billImports(100);
    assert.equal(imports.length, 8);
    assert.equal(imports.filter((i) => i.current).length, 4);
  });

  it('imports the Anthropic usage and cost reports, exactly', async () => {
    api.reset(paged(ANTHROPIC_ROUTES));
    assert.equal(await fetchBill('anthropic', ...period, '--base-url', api.base), 0, err.join(''));
    assert.deepEqual(
      api.seen.map((r) => [r.path, r.query]),
      [
        [MESSAGES, ANTHROPIC_USAGE_QUERY],
        [MESSAGES, withPage(ANTHROPIC_USAGE_QUERY, 'page_MjAyNi0xMS0xMQ==')],
        [COST_REPORT, ANTHROPIC_COST_QUERY],
      ],
    );
    assert.ok(api.seen.every((r) => headerOf(r, 'x-api-key') === ANTHROPIC_KEY));
    assert.ok(api.seen.every((r) => headerOf(r, 'anthropic-version') === '2023-06-01'));
    assert.deepEqual(await totals(store), EXPECTED_ANTHROPIC);
    assert.match(
      out.join(''),
      /imported 3 anthropic-cost line\(s\) from \/v1\/organizations\/cost_report, 2 account-day\(s\) 2026-11-10 \.\. 2026-11-11\nbilled cost: 1\.3395 USD\n/,
    );
  });

  it('imports nothing when page 2 is malformed, though page 1 was already written', async () => {
    // Page 1 holds 5,000 results of 4 lines each: 20,000 lines, one written chunk, before page 2
    // fails; the import must discard it.
    const many = Array.from({ length: 5_000 }, (_, i) =>
      completions({ model: 'gpt-4o', input: 10, cached: 1, output: 1, requests: 1, apiKey: `key_${i}` }),
    );
    const broken = openAiPage(
      [
        [
          D1,
          [{ ...completions({ model: 'gpt-4o', input: 1, cached: 0, output: 1, requests: 1 }), input_tokens: '12x' }],
        ],
      ],
      null,
    );
    api.reset(paged({ ...OPENAI_ROUTES, [COMPLETIONS]: [openAiPage([[D0, many]], 'cmpl_page_2'), broken] }));
    let written = 0;
    const insert = store.insertBilledLines.bind(store);
    store.insertBilledLines = (importId, lines) => {
      written += lines.length;
      return insert(importId, lines);
    };
    assert.equal(await fetchBill('openai', ...period, '--base-url', api.base), 1);
    assert.equal(written, 20_000, 'page 1 was written before page 2 failed');
    const message = err.join('');
    assert.match(
      message,
      /^costtrace bill fetch: http:\/\/127\.0\.0\.1:\d+\/v1\/organization\/usage\/completions\?.*page=cmpl_page_2, line \d+, field data\[0\]\.results\[0\]\.input_tokens: .* \(nothing imported\)\n$/,
    );
    assert.equal(out.join(''), '');
    assert.deepEqual(await totals(store), {});
    assert.deepEqual(await store.billImports(100), []);
    assert.equal(await rawLines(store), 0, 'the written chunk was discarded');
    assert.ok(!api.seen.some((r) => r.path === COSTS), 'the costs were not fetched after the usage failed');
  });

  it('keeps the usage import when the costs fail, and says so', async () => {
    api.reset(
      paged({ [COMPLETIONS]: OPENAI_ROUTES[COMPLETIONS]!, [EMBEDDINGS]: OPENAI_ROUTES[EMBEDDINGS]! }, () => ({
        status: 401,
        body: { error: { message: 'Incorrect API key provided' } },
      })),
    );
    assert.equal(await fetchBill('openai', ...period, '--base-url', api.base), 1);
    assert.match(out.join(''), /^imported 12 openai-usage line\(s\)/);
    assert.match(
      err.join(''),
      /HTTP 401\): set OPENAI_ADMIN_KEY .*\(nothing of openai-costs imported; the openai-usage import above stands\)\n$/,
    );
    const kept = await totals(store);
    assert.equal(kept['2026-11-10 openai gpt-4o input tokens USD'], '800 0');
    assert.equal(kept['2026-11-10 openai gpt-4o input - USD'], undefined);
  });

  it('checks everything and writes nothing on --dry-run', async () => {
    api.reset(paged(ANTHROPIC_ROUTES));
    assert.equal(await fetchBill('anthropic', ...period, '--base-url', api.base, '--dry-run'), 0, err.join(''));
    assert.match(out.join(''), /^checked \(dry run, nothing written\) 8 anthropic-usage line\(s\)/);
    assert.equal(api.seen.length, 3);
    assert.deepEqual(await totals(store), {});
    assert.deepEqual(await store.billImports(100), []);
  });

  it('exits 1 on a refused key, naming the variable and never the key', async () => {
    api.reset(() => ({ status: 401, body: { error: { message: `Incorrect API key provided: ${ANTHROPIC_KEY}` } } }));
    assert.equal(await fetchBill('anthropic', ...period, '--base-url', api.base), 1);
    assert.match(err.join(''), /^costtrace bill fetch: .*set ANTHROPIC_ADMIN_KEY .*\(nothing imported\)\n$/);
    assert.equal(api.seen.length, 1);
  });

  it('exits 2 on usage errors, before any request', async () => {
    api.reset(paged(OPENAI_ROUTES));
    const cases: [string[], Record<string, string | undefined>, RegExp][] = [
      [['openai'], {}, /set OPENAI_ADMIN_KEY/],
      [['anthropic'], { ANTHROPIC_ADMIN_KEY: '  ' }, /set ANTHROPIC_ADMIN_KEY/],
      [['openai'], { OPENAI_ADMIN_KEY: 'sk admin' }, /OPENAI_ADMIN_KEY holds characters/],
      [['azure'], env, /name the provider: openai or anthropic/],
      [[], env, /name the provider/],
      [['openai', '--base-url', 'ftp://example.com'], env, /--base-url: an http:\/\/ or https:\/\/ URL/],
      [['openai', '--base-url', 'https://u:p@example.com'], env, /--base-url: no user or password/],
      [['openai', '--since', 'yesterday'], env, /--since: since="yesterday" is not a time/],
      [['openai', '--since', '500d'], env, /--since: the period is at most 400 days/],
      [['openai', '--since', '1d', '--until', '3d'], env, /--until: the end must be after the start/],
      [['openai', '--account', 'a b'], env, /--account: letters, digits/],
      [['openai', '--limit', '3'], env, /unknown option --limit/],
    ];
    for (const [argv, environment, expected] of cases) {
      err.length = 0;
      const code = await runBillFetch(argv, { store, output, env: environment, nowMs: NOW_MS });
      texts.push(...err);
      assert.equal(code, 2, argv.join(' '));
      assert.match(err.join(''), expected);
      assert.match(err.join(''), /usage: costtrace bill fetch/);
    }
    assert.equal(api.seen.length, 0);
  });

  it('has a usage line and help that name the key variables', () => {
    assert.ok(BILL_FETCH_HELP.startsWith(`usage: ${BILL_FETCH_USAGE}`));
    assert.match(BILL_FETCH_HELP, /OPENAI_ADMIN_KEY/);
    assert.match(BILL_FETCH_HELP, /ANTHROPIC_ADMIN_KEY/);
  });
});
