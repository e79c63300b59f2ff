// DuckDbStore's traced usage by route (what `costtrace estimate cache` reads): grouped by route,
// filtered to routes (a name with a quote and a backslash among them), charged spans only, and
// the input with the cache as each span's usage key records it, all checked against sums of the
// rows computed here.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDbStore } from '../src/index.js';
import type { TracedUsageRow } from '../src/index.js';
import {
  expectedByRoute,
  QUOTED_ROUTE,
  TRACED_SECONDS,
  TRACED_START,
  tracedUsageRows,
} from './traced-usage-fixtures.js';

function assertMatches(row: TracedUsageRow, expected: ReturnType<typeof expectedByRoute>, route: string): void {
  const e = expected.get(route);
  assert.ok(e !== undefined, `no expectation for ${route}`);
  assert.equal(row.spans, e.spans, route);
  assert.equal(row.requests, e.requests, route);
  assert.equal(row.inputTokens, e.input, route);
  assert.equal(row.cacheReadTokens, e.cacheRead, route);
  assert.equal(row.cacheWriteTokens, e.cacheWrite, route);
  assert.equal(row.inputWithCacheTokens, e.inputWithCache, route);
  assert.equal(row.unkeyedCacheTokens, e.unkeyedCache, route);
}

describe('DuckDbStore traced usage by route', () => {
  let dir: string;
  let store: DuckDbStore;
  const rows = tracedUsageRows(400, 'traced-route');
  const expected = expectedByRoute(rows);
  const range = { since: TRACED_START, until: TRACED_START + TRACED_SECONDS };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-traced-route-'));
    store = new DuckDbStore({ path: join(dir, 'costs.duckdb') });
    await store.migrate();
    await store.insertSpanCosts(rows);
  });

  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('groups by route over the charged spans, with the input the usage keys record', async () => {
    const result = await store.tracedUsage({ ...range, groupBy: ['route'] });
    assert.deepEqual(result.map((r) => r.dimensions.route).sort(), [...expected.keys()].sort());
    for (const row of result) assertMatches(row, expected, row.dimensions.route!);
    // Some spans are keyed and some are not, so both sums are exercised.
    assert.ok(result.some((r) => r.unkeyedCacheTokens > 0n));
    assert.ok(result.some((r) => r.inputWithCacheTokens !== r.inputTokens));
  });

  it('filters to the routes named, quoting each', async () => {
    const result = await store.tracedUsage({ ...range, groupBy: ['route'], routes: [QUOTED_ROUTE, '/v1/chat'] });
    assert.deepEqual(result.map((r) => r.dimensions.route).sort(), ['/v1/chat', QUOTED_ROUTE].sort());
    for (const row of result) assertMatches(row, expected, row.dimensions.route!);
    const one = await store.tracedUsage({ ...range, groupBy: ['provider', 'model'], routes: [QUOTED_ROUTE] });
    assert.equal(
      one.reduce((n, r) => n + r.spans, 0),
      expected.get(QUOTED_ROUTE)!.spans,
    );
    assert.equal(
      one.reduce((n, r) => n + r.inputWithCacheTokens, 0n),
      expected.get(QUOTED_ROUTE)!.inputWithCache,
    );
    assert.deepEqual(await store.tracedUsage({ ...range, groupBy: [], routes: ["/nope' OR 1=1 --"] }), []);
  });
});
