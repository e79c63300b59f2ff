// `costtrace bill fetch opencost` against a real local HTTP server (node:http, ephemeral port) that
// answers as OpenCost's allocation API does: the fixtures of core's tests (the documented format),
// checked query parameters, and failures on demand: server errors, OpenCost's error envelope,
// plain-text client errors, refused tokens, redirects, oversized and slow bodies, answers for
// another window. The imports land in a real DuckDB file; expected totals are the fixtures' step
// totals, written out by hand.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { DuckDbStore } from '@costtrace/store';
import { runBillFetch } from '../src/billing/bill-fetch-command.js';
import { runOpenCostFetch } from '../src/billing/opencost-fetch-command.js';
import { openCostEndpoint, openCostQuery } from '../src/billing/opencost-fetcher.js';

const FIXTURES = new URL('../../../core/test/billing/fixtures/', import.meta.url);
const DAILY = readFileSync(new URL('opencost-allocation-namespace-daily.json', FIXTURES), 'utf8');
const LABELS = readFileSync(new URL('opencost-allocation-label-team.json', FIXTURES), 'utf8');

const D0 = Date.UTC(2026, 10, 10) / 1000;
const D1 = D0 + 86_400;
const D2 = D1 + 86_400;
/** "Now": the afternoon of the second fixture day. */
const NOW_MS = (D1 + 15 * 3600) * 1000;
const WINDOW = '2026-11-10T00:00:00Z,2026-11-12T00:00:00Z';
const TOKEN = 'oc-token-SECRET-0123456789';
const TUNING = { timeoutMs: 1_000, maxAttempts: 3, backoff: { initialMs: 1, maxMs: 4, jitter: 0 } } as const;

interface Seen {
  readonly path: string;
  readonly query: [string, string][];
  readonly headers: IncomingHttpHeaders;
}

type Reply = {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly delayMs?: number;
};

class FakeOpenCost {
  readonly seen: Seen[] = [];
  handler: (seen: Seen, nth: number) => Reply = () => ({ status: 404, body: '404 page not found' });
  private server: Server | undefined;
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const seen: Seen = { path: url.pathname, query: [...url.searchParams], headers: req.headers };
      this.seen.push(seen);
      const reply = this.handler(seen, this.seen.length);
      const send = (): void => {
        const body = reply.body ?? '';
        res.writeHead(reply.status ?? 200, {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          ...reply.headers,
        });
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

  reset(handler: (seen: Seen, nth: number) => Reply): void {
    this.seen.length = 0;
    this.handler = handler;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** The allocation API (under any prefix): the fixture for the window it was made for, no sets for any other. */
function allocationApi(seen: Seen): Reply {
  if (!seen.path.endsWith('/allocation')) return { status: 404, body: '404 page not found' };
  const window = seen.query.find(([k]) => k === 'window')?.[1];
  if (window === WINDOW) return { body: DAILY };
  return { body: JSON.stringify({ code: 200, status: 'success', data: [] }) };
}

function pico(text: string): bigint {
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const value = BigInt(whole) * 10n ** 12n + BigInt(fraction.padEnd(12, '0'));
  return negative ? -value : value;
}

function decimal(value: bigint): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(13, '0');
  const fraction = digits.slice(-12).replace(/0+$/, '');
  return `${negative ? '-' : ''}${digits.slice(0, -12)}${fraction === '' ? '' : `.${fraction}`}`;
}

/** Billed cost summed per key (the store's rows are per kind, unit and currency too). */
function sumBy<R extends { billedCost: string }>(rows: readonly R[], key: (row: R) => string): Map<string, string> {
  const sums = new Map<string, bigint>();
  for (const r of rows) sums.set(key(r), (sums.get(key(r)) ?? 0n) + pico(r.billedCost));
  return new Map([...sums].map(([k, v]) => [k, decimal(v)]));
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    output: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) },
    get out() {
      return out.join('');
    },
    get err() {
      return err.join('');
    },
  };
}

describe('costtrace bill fetch opencost', () => {
  const api = new FakeOpenCost();
  let dir: string;
  let store: DuckDbStore;

  before(async () => {
    await api.start();
  });
  after(async () => {
    await api.stop();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-opencost-'));
    store = new DuckDbStore({ path: join(dir, 'costtrace.duckdb') });
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const fetchOpenCost = (argv: string[], c: ReturnType<typeof capture>, env: Record<string, string> = {}) =>
    runOpenCostFetch(argv, { store, output: c.output, env, nowMs: NOW_MS, tuning: TUNING });

  /** Billed cost per day and cluster, summed over the rows' units (bigint, independently of the store). */
  async function dayTotals(): Promise<Map<string, string>> {
    return sumBy(
      await store.billedTotals({ since: D0 - 86_400, until: D2 + 86_400, groupBy: ['day', 'account'] }),
      (r) => [r.dimensions.day, r.dimensions.account].join(' '),
    );
  }

  it('asks for daily sets with idle cost over whole UTC days and imports them exactly', async () => {
    api.reset(allocationApi);
    const c = capture();
    const code = await runBillFetch(['opencost', '--url', api.base, '--window', '2026-11-10,2026-11-12'], {
      store,
      output: c.output,
      env: {},
      nowMs: NOW_MS,
    });
    assert.equal(code, 0, c.err);
    assert.equal(api.seen.length, 1);
    assert.deepEqual(api.seen[0]!.query, [
      ['window', WINDOW],
      ['aggregate', 'namespace'],
      ['step', '1d'],
      ['accumulate', 'false'],
      ['includeIdle', 'true'],
      ['shareIdle', 'false'],
    ]);
    assert.equal(api.seen[0]!.headers.authorization, undefined);
    // The step totals of the fixture (the allocations' totalCost as written, summed).
    assert.deepEqual(
      await dayTotals(),
      new Map([
        [`${D0} gpu-cluster-1`, '527.38007'],
        [`${D1} gpu-cluster-1`, '376.07976'],
      ]),
    );
    assert.match(c.out, /imported 42 opencost line\(s\) from http:\/\/127\.0\.0\.1:\d+\/allocation/);
    assert.match(c.out, /cluster gpu-cluster-1: 2 day\(s\) 2026-11-10 \.\. 2026-11-11/);
    assert.match(c.out, /cluster cost: 903\.45983 USD/);
    assert.match(c.out, /today \(UTC\) is not over/);
    const imports = await store.billImports(10);
    assert.deepEqual(
      imports.map((i) => [i.source, i.account, i.day, i.current]),
      [
        ['opencost', 'gpu-cluster-1', D1, true],
        ['opencost', 'gpu-cluster-1', D0, true],
      ],
    );
  });

  it('reads --window Nd as today and the days before it, and replaces what an earlier fetch held', async () => {
    api.reset(allocationApi);
    const first = capture();
    assert.equal(await fetchOpenCost(['--url', `${api.base}/`, '--window', '2d'], first), 0, first.err);
    const second = capture();
    assert.equal(await fetchOpenCost(['--url', api.base, '--window', '2d', '--account', 'prod-gpu'], second), 0);
    assert.deepEqual(
      api.seen.map((s) => s.query.find(([k]) => k === 'window')?.[1]),
      [WINDOW, WINDOW],
    );
    // Another account: both stand; fetching the same account again replaces its days.
    assert.equal((await dayTotals()).get(`${D0} prod-gpu`), '527.38007');
    const third = capture();
    assert.equal(await fetchOpenCost(['--url', api.base, '--window', '2d', '--account', 'prod-gpu'], third), 0);
    assert.equal((await dayTotals()).get(`${D1} prod-gpu`), '376.07976');
    assert.equal((await store.billImports(100)).filter((i) => i.current).length, 4);
  });

  it('splits long windows into requests of at most 31 days, with the token in a header', async () => {
    api.reset(allocationApi);
    const c = capture();
    const code = await fetchOpenCost(
      ['--url', `${api.base}/model/allocation`, '--window', '2026-09-01,2026-11-12', '--aggregate', 'label:team'],
      c,
      { COSTTRACE_OPENCOST_TOKEN: TOKEN },
    );
    // Kubecost's path is taken as given; the window needs no data to be fetched.
    assert.equal(code, 0, c.err);
    assert.deepEqual(
      api.seen.map((s) => [s.path, s.query[0]![1], s.query[1]![1], s.headers.authorization]),
      [
        ['/model/allocation', '2026-09-01T00:00:00Z,2026-10-02T00:00:00Z', 'label:team', `Bearer ${TOKEN}`],
        ['/model/allocation', '2026-10-02T00:00:00Z,2026-11-02T00:00:00Z', 'label:team', `Bearer ${TOKEN}`],
        ['/model/allocation', '2026-11-02T00:00:00Z,2026-11-12T00:00:00Z', 'label:team', `Bearer ${TOKEN}`],
      ],
    );
  });

  it('imports a label report under its aggregate, and refuses a report that contradicts it', async () => {
    api.reset(() => ({ body: LABELS }));
    const c = capture();
    assert.equal(
      await fetchOpenCost(['--url', api.base, '--window', '2026-11-10,2026-11-11', '--aggregate', 'label:team'], c),
      0,
      c.err,
    );
    const rows = await store.billedTotals({ since: D0, until: D1, groupBy: ['project', 'service'] });
    assert.deepEqual(
      sumBy(rows, (r) => `${r.dimensions.project} ${r.dimensions.service}`),
      new Map([
        ['__idle__ label:team', '127.422474588'],
        ['__unallocated__ label:team', '0.183333333333'],
        ['chat label:team', '126.7052687891'],
        ['search label:team', '270.108081333333'],
      ]),
    );
    assert.match(c.out, /7 amount\(s\) had more than 12 decimals/);
    const bad = capture();
    assert.equal(
      await fetchOpenCost(['--url', api.base, '--window', '2026-11-10,2026-11-11', '--aggregate', 'namespace'], bad),
      1,
    );
    assert.match(bad.err, /field data\[0\]\.chat\.name: .*not aggregated by namespace.*\(nothing imported\)/);
  });

  it('retries server errors, then says what the last one was', async () => {
    api.reset((seen, nth) => (nth === 1 ? { status: 502, body: 'bad gateway' } : allocationApi(seen)));
    const ok = capture();
    assert.equal(await fetchOpenCost(['--url', api.base, '--window', '2d'], ok), 0, ok.err);
    assert.equal(api.seen.length, 2);
    api.reset(() => ({
      status: 500,
      body: JSON.stringify({ code: 500, message: 'Error: error querying prometheus' }),
    }));
    const failed = capture();
    assert.equal(await fetchOpenCost(['--url', api.base, '--window', '2d'], failed), 1);
    assert.equal(api.seen.length, 3);
    assert.match(
      failed.err,
      /OpenCost failed 3 time\(s\), the last with HTTP 500 \(Error: error querying prometheus\).*\(nothing imported\)/,
    );
  });

  it('refuses error answers, other windows, redirects, refused tokens, big and slow bodies', async () => {
    const cases: [Reply, RegExp, Record<string, string>?][] = [
      [
        { status: 400, headers: { 'content-type': 'text/plain' }, body: "Invalid 'window' parameter: bad\n" },
        /OpenCost answered HTTP 400: Invalid 'window' parameter: bad/,
      ],
      [
        { body: JSON.stringify({ code: 400, status: 'error', message: 'Error: bad request: aggregate' }) },
        /field code: OpenCost answered code 400: Error: bad request: aggregate/,
      ],
      [
        { body: DAILY.replaceAll('2026-11-1', '2025-11-1') },
        /OpenCost answered for the window 2025-11-10T00:00:00Z \.\. 2025-11-11T00:00:00Z .*outside the one asked for/,
      ],
      [
        { status: 302, headers: { location: 'https://login.example/' } },
        /HTTP 302 \(a redirect to "https:\/\/login\.example\/", not followed\)/,
      ],
      [
        { status: 401, body: `token ${TOKEN} is not valid` },
        /OpenCost refused the request \(HTTP 401: token \[token\] is not valid\): set COSTTRACE_OPENCOST_TOKEN/,
        { COSTTRACE_OPENCOST_TOKEN: TOKEN },
      ],
      [{ body: 'x'.repeat(64) + DAILY }, /invalid JSON/],
      [{ body: DAILY, delayMs: 3_000 }, /failed 3 time\(s\), the last with no answer within 1000 ms/],
    ];
    for (const [reply, says, env] of cases) {
      api.reset(() => reply);
      const c = capture();
      assert.equal(await fetchOpenCost(['--url', api.base, '--window', '2d'], c, env), 1, String(says));
      assert.match(c.err, says);
      assert.match(c.err, /\(nothing imported\)/);
      assert.ok(!c.err.includes(TOKEN), 'the token is never printed');
    }
    api.reset(() => ({ body: DAILY }));
    const big = capture();
    const code = await runOpenCostFetch(['--url', api.base, '--window', '2d'], {
      store,
      output: big.output,
      env: {},
      nowMs: NOW_MS,
      tuning: { ...TUNING, maxBodyBytes: 1024 },
    });
    assert.equal(code, 1);
    assert.match(big.err, /the response is larger than 1024 bytes/);
    assert.deepEqual(await dayTotals(), new Map());
  });

  it('checks its flags before any request', async () => {
    api.reset(allocationApi);
    for (const [argv, says] of [
      [[], /--url: OpenCost's address is required/],
      [['--url', 'http://user:pw@host:9003'], /no user or password in the URL/],
      [['--url', 'ftp://host'], /an http:\/\/ or https:\/\/ URL/],
      [['--url', 'http://host:9003/?window=1d'], /no query or fragment/],
      [['--url', 'http://host', '--window', '0d'], /--window: 1d to 400d/],
      [['--url', 'http://host', '--window', '2026-11-12,2026-11-10'], /the end date must be after the first/],
      [['--url', 'http://host', '--window', '2026-02-30,2026-03-02'], /FIRST,END as UTC dates/],
      [['--url', 'http://host', '--aggregate', 'namespaces'], /is not an OpenCost aggregate/],
      [['--url', 'http://host', '--currency', 'usd'], /--currency: an ISO 4217 code/],
      [['--url', 'http://host', '--since', '7d'], /unknown option --since/],
    ] as const) {
      const c = capture();
      assert.equal(await fetchOpenCost([...argv], c), 2, String(says));
      assert.match(c.err, says);
      assert.match(c.err, /usage: costtrace bill fetch opencost --url URL/);
    }
    const c = capture();
    assert.equal(await fetchOpenCost(['--url', 'http://host'], c, { COSTTRACE_OPENCOST_TOKEN: 'two words' }), 2);
    assert.match(c.err, /COSTTRACE_OPENCOST_TOKEN holds characters a token cannot/);
    assert.equal(api.seen.length, 0);
  });

  it('builds the endpoint and query as documented', () => {
    const endpoint = (text: string): string => {
      const url = openCostEndpoint(text);
      assert.ok(typeof url !== 'string', String(url));
      return url.href;
    };
    assert.equal(endpoint('http://localhost:9003'), 'http://localhost:9003/allocation');
    assert.equal(endpoint('http://localhost:9003/'), 'http://localhost:9003/allocation');
    assert.equal(endpoint('https://oc.example/opencost'), 'https://oc.example/opencost/allocation');
    assert.equal(endpoint('http://cost-model:9003/allocation/compute'), 'http://cost-model:9003/allocation/compute');
    assert.equal(
      openCostQuery('namespace', D0, D2).toString(),
      'window=2026-11-10T00%3A00%3A00Z%2C2026-11-12T00%3A00%3A00Z&aggregate=namespace&step=1d&accumulate=false&includeIdle=true&shareIdle=false',
    );
  });
});
