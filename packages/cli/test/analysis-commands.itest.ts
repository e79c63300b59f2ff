// Every read command (report, top, compare, unit-economics, chargeback, forecast, estimate,
// recommend, export) end to end against each store: the real ClickHouse (a database of its own)
// and an embedded DuckDB file (opened read-only, as `--store duckdb:PATH` opens it), with the
// same seeded span rows and the same assertions, in every output format. Figures are checked
// against arithmetic done here on bigint pico-dollars, and the CLI's output through `--store`
// must be the same, byte for byte, on both stores.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Money } from '@costtrace/core';
import { ClickHouseStore, DuckDbStore } from '@costtrace/store';
import type { SpanCostRow } from '@costtrace/store';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { bundledCatalogDir } from '@costtrace/catalog';
import type { BudgetStatus } from '@costtrace/client';
import { run } from '../src/index.js';
import { runChargeback } from '../src/analysis/chargeback.js';
import { runCompare } from '../src/analysis/compare.js';
import { runEstimate } from '../src/analysis/estimate.js';
import { storeFocusUsage, runExport, FOCUS_COLUMNS } from '../src/analysis/focus-export.js';
import { runForecast } from '../src/analysis/forecast.js';
import { runRecommend, storeSignals } from '../src/analysis/recommend.js';
import { runTop } from '../src/analysis/top.js';
import { runUnitEconomics } from '../src/analysis/unit-economics.js';
import { offlineBackend } from '../src/commands/pricing-backend.js';
import type { AnalysisDeps } from '../src/analysis/command-deps.js';

const SCALE = 10n ** 12n;
const ROUTES = ['/v1/chat', '/v1/embed', '/v1/search'];
const TEAMS = ['search', 'chat', '', 'platform'];

/** Half-to-even division, written out here independently of the code under test. */
function div(n: bigint, d: bigint): bigint {
  if (n < 0n) return -div(-n, d);
  const q = n / d;
  const r = n % d;
  if (2n * r > d || (2n * r === d && q % 2n === 1n)) return q + 1n;
  return q;
}
const fmt = (p: bigint): string => {
  const s = (p < 0n ? -p : p).toString().padStart(13, '0');
  const fraction = s.slice(-12).replace(/0+$/, '');
  return `${p < 0n ? '-' : ''}${s.slice(0, -12)}${fraction === '' ? '' : `.${fraction}`}`;
};
/** Canonical decimal → pico-dollars. */
const toP = (t: string): bigint => {
  const [whole = '0', fraction = ''] = t.replace(/^-/, '').split('.');
  const v = BigInt(whole + fraction.padEnd(12, '0'));
  return t.startsWith('-') ? -v : v;
};

interface Seed {
  route: string;
  commit: string;
  model: string;
  team: string;
  tenant: string;
  cost: bigint;
  tokens: bigint;
  request: boolean;
  start: number;
  gpuType?: string;
  utilization?: string;
}

function capture() {
  let out = '';
  let err = '';
  return {
    output: { out: (t: string) => void (out += t), err: (t: string) => void (err += t) },
    get out() {
      return out;
    },
    get err() {
      return err;
    },
  };
}

function row(s: Seed, i: number): SpanCostRow {
  const start = BigInt(s.start) * 1_000_000_000n;
  return {
    startTimeUnixNano: start,
    endTimeUnixNano: start + 1_000_000n,
    traceId: (i + 1).toString(16).padStart(32, '0'),
    spanId: (i + 1).toString(16).padStart(16, '0'),
    parentSpanId: '',
    spanName: 'chat',
    spanKind: s.request ? 2 : 1,
    statusCode: 0,
    isRequest: s.request,
    service: 'svc',
    environment: 'prod',
    route: s.route,
    commit: s.commit,
    model: s.model,
    provider: 'openai',
    team: s.team,
    tenant: s.tenant,
    feature: '',
    inputTokens: s.tokens === 0n ? 0n : s.tokens - 10n,
    outputTokens: s.tokens === 0n ? 0n : 10n,
    cacheReadTokens: 0n,
    cacheWriteTokens: 0n,
    reasoningTokens: 0n,
    gpuType: s.gpuType ?? '',
    gpuCount: s.gpuType === undefined ? 0 : 1,
    gpuSeconds: '0',
    instanceType: '',
    costInput: Money.fromSubunits(s.cost),
    costOutput: Money.zero(),
    costCacheRead: Money.zero(),
    costCacheWrite: Money.zero(),
    costReasoning: Money.zero(),
    costGpu: Money.zero(),
    costCompute: Money.zero(),
    costTotal: Money.fromSubunits(s.cost),
    currency: 'USD',
    pricingVersion: 'v1',
    pricingSource: 'aggregator',
    priceIds: [],
    unpricedReason: '',
    kafkaTopic: 't',
    kafkaPartition: 0,
    kafkaOffset: BigInt(i),
    kafkaSpanIndex: 0,
    attributeKeys: s.utilization === undefined ? [] : ['costtrace.gpu.utilization'],
    attributeValues: s.utilization === undefined ? [] : [s.utilization],
    rollupOverflow: [],
    sanitized: [],
  };
}

/** The seeded rows in one store, opened for reading the way `--store` opens it. */
interface Seeded {
  readonly store: ClickHouseStore | DuckDbStore;
  /** The `--store` value and the environment that reach the same data through the CLI. */
  readonly flag: string;
  readonly env: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

interface Backend {
  readonly name: 'clickhouse' | 'duckdb';
  seed(rows: readonly SpanCostRow[]): Promise<Seeded>;
}

const BACKENDS: readonly Backend[] = [
  {
    name: 'clickhouse',
    seed: async (rows) => {
      const url = process.env.CLICKHOUSE_URL;
      if (!url) throw new Error('CLICKHOUSE_URL is not set: run with `npm run test:integration`');
      const database = `ct_cli_an_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
      const store = new ClickHouseStore({ url, database });
      await store.migrate();
      await store.insertSpanCosts(rows);
      return {
        store,
        flag: 'clickhouse',
        env: { CLICKHOUSE_URL: url, CLICKHOUSE_DATABASE: database },
        close: async () => {
          await store.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
          await store.close();
        },
      };
    },
  },
  {
    name: 'duckdb',
    seed: async (rows) => {
      const dir = mkdtempSync(join(tmpdir(), 'costtrace-cli-duckdb-'));
      const path = join(dir, 'costtrace.duckdb');
      const writer = new DuckDbStore({ path });
      try {
        await writer.migrate();
        await writer.insertSpanCosts(rows);
      } finally {
        await writer.close();
      }
      const store = new DuckDbStore({ path, readOnly: true });
      return {
        store,
        flag: `duckdb:${path}`,
        env: {},
        close: async () => {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

/** What each command printed through the CLI, per store: the stores must agree byte for byte. */
const cliOutputs = new Map<string, Map<string, string>>();

for (const backend of BACKENDS) describeCommands(backend);

function describeCommands(backend: Backend): void {
  describe(`costtrace commands against ${backend.name}`, () => {
    let seeded: Seeded | undefined;
    const opened = (): Seeded => {
      if (seeded === undefined) throw new Error(`${backend.name} was not seeded`);
      return seeded;
    };
    const now = Math.floor(Date.now() / 60_000) * 60;
    const monthStart = Date.UTC(new Date(now * 1000).getUTCFullYear(), new Date(now * 1000).getUTCMonth(), 1) / 1000;
    const seeds: Seed[] = [];
    for (let i = 0; i < 120; i++) {
      const route = ROUTES[i % 3]!;
      const commit = i < 60 ? 'c_old' : 'c_new';
      seeds.push({
        route,
        commit,
        model: i % 2 ? 'gpt-4o' : 'gpt-4o-mini',
        team: TEAMS[i % 4]!,
        tenant: i % 5 === 0 ? 'globex' : 'acme',
        cost:
          (1000n + BigInt(i) * 37n + (commit === 'c_new' && route === '/v1/chat' ? 5000n : 0n)) * 1_000_000n +
          BigInt(i % 7),
        tokens: 100n + BigInt(i),
        request: i % 10 !== 9,
        start: now - 3600 + i * 20,
      });
    }
    for (let j = 0; j < 4; j++) {
      seeds.push({
        route: '/v1/search',
        commit: 'c_old',
        model: '',
        team: 'search',
        tenant: 'acme',
        cost: 3_000_000_000_000n + BigInt(j) * 1_000_000_000_001n,
        tokens: 0n,
        request: true,
        start: now - 3000 + j,
        gpuType: 'h100-80gb',
        utilization: '0.2',
      });
    }
    for (let j = 0; j < 3; j++) {
      seeds.push({
        route: '/v1/search',
        commit: 'c_new',
        model: 'gpt-4.1',
        team: 'chat',
        tenant: 'acme',
        cost: 20_000_000_000n + BigInt(j),
        tokens: 5000n,
        request: true,
        start: now - 600 + j,
      });
    }
    const deps = (output: AnalysisDeps['output']): AnalysisDeps => ({
      source: opened().store,
      output,
      nowSeconds: now,
    });
    const sum = (f: (s: Seed) => boolean) => {
      const m = seeds.filter(f);
      return {
        cost: m.reduce((a, s) => a + s.cost, 0n),
        requests: BigInt(m.filter((s) => s.request).length),
        tokens: m.reduce((a, s) => a + s.tokens, 0n),
      };
    };

    before(async () => {
      seeded = await backend.seed(seeds.map(row));
    });

    after(async () => {
      await seeded?.close();
    });

    it('top routes, in every format, ranks by exact cost', async () => {
      const json = capture();
      assert.equal(await runTop(['routes', '--since', '2h', '--format', 'json'], deps(json.output)), 0, json.err);
      const rows = JSON.parse(json.out) as { route: string; cost: string; requests: number }[];
      const expected = ROUTES.map((r) => ({ r, ...sum((s) => s.route === r) })).sort((a, b) =>
        a.cost > b.cost ? -1 : 1,
      );
      assert.deepEqual(
        rows.map((r) => [r.route, r.cost, r.requests]),
        expected.map((e) => [e.r, fmt(e.cost), Number(e.requests)]),
      );
      const csv = capture();
      assert.equal(await runTop(['routes', '--since', '2h', '--format', 'csv', '--limit', '1'], deps(csv.output)), 0);
      assert.equal(csv.out.split('\r\n')[1]?.split(',')[0], expected[0]!.r);
      const table = capture();
      assert.equal(await runTop(['commits', '--since=2h', '--where', 'route=/v1/chat'], deps(table.output)), 0);
      assert.match(table.out, /^commit\s+cost/);
      assert.match(
        table.out.split('\n')[2]!,
        new RegExp(
          `^c_new\\s+${fmt(sum((s) => s.route === '/v1/chat' && s.commit === 'c_new').cost).replace('.', '\\.')}`,
        ),
      );
    });

    it('top spans lists the most expensive span first', async () => {
      const json = capture();
      assert.equal(await runTop(['spans', '--since', '2h', '--limit', '3', '--format', 'json'], deps(json.output)), 0);
      const rows = JSON.parse(json.out) as { cost: string }[];
      const max = seeds.reduce((a, s) => (s.cost > a ? s.cost : a), 0n);
      assert.equal(rows.length, 3);
      assert.equal(rows[0]!.cost, fmt(max));
    });

    it('top rejects an unknown subject with what to do', async () => {
      const bad = capture();
      assert.equal(await runTop(['routez'], deps(bad.output)), 2);
      assert.match(bad.err, /say what to rank: one of routes/);
    });

    it('compare commit: totals, per request, per 1M tokens and the difference', async () => {
      const a = sum((s) => s.commit === 'c_old' && s.route === '/v1/chat');
      const b = sum((s) => s.commit === 'c_new' && s.route === '/v1/chat');
      for (const format of ['json', 'csv', 'table']) {
        const c = capture();
        const code = await runCompare(
          ['commit', 'c_old', 'c_new', '--route', '/v1/chat', '--since', '2h', '--format', format],
          deps(c.output),
        );
        assert.equal(code, 0, c.err);
        if (format === 'json') {
          const lines = JSON.parse(c.out) as Record<string, string | null>[];
          const by = new Map(lines.map((l) => [l.metric, l]));
          assert.equal(by.get('total_cost')!.c_old, fmt(a.cost));
          assert.equal(by.get('total_cost')!.c_new, fmt(b.cost));
          assert.equal(by.get('total_cost')!.difference, fmt(b.cost - a.cost));
          assert.equal(
            by.get('total_cost')!.difference_pct,
            (Number(div((b.cost - a.cost) * 10_000n, a.cost)) / 100).toFixed(2),
          );
          const pa = div(a.cost, a.requests);
          const pb = div(b.cost, b.requests);
          assert.equal(by.get('cost_per_request')!.c_old, fmt(pa));
          assert.equal(by.get('cost_per_request')!.difference, fmt(pb - pa));
          assert.equal(by.get('cost_per_1m_tokens')!.c_new, fmt(div(b.cost * 1_000_000n, b.tokens)));
        } else if (format === 'csv') {
          assert.equal(c.out.split('\r\n')[0], 'metric,c_old,c_new,difference,difference_pct');
        } else {
          assert.match(c.out, /total_cost/);
        }
      }
      const none = capture();
      assert.equal(await runCompare(['commit', 'x1', 'x2', '--since', '2h'], deps(none.output)), 3);
      assert.match(none.err, /no spans/);
    });

    it('compare period splits the time range', async () => {
      const c = capture();
      assert.equal(await runCompare(['period', '2h..30m', '30m..now', '--format', 'json'], deps(c.output)), 0, c.err);
      const lines = JSON.parse(c.out) as Record<string, string>[];
      const early = sum((s) => s.start < now - 1800);
      const late = sum((s) => s.start >= now - 1800);
      assert.equal(lines[0]!['2h..30m'], fmt(early.cost));
      assert.equal(lines[0]!['30m..now'], fmt(late.cost));
    });

    it('unit-economics: cost per request / 1M tokens and margin from revenue per request', async () => {
      const c = capture();
      assert.equal(
        await runUnitEconomics(['--since', '2h', '--revenue-per-request', '0.01', '--format', 'json'], deps(c.output)),
        0,
        c.err,
      );
      const rows = JSON.parse(c.out) as Record<string, string | number | null>[];
      for (const tenant of ['acme', 'globex']) {
        const t = sum((s) => s.tenant === tenant);
        const r = rows.find((x) => x.tenant === tenant)!;
        assert.equal(r.cost, fmt(t.cost));
        assert.equal(r.cost_per_request, fmt(div(t.cost, t.requests)));
        assert.equal(r.cost_per_1m_tokens, fmt(div(t.cost * 1_000_000n, t.tokens)));
        const revenue = t.requests * (SCALE / 100n);
        assert.equal(r.revenue, fmt(revenue));
        assert.equal(r.margin, fmt(revenue - t.cost));
        assert.equal(r.margin_pct, (Number(div((revenue - t.cost) * 10_000n, revenue)) / 100).toFixed(2));
      }
    });

    it('unit-economics: monthly revenue per tenant is prorated to the period', async () => {
      const c = capture();
      assert.equal(
        await runUnitEconomics(['--since', '2h', '--revenue', 'tenant=acme:1200', '--format', 'csv'], deps(c.output)),
        0,
        c.err,
      );
      const [header, ...lines] = c.out.trim().split('\r\n');
      const cols = header!.split(',');
      const acme = lines.map((l) => l.split(',')).find((l) => l[0] === 'acme')!;
      const seconds = BigInt(now + 60 - (now - 7200));
      const revenue = div(1200n * SCALE * seconds, 730n * 3600n);
      assert.equal(acme[cols.indexOf('revenue')], fmt(revenue));
      assert.equal(acme[cols.indexOf('margin')], fmt(revenue - sum((s) => s.tenant === 'acme').cost));
      const globex = lines.map((l) => l.split(',')).find((l) => l[0] === 'globex')!;
      assert.equal(globex[cols.indexOf('revenue')], '');
      const table = capture();
      assert.equal(await runUnitEconomics(['--since', '2h', '--by', 'route'], deps(table.output)), 0);
      assert.match(table.out, /^route\s+cost\s+requests/);
    });

    it('chargeback: proportional allocation of unattributed and shared cost reconciles exactly', async () => {
      const c = capture();
      assert.equal(
        await runChargeback(['--since', '2h', '--shared', 'platform', '--format', 'json'], deps(c.output)),
        0,
        c.err,
      );
      const rows = JSON.parse(c.out) as Record<string, string | number | null>[];
      const total = sum(() => true).cost;
      const pool = sum((s) => s.team === '' || s.team === 'platform').cost;
      const direct = { search: sum((s) => s.team === 'search').cost, chat: sum((s) => s.team === 'chat').cost };
      const weight = direct.search + direct.chat;
      let allocatedSum = 0n;
      for (const team of ['search', 'chat'] as const) {
        const r = rows.find((x) => x.team === team)!;
        assert.equal(r.direct_cost, fmt(direct[team]));
        const allocated = toP(String(r.allocated_shared));
        const exactFloor = (pool * direct[team]) / weight;
        assert.ok(allocated === exactFloor || allocated === exactFloor + 1n, `${team}: ${allocated} vs ${exactFloor}`);
        allocatedSum += allocated;
        assert.equal(r.total_cost, fmt(direct[team] + allocated));
      }
      assert.equal(allocatedSum, pool);
      const totalRow = rows.find((x) => x.team === 'TOTAL')!;
      assert.equal(totalRow.total_cost, fmt(total));
      const sumOfTotals = rows.filter((x) => x.team !== 'TOTAL').reduce((a, x) => a + toP(String(x.total_cost)), 0n);
      assert.equal(sumOfTotals, total);
    });

    it('chargeback: fixed and even splits, as CSV and table', async () => {
      const csv = capture();
      assert.equal(
        await runChargeback(
          ['--since', '2h', '--allocate', 'fixed:search=60,chat=40', '--format', 'csv'],
          deps(csv.output),
        ),
        0,
        csv.err,
      );
      const lines = csv.out
        .trim()
        .split('\r\n')
        .map((l) => l.split(','));
      const pool = sum((s) => s.team === '').cost;
      const search = lines.find((l) => l[0] === 'search')!;
      const chat = lines.find((l) => l[0] === 'chat')!;
      assert.equal(toP(search[2]!) + toP(chat[2]!), pool);
      assert.ok(toP(search[2]!) - (pool * 60n) / 100n <= 1n);
      const table = capture();
      assert.equal(await runChargeback(['--since', '2h', '--allocate', 'even'], deps(table.output)), 0);
      assert.match(table.out, /TOTAL/);
      const bad = capture();
      assert.equal(await runChargeback(['--allocate', 'fixed:a=50,b=20'], deps(bad.output)), 2);
      assert.match(bad.err, /add up to 70, not 100/);
    });

    it('forecast: month-to-date plus burn rate times time left, and budget exhaustion', async () => {
      const c = capture();
      assert.equal(await runForecast(['--since', '1d', '--budget', '1', '--format', 'json'], deps(c.output)), 0, c.err);
      const [r] = JSON.parse(c.out) as Record<string, string | null>[];
      const mtd = sum((s) => s.start >= monthStart).cost;
      const window = sum(() => true).cost;
      const d = new Date(now * 1000);
      const monthEnd = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / 1000;
      const projected = mtd + div(window * BigInt(monthEnd - now), 86_400n);
      assert.equal(r!.month_to_date, fmt(mtd));
      assert.equal(r!.burn_per_day, fmt(window));
      assert.equal(r!.projected_month_end, fmt(projected));
      const budget = SCALE;
      if (mtd < budget) {
        const secs = ((budget - mtd) * 86_400n + window - 1n) / window;
        const expected = secs <= BigInt(monthEnd - now) ? new Date((now + Number(secs)) * 1000).toISOString() : null;
        assert.equal(r!.exhausted_at, expected);
      }
      const byRoute = capture();
      assert.equal(await runForecast(['--by', 'route', '--since', '1d', '--format', 'csv'], deps(byRoute.output)), 0);
      assert.equal(byRoute.out.split('\r\n')[0], 'route,month_to_date,burn_per_day,projected_month_end');
      const table = capture();
      assert.equal(await runForecast(['--by', 'tenant', '--budget', 'acme:0.01'], deps(table.output)), 0);
      assert.match(table.out, /acme.*exhausted/);
    });

    /** The catalog's current list price (decimal) for sku/kind, read from the bundled JSON here. */
    function catalogPrice(file: string, sku: string, kind: string): bigint {
      const data = JSON.parse(readFileSync(join(bundledCatalogDir(), file), 'utf8')) as {
        prices: {
          sku: string;
          kind: string;
          amount: string;
          effectiveFrom: string;
          serviceTier?: string;
          pricingModel?: string;
        }[];
      };
      const today = new Date(now * 1000).toISOString().slice(0, 10);
      const current = data.prices
        .filter(
          (p) => p.sku === sku && p.kind === kind && p.effectiveFrom <= today && !p.serviceTier && !p.pricingModel,
        )
        .sort((a, b) => (a.effectiveFrom < b.effectiveFrom ? 1 : -1))[0]!;
      return toP(current.amount);
    }

    it('estimate training: total, per epoch, per sample from the catalog, beside historical jobs', async () => {
      const hour = catalogPrice('gpu-reference-rates.json', 'h100-80gb', 'gpu_time');
      const edeps = (output: AnalysisDeps['output']) => ({
        pricing: () => offlineBackend(),
        source: opened().store,
        output,
        nowSeconds: now,
      });
      const c = capture();
      const argv = [
        'training',
        '--gpu',
        'h100-80gb',
        '--count',
        '8',
        '--hours',
        '12',
        '--epochs',
        '3',
        '--samples',
        '1200000',
      ];
      assert.equal(await runEstimate([...argv, '--since', '2h', '--format', 'json'], edeps(c.output)), 0, c.err);
      const { figures, assumptions } = JSON.parse(c.out) as {
        figures: { metric: string; value: string }[];
        assumptions: string[];
      };
      const get = (m: string) => figures.find((f) => f.metric === m)?.value;
      const total = hour * 8n * 12n;
      assert.equal(get('total'), fmt(total));
      assert.equal(get('per_epoch'), fmt(div(total, 3n)));
      assert.equal(get('per_sample'), fmt(div(total, 3_600_000n)));
      const jobs = seeds.filter((s) => s.gpuType === 'h100-80gb');
      const avg = div(
        jobs.reduce((a, s) => a + s.cost, 0n),
        BigInt(jobs.length),
      );
      assert.equal(get('actual_avg_per_job'), fmt(avg));
      assert.ok(assumptions.some((a) => a.includes('8 × h100-80gb for 12 h')));
      // epochs × samples at a measured rate: 2 × 900000 / 250 samples/s = 7200 s = 2 h
      const rate = capture();
      const rateArgv = [
        'training',
        '--gpu',
        'h100-80gb',
        '--count',
        '2',
        '--epochs',
        '2',
        '--samples',
        '900000',
        '--rate',
        '250',
      ];
      assert.equal(await runEstimate([...rateArgv, '--format', 'csv'], edeps(rate.output)), 0, rate.err);
      assert.match(rate.out, new RegExp(`^total,${fmt(hour * 2n * 2n).replace('.', '\\.')},`, 'm'));
      const table = capture();
      assert.equal(await runEstimate(argv, edeps(table.output)), 0);
      assert.match(table.out, /assumptions:/);
    });

    it('estimate inference: daily and monthly from tokens, and from GPU instances', async () => {
      const input = catalogPrice('token-prices.json', 'gpt-4o-mini', 'input_tokens');
      const output = catalogPrice('token-prices.json', 'gpt-4o-mini', 'output_tokens');
      const edeps = (out: AnalysisDeps['output']) => ({
        pricing: () => offlineBackend(),
        source: opened().store,
        output: out,
        nowSeconds: now,
      });
      const c = capture();
      const argv = [
        'inference',
        '--model',
        'openai/gpt-4o-mini',
        '--requests-per-day',
        '20000',
        '--input-tokens',
        '800',
        '--output-tokens',
        '200',
      ];
      assert.equal(await runEstimate([...argv, '--since', '2h', '--format', 'json'], edeps(c.output)), 0, c.err);
      const { figures } = JSON.parse(c.out) as { figures: { metric: string; value: string }[] };
      const get = (m: string) => figures.find((f) => f.metric === m)?.value;
      const daily = div(20000n * 800n * input, 1_000_000n) + div(20000n * 200n * output, 1_000_000n);
      assert.equal(get('daily'), fmt(daily));
      assert.equal(get('monthly'), fmt(div(daily * 730n, 24n)));
      const mini = sum((s) => s.model === 'gpt-4o-mini');
      assert.equal(get('actual_per_request'), fmt(div(mini.cost, mini.requests)));
      const gpu = capture();
      assert.equal(
        await runEstimate(
          ['inference', '--gpu', 'h100-80gb', '--count', '2', '--hours-per-day', '10', '--format', 'csv'],
          edeps(gpu.output),
        ),
        0,
      );
      const hour = catalogPrice('gpu-reference-rates.json', 'h100-80gb', 'gpu_time');
      assert.match(gpu.out, new RegExp(`^monthly,${fmt(div(hour * 20n * 730n, 24n)).replace('.', '\\.')},`, 'm'));
      const bad = capture();
      assert.equal(await runEstimate(['inference', '--model', 'gpt-4o'], edeps(bad.output)), 2);
      assert.match(bad.err, /provider\/model/);
    });

    it('export --format focus: CSV that adds up, and Parquet that DuckDB reads back', async () => {
      // without a usage source: one `all` row per group
      const plain = capture();
      assert.equal(await runExport(['--format', 'focus', '--since', '2h'], deps(plain.output)), 0, plain.err);
      const plainLines = plain.out.trim().split('\r\n').slice(1);
      assert.equal(
        plainLines.reduce((a, l) => a + toP(l.split(',')[0]!), 0n),
        sum(() => true).cost,
      );
      assert.match(plainLines[0]!, /,all,/);
      // with the store's usage source: split by token type
      const focusDeps = (output: AnalysisDeps['output']) => ({
        ...deps(output),
        focus: storeFocusUsage(opened().store),
      });
      const c = capture();
      assert.equal(await runExport(['--format', 'focus', '--since', '2h'], focusDeps(c.output)), 0, c.err);
      const [header, ...lines] = c.out.trim().split('\r\n');
      assert.deepEqual(
        header!.split(','),
        FOCUS_COLUMNS.map(([name]) => name),
      );
      const billed = header!.split(',').indexOf('BilledCost');
      const total = lines.reduce((a, l) => a + toP(l.split(',')[billed]!), 0n);
      assert.equal(total, sum(() => true).cost);
      assert.match(c.out, /x_Route/);
      const kindAt = header!.split(',').indexOf('x_TokenType');
      // Tags (JSON) holds commas: count the trailing x_ columns from the end
      const fromEnd = header!.split(',').length - kindAt;
      const kinds = new Set(lines.map((l) => l.split(',').at(-fromEnd)));
      assert.ok(
        kinds.has('input') && kinds.has('output') && !kinds.has('all') && !kinds.has('compute'),
        [...kinds].join(' '),
      );
      const dir = mkdtempSync(join(tmpdir(), 'costtrace-focus-test-'));
      try {
        const file = join(dir, 'focus.parquet');
        const p = capture();
        assert.equal(
          await runExport(['--format', 'focus', '--since', '2h', '--output', file], focusDeps(p.output)),
          0,
          p.err,
        );
        const instance = await DuckDBInstance.create(':memory:');
        const conn = await instance.connect();
        const reader = await conn.runAndReadAll(
          `SELECT CAST(sum(BilledCost) AS VARCHAR) AS billed, count(*) AS n, typeof(any_value(ChargePeriodStart)) AS t, sum(x_Requests) AS req FROM read_parquet('${file}')`,
        );
        const [row] = reader.getRowObjectsJS() as Record<string, string | number | bigint>[];
        conn.closeSync();
        instance.closeSync();
        assert.equal(toP(String(row!.billed)), sum(() => true).cost);
        assert.equal(Number(row!.n), lines.length);
        assert.equal(String(row!.t), 'TIMESTAMP WITH TIME ZONE');
        assert.equal(BigInt(String(row!.req)), sum(() => true).requests);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const bad = capture();
      assert.equal(await runExport(['--format', 'csv'], deps(bad.output)), 2);
      assert.match(bad.err, /--format focus is required/);
    });

    it('recommend: findings with evidence and monthly savings computed from the spans', async () => {
      const budgets = {
        listBudgets: () => Promise.resolve({ budgets: [{ id: 'acme-monthly', window: 'month', limit_usd: '100' }] }),
        budgetStatus: () =>
          Promise.resolve({
            keys: [{ scope_key: 'tenant=acme', spend_usd: '92', limit_usd: '100', percent: 92 }],
          } as unknown as BudgetStatus),
      };
      const c = capture();
      const code = await runRecommend(['--since', '2h', '--format', 'json'], {
        ...deps(c.output),
        signals: storeSignals(opened().store),
        budgets,
      });
      assert.equal(code, 0, c.err);
      const findings = JSON.parse(c.out) as {
        finding: string;
        subject: string;
        monthly_saving_usd: string | null;
        evidence: string;
      }[];
      const until = BigInt(now + 60);
      const since = BigInt(now - 7200);
      const month = 730n * 3600n;
      // cost regression on /v1/chat: c_old → c_new
      const old = sum((s) => s.route === '/v1/chat' && s.commit === 'c_old');
      const neu = sum((s) => s.route === '/v1/chat' && s.commit === 'c_new');
      const before = div(old.cost, old.requests);
      const after = div(neu.cost, neu.requests);
      const firstNew = Math.min(
        ...seeds.filter((s) => s.route === '/v1/chat' && s.commit === 'c_new').map((s) => s.start),
      );
      const from = BigInt(Math.max(Math.floor(firstNew / 60) * 60, now - 7200));
      const regression = findings.find((f) => f.finding === 'cost-regression' && f.subject === '/v1/chat')!;
      assert.ok(regression, JSON.stringify(findings, null, 1));
      assert.match(regression.evidence, /at c_old → .* at c_new/);
      assert.equal(regression.monthly_saving_usd, fmt(div((after - before) * neu.requests * month, until - from)));
      // GPU spans at 20 % utilisation: the idle 80 % of their cost
      const gpu = findings.find((f) => f.finding === 'gpu-underutilised')!;
      const idle = seeds.filter((s) => s.gpuType !== undefined).reduce((a, s) => a + div(s.cost * 8000n, 10_000n), 0n);
      assert.equal(gpu.monthly_saving_usd, fmt(div(idle * month, until - since)));
      // long prompts with no cache reads on /v1/search
      const cache = findings.find((f) => f.finding === 'low-cache-share')!;
      assert.equal(cache.subject, '/v1/search gpt-4.1');
      const inputCost = seeds.filter((s) => s.tokens === 5000n).reduce((a, s) => a + s.cost, 0n);
      assert.equal(cache.monthly_saving_usd, fmt(div(div(inputCost, 4n) * month, until - since)));
      assert.ok(findings.some((f) => f.finding === 'cheaper-model'));
      const budget = findings.find((f) => f.finding === 'budget-near')!;
      assert.equal(budget.monthly_saving_usd, null);
      assert.match(budget.evidence, /92 of 100 USD/);
      // savings sorted, largest first
      const savings = findings.map((f) => (f.monthly_saving_usd === null ? -1n : toP(f.monthly_saving_usd)));
      assert.deepEqual(
        savings,
        [...savings].sort((x, y) => (x === y ? 0 : x > y ? -1 : 1)),
      );

      const table = capture();
      const refused = () => Promise.reject(new Error('connect ECONNREFUSED'));
      const unreachable = { listBudgets: refused, budgetStatus: refused };
      assert.equal(await runRecommend(['--since', '2h'], { ...deps(table.output), budgets: unreachable }), 0);
      assert.match(table.out, /budget findings skipped: aggregator API not reachable/);
      assert.match(table.out, /token-mix and GPU findings skipped/);
      const csv = capture();
      assert.equal(await runRecommend(['--since', '2h', '--format', 'csv', '--limit', '2'], deps(csv.output)), 0);
      assert.equal(csv.out.trim().split('\r\n').length, 3);
    });
    it('every command through the CLI with --store, in every format, the same on both stores', async () => {
      const range = ['--since', String(now - 7200), '--until', String(now + 60)];
      const quoted = ['--where', 'tenant=acme', '--where', "tenant=o'brien"];
      const commands: Record<string, readonly string[]> = {
        report: ['report', '--by', 'route,commit', ...range],
        top: ['top', 'routes', ...range],
        'top spans': ['top', 'spans', '--limit', '5', ...range],
        compare: ['compare', 'commit', 'c_old', 'c_new', '--route', '/v1/chat', ...range],
        'unit-economics': ['unit-economics', '--by', 'tenant', '--revenue-per-request', '0.01', ...range],
        chargeback: ['chargeback', '--shared', 'platform', ...range],
        forecast: ['forecast', '--by', 'route', '--since', String(monthStart)],
        estimate: ['estimate', 'training', '--gpu', 'h100-80gb', '--count', '8', '--hours', '10', ...range],
        recommend: ['recommend', '--api-url', 'http://127.0.0.1:9', ...range],
        // a quote in a value: each store quotes it in its own dialect (DuckDB doubles it)
        'recommend quoted': ['recommend', '--api-url', 'http://127.0.0.1:9', ...quoted, ...range],
      };
      const mine = new Map<string, string>();
      const invocations = [
        ...Object.entries(commands).flatMap(([name, argv]) =>
          ['table', 'json', 'csv'].map((format) => [`${name} ${format}`, [...argv, '--format', format]] as const),
        ),
        ['export focus', ['export', '--format', 'focus', ...range]] as const,
        ['export focus quoted', ['export', '--format', 'focus', ...quoted, ...range]] as const,
      ];
      for (const [key, argv] of invocations) {
        let out = '';
        let err = '';
        const code = await run([...argv, '--store', opened().flag], {
          out: (t) => void (out += `${t}\n`),
          err: (t) => void (err += `${t}\n`),
          env: opened().env,
        });
        assert.equal(code, 0, `${key}: ${err}`);
        assert.notEqual(out.trim(), '', key);
        mine.set(key, out);
      }
      // the figures are checked against bigint arithmetic above; through --store, the report's total
      const report = JSON.parse(mine.get('report json')!) as { cost: string }[];
      assert.equal(
        report.reduce((a, r) => a + toP(r.cost), 0n),
        sum(() => true).cost,
      );
      cliOutputs.set(backend.name, mine);
      const [first] = cliOutputs.values();
      // forecast projects from the wall clock, which moves between the two runs
      for (const [key, text] of mine) if (!key.startsWith('forecast')) assert.equal(text, first!.get(key), key);
    });
  });
}
