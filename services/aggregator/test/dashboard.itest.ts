// The dashboard in a real browser: Debian's headless Chromium driven by playwright-core (no
// browser download) against the aggregator in embedded mode (in-process bus, DuckDB — what
// `costtrace dev` runs), fed spans over OTLP/HTTP
// with a mix of routes, commits, models and tenants, and two budgets (one over its limit, so a
// throttle is active). Checks that the page loads under its CSP without errors, the charts carry
// the stored data, switching the dimension redraws them, API values are rendered as text, and
// saves screenshots under .cache/test-results/.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { CostSpanProcessor } from '@costtrace/otel';
import { pino } from 'pino';
import { DuckDbStore } from '@costtrace/store';
import {
  Aggregator,
  DuckDbBudgetStore,
  InProcessBus,
  InProcessMessageLog,
  loadBudgetsConfig,
  loadConfig,
} from '../src/index.js';
import { DASHBOARD_CSP } from '../src/dashboard/dashboard-handler.js';
import { waitFor } from './support/live-services.js';

// dist/test/dashboard.itest.js → repository root.
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const RESULTS = join(ROOT, '.cache', 'test-results');
const HOSTILE_ROUTE = '/v1/<img src=x id=injected>';
const ROUTES = ['/v1/chat', '/v1/embed', '/v1/summarize', HOSTILE_ROUTE];
const COMMITS = ['a1b2c3d', 'e4f5a6b'];
const MODELS: readonly (readonly [string, string])[] = [
  ['openai', 'gpt-4o'],
  ['openai', 'gpt-4o-mini'],
  ['anthropic', 'claude-3-5-haiku'],
];
const TENANTS = ['acme', 'globex', 'initech'];
const SPANS = 90;

/** Debian's Chromium, installed by scripts/browser.sh when missing. */
function chromiumPath(): string {
  const out = execFileSync('bash', [join(ROOT, 'scripts', 'browser.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out.trim().split('\n').pop()!;
}

/** One attribute of every element a selector matches (DOM types are not in this project's lib). */
function attributeValues(page: Page, selector: string, name: string): Promise<string[]> {
  return page.$$eval(
    selector,
    (nodes: { getAttribute(n: string): string | null }[], attr: string) => nodes.map((n) => n.getAttribute(attr) ?? ''),
    name,
  );
}

async function seriesNames(page: Page): Promise<string[]> {
  return [...new Set(await attributeValues(page, '#spend-svg rect[data-series]', 'data-series'))].sort();
}

describe('dashboard in a real browser', () => {
  let dir = '';
  let bus: InProcessBus | undefined;
  let aggregator: Aggregator;
  let api = '';
  let provider: BasicTracerProvider;
  let browser: Browser | undefined;
  const pageErrors: string[] = [];

  before(async () => {
    const executablePath = chromiumPath();
    dir = await mkdtemp(join(tmpdir(), 'costtrace-dashboard-'));
    await mkdir(RESULTS, { recursive: true });
    const file = join(dir, 'budgets.yaml');
    await writeFile(
      file,
      `budgets:
  - id: tenant-hour
    name: Spend per tenant per hour
    scope: { service: dashboard-svc }
    per: [tenant]
    window: 1h
    limit_usd: "0.25"
    action: reject
    forecast: true
  - id: service-day
    name: Service spend per day
    scope: { service: dashboard-svc }
    window: 24h
    limit_usd: "5"
    action: degrade
    forecast: true
`,
    );
    const logger = pino({ level: 'warn' });
    bus = new InProcessBus({ dataDir: join(dir, 'bus'), logger });
    const store = new DuckDbStore({ path: join(dir, 'costtrace.duckdb') });
    aggregator = new Aggregator({
      config: loadConfig(
        {
          httpHost: '127.0.0.1',
          grpcHost: '127.0.0.1',
          apiHost: '127.0.0.1',
          httpPort: 0,
          grpcPort: 0,
          apiPort: 0,
          retentionIntervalSeconds: 0,
          logLevel: 'warn',
        },
        {},
      ),
      logger,
      messageLog: new InProcessMessageLog(bus),
      store,
      budgetStore: new DuckDbBudgetStore(store),
      budgets: loadBudgetsConfig(
        {
          budgetsFile: file,
          outboxDirectory: join(dir, 'outbox'),
          instanceId: 'dashboard',
          tickMs: 100,
          flushMs: 300,
          refreshMs: 500,
        },
        {},
      ),
    });
    const addresses = await aggregator.start();
    api = `http://127.0.0.1:${addresses.api!.port}`;
    provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'dashboard-svc' }),
      spanProcessors: [
        new CostSpanProcessor(),
        new BatchSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${addresses.http!.port}/v1/traces` }), {
          scheduledDelayMillis: 200,
        }),
      ],
    });

    // Spans spread over the last 40 minutes; the second commit (the later half) makes /v1/chat
    // use the expensive model. acme spends past its 0.25 USD hourly budget (a throttle).
    const tracer = provider.getTracer('dashboard');
    const now = Date.now();
    for (let i = 0; i < SPANS; i++) {
      const at = new Date(now - 40 * 60_000 + (i * 40 * 60_000) / SPANS);
      const route = ROUTES[i % ROUTES.length]!;
      const commit = COMMITS[i < SPANS / 2 ? 0 : 1]!;
      const tenant = TENANTS[i % TENANTS.length]!;
      const [providerName, model] =
        route === '/v1/chat' && commit === COMMITS[1] ? MODELS[0]! : MODELS[(i >> 2) % MODELS.length]!;
      tracer
        .startSpan(`POST ${route}`, {
          startTime: at,
          attributes: {
            'http.route': route,
            'vcs.ref.head.revision': commit,
            'costtrace.tenant': tenant,
            'gen_ai.provider.name': providerName,
            'gen_ai.request.model': model,
            'gen_ai.usage.input_tokens': tenant === 'acme' ? 20_000 : 2_000,
            'gen_ai.usage.output_tokens': tenant === 'acme' ? 5_000 : 500,
          },
        })
        .end(new Date(at.getTime() + 800));
    }
    await provider.forceFlush();
    await waitFor(
      'every span stored',
      async () => {
        const res = await fetch(`${api}/api/v1/costs?group_by=service&since=2h`);
        const body = (await res.json()) as { rows: { spans: number }[] };
        return body.rows.reduce((sum, r) => sum + r.spans, 0);
      },
      (n) => n >= SPANS,
    );
    // A bill for today: OpenAI's cost of gpt-4o output, as a cost report states it.
    const today = Math.floor(Date.now() / 86_400_000) * 86_400;
    await store.insertBilledLines('bill-1', [
      {
        source: 'openai-costs',
        provider: 'openai',
        account: '',
        project: 'proj_demo',
        apiKey: '',
        model: 'gpt-4o',
        serviceTier: '',
        periodStart: today,
        periodEnd: today + 86_400,
        kind: 'output',
        quantity: '0',
        unit: '',
        billedCost: '12.5',
        listCost: undefined,
        currency: 'USD',
        description: 'gpt-4o, output',
        chargeCategory: 'Usage',
        service: '',
        resourceId: '',
      },
    ]);
    await store.commitBillImport([
      {
        importId: 'bill-1',
        source: 'openai-costs',
        account: '',
        days: [today],
        importedAtMicros: 1n,
        lines: 1,
        origin: 'costs.json',
      },
    ]);
    await waitFor(
      'the tenant throttle',
      async () => ((await (await fetch(`${api}/v1/throttles`)).json()) as { throttles: unknown[] }).throttles.length,
      (n) => n > 0,
    );

    browser = await chromium.launch({
      executablePath,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
      ],
    });
  });

  after(async () => {
    await browser?.close();
    await provider?.shutdown();
    await aggregator?.stop();
    bus?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the page and its assets with a strict CSP, and the health document', async () => {
    const page = await fetch(`${api}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-security-policy'), DASHBOARD_CSP);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = await page.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handlers');
    assert.doesNotMatch(html, /\sstyle=/i, 'no inline styles');
    const js = await fetch(`${api}/ui/dashboard.js`);
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.doesNotMatch(await js.text(), /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    assert.equal((await fetch(`${api}/ui/nothing.js`)).status, 404);

    const health = (await (await fetch(`${api}/api/v1/health`)).json()) as {
      ready: boolean;
      consumer: { lag: { partition: string; messages: number }[]; lag_total: number };
      spans: { in: number; out: number; unpriced: number; received: number };
      dead_letter: { messages: number };
    };
    assert.equal(health.ready, true);
    assert.ok(health.spans.received >= SPANS && health.spans.out >= SPANS, JSON.stringify(health.spans));
    assert.equal(health.dead_letter.messages, 0);
    assert.ok(health.consumer.lag.length >= 1, 'lag of the partitions consumed so far');
    assert.ok(health.consumer.lag.every((p) => /^[0-2]$/.test(p.partition) && p.messages >= 0));
  });

  it('draws spend, top routes, budgets, throttles and health, and redraws on a dimension switch', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 1100 } });
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('response', (res) => {
      if (res.status() >= 400) pageErrors.push(`response: ${res.status()} ${res.url()}`);
    });
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`console: ${msg.text()}`);
    });
    await page.goto(`${api}/`);
    await page.waitForSelector('body[data-loaded]');
    await page.waitForSelector('#spend-svg[data-dimension="route"] rect[data-series]');

    // Spend over time by route: every route appears, as stored (the hostile one as text).
    assert.deepEqual(await seriesNames(page), [...ROUTES].sort());
    const bucketsDrawn = new Set(await attributeValues(page, '#spend-svg rect[data-series]', 'data-bucket')).size;
    assert.ok(bucketsDrawn >= 20, `bars in ${bucketsDrawn} one-minute buckets`);
    const drawnTotal = (await attributeValues(page, '#spend-svg rect[data-cost]', 'data-cost')).reduce(
      (sum, cost) => sum + Number(cost),
      0,
    );
    const stored = (await (await fetch(`${api}/api/v1/costs?group_by=service&since=1h`)).json()) as {
      rows: { cost: string }[];
    };
    const storedTotal = stored.rows.reduce((sum, r) => sum + Number(r.cost), 0);
    assert.ok(Math.abs(drawnTotal - storedTotal) < 1e-9, `chart ${drawnTotal} = stored ${storedTotal}`);
    assert.deepEqual((await attributeValues(page, '#spend-legend li', 'data-series')).sort(), [...ROUTES].sort());

    // API values are text, never markup.
    assert.equal(await page.$('#injected'), null, 'no element made from a route value');
    assert.ok((await page.textContent('#spend-legend'))!.includes(HOSTILE_ROUTE));

    // Top routes, most expensive first.
    const topRoutes = await attributeValues(page, '#top-routes tbody tr[data-route]', 'data-route');
    const topCosts = await attributeValues(page, '#top-routes tbody tr[data-route]', 'data-cost');
    const top = topRoutes.map((route, i) => ({ route, cost: Number(topCosts[i]) }));
    assert.equal(top.length, ROUTES.length);
    assert.ok(
      top.every((r, i) => i === 0 || top[i - 1]!.cost >= r.cost),
      'ordered by cost',
    );
    assert.equal(top[0]!.route, '/v1/chat');

    // Budgets with a percentage per key, a throttle for acme, pipeline health tiles.
    await page.waitForSelector('.budget[data-budget="tenant-hour"] .key[data-percent]');
    const acme = await page.getAttribute(
      '.budget[data-budget="tenant-hour"] .key[data-scope-key*="acme"]',
      'data-percent',
    );
    assert.ok(Number(acme) >= 100, `acme at ${acme}%`);
    assert.ok((await page.textContent('.budget[data-budget="service-day"]'))!.includes('forecast'));
    await page.waitForSelector('#throttles tbody tr[data-throttle]');
    assert.ok((await page.textContent('#throttles tbody'))!.includes('tenant=acme'));
    assert.equal(await page.textContent('#health [data-metric="ready"] dd'), 'yes');
    assert.equal(await page.textContent('#health [data-metric="dead-lettered"] dd'), '0');
    // Pricing coverage: every span priced exactly, one row per model the service used.
    assert.equal(await page.textContent('#health [data-metric="pricing coverage"] dd'), '100.00%');
    await page.waitForSelector('#coverage tbody tr[data-model]');
    assert.deepEqual(
      (await attributeValues(page, '#coverage tbody tr[data-model]', 'data-model')).sort(),
      MODELS.map(([, m]) => m).sort(),
    );
    assert.deepEqual(
      [...new Set(await attributeValues(page, '#coverage tbody tr[data-model]', 'data-coverage'))],
      ['1'],
    );
    assert.match((await page.textContent('#coverage-total'))!, /100\.00% of \d+ usage-bearing spans priced exactly/);

    // Bill vs traced: the imported bill beside the spans, with reconcile's drift.
    await page.waitForSelector('#bill tbody tr[data-model="gpt-4o"]');
    const reconciled = (await (await fetch(`${api}/api/v1/reconcile?since=30d&by=provider,model`)).json()) as {
      rows: { dimensions: { provider: string; model: string }; drift?: string; billedCost?: string }[];
    };
    const gpt4o = reconciled.rows.find((r) => r.dimensions.model === 'gpt-4o');
    assert.equal(gpt4o?.billedCost, '12.5');
    assert.equal(await page.getAttribute('#bill tbody tr[data-model="gpt-4o"]', 'data-drift'), gpt4o?.drift);
    const billRow = (await page.textContent('#bill tbody tr[data-model="gpt-4o"]'))!;
    assert.ok(billRow.includes('$12.50'), billRow);
    // A cost report alone: the drift is not split, it shows as unexplained.
    assert.ok(billRow.endsWith(`+$${Number(gpt4o?.drift).toFixed(4)}`), billRow);

    await page.screenshot({ path: join(RESULTS, 'dashboard-route.png'), fullPage: true });

    // Switch to model: the chart is redrawn with the models as series.
    await page.click('button[data-dim="model"]');
    await page.waitForSelector('#spend-svg[data-dimension="model"]');
    assert.deepEqual(await seriesNames(page), MODELS.map(([, m]) => m).sort());
    assert.equal(await page.getAttribute('button[data-dim="model"]', 'aria-pressed'), 'true');
    assert.equal(await page.getAttribute('button[data-dim="route"]', 'aria-pressed'), 'false');
    assert.equal(await page.textContent('#spend-dim'), 'model');
    assert.match(page.url(), /#by=model&range=1h$/);

    // And tenant, then commit.
    await page.click('button[data-dim="tenant"]');
    await page.waitForSelector('#spend-svg[data-dimension="tenant"]');
    assert.deepEqual(await seriesNames(page), [...TENANTS].sort());
    await page.click('button[data-dim="commit"]');
    await page.waitForSelector('#spend-svg[data-dimension="commit"]');
    assert.deepEqual(await seriesNames(page), [...COMMITS].sort());
    await page.screenshot({ path: join(RESULTS, 'dashboard-commit.png'), fullPage: true });

    // A longer range: five-minute buckets, same series.
    await page.selectOption('#range', '6h');
    await page.waitForSelector('#spend-svg[data-dimension="commit"][data-range="6h"]');
    assert.deepEqual(await seriesNames(page), [...COMMITS].sort());
    const wideBuckets = new Set(await attributeValues(page, '#spend-svg rect[data-series]', 'data-bucket'));
    assert.ok(wideBuckets.size >= 8 && [...wideBuckets].every((t) => Number(t) % 300 === 0), `${wideBuckets.size}`);

    // A reload keeps the chosen view (from the URL fragment).
    await page.reload();
    await page.waitForSelector('#spend-svg[data-dimension="commit"][data-range="6h"] rect[data-series]');

    assert.deepEqual(pageErrors, [], 'no script errors or CSP violations');
    await context.close();
  });
});
