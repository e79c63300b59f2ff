// One store interface, two engines: the same span and correction rows go into ClickHouse (the
// shared server) and DuckDB (a temp file), and every query must come back identical, to the
// last decimal and in the same order: each group-by dimension, filters, time buckets from span
// rows and from the rollup, orderings, limits, top spans, per-unit figures and corrections.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatScaled, MONEY_SCALE } from '@costtrace/core';
import { ClickHouseStore, DuckDbStore, QUERY_DIMENSIONS, QUERY_ORDERS } from '../src/index.js';
import type { CostQuery, CostStore, TopSpansQuery } from '../src/index.js';
import { FIXTURE_SECONDS, FIXTURE_START, fixtureCorrections, fixtureSpanRows } from './span-cost-fixtures.js';

const url = process.env.CLICKHOUSE_URL;
if (!url) throw new Error('CLICKHOUSE_URL is not set: run with `npm run test:integration`');
const database = `ct_conf_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const TOPIC = 'conformance-spans';

function query(overrides: Partial<CostQuery>): CostQuery {
  return {
    groupBy: [],
    filters: [],
    since: FIXTURE_START,
    until: FIXTURE_START + FIXTURE_SECONDS,
    bucketSeconds: undefined,
    limit: 10_000,
    orderBy: 'cost',
    source: 'auto',
    includeCorrections: false,
    ...overrides,
  };
}

function halfEven(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  const twice = (numerator % denominator) * 2n;
  if (twice > denominator || (twice === denominator && quotient % 2n === 1n)) return quotient + 1n;
  return quotient;
}

describe('store conformance: ClickHouse and DuckDB answer alike', () => {
  const rows = fixtureSpanRows(1500, TOPIC);
  const corrections = fixtureCorrections(rows);
  let dir: string;
  let clickhouse: ClickHouseStore;
  let duckdb: DuckDbStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-conformance-'));
    clickhouse = new ClickHouseStore({ url, database });
    duckdb = new DuckDbStore({ path: join(dir, 'costtrace.duckdb') });
    for (const store of [clickhouse, duckdb] as CostStore[]) {
      await store.migrate();
      // Two inserts: the rollup holds several rows per key until summed, on both engines.
      await store.insertSpanCosts(rows.slice(0, 700));
      await store.insertSpanCosts(rows.slice(700));
      await store.insertCorrections(corrections);
    }
  });

  after(async () => {
    await clickhouse?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    await clickhouse?.close();
    await duckdb?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function same(q: CostQuery, label: string): Promise<void> {
    const [a, b] = await Promise.all([clickhouse.queryCosts(q), duckdb.queryCosts(q)]);
    assert.deepEqual(b, a, `${label}: DuckDB differs from ClickHouse`);
  }

  it('agrees with independent arithmetic on the total', async () => {
    const total = rows.reduce((n, r) => n + r.costTotal.subunits, 0n);
    const requests = rows.filter((r) => r.isRequest).length;
    const tokens = rows.reduce((n, r) => n + r.inputTokens + r.outputTokens, 0n);
    for (const store of [clickhouse, duckdb] as CostStore[]) {
      const [row] = await store.queryCosts(query({ source: 'spans' }));
      assert.equal(row?.cost, formatScaled(total, MONEY_SCALE), store.kind);
      assert.equal(row?.requests, requests);
      assert.equal(BigInt(row?.tokens ?? 0), tokens);
      // Per-request and per-1M-token figures: exact quotients rounded half to even at 12 places.
      assert.equal(row?.costPerRequest, formatScaled(halfEven(total, BigInt(requests)), MONEY_SCALE));
      assert.equal(row?.costPer1kRequests, formatScaled(halfEven(total * 1000n, BigInt(requests)), MONEY_SCALE));
      assert.equal(row?.costPer1MTokens, formatScaled(halfEven(total * 1_000_000n, tokens), MONEY_SCALE));
    }
  });

  it('groups by every dimension alike, from span rows and (where possible) the rollup', async () => {
    for (const dimension of QUERY_DIMENSIONS) {
      await same(query({ groupBy: [dimension], source: 'spans' }), `by ${dimension}`);
      await same(query({ groupBy: [dimension] }), `by ${dimension} (auto)`);
    }
    await same(query({ groupBy: ['route', 'commit'] }), 'by route,commit');
    await same(query({ groupBy: ['tenant', 'model', 'team'], source: 'spans' }), 'by tenant,model,team');
    await same(query({ groupBy: ['tenant'], source: 'rollup' }), 'by tenant from the rollup (folded values)');
  });

  it('filters alike', async () => {
    await same(query({ groupBy: ['model'], filters: [{ dimension: 'route', values: ['/v1/chat'] }] }), 'route filter');
    await same(
      query({
        groupBy: ['route'],
        filters: [
          { dimension: 'tenant', values: ["o'reilly", 'acme'] },
          { dimension: 'commit', values: ['e4f5a6b'] },
        ],
      }),
      'two filters',
    );
    await same(query({ filters: [{ dimension: 'feature', values: ['review'] }] }), 'non-rollup filter');
    await same(query({ filters: [{ dimension: 'route', values: ['/none'] }] }), 'filter matching nothing');
    await same(query({ since: FIXTURE_START + 37, until: FIXTURE_START + 3001 }), 'unaligned range');
  });

  it('buckets time alike', async () => {
    for (const bucketSeconds of [60, 300, 900, 3600, 21_600, 86_400]) {
      for (const source of ['spans', 'rollup'] as const) {
        await same(query({ bucketSeconds, source, orderBy: 'time' }), `bucket ${bucketSeconds} ${source}`);
        await same(
          query({ bucketSeconds, source, groupBy: ['route'], orderBy: 'time' }),
          `bucket ${bucketSeconds} by route ${source}`,
        );
      }
    }
  });

  it('orders and limits alike', async () => {
    for (const orderBy of QUERY_ORDERS) {
      await same(query({ groupBy: ['route', 'tenant'], orderBy, limit: 5 }), `order ${orderBy}`);
      await same(query({ groupBy: ['trace_id'], orderBy, limit: 7, source: 'spans' }), `order ${orderBy} traces`);
    }
  });

  it('adds corrections alike', async () => {
    await same(query({ includeCorrections: true }), 'corrections total');
    await same(query({ includeCorrections: true, groupBy: ['route', 'commit'] }), 'corrections by route,commit');
    await same(
      query({ includeCorrections: true, groupBy: ['tenant'], bucketSeconds: 900, orderBy: 'time' }),
      'corrections bucketed',
    );
    await same(
      query({ includeCorrections: true, filters: [{ dimension: 'model', values: ['gpt-4o'] }] }),
      'corrections filtered',
    );
  });

  it('returns the same top spans', async () => {
    const queries: TopSpansQuery[] = [
      { filters: [], since: FIXTURE_START, until: FIXTURE_START + FIXTURE_SECONDS, limit: 25 },
      {
        filters: [{ dimension: 'route', values: ['/v1/chat'] }],
        since: FIXTURE_START + 600,
        until: FIXTURE_START + 4000,
        limit: 10,
      },
    ];
    for (const q of queries) assert.deepEqual(await duckdb.topSpans(q), await clickhouse.topSpans(q));
  });

  it('stores the same offsets', async () => {
    assert.deepEqual(await duckdb.storedOffsets(TOPIC), await clickhouse.storedOffsets(TOPIC));
    assert.deepEqual(await duckdb.storedOffsets(TOPIC, [2]), await clickhouse.storedOffsets(TOPIC, [2]));
  });

  it('tells exactly which spans of a range of messages are stored, and finds no rollup difference', async () => {
    // Independent expectation: the fixture rows of partition 1 with offsets 10..40.
    const expected = new Map<bigint, Set<number>>();
    for (const r of rows) {
      if (r.kafkaPartition !== 1 || r.kafkaOffset < 10n || r.kafkaOffset > 40n) continue;
      let indexes = expected.get(r.kafkaOffset);
      if (indexes === undefined) expected.set(r.kafkaOffset, (indexes = new Set()));
      indexes.add(r.kafkaSpanIndex);
    }
    assert.equal(expected.size, 31);
    for (const store of [clickhouse, duckdb] as CostStore[]) {
      const recovered = await store.recoverStoredSpans(TOPIC, 1, 10n, 40n);
      assert.deepEqual(recovered.spans, expected, store.kind);
      assert.equal(recovered.rollupRowsRepaired, 0, `${store.kind}: nothing to repair`);
      assert.deepEqual(recovered.rollupExcessKeys, []);
      assert.equal((await store.recoverStoredSpans('other-topic', 1, 0n, 1000n)).spans.size, 0);
      assert.deepEqual(await store.rollupDifferences(), [], `${store.kind}: the rollup equals the spans`);
    }
  });

  it('gives back the latest usage-bearing spans of a partition in message order (the ledger restore)', async () => {
    // On a topic of their own, a day before the fixture range (the queries above never see them).
    const topic = 'conformance-ledger';
    const at = BigInt(FIXTURE_START - 86_400) * 1_000_000_000n;
    const marks = [
      { usageKey: '3010:7', usageRole: '', duplicateOf: '', responseId: 'msg_1' },
      { usageKey: '3010:7', usageRole: 'duplicate', duplicateOf: 'aaaaaaaaaaaaaaaa', responseId: 'msg_1' },
      { usageKey: '', usageRole: '', duplicateOf: '', responseId: '' }, // no usage: not given back
      { usageKey: '350:50', usageRole: 'rollup', duplicateOf: '', responseId: '' },
      { usageKey: '9:9', usageRole: '', duplicateOf: '', responseId: '' },
    ];
    const ledgerRows = fixtureSpanRows(marks.length, topic, 11).map((r, i) => ({
      ...r,
      ...marks[i]!,
      startTimeUnixNano: at + BigInt(i),
      endTimeUnixNano: at + BigInt(i) + 1n,
      kafkaPartition: 0,
      kafkaOffset: BigInt(100 + i),
    }));
    const expected = ledgerRows
      .filter((r) => r.usageKey !== '' || r.usageRole !== '')
      .map((r) => ({
        traceId: r.traceId,
        spanId: r.spanId,
        parentSpanId: r.parentSpanId,
        responseId: r.responseId,
        usageKey: r.usageKey,
        usageRole: r.usageRole,
        duplicateOf: r.duplicateOf,
        origin: `${r.kafkaOffset}:${r.kafkaSpanIndex}`,
      }));
    for (const store of [clickhouse, duckdb] as CostStore[]) {
      await store.insertSpanCosts(ledgerRows);
      const since = FIXTURE_START - 2 * 86_400;
      assert.deepEqual(await store.recentUsageSpans(topic, 0, since, 100), expected, store.kind);
      assert.deepEqual(
        await store.recentUsageSpans(topic, 0, since, 2),
        expected.slice(2),
        `${store.kind}: the latest`,
      );
      assert.deepEqual(await store.recentUsageSpans(topic, 1, since, 100), [], `${store.kind}: another partition`);
      assert.deepEqual(await store.recentUsageSpans(topic, 0, FIXTURE_START, 100), [], `${store.kind}: too old`);
    }
  });

  it('reports the same pricing coverage, counted as the rows say', async () => {
    // The fixture's GPU and unpriced rows, and the usage-bearing rows of the test above.
    const q = {
      groupBy: ['service', 'model'] as const,
      filters: [],
      since: FIXTURE_START - 2 * 86_400,
      until: FIXTURE_START + FIXTURE_SECONDS,
      limit: 10_000,
    };
    const [a, b] = await Promise.all([clickhouse.pricingCoverage(q), duckdb.pricingCoverage(q)]);
    assert.deepEqual(b, a, 'DuckDB differs from ClickHouse');
    const bearing = rows.filter((r) => r.unpricedReason !== '' || r.gpuSeconds !== '0');
    const unpriced = bearing.filter((r) => r.unpricedReason !== '').length;
    const total = (key: 'usageSpans' | 'unpriced' | 'duplicates' | 'rollups' | 'exact'): number =>
      a.reduce((n, r) => n + r[key], 0);
    // 4 ledger rows: a call and a 9:9 call (exact), a duplicate and a roll-up.
    assert.equal(total('usageSpans'), bearing.length + 2);
    assert.equal(total('unpriced'), unpriced);
    assert.equal(total('exact'), bearing.length - unpriced + 2);
    assert.deepEqual([total('duplicates'), total('rollups')], [1, 1]);
    for (const r of a) {
      assert.equal(r.coverage, r.usageSpans === 0 ? null : Math.floor((r.exact * 10_000) / r.usageSpans) / 10_000);
    }
    const byEmitter = await clickhouse.pricingCoverage({ ...q, groupBy: ['emitter'] });
    assert.deepEqual(await duckdb.pricingCoverage({ ...q, groupBy: ['emitter'] }), byEmitter);
  });
});
