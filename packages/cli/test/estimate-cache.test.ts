// `costtrace estimate cache`: a route's saving from prompt caching and from a response cache at a
// hit rate, at its measured traffic, from the bundled catalog (offline). The traffic comes from
// a fake store with known token counts (and, at the end, from a DuckDB file through the CLI's
// dispatcher); the expected money is computed here from the catalog's list prices with bigint
// arithmetic and a rounding of the test's own, not by the code under test. The prices are read
// from the catalog files the offline backend reads (core's smaller SDK catalog has neither
// claude-sonnet-4-5 nor mistral, nor long-context tiers).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bundledCatalogDir, readCatalogs } from '@costtrace/catalog';
import { catalogListPrices, Money, PriceSnapshot } from '@costtrace/core';
import { DuckDbStore } from '@costtrace/store';
import type { CostQuery, CostReportRow, SpanCostRow, TracedUsageQuery, TracedUsageRow } from '@costtrace/store';
import { parseEstimateArgs, runEstimate } from '../src/analysis/estimate.js';
import type { CostSource } from '../src/analysis/common-flags.js';
import { offlineBackend } from '../src/commands/pricing-backend.js';
import { run } from '../src/index.js';

const NOW = 1_800_000_000;
const PERIOD = 30n * 86_400n;
const MONTH = 730n * 3600n;
const ROUTE = '/v1/chat';

const files = await readCatalogs(bundledCatalogDir());
const snapshot = new PriceSnapshot(1n, files.prices, files.overrides, Date.now());
const catalog = catalogListPrices(snapshot);
function listPrices(provider: string, model: string): { input: bigint; cacheRead: bigint; cacheWrite: bigint } {
  const p = catalog.tokenPrices(provider, model, 'standard', NOW * 1000);
  assert.ok(p !== undefined, `${provider}/${model} is in the bundled catalog`);
  return p;
}

/** n ÷ d rounded half to even (d > 0), written here independently of core's. */
function halfEven(n: bigint, d: bigint): bigint {
  const negative = n < 0n;
  const a = negative ? -n : n;
  let q = a / d;
  const r2 = (a % d) * 2n;
  if (r2 > d || (r2 === d && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}

/** "1234.5678" (or "-0.5") → pico-USD. */
function usdPico(text: string): bigint {
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = text.replace(/^-/, '').split('.');
  const value = BigInt(whole) * 10n ** 12n + BigInt(fraction.padEnd(12, '0'));
  return negative ? -value : value;
}

function usage(
  provider: string,
  model: string,
  t: {
    spans: number;
    requests?: number;
    input?: bigint;
    inputWithCache: bigint;
    unkeyedCache?: bigint;
    read?: bigint;
    write?: bigint;
  },
): TracedUsageRow {
  return {
    dimensions: { provider, model },
    currency: 'USD',
    spans: t.spans,
    requests: t.requests ?? 0,
    inputTokens: t.input ?? t.inputWithCache,
    outputTokens: 1000n,
    cacheReadTokens: t.read ?? 0n,
    cacheWriteTokens: t.write ?? 0n,
    inputWithCacheTokens: t.inputWithCache,
    unkeyedCacheTokens: t.unkeyedCache ?? 0n,
    cost: '0',
    unpricedSpans: 0,
    unpricedInputTokens: 0n,
    unpricedOutputTokens: 0n,
    unpricedCacheReadTokens: 0n,
    unpricedCacheWriteTokens: 0n,
    upperBoundSpans: 0,
  };
}

function costRow(provider: string, model: string, cost: string, requests: number): CostReportRow {
  return {
    dimensions: { provider, model, currency: 'USD' },
    cost,
    spans: 1,
    requests,
    tokens: 0,
    costPerRequest: null,
    costPer1kRequests: null,
    costPer1MTokens: null,
  };
}

// The route's month: OpenAI input includes the cache (keyed); Anthropic's spans partly without a
// usage key, whose cache tokens (150,000) are added to their input; a model with no cached-input
// price; the request spans themselves (no model, no tokens, the GPU time).
const TOKENS: TracedUsageRow[] = [
  usage('', '', { spans: 2000, requests: 2000, inputWithCache: 0n }),
  usage('anthropic', 'claude-sonnet-4-5', {
    spans: 500,
    input: 950_000n,
    inputWithCache: 1_000_001n,
    unkeyedCache: 150_000n,
    read: 200_000n,
    write: 50_000n,
  }),
  usage('mistral', 'mistral-medium-3', { spans: 100, inputWithCache: 400_000n }),
  usage('openai', 'gpt-4o', { spans: 1000, inputWithCache: 3_000_003n, read: 600_000n }),
];
const COSTS: CostReportRow[] = [
  costRow('openai', 'gpt-4o', '12.345678901234', 0),
  costRow('anthropic', 'claude-sonnet-4-5', '7.5', 0),
  costRow('', '', '3.25', 2000),
  costRow('mistral', 'mistral-medium-3', '1.000000000001', 0),
];

interface Seen {
  traced: TracedUsageQuery[];
  costs: CostQuery[];
}

function sources(
  seen: Seen,
  tokens = TOKENS,
  costs = COSTS,
): { traffic: { tracedUsage: (q: TracedUsageQuery) => Promise<TracedUsageRow[]> }; source: CostSource } {
  return {
    traffic: {
      tracedUsage: (q) => {
        seen.traced.push(q);
        return Promise.resolve(tokens);
      },
    },
    source: {
      queryCosts: (q) => {
        seen.costs.push(q);
        return Promise.resolve(costs);
      },
      topSpans: () => Promise.reject(new Error('not used')),
      pricingCoverage: () => Promise.reject(new Error('not used')),
    },
  };
}

interface Body {
  figures: { scope: string; metric: string; value: string | null; note: string }[];
  assumptions: string[];
}

async function estimate(
  argv: string[],
  deps: Partial<ReturnType<typeof sources>> = {},
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runEstimate(['cache', ...argv], {
    pricing: () => offlineBackend(),
    ...deps,
    output: { out: (t) => out.push(t), err: (t) => err.push(t) },
    nowSeconds: NOW,
  });
  return { code, out: out.join(''), err: err.join('') };
}

function figure(body: Body, scope: string, metric: string): string | null {
  const f = body.figures.find((x) => x.scope === scope && x.metric === metric);
  assert.ok(f !== undefined, `${scope} ${metric}`);
  return f.value;
}

function message(result: ReturnType<typeof parseEstimateArgs>): string {
  assert.equal(result.ok, false);
  return result.ok ? '' : result.message;
}

describe('costtrace estimate cache', () => {
  it('prices prompt caching and a response cache per model and for the route', async () => {
    const seen: Seen = { traced: [], costs: [] };
    const { code, out, err } = await estimate(
      ['--route', ROUTE, '--hit-rate', '40.5', '--format', 'json'],
      sources(seen),
    );
    assert.equal(code, 0, err);
    const body = JSON.parse(out) as Body;

    // What was read: the route's charged spans over the last 30 days, by provider and model.
    assert.deepEqual(seen.traced, [
      // The query ends at the next whole minute; the measured period ends now.
      { since: NOW - Number(PERIOD), until: NOW + 60, groupBy: ['provider', 'model'], routes: [ROUTE] },
    ]);
    assert.deepEqual(seen.costs[0]!.filters, [{ dimension: 'route', values: [ROUTE] }]);

    const hit = 40_500_000n; // percent × 10^6
    const monthly = (v: bigint): bigint => halfEven(v * MONTH, PERIOD);

    // OpenAI: input includes the cache; no cache-write price, so misses are plain input.
    const g = listPrices('openai', 'gpt-4o');
    const gTotal = 3_000_003n;
    const gToday = halfEven((gTotal - 600_000n) * g.input + 600_000n * g.cacheRead, 1_000_000n);
    const gHits = halfEven(gTotal * hit, 100_000_000n);
    assert.equal(gHits, 1_215_001n);
    const gCached = halfEven(gHits * g.cacheRead + (gTotal - gHits) * g.input, 1_000_000n);
    assert.equal(figure(body, 'openai/gpt-4o', 'input_tokens'), '3000003');
    assert.equal(figure(body, 'openai/gpt-4o', 'cached_share_today'), '20.00 %');
    assert.equal(usdPico(figure(body, 'openai/gpt-4o', 'input_cost_today')!), gToday);
    assert.equal(usdPico(figure(body, 'openai/gpt-4o', 'input_cost_cached')!), gCached);
    assert.equal(usdPico(figure(body, 'openai/gpt-4o', 'prompt_cache_saving')!), gToday - gCached);
    assert.equal(usdPico(figure(body, 'openai/gpt-4o', 'prompt_cache_saving_monthly')!), monthly(gToday - gCached));

    // Anthropic: input excludes the cache, so the unkeyed spans' cache tokens are added; misses
    // are written at the cache-write price.
    const c = listPrices('anthropic', 'claude-sonnet-4-5');
    assert.ok(c.cacheWrite > c.input, 'Anthropic charges a write premium');
    const cTotal = 1_000_001n + 150_000n;
    const cUncached = cTotal - 200_000n - 50_000n;
    const cToday = halfEven(cUncached * c.input + 200_000n * c.cacheRead + 50_000n * c.cacheWrite, 1_000_000n);
    const cHits = halfEven(cTotal * hit, 100_000_000n);
    const cCached = halfEven(cHits * c.cacheRead + (cTotal - cHits) * c.cacheWrite, 1_000_000n);
    assert.equal(figure(body, 'anthropic/claude-sonnet-4-5', 'input_tokens'), String(cTotal));
    assert.equal(usdPico(figure(body, 'anthropic/claude-sonnet-4-5', 'input_cost_today')!), cToday);
    assert.equal(usdPico(figure(body, 'anthropic/claude-sonnet-4-5', 'input_cost_cached')!), cCached);
    assert.equal(usdPico(figure(body, 'anthropic/claude-sonnet-4-5', 'prompt_cache_saving')!), cToday - cCached);

    // No cached-input price: no saving claimed.
    assert.equal(figure(body, 'mistral/mistral-medium-3', 'prompt_cache_saving'), null);
    assert.ok(
      body.assumptions.some(
        (x) => x.startsWith('mistral/mistral-medium-3') && /cached input none in the catalog/.test(x),
      ),
    );

    // The route: prompt caching over the models with a cached-input price.
    const saving = gToday - gCached + (cToday - cCached);
    assert.equal(usdPico(figure(body, 'total', 'prompt_cache_saving')!), saving);
    assert.equal(usdPico(figure(body, 'total', 'prompt_cache_saving_monthly')!), monthly(saving));

    // Response cache: 40.5 % of everything the route cost, per model and in total.
    const routeCost = usdPico('12.345678901234') + usdPico('7.5') + usdPico('3.25') + usdPico('1.000000000001');
    assert.equal(usdPico(figure(body, 'total', 'measured_cost')!), routeCost);
    assert.equal(usdPico(figure(body, 'total', 'response_cache_saving')!), halfEven(routeCost * hit, 100_000_000n));
    assert.equal(
      usdPico(figure(body, 'total', 'response_cache_saving_monthly')!),
      halfEven(routeCost * hit * MONTH, 100_000_000n * PERIOD),
    );
    assert.equal(
      usdPico(figure(body, 'openai/gpt-4o', 'response_cache_saving')!),
      halfEven(usdPico('12.345678901234') * hit, 100_000_000n),
    );
    assert.equal(figure(body, 'total', 'requests'), '2000');
    assert.equal(figure(body, 'total', 'responses_from_cache'), '810');

    // Each model's figures together; the totals last; every assumption named.
    const scopes = body.figures.map((f) => f.scope).filter((s, i, all) => all.indexOf(s) === i);
    // (The request spans have no tokens: they first appear with the measured cost.)
    assert.deepEqual(scopes, [
      'anthropic/claude-sonnet-4-5',
      'mistral/mistral-medium-3',
      'openai/gpt-4o',
      '(no model)',
      'total',
    ]);
    for (const words of [/month = 730 hours/, /input rule/, /equally|on average/, /not to be added/, /write premium/])
      assert.ok(
        body.assumptions.some((x) => words.test(x)),
        `an assumption matching ${words}`,
      );
  });

  it('says so when the route already reads more from the cache than the hit rate', async () => {
    const { code, out } = await estimate(
      ['--route', ROUTE, '--hit-rate', '10', '--format', 'json'],
      sources({ traced: [], costs: [] }),
    );
    assert.equal(code, 0);
    const body = JSON.parse(out) as Body;
    const g = listPrices('openai', 'gpt-4o');
    const hits = halfEven(3_000_003n * 10_000_000n, 100_000_000n);
    const today = halfEven(2_400_003n * g.input + 600_000n * g.cacheRead, 1_000_000n);
    const cached = halfEven(hits * g.cacheRead + (3_000_003n - hits) * g.input, 1_000_000n);
    const f = body.figures.find((x) => x.scope === 'openai/gpt-4o' && x.metric === 'prompt_cache_saving')!;
    assert.equal(usdPico(f.value!), today - cached);
    assert.ok(today - cached < 0n);
    assert.match(f.note, /already reads 20\.00 %.*no saving/);
  });

  it("prices at the long-context tier of the model's average prompt", async () => {
    // One call of 1,150,001 prompt tokens: above Anthropic's 200k tier.
    const tokens = [
      usage('anthropic', 'claude-sonnet-4-5', {
        spans: 1,
        inputWithCache: 1_150_001n,
        read: 200_000n,
        write: 50_000n,
      }),
    ];
    const { code, out, err } = await estimate(
      ['--route', ROUTE, '--hit-rate', '40', '--format', 'json'],
      sources({ traced: [], costs: [] }, tokens),
    );
    assert.equal(code, 0, err);
    const body = JSON.parse(out) as Body;
    const tier = (kind: 'input_tokens' | 'cache_read_tokens' | 'cache_write_tokens'): bigint => {
      const q = { provider: 'anthropic', sku: 'claude-sonnet-4-5', kind, at: Date.now(), inputTokens: 1_150_001n };
      const price = snapshot.find(q)!;
      assert.equal(price.unit, '1m_tokens');
      return price.amount.subunits;
    };
    const base = listPrices('anthropic', 'claude-sonnet-4-5');
    assert.ok(tier('input_tokens') > base.input, 'the long-context input price is above the base one');
    const today = halfEven(
      900_001n * tier('input_tokens') + 200_000n * tier('cache_read_tokens') + 50_000n * tier('cache_write_tokens'),
      1_000_000n,
    );
    assert.equal(usdPico(figure(body, 'anthropic/claude-sonnet-4-5', 'input_cost_today')!), today);
  });

  it('prints a table with the scope of each figure, and CSV with the assumptions', async () => {
    const table = await estimate(['--route', ROUTE, '--hit-rate', '50'], sources({ traced: [], costs: [] }));
    assert.equal(table.code, 0, table.err);
    assert.match(table.out.split('\n')[0]!, /scope\s+metric\s+value\s+note/);
    assert.match(table.out, /assumptions:\n {2}- prices: bundled catalog/);
    const csv = await estimate(
      ['--route', ROUTE, '--hit-rate', '50', '--format', 'csv'],
      sources({ traced: [], costs: [] }),
    );
    assert.equal(csv.code, 0, csv.err);
    assert.equal(csv.out.split(/\r?\n/)[0], 'scope,metric,value,note');
    assert.match(csv.out, /\n,assumption,,/);
  });

  it('needs the store, and says when the route has no traffic', async () => {
    const none = await estimate(['--route', ROUTE, '--hit-rate', '50']);
    assert.equal(none.code, 1);
    assert.match(none.err, /--store clickhouse .* --store duckdb:PATH/);
    const empty = await estimate(
      ['--route', '/v1/nothing', '--hit-rate', '50'],
      sources({ traced: [], costs: [] }, [], []),
    );
    assert.equal(empty.code, 3);
    assert.match(empty.err, /no spans on route "\/v1\/nothing"/);
    const down = await estimate(['--route', ROUTE, '--hit-rate', '50'], {
      ...sources({ traced: [], costs: [] }),
      traffic: { tracedUsage: () => Promise.reject(new Error('connect ECONNREFUSED')) },
    });
    assert.equal(down.code, 1);
    assert.match(down.err, /could not read the route.s traffic from the store \(connect ECONNREFUSED\)/);
  });

  it('says what to fix in its flags', () => {
    const parse = (...argv: string[]) => parseEstimateArgs(['cache', ...argv], NOW);
    assert.match(message(parse('--hit-rate', '50')), /--route/);
    assert.match(message(parse('--route', ROUTE)), /--hit-rate is required/);
    assert.match(message(parse('--route', ROUTE, '--hit-rate', '120')), /percent: 0 to 100/);
    assert.match(message(parse('--route', ROUTE, '--hit-rate', '-5')), /--hit-rate must be a non-negative number/);
    assert.match(message(parse('--route', ROUTE, '--hit-rate', 'lots')), /--hit-rate/);
    assert.match(message(parse('--route', ROUTE, '--hit-rate', '5', '--where', 'model=gpt-4o')), /--where and --by/);
    const ok = parse('--route', ROUTE, '--hit-rate', '12.5', '--since', '7d');
    assert.ok(ok.ok);
    assert.deepEqual(ok.ok && ok.value.kind === 'cache' ? [ok.value.route, ok.value.hitRate] : [], [
      ROUTE,
      12_500_000n,
    ]);
  });
});

describe('costtrace estimate cache through the CLI on a DuckDB file', () => {
  let dir: string;
  let db: string;
  const start = BigInt(Math.floor(Date.now() / 1000) - 3600) * 1_000_000_000n;

  function span(i: number, over: Partial<SpanCostRow>): SpanCostRow {
    const at = start + BigInt(i) * 1_000_000_000n;
    return {
      startTimeUnixNano: at,
      endTimeUnixNano: at + 1_000_000_000n,
      traceId: (0xc0de00 + i).toString(16).padStart(32, '0'),
      spanId: (0xbeef00 + i).toString(16).padStart(16, '0'),
      parentSpanId: '',
      spanName: 'chat',
      spanKind: 3,
      statusCode: 0,
      isRequest: false,
      service: 'chat-api',
      environment: 'prod',
      route: ROUTE,
      commit: '',
      model: 'gpt-4o',
      provider: 'openai',
      team: '',
      tenant: '',
      feature: '',
      inputTokens: 0n,
      outputTokens: 0n,
      cacheReadTokens: 0n,
      cacheWriteTokens: 0n,
      reasoningTokens: 0n,
      gpuType: '',
      gpuCount: 0,
      gpuSeconds: '0',
      instanceType: '',
      costInput: Money.zero(),
      costOutput: Money.zero(),
      costCacheRead: Money.zero(),
      costCacheWrite: Money.zero(),
      costReasoning: Money.zero(),
      costGpu: Money.zero(),
      costCompute: Money.zero(),
      costTotal: Money.zero(),
      currency: 'USD',
      pricingVersion: 'test',
      pricingSource: 'test',
      priceIds: [],
      unpricedReason: '',
      kafkaTopic: 'otlp_spans',
      kafkaPartition: 0,
      kafkaOffset: BigInt(i),
      kafkaSpanIndex: 0,
      attributeKeys: [],
      attributeValues: [],
      rollupOverflow: [],
      sanitized: [],
      ...over,
    };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-estimate-cache-'));
    db = join(dir, 'costtrace.duckdb');
    const store = new DuckDbStore({ path: db });
    await store.migrate();
    const cost = Money.fromSubunits(2_000_000_000_000n);
    await store.insertSpanCosts([
      // 10,000 input tokens, 2,000 of them read from the cache, as the usage key records.
      span(0, {
        inputTokens: 10_000n,
        cacheReadTokens: 2_000n,
        outputTokens: 10n,
        usageKey: '10000:10',
        costInput: cost,
        costTotal: cost,
      }),
      // A duplicate of that call: not counted again.
      span(1, { inputTokens: 10_000n, cacheReadTokens: 2_000n, usageRole: 'duplicate', duplicateOf: '0' }),
      span(2, { model: '', provider: '', isRequest: true, spanKind: 2 }),
      span(3, { route: '/v1/other', inputTokens: 99_000n, usageKey: '99000:0' }),
    ]);
    await store.close();
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads the route from the store chosen with --store', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(
      [
        'estimate',
        'cache',
        '--route',
        ROUTE,
        '--hit-rate',
        '50',
        '--since',
        '1d',
        '--format',
        'json',
        '--store',
        `duckdb:${db}`,
      ],
      { out: (t) => out.push(t), err: (t) => err.push(t), env: {} },
    );
    assert.equal(code, 0, err.join('\n'));
    const body = JSON.parse(out.join('\n')) as Body;
    const g = listPrices('openai', 'gpt-4o');
    assert.equal(figure(body, 'openai/gpt-4o', 'input_tokens'), '10000');
    assert.equal(figure(body, 'openai/gpt-4o', 'cached_share_today'), '20.00 %');
    const today = halfEven(8_000n * g.input + 2_000n * g.cacheRead, 1_000_000n);
    const cached = halfEven(5_000n * g.cacheRead + 5_000n * g.input, 1_000_000n);
    assert.equal(usdPico(figure(body, 'openai/gpt-4o', 'prompt_cache_saving')!), today - cached);
    assert.equal(figure(body, 'total', 'requests'), '1');
    assert.equal(usdPico(figure(body, 'total', 'response_cache_saving')!), 1_000_000_000_000n);
  });

  it('refuses the query API, which does not serve the tokens by kind', async () => {
    const err: string[] = [];
    const code = await run(
      ['estimate', 'cache', '--route', ROUTE, '--hit-rate', '50', '--store', 'api:http://127.0.0.1:9'],
      {
        out: () => undefined,
        err: (t) => err.push(t),
        env: {},
      },
    );
    assert.equal(code, 1);
    assert.match(err.join('\n'), /--store clickhouse/);
  });
});
