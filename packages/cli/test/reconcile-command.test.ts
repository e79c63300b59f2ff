// `costtrace bill import` and `costtrace reconcile` end to end on an embedded DuckDB file: spans
// stored as the consumer stores them, an OpenAI usage and costs report saved as the API returns
// them (JSON Lines pages), and the drift of each category known by construction:
//   - an uninstrumented caller: 50,000 input and 2,000 output tokens billed, no span;
//   - one unpriced span: 10,000 input tokens;
//   - the bill at 10 % below list.
// Expected money is computed here from token counts and the catalog's list prices with bigint
// arithmetic, not by the code under test.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bundledPriceSnapshot, catalogListPrices, Money } from '@costtrace/core';
import { DuckDbStore } from '@costtrace/store';
import type { SpanCostRow } from '@costtrace/store';
import { run } from '../src/index.js';

const DAY = Date.UTC(2026, 10, 10) / 1000;
const NOW = DAY + 2 * 86_400;
const prices = catalogListPrices(bundledPriceSnapshot()).tokenPrices('openai', 'gpt-4o', 'standard', DAY * 1000)!;

/** Tokens × price per 1M (pico) → pico, exact for these counts (checked). */
function list(tokens: bigint, perMillion: bigint): bigint {
  assert.equal((tokens * perMillion) % 1_000_000n, 0n, 'the fixture keeps amounts whole pico-dollars');
  return (tokens * perMillion) / 1_000_000n;
}

function decimal(pico: bigint): string {
  const negative = pico < 0n;
  const digits = (negative ? -pico : pico).toString().padStart(13, '0');
  const fraction = digits.slice(-12).replace(/0+$/, '');
  return `${negative ? '-' : ''}${digits.slice(0, -12)}${fraction === '' ? '' : `.${fraction}`}`;
}

function span(i: number, over: Partial<SpanCostRow>): SpanCostRow {
  const start = BigInt(DAY + 3600 + i) * 1_000_000_000n;
  return {
    startTimeUnixNano: start,
    endTimeUnixNano: start + 1_000_000_000n,
    traceId: (0xabc000 + i).toString(16).padStart(32, '0'),
    spanId: (0xdef000 + i).toString(16).padStart(16, '0'),
    parentSpanId: '',
    spanName: 'chat gpt-4o',
    spanKind: 3,
    statusCode: 0,
    isRequest: true,
    service: 'chat-api',
    environment: 'prod',
    route: '/v1/chat',
    commit: 'a1b2c3d',
    model: 'gpt-4o',
    provider: 'openai',
    team: 'assist',
    tenant: 'acme',
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
    pricingVersion: 'bundled-test',
    pricingSource: 'aggregator:bundled',
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

// Three priced spans: 100,000 input of which 20,000 cached (the GenAI convention counts them
// inside input), 5,000 output; one unpriced span with 10,000 input.
const priced = Array.from({ length: 3 }, (_, i) => {
  const costInput = list(80_000n, prices.input);
  const costCacheRead = list(20_000n, prices.cacheRead);
  const costOutput = list(5_000n, prices.output);
  return span(i, {
    inputTokens: 100_000n,
    cacheReadTokens: 20_000n,
    outputTokens: 5_000n,
    usageKey: `k${i}`,
    costInput: Money.fromSubunits(costInput),
    costCacheRead: Money.fromSubunits(costCacheRead),
    costOutput: Money.fromSubunits(costOutput),
    costTotal: Money.fromSubunits(costInput + costCacheRead + costOutput),
  });
});
const unpriced = span(9, { inputTokens: 10_000n, unpricedReason: 'invalid_usage', usageKey: 'k9' });

// The bill: uncached input 300,000 (240,000 + 10,000 unpriced + 50,000 untraced), cached 60,000,
// output 17,000 (15,000 + 2,000 untraced); cost at 90 % of list per line item.
const billedInput = list(300_000n, prices.input);
const billedCached = list(60_000n, prices.cacheRead);
const billedOutput = list(17_000n, prices.output);
const atNinety = (pico: bigint): bigint => (pico * 9n) / 10n;

const usagePage = {
  object: 'page',
  data: [
    {
      object: 'bucket',
      start_time: DAY,
      end_time: DAY + 86_400,
      results: [
        {
          object: 'organization.usage.completions.result',
          input_tokens: 360_000,
          input_cached_tokens: 60_000,
          output_tokens: 17_000,
          num_model_requests: 5,
          project_id: 'proj_abc',
          model: 'gpt-4o-2024-08-06',
          api_key_id: null,
          user_id: null,
          batch: false,
        },
      ],
    },
  ],
  has_more: false,
  next_page: null,
};

function costsPage(amounts: readonly [string, bigint][]): string {
  // Amounts as the Costs API writes them: JSON numbers (here from exact decimal text).
  const results = amounts
    .map(
      ([item, pico]) =>
        `{"object":"organization.costs.result","amount":{"value":${decimal(pico)},"currency":"usd"},"line_item":"gpt-4o-2024-08-06, ${item}","project_id":"proj_abc"}`,
    )
    .join(',');
  return `{"object":"page","data":[{"object":"bucket","start_time":${DAY},"end_time":${DAY + 86_400},"results":[${results}]}],"has_more":false,"next_page":null}\n`;
}

describe('costtrace bill import and reconcile (embedded store)', () => {
  let dir: string;
  let db: string;
  const out: string[] = [];
  const err: string[] = [];
  const io = () => ({ out: (t: string) => out.push(t), err: (t: string) => err.push(t), env: {} });

  async function cli(...argv: string[]): Promise<number> {
    out.length = 0;
    err.length = 0;
    return run(argv, io());
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-reconcile-'));
    db = join(dir, 'costtrace.duckdb');
    const store = new DuckDbStore({ path: db });
    await store.migrate();
    await store.insertSpanCosts([...priced, unpriced]);
    await store.close();
    await writeFile(join(dir, 'usage.jsonl'), `${JSON.stringify(usagePage)}\n`);
    await writeFile(
      join(dir, 'costs.jsonl'),
      costsPage([
        ['input', atNinety(billedInput)],
        ['cached input', atNinety(billedCached)],
        ['output', atNinety(billedOutput)],
      ]),
    );
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function reconcileJson(): Promise<{
    rows: {
      drift: string;
      billedCost: string;
      categories: Record<string, string>;
      billedTokens: Record<string, string>;
    }[];
    overrides: { discountPercent: string; record: { sku: string } }[];
  }> {
    const code = await cli(
      'reconcile',
      '--store',
      `duckdb:${db}`,
      '--since',
      String(DAY),
      '--until',
      String(NOW),
      '--by',
      'provider,model',
      '--format',
      'json',
    );
    assert.equal(code, 0, err.join('\n'));
    return JSON.parse(out.join('\n')) as never;
  }

  it('imports the usage and cost reports', async () => {
    assert.equal(
      await cli('bill', 'import', 'openai-usage', join(dir, 'usage.jsonl'), '--store', `duckdb:${db}`),
      0,
      err.join('\n'),
    );
    assert.match(
      out.join('\n'),
      /imported 4 openai-usage line\(s\) from usage\.jsonl, 1 account-day\(s\) 2026-11-10 \.\. 2026-11-10/,
    );
    assert.equal(
      await cli('bill', 'import', 'openai-costs', join(dir, 'costs.jsonl'), '--store', `duckdb:${db}`),
      0,
      err.join('\n'),
    );
    assert.match(
      out.join('\n'),
      new RegExp(
        `billed cost: ${decimal(atNinety(billedInput) + atNinety(billedCached) + atNinety(billedOutput)).replace('.', '\\.')} USD`,
      ),
    );
  });

  it('finds the uninstrumented caller, the unpriced span and the discount, exactly', async () => {
    const report = await reconcileJson();
    assert.equal(report.rows.length, 1);
    const row = report.rows[0]!;
    const billed = atNinety(billedInput) + atNinety(billedCached) + atNinety(billedOutput);
    const traced = priced.reduce((n, s) => n + s.costTotal.subunits, 0n);
    const untraced = list(50_000n, prices.input) + list(2_000n, prices.output);
    const unpricedList = list(10_000n, prices.input);
    const listBilled = billedInput + billedCached + billedOutput;
    assert.deepEqual(row.billedTokens, { input: '300000', output: '17000', cacheRead: '60000', cacheWrite: '0' });
    assert.equal(row.billedCost, decimal(billed));
    assert.equal(row.drift, decimal(billed - traced));
    assert.deepEqual(row.categories, {
      untraced: decimal(untraced),
      cacheOrTier: '0',
      unpriced: decimal(unpricedList),
      rate: decimal(-(listBilled / 10n)),
      timing: '0',
      unexplained: '0',
    });
    assert.equal(report.overrides.length, 1);
    assert.equal(report.overrides[0]!.discountPercent, '10');
    assert.equal(report.overrides[0]!.record.sku, 'gpt-4o');
  });

  it('imports the same report again without changing anything', async () => {
    const before = await reconcileJson();
    assert.equal(
      await cli('bill', 'import', 'openai-usage', join(dir, 'usage.jsonl'), '--store', `duckdb:${db}`),
      0,
      err.join('\n'),
    );
    assert.deepEqual(await reconcileJson(), before);
    assert.equal(await cli('bill', 'imports', '--store', `duckdb:${db}`, '--format', 'json'), 0, err.join('\n'));
    const imports = JSON.parse(out.join('\n')) as { source: string; current: string }[];
    assert.deepEqual(
      imports.filter((i) => i.source === 'openai-usage').map((i) => i.current),
      ['yes', 'replaced'],
    );
  });

  it('refuses a bad report naming the file, line and field, and imports nothing of it', async () => {
    const before = await reconcileJson();
    const bad = join(dir, 'bad-costs.jsonl');
    const good = costsPage([['input', 1_000_000_000_000n]]).trim();
    await writeFile(bad, `${good}\n${good.replace('"value":1,', '"value":"abc",')}\n`);
    assert.equal(await cli('bill', 'import', 'openai-costs', bad, '--store', `duckdb:${db}`), 1);
    assert.match(
      err.join('\n'),
      /bad-costs\.jsonl, line 2, field data\[0\]\.results\[0\]\.amount\.value: .*\(nothing imported\)/,
    );
    assert.deepEqual(await reconcileJson(), before);
  });

  it("compares by project, the bill's project ids named as the spans' services", async () => {
    const whole = await reconcileJson();
    const code = await cli(
      'reconcile',
      '--store',
      `duckdb:${db}`,
      '--since',
      String(DAY),
      '--until',
      String(DAY + 86_400),
      '--by',
      'project',
      '--project-from',
      'service',
      '--project',
      'proj_abc=chat-api',
      '--format',
      'json',
    );
    assert.equal(code, 0, err.join('\n'));
    const byProject = JSON.parse(out.join('\n')) as typeof whole;
    assert.deepEqual(
      byProject.rows.map((r) => [(r as unknown as { dimensions: { project: string } }).dimensions.project, r.drift]),
      [['chat-api', whole.rows[0]!.drift]],
    );
    // Without the name the bill's project and the spans' service do not meet: the bill's usage is
    // all untraced under proj_abc, and the spans' cost all unbilled under chat-api.
    assert.equal(
      await cli(
        'reconcile',
        '--store',
        `duckdb:${db}`,
        '--since',
        String(DAY),
        '--until',
        String(DAY + 86_400),
        '--by',
        'project',
        '--format',
        'json',
      ),
      0,
    );
    const unnamed = JSON.parse(out.join('\n')) as { rows: { dimensions: { project: string } }[] };
    assert.deepEqual(
      unnamed.rows.map((r) => r.dimensions.project),
      ['chat-api', 'proj_abc'],
    );
  });

  it('writes the proposed overrides as a pricing-cache overrides file', async () => {
    const file = join(dir, 'overrides.json');
    assert.equal(
      await cli(
        'reconcile',
        '--store',
        `duckdb:${db}`,
        '--since',
        String(DAY),
        '--until',
        String(NOW),
        '--overrides-out',
        file,
      ),
      0,
      err.join('\n'),
    );
    assert.match(out.join('\n'), /gpt-4o/);
    const { readFile } = await import('node:fs/promises');
    const written = JSON.parse(await readFile(file, 'utf8')) as {
      overrides: { provider: string; discountPercent: string }[];
    };
    assert.deepEqual(
      written.overrides.map((o) => [o.provider, o.discountPercent]),
      [['openai', '10']],
    );
  });

  it('counts a day the report covers without results as covered', async () => {
    const empty = join(dir, 'usage-empty-day.json');
    const page = {
      ...usagePage,
      data: [{ object: 'bucket', start_time: DAY + 86_400, end_time: DAY + 2 * 86_400, results: [] }],
    };
    await writeFile(empty, JSON.stringify(page));
    assert.equal(
      await cli('bill', 'import', 'openai-usage', empty, '--account', 'org-2', '--store', `duckdb:${db}`),
      0,
      err.join('\n'),
    );
    assert.match(
      out.join('\n'),
      /imported 0 openai-usage line\(s\) from usage-empty-day\.json, 1 account-day\(s\) 2026-11-11 \.\. 2026-11-11/,
    );
    assert.equal(await cli('bill', 'imports', '--store', `duckdb:${db}`, '--format', 'json'), 0, err.join('\n'));
    const imports = JSON.parse(out.join('\n')) as { day: string; account: string; current: string }[];
    assert.ok(imports.some((i) => i.day === '2026-11-11' && i.account === 'org-2' && i.current === 'yes'));
  });

  it('lists the saved runs with --history', async () => {
    const store = new DuckDbStore({ path: join(dir, 'history.duckdb') });
    await store.migrate();
    const zero = { input: 0n, output: 0n, cacheRead: 0n, cacheWrite: 0n };
    await store.saveReconcileRun(
      { runId: 'drift:openai-untraced:1', runAt: NOW, since: DAY, until: NOW, groupBy: ['provider'] },
      [
        {
          dimensions: { provider: 'openai' },
          currency: 'USD',
          billedTokens: zero,
          tracedTokens: zero,
          billedRequests: 0n,
          tracedRequests: 0,
          spans: 0,
          unpricedSpans: 0,
          billedCost: '4.7025',
          billedCostKnown: 'all',
          billedListCost: '5.225',
          tracedListCost: '3.85',
          tracedCost: '3.75',
          untracedListCost: '1.5',
          drift: '0.9525',
          categories: {
            untraced: '1.5',
            cacheOrTier: '-0.125',
            unpriced: '0.1',
            rate: '-0.5225',
            timing: '0',
            unexplained: '0',
          },
        },
      ],
    );
    await store.close();
    assert.equal(
      await cli('reconcile', '--history', '--store', `duckdb:${join(dir, 'history.duckdb')}`, '--format', 'json'),
      0,
      err.join('\n'),
    );
    const runs = JSON.parse(out.join('\n')) as Record<string, unknown>[];
    assert.deepEqual(
      runs.map((r) => [r.run, r.drift, r.untraced, r.rate]),
      [['drift:openai-untraced:1', '0.9525', '1.5', '-0.5225']],
    );
  });

  it('says what is wrong with its flags', async () => {
    assert.equal(await cli('reconcile', '--store', `duckdb:${db}`, '--by', 'route'), 2);
    assert.match(err.join('\n'), /--by: by="route": use day, provider, model or project/);
    assert.equal(await cli('bill', 'import', 'paypal', 'x.csv', '--store', `duckdb:${db}`), 2);
    assert.match(err.join('\n'), /the first word is the format/);
    // The fetch from the providers' APIs is the same command's: without its key it says which.
    assert.equal(await cli('bill', 'fetch', 'openai', '--store', `duckdb:${db}`), 2);
    assert.match(err.join('\n'), /OPENAI_ADMIN_KEY/);
  });
});
