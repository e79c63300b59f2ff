import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Script } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import { createDashboardHandler, DASHBOARD_CSP } from '../src/dashboard/dashboard-handler.js';
import { AggregatorMetrics } from '../src/operations/aggregator-metrics.js';
import { pipelineHealth } from '../src/operations/pipeline-health.js';

describe('dashboard handler', () => {
  let server: Server;
  let base = '';

  before(async () => {
    const dashboard = createDashboardHandler();
    server = createServer((req, res) => {
      void dashboard(req, res).then((handled) => {
        if (!handled) res.writeHead(418).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('serves the page and its assets with the CSP and security headers', async () => {
    for (const [path, type] of [
      ['/', 'text/html'],
      ['/ui/dashboard.js', 'text/javascript'],
      ['/ui/dashboard.css', 'text/css'],
      ['/ui/favicon.svg', 'image/svg+xml'],
    ] as const) {
      const res = await fetch(base + path);
      assert.equal(res.status, 200, path);
      assert.ok(res.headers.get('content-type')!.startsWith(type), path);
      assert.equal(res.headers.get('content-security-policy'), DASHBOARD_CSP);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
    }
    assert.match(DASHBOARD_CSP, /script-src 'self'(;|$)/);
    assert.doesNotMatch(DASHBOARD_CSP, /unsafe-inline|unsafe-eval|\*/);
  });

  it('leaves other paths to the next handler, answers 304 to a matching ETag and 405 to writes', async () => {
    assert.equal((await fetch(`${base}/api/v1/costs`)).status, 418);
    assert.equal((await fetch(`${base}/ui/other.js`)).status, 418);
    const first = await fetch(`${base}/ui/dashboard.js`);
    const etag = first.headers.get('etag')!;
    assert.equal((await fetch(`${base}/ui/dashboard.js`, { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal((await fetch(`${base}/`, { method: 'POST' })).status, 405);
    const head = await fetch(`${base}/`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  it('ships a client module that parses and writes data only as text', async () => {
    const js = await (await fetch(`${base}/ui/dashboard.js`)).text();
    assert.doesNotThrow(() => new Script(js, { filename: 'dashboard.js' }));
    assert.doesNotMatch(js, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    const html = await (await fetch(`${base}/`)).text();
    assert.doesNotMatch(html, /\son[a-z]+=|\sstyle=/i);
    assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org)/, 'nothing from another origin');
  });
});

describe('pipeline health', () => {
  it('sums the aggregator metrics into one document', async () => {
    const metrics = new AggregatorMetrics();
    metrics.consumerLag.set({ partition: '2' }, 5);
    metrics.consumerLag.set({ partition: '0' }, 7);
    metrics.deadLettered.inc({ reason: 'undecodable' }, 2);
    metrics.deadLettered.inc({ reason: 'too_large' });
    metrics.spansReceived.inc({ transport: 'http' }, 10);
    metrics.spansReceived.inc({ transport: 'grpc' }, 4);
    metrics.spansConsumed.inc(14);
    metrics.spansStored.inc(11);
    metrics.spansUnpriced.inc(3);
    metrics.insertFailures.inc({ code: 'UNAVAILABLE' });
    metrics.usageSpans.inc({ outcome: 'exact' }, 7);
    metrics.usageSpans.inc({ outcome: 'upper_bound' }, 1);
    metrics.usageSpans.inc({ outcome: 'unpriced' }, 3);
    metrics.unchargedSpans.inc({ role: 'duplicate' }, 2);
    const at = new Date('2026-01-02T03:04:05Z');
    const health = await pipelineHealth(metrics, { ready: true, checks: { kafka: true } }, at);
    assert.deepEqual(health, {
      ready: true,
      checks: { kafka: true },
      consumer: {
        lag: [
          { partition: '0', messages: 7 },
          { partition: '2', messages: 5 },
        ],
        lag_total: 12,
        paused_partitions: 0,
      },
      spans: { received: 14, in: 14, out: 11, unpriced: 3, priced_here: 0, rejected: 0 },
      // 7 of 11 exactly, rounded down to 4 decimals.
      coverage: { usage_spans: 11, exact: 7, upper_bound: 1, unpriced: 3, share: 0.6363, duplicates: 2, rollups: 0 },
      dead_letter: { messages: 3, by_reason: { undecodable: 2, too_large: 1 } },
      insert_failures: 1,
      generated_at: '2026-01-02T03:04:05.000Z',
    });
  });
});
