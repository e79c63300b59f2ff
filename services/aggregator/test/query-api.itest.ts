// The query API on real ClickHouse: every allow-listed group-by dimension and filter against
// sums computed here from the rows, time buckets, top-N lists, exact per-request / per-token
// costs, and injection attempts in every kind of parameter (escaped or refused with a 400 that
// names the parameter; the data must be untouched afterwards).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { divideRoundHalfEven, formatScaled } from '@costtrace/core';
import { ClickHouseStore, QUERY_DIMENSIONS } from '@costtrace/store';
import type { SpanCostRow } from '@costtrace/store';
import { startAggregator } from './support/aggregator-harness.js';
import type { Harness } from './support/aggregator-harness.js';
import { costDataset, dimensionValue, TRICKY_VALUES } from './support/cost-dataset.js';
import {
  createTopics,
  decimalToPicos,
  deleteTopics,
  liveServices,
  testKafka,
  uniqueNames,
} from './support/live-services.js';

interface ApiRow {
  dimensions: Record<string, string>;
  bucket?: number;
  cost: string;
  spans: number;
  requests: number;
  tokens: number;
  costPerRequest: string | null;
  costPer1kRequests: string | null;
  costPer1MTokens: string | null;
}

describe('query API', () => {
  const services = liveServices();
  const names = uniqueNames('query');
  const kafka = testKafka(services.kafkaBrokers);
  const store = new ClickHouseStore({ url: services.clickhouseUrl, database: names.database });
  const now = Math.floor(Date.now() / 1000);
  const data = costDataset(600, now);
  let harness: Harness;
  let api = '';

  before(async () => {
    await createTopics(kafka, [names.topic, names.dlqTopic], 1);
    harness = await startAggregator(names, {}, { ingest: false });
    api = `http://127.0.0.1:${harness.addresses.api!.port}`;
    await store.insertSpanCosts(data);
  });

  after(async () => {
    await harness?.aggregator.stop();
    await store.command(`DROP DATABASE IF EXISTS ${names.database}`).catch(() => undefined);
    await store.close();
    await deleteTopics(kafka, [names.topic, names.dlqTopic]);
  });

  async function get(path: string): Promise<{
    status: number;
    body: { rows?: ApiRow[]; error?: { code?: string; field?: string; message: string } };
  }> {
    const res = await fetch(`${api}${path}`);
    return {
      status: res.status,
      body: (await res.json()) as { rows?: ApiRow[]; error?: { code?: string; field?: string; message: string } },
    };
  }

  function expectedBy(rows: readonly SpanCostRow[], dimension: string): Map<string, bigint> {
    const sums = new Map<string, bigint>();
    for (const row of rows) {
      const key = dimensionValue(row, dimension);
      sums.set(key, (sums.get(key) ?? 0n) + row.costTotal.subunits);
    }
    return sums;
  }

  it('groups by every allow-listed dimension', async () => {
    for (const dimension of QUERY_DIMENSIONS) {
      const { status, body } = await get(`/api/v1/costs?group_by=${dimension}&since=2h&source=spans&limit=10000`);
      assert.equal(status, 200, `group_by=${dimension}: ${JSON.stringify(body.error)}`);
      const got = new Map(body.rows!.map((r) => [r.dimensions[dimension]!, decimalToPicos(r.cost)]));
      assert.deepEqual(got, expectedBy(data, dimension), `group_by=${dimension}`);
    }
  });

  it('filters by every allow-listed dimension, values escaped', async () => {
    for (const dimension of QUERY_DIMENSIONS) {
      const value = dimensionValue(data[1]!, dimension);
      const { status, body } = await get(`/api/v1/costs?since=2h&${dimension}=${encodeURIComponent(value)}`);
      assert.equal(status, 200, `${dimension}=${value}: ${JSON.stringify(body.error)}`);
      const expected = data
        .filter((r) => dimensionValue(r, dimension) === value)
        .reduce((n, r) => n + r.costTotal.subunits, 0n);
      assert.equal(decimalToPicos(body.rows![0]!.cost), expected, `${dimension}=${value}`);
    }
    for (const value of TRICKY_VALUES) {
      const route = `/r/${value}`;
      const { body } = await get(`/api/v1/costs?since=2h&where=${encodeURIComponent(`route=${route}`)}&group_by=route`);
      assert.equal(body.rows!.length, 1, `route ${JSON.stringify(route)} matches itself`);
      assert.equal(body.rows![0]!.dimensions.route, route);
    }
    const two = await get(`/api/v1/costs?since=2h&tenant=acme&tenant=tenant-1&group_by=tenant`);
    assert.deepEqual(body(two).sort(), ['acme', 'tenant-1']);
    function body(r: { body: { rows?: ApiRow[] } }): string[] {
      return r.body.rows!.map((row) => row.dimensions.tenant!);
    }
  });

  it('computes exact cost per request, per 1k requests and per 1M tokens', async () => {
    const { body } = await get(`/api/v1/costs?group_by=service&since=2h`);
    assert.ok(body.rows!.some((r) => r.requests > 0) && body.rows!.some((r) => r.requests === 0));
    for (const row of body.rows!) {
      const rows = data.filter((r) => r.service === row.dimensions.service);
      const cost = rows.reduce((n, r) => n + r.costTotal.subunits, 0n);
      const requests = rows.filter((r) => r.isRequest).length;
      const tokens = rows.reduce((n, r) => n + Number(r.inputTokens + r.outputTokens), 0);
      assert.equal(row.requests, requests);
      assert.equal(row.tokens, tokens);
      const ratio = (n: bigint, d: number): string | null =>
        d === 0 ? null : formatScaled(divideRoundHalfEven(n, BigInt(d)), 12);
      assert.equal(row.costPerRequest, ratio(cost, requests));
      assert.equal(row.costPer1kRequests, ratio(cost * 1000n, requests));
      assert.equal(row.costPer1MTokens, ratio(cost * 1_000_000n, tokens));
    }
  });

  it('answers time-bucketed series from the spans and from the rollup alike', async () => {
    const spans = await get(`/api/v1/costs?bucket=5m&since=2h&source=spans`);
    const rollup = await get(`/api/v1/costs?bucket=5m&since=2h&source=rollup`);
    assert.equal(spans.status, 200);
    assert.deepEqual(rollup.body.rows, spans.body.rows);
    const total = spans.body.rows!.reduce((n, r) => n + decimalToPicos(r.cost), 0n);
    assert.equal(
      total,
      data.reduce((n, r) => n + r.costTotal.subunits, 0n),
    );
    for (const row of spans.body.rows!) assert.equal(row.bucket! % 300, 0);
  });

  it('lists the top routes, commits, traces and spans', async () => {
    for (const [kind, dimension] of [
      ['routes', 'route'],
      ['commits', 'commit'],
      ['traces', 'trace_id'],
    ] as const) {
      const { status, body } = await get(`/api/v1/top/${kind}?since=2h&limit=3`);
      assert.equal(status, 200);
      const expected = [...expectedBy(data, dimension)]
        .sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : a[0] < b[0] ? -1 : 1))
        .slice(0, 3);
      assert.deepEqual(
        body.rows!.map((r) => [r.dimensions[dimension], decimalToPicos(r.cost)]),
        expected,
        kind,
      );
    }
    const spans = await get(`/api/v1/top/spans?since=2h&limit=5`);
    const top = [...data].sort((a, b) => (b.costTotal.subunits > a.costTotal.subunits ? 1 : -1)).slice(0, 5);
    assert.deepEqual(
      (spans.body.rows as unknown as { span_id: string }[]).map((r) => r.span_id),
      top.map((r) => r.spanId),
    );
  });

  it('refuses or escapes injection attempts, naming the bad parameter', async () => {
    const attempts: [string, number, string | undefined][] = [
      [`group_by=${encodeURIComponent('route; DROP TABLE span_costs')}`, 400, 'group_by'],
      [`group_by=${encodeURIComponent('route) UNION ALL SELECT 1 --')}`, 400, 'group_by'],
      [`group_by=${encodeURIComponent('toString(1)')}`, 400, 'group_by'],
      [`limit=${encodeURIComponent('10; DROP TABLE span_costs')}`, 400, 'limit'],
      [`limit=0`, 400, 'limit'],
      [`since=${encodeURIComponent('1 OR 1=1')}`, 400, 'since'],
      [`until=${encodeURIComponent('now()')}`, 400, 'until'],
      [`bucket=${encodeURIComponent('1m) --')}`, 400, 'bucket'],
      [`order_by=${encodeURIComponent('cost; DROP')}`, 400, 'order_by'],
      [`source=${encodeURIComponent('span_costs')}`, 400, 'source'],
      [`${encodeURIComponent('1=1 OR service')}=x`, 400, '1=1 OR service'],
      [`where=${encodeURIComponent('service)=1 OR (1=x')}`, 400, 'where'],
      [`service=${encodeURIComponent("' OR '1'='1")}`, 200, undefined],
      [`service=${encodeURIComponent("x') OR 1=1 OR service IN ('")}`, 200, undefined],
      [`service=${encodeURIComponent("\\' OR 1=1 --")}`, 200, undefined],
      [`route=${encodeURIComponent("\u0000'; DROP DATABASE x; --")}`, 200, undefined],
      [`tenant=${encodeURIComponent("acme'\n UNION ALL SELECT * FROM system.tables --")}`, 200, undefined],
    ];
    for (const [query, status, parameter] of attempts) {
      const res = await get(`/api/v1/costs?since=2h&${query}`);
      assert.equal(res.status, status, `${query}: ${JSON.stringify(res.body)}`);
      if (parameter !== undefined) {
        assert.equal(res.body.error?.field, parameter, query);
        assert.equal(res.body.error?.code, 'INVALID_QUERY', query);
      }
      if (status === 200)
        assert.equal(
          res.body.rows!.length === 0 || res.body.rows![0]!.spans === 0 || res.body.rows![0]!.cost === '0',
          true,
          `${query} matches nothing`,
        );
    }
    const [{ n }] = (await store.select<{ n: number }>(`SELECT count() AS n FROM ${names.database}.span_costs`)) as [
      { n: number },
    ];
    assert.equal(Number(n), data.length, 'the data is untouched');
    assert.equal((await get('/api/v1/top/nothing')).status, 404);
  });

  it('serves pricing coverage per service, model and emitter, counted as the rows say', async () => {
    // Rows of their own, three days back (the other tests read the last 2 h).
    const at = BigInt(now - 3 * 86_400) * 1_000_000_000n;
    const base = data[0]!;
    const row = (i: number, over: Partial<SpanCostRow>): SpanCostRow => ({
      ...base,
      startTimeUnixNano: at + BigInt(i),
      endTimeUnixNano: at + BigInt(i) + 1n,
      spanId: (0xc0ffee00 + i).toString(16).padStart(16, '0'),
      service: 'coverage-svc',
      model: 'gpt-4o',
      usageKey: '10:5',
      usageRole: '',
      unpricedReason: '',
      costUpperBound: false,
      emitter: 'a@1',
      kafkaOffset: BigInt(900_000 + i),
      ...over,
    });
    await store.insertSpanCosts([
      row(0, {}),
      row(1, {}),
      row(2, { costUpperBound: true, emitter: '@opentelemetry/instrumentation-openai@0.21.0' }),
      row(3, { unpricedReason: 'unknown_model', model: 'mystery-1' }),
      row(4, { usageRole: 'duplicate', duplicateOf: 'x' }),
      row(5, { usageRole: 'rollup' }),
      row(6, { usageKey: '', gpuSeconds: '0' }), // no usage: not counted
    ]);
    const since = now - 4 * 86_400;
    const until = now - 2 * 86_400;
    const res = await fetch(
      `${api}/api/v1/coverage?group_by=model,emitter&since=${since}&until=${until}&service=coverage-svc`,
    );
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      rows: {
        group: Record<string, string>;
        usageSpans: number;
        exact: number;
        upperBound: number;
        unpriced: number;
        duplicates: number;
        rollups: number;
        coverage: number | null;
      }[];
    };
    assert.deepEqual(
      body.rows.map((r) => [
        r.group.model,
        r.group.emitter,
        r.usageSpans,
        r.exact,
        r.upperBound,
        r.unpriced,
        r.duplicates,
        r.rollups,
        r.coverage,
      ]),
      [
        ['gpt-4o', 'a@1', 2, 2, 0, 0, 1, 1, 1],
        ['gpt-4o', '@opentelemetry/instrumentation-openai@0.21.0', 1, 0, 1, 0, 0, 0, 0],
        ['mystery-1', 'a@1', 1, 0, 0, 1, 0, 0, 0],
      ],
    );
    const bad = await fetch(`${api}/api/v1/coverage?group_by=route`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { field: string } }).error.field, 'group_by');
  });

  it('serves metrics, liveness and readiness', async () => {
    const metrics = await fetch(`${api}/metrics`).then((r) => r.text());
    assert.match(metrics, /costtrace_consumer_spans_out_total/);
    assert.match(metrics, /costtrace_consumer_insert_seconds_bucket/);
    assert.equal((await fetch(`${api}/healthz`)).status, 200);
    const ready = await fetch(`${api}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, {
      clickhouse: true,
      kafka: true,
      consumer: true,
    });
  });
});
