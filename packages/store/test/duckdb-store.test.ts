// DuckDbStore on a temp file: schema, atomic inserts with their rollup rows, stored offsets,
// exact sums checked with independent bigint arithmetic, corrections, persistence, read-only.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatScaled, MONEY_SCALE } from '@costtrace/core';
import { DuckDbStore, StoreError } from '../src/index.js';
import type { CostQuery } from '../src/index.js';
import { FIXTURE_SECONDS, FIXTURE_START, fixtureCorrections, fixtureSpanRows } from './span-cost-fixtures.js';

function query(overrides: Partial<CostQuery>): CostQuery {
  return {
    groupBy: [],
    filters: [],
    since: FIXTURE_START,
    until: FIXTURE_START + FIXTURE_SECONDS,
    bucketSeconds: undefined,
    limit: 1000,
    orderBy: 'cost',
    source: 'spans',
    includeCorrections: false,
    ...overrides,
  };
}

describe('DuckDbStore', () => {
  let dir: string;
  let store: DuckDbStore;
  const rows = fixtureSpanRows(600, 'spans-a');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-duckdb-'));
    store = new DuckDbStore({ path: join(dir, 'nested', 'costs.duckdb') });
    assert.deepEqual(await store.migrate(), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(await store.migrate(), []);
    await store.insertSpanCosts(rows.slice(0, 250));
    await store.insertSpanCosts(rows.slice(250));
  });

  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sums exactly, per route, from span rows and from the rollup alike', async () => {
    const expected = new Map<string, bigint>();
    for (const r of rows) expected.set(r.route, (expected.get(r.route) ?? 0n) + r.costTotal.subunits);
    for (const source of ['spans', 'rollup'] as const) {
      const result = await store.queryCosts(query({ groupBy: ['route'], source }));
      assert.equal(result.length, expected.size);
      for (const row of result) {
        assert.equal(row.cost, formatScaled(expected.get(row.dimensions.route!)!, MONEY_SCALE), `${source}`);
      }
      const requests = rows.filter((r) => r.isRequest).length;
      assert.equal(
        result.reduce((n, r) => n + r.requests, 0),
        requests,
      );
    }
  });

  it('knows the highest stored offset per partition', async () => {
    const expected = new Map<number, bigint>();
    for (const r of rows) {
      if ((expected.get(r.kafkaPartition) ?? -1n) < r.kafkaOffset) expected.set(r.kafkaPartition, r.kafkaOffset);
    }
    assert.deepEqual(await store.storedOffsets('spans-a'), expected);
    assert.deepEqual(await store.storedOffsets('spans-a', [1]), new Map([[1, expected.get(1)!]]));
    assert.deepEqual(await store.storedOffsets('other'), new Map());
  });

  it('inserts all or nothing', async () => {
    const more = fixtureSpanRows(1200, 'spans-b', 11);
    const broken = [...more.slice(0, 1100), { ...more[1100]!, route: 'bad\0route' }];
    await assert.rejects(store.insertSpanCosts(broken), (err: unknown) => {
      assert.ok(err instanceof StoreError);
      assert.equal(err.code, 'INSERT_FAILED');
      return true;
    });
    assert.deepEqual(await store.storedOffsets('spans-b'), new Map());
    const [rollup] = await store.select<{ n: string }>('SELECT sum(spans)::VARCHAR AS n FROM span_costs_1m');
    assert.equal(rollup?.n, String(rows.length));
  });

  it('adds correction deltas when asked', async () => {
    const corrections = fixtureCorrections(rows);
    await store.insertCorrections(corrections);
    const base = rows.reduce((n, r) => n + r.costTotal.subunits, 0n);
    const delta = corrections.reduce((n, c) => n + c.correctedTotal.subunits - c.previousTotal.subunits, 0n);
    const [plain] = await store.queryCosts(query({}));
    const [corrected] = await store.queryCosts(query({ includeCorrections: true }));
    assert.equal(plain?.cost, formatScaled(base, MONEY_SCALE));
    assert.equal(corrected?.cost, formatScaled(base + delta, MONEY_SCALE));
  });

  it('returns the most expensive spans first', async () => {
    const top = await store.topSpans({
      filters: [],
      since: FIXTURE_START,
      until: FIXTURE_START + FIXTURE_SECONDS,
      limit: 3,
    });
    const max = rows.reduce((m, r) => (r.costTotal.subunits > m ? r.costTotal.subunits : m), 0n);
    assert.equal(top.length, 3);
    assert.equal(top[0]?.cost, formatScaled(max, MONEY_SCALE));
  });

  it('keeps its data across reopening, also read-only', async () => {
    const path = store.path;
    const [before] = await store.queryCosts(query({}));
    await store.close();
    const reader = new DuckDbStore({ path, readOnly: true });
    try {
      const [again] = await reader.queryCosts(query({}));
      assert.deepEqual(again, before);
    } finally {
      await reader.close();
    }
    store = new DuckDbStore({ path });
    assert.deepEqual(await store.migrate(), []);
  });
});
