// Imported bills in both engines: the same lines and imports go into ClickHouse (the shared
// server) and DuckDB (a temp file). Totals must equal independent sums of the fixture's decimals
// and agree between engines; an import replaces the days it covers (latest wins), importing the
// same period twice is the same as once, and an import that was never committed counts for
// nothing. The traced side (span_costs) is summed independently too.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BilledKind, BilledLine } from '@costtrace/core';
import { ClickHouseStore, DuckDbStore } from '../src/index.js';
import type { BilledTotalRow, BillStore, CostStore } from '../src/index.js';
import { FIXTURE_SECONDS, FIXTURE_START, fixtureSpanRows } from './span-cost-fixtures.js';
import {
  expectedByRoute,
  QUOTED_ROUTE,
  TRACED_SECONDS,
  TRACED_START,
  tracedUsageRows,
} from './traced-usage-fixtures.js';

const url = process.env.CLICKHOUSE_URL;
if (!url) throw new Error('CLICKHOUSE_URL is not set: run with `npm run test:integration`');
const database = `ct_bill_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const DAY = 86_400;
const DAY0 = 1_796_000_000 - (1_796_000_000 % DAY);

/** Decimal text → integer of 10^-12 units, independently of the code under test. */
function pico(text: string): bigint {
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const value = BigInt(whole) * 10n ** 12n + BigInt(fraction.padEnd(12, '0'));
  return negative ? -value : value;
}

function line(overrides: Partial<BilledLine> & { periodStart: number }): BilledLine {
  return {
    source: 'openai-usage',
    provider: 'openai',
    account: 'org-1',
    project: 'proj_a',
    apiKey: '',
    model: 'gpt-4o',
    serviceTier: '',
    periodEnd: overrides.periodStart + DAY,
    kind: 'input',
    quantity: '0',
    unit: 'tokens',
    billedCost: undefined,
    listCost: undefined,
    currency: 'USD',
    description: '',
    chargeCategory: 'Usage',
    service: 'completions',
    resourceId: '',
    ...overrides,
  };
}

/** Three days of usage and cost lines for two providers, with every decimal place used. */
function fixtureLines(scale: bigint): BilledLine[] {
  const out: BilledLine[] = [];
  const kinds: BilledKind[] = ['input', 'output', 'cache_read'];
  for (let d = 0; d < 3; d++) {
    for (const [provider, source, model] of [
      ['openai', 'openai-usage', 'gpt-4o'],
      ['anthropic', 'anthropic-usage', 'claude-sonnet-4-5'],
    ] as const) {
      for (const [k, kind] of kinds.entries()) {
        out.push(
          line({
            source,
            provider,
            model,
            kind,
            periodStart: DAY0 + d * DAY,
            quantity: String(BigInt(1000 + d * 100 + k) * scale),
            description: "it's \t a \\ test\n",
          }),
        );
      }
    }
    out.push(
      line({
        source: 'openai-costs',
        kind: 'output',
        periodStart: DAY0 + d * DAY,
        quantity: '0',
        unit: '',
        billedCost: `${d + 1}.${String(123456789012n * scale).slice(-12)}`,
        listCost: d === 0 ? '9.000000000001' : undefined,
      }),
    );
  }
  return out;
}

describe('bill store: imported bills in ClickHouse and DuckDB', () => {
  let dir: string;
  let clickhouse: ClickHouseStore;
  let duckdb: DuckDbStore;
  const stores = (): (BillStore & CostStore)[] => [clickhouse, duckdb];
  let micros = 1_700_000_000_000_000n;

  /** Imports `lines` into every store as one import each, at the same import time. */
  async function importEverywhere(lines: readonly BilledLine[], commit = true): Promise<string[]> {
    micros += 1000n;
    const ids: string[] = [];
    for (const store of stores()) ids.push(await importLines(store, lines, micros, commit));
    return ids;
  }

  async function importLines(
    store: BillStore,
    lines: readonly BilledLine[],
    at: bigint,
    commit: boolean,
  ): Promise<string> {
    const importId = randomUUID();
    await store.insertBilledLines(importId, lines);
    const bySource = new Map<string, Set<number>>();
    for (const l of lines) {
      const key = `${l.source}\u0000${l.account}`;
      const days = bySource.get(key) ?? new Set<number>();
      days.add(Math.floor(l.periodStart / DAY) * DAY);
      bySource.set(key, days);
    }
    if (commit) {
      await store.commitBillImport(
        [...bySource].map(([key, days]) => {
          const [source, account] = key.split('\u0000') as [BilledLine['source'], string];
          return {
            importId,
            source,
            account,
            days: [...days],
            importedAtMicros: at,
            lines: lines.length,
            origin: 'fixture.json',
          };
        }),
      );
    }
    return importId;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-bills-'));
    clickhouse = new ClickHouseStore({ url, database });
    duckdb = new DuckDbStore({ path: join(dir, 'costtrace.duckdb') });
    for (const store of stores()) await store.migrate();
  });

  after(async () => {
    await clickhouse?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    await clickhouse?.close();
    await duckdb?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const query = { since: DAY0, until: DAY0 + 3 * DAY, groupBy: ['day', 'provider', 'model'] as const };

  function expectedTotals(
    lines: readonly BilledLine[],
  ): Map<string, { quantity: bigint; billed: bigint; list: bigint }> {
    const sums = new Map<string, { quantity: bigint; billed: bigint; list: bigint }>();
    for (const l of lines) {
      const key = [Math.floor(l.periodStart / DAY) * DAY, l.provider, l.model, l.kind, l.unit, l.currency].join('|');
      const s = sums.get(key) ?? { quantity: 0n, billed: 0n, list: 0n };
      s.quantity += pico(l.quantity);
      s.billed += pico(l.billedCost ?? '0');
      s.list += pico(l.listCost ?? '0');
      sums.set(key, s);
    }
    return sums;
  }

  function actualTotals(
    rows: readonly BilledTotalRow[],
  ): Map<string, { quantity: bigint; billed: bigint; list: bigint }> {
    return new Map(
      rows.map((r) => [
        [r.dimensions.day, r.dimensions.provider, r.dimensions.model, r.kind, r.unit, r.currency].join('|'),
        { quantity: pico(r.quantity), billed: pico(r.billedCost), list: pico(r.listCost) },
      ]),
    );
  }

  it('sums the current lines exactly, alike in both engines', async () => {
    const lines = fixtureLines(1n);
    await importEverywhere(lines);
    const [a, b] = await Promise.all(stores().map((s) => s.billedTotals(query)));
    assert.deepEqual(b, a, 'DuckDB differs from ClickHouse');
    assert.deepEqual(actualTotals(a!), expectedTotals(lines));
    const costRow = a!.find(
      (r) => r.dimensions.day === String(DAY0) && r.unit === '' && r.dimensions.provider === 'openai',
    );
    assert.equal(costRow?.costLines, 1);
    assert.equal(costRow?.listCostLines, 1);
    assert.equal(costRow?.listCost, '9.000000000001');
  });

  it('importing the same period again changes nothing; a restated period replaces the old one', async () => {
    const before = await clickhouse.billedTotals(query);
    await importEverywhere(fixtureLines(1n));
    for (const store of stores()) assert.deepEqual(await store.billedTotals(query), before);

    // A restatement of day 1 only (scale 3): days 0 and 2 keep the first import's lines.
    const restated = fixtureLines(3n).filter((l) => l.periodStart === DAY0 + DAY);
    await importEverywhere(restated);
    const expected = [...fixtureLines(1n).filter((l) => l.periodStart !== DAY0 + DAY), ...restated];
    const [a, b] = await Promise.all(stores().map((s) => s.billedTotals(query)));
    assert.deepEqual(b, a);
    assert.deepEqual(actualTotals(a!), expectedTotals(expected));
  });

  it('an import that was never committed counts for nothing, and can be discarded', async () => {
    const before = await duckdb.billedTotals(query);
    const ids = await importEverywhere(fixtureLines(7n), false);
    for (const [i, store] of stores().entries()) {
      assert.deepEqual(await store.billedTotals(query), before);
      await store.discardBillImport(ids[i]!);
      assert.deepEqual(await store.billedTotals(query), before);
    }
  });

  it('lists imports with the one that holds each day now', async () => {
    const [a, b] = await Promise.all(stores().map((s) => s.billImports(100)));
    const strip = (rows: typeof a) => rows!.map(({ importId: _id, ...rest }) => rest);
    assert.deepEqual(strip(b), strip(a));
    const day1 = a!.filter((r) => r.source === 'openai-usage' && r.day === DAY0 + DAY);
    assert.equal(day1.length, 3, 'three imports covered day 1');
    assert.deepEqual(
      day1.map((r) => r.current),
      [true, false, false],
      'newest first, and only the newest holds the day',
    );
  });

  it('saves reconcile runs as they were, alike in both engines', async () => {
    const zero = { input: 0n, output: 0n, cacheRead: 0n, cacheWrite: 0n };
    const row = (provider: string, drift: string) => ({
      dimensions: { provider },
      currency: 'USD',
      billedTokens: zero,
      tracedTokens: zero,
      billedRequests: 0n,
      tracedRequests: 0,
      spans: 0,
      unpricedSpans: 0,
      billedCost: '10.000000000001',
      billedCostKnown: 'all' as const,
      billedListCost: '12',
      tracedListCost: '9',
      tracedCost: '9',
      untracedListCost: '1',
      drift,
      categories: {
        untraced: '1',
        cacheOrTier: '0',
        unpriced: '0',
        rate: '0.000000000001',
        timing: '0',
        unexplained: '0',
      },
    });
    const run = { runId: "run-'1'", runAt: DAY0 + 3600, since: DAY0, until: DAY0 + 86_400, groupBy: ['provider'] };
    for (const store of stores())
      await store.saveReconcileRun(run, [row('openai', '1.000000000001'), row('anthropic', '-2')]);
    const [a, b] = await Promise.all(stores().map((s) => s.savedReconcileRuns(10)));
    assert.deepEqual(b, a);
    assert.deepEqual(a, [
      {
        runId: "run-'1'",
        runAt: DAY0 + 3600,
        since: DAY0,
        until: DAY0 + 86_400,
        groupBy: 'provider',
        currency: 'USD',
        rows: 2,
        billedCost: '20.000000000002',
        tracedCost: '18',
        drift: '-0.999999999999',
        untraced: '2',
        rate: '0.000000000002',
      },
    ]);
  });

  it('sums the traced side from the charged spans, alike in both engines', async () => {
    const rows = fixtureSpanRows(600, 'bill-spans');
    for (const store of stores()) await store.insertSpanCosts(rows);
    const traced = {
      since: FIXTURE_START,
      until: FIXTURE_START + FIXTURE_SECONDS,
      groupBy: ['provider', 'model'] as const,
    };
    const [a, b] = await Promise.all(stores().map((s) => s.tracedUsage(traced)));
    assert.deepEqual(b, a, 'DuckDB differs from ClickHouse');
    const charged = rows.filter((r) => (r.usageRole ?? '') === '');
    for (const row of a!) {
      const mine = charged.filter(
        (r) =>
          r.provider === row.dimensions.provider && r.model === row.dimensions.model && r.currency === row.currency,
      );
      assert.equal(row.spans, mine.length);
      assert.equal(
        row.inputTokens,
        mine.reduce((n, r) => n + r.inputTokens, 0n),
      );
      assert.equal(
        row.outputTokens,
        mine.reduce((n, r) => n + r.outputTokens, 0n),
      );
      assert.equal(
        pico(row.cost),
        // The token cost (what a provider's token bill is compared with), not GPU or instance time.
        mine.reduce(
          (n, r) =>
            n +
            r.costInput.subunits +
            r.costOutput.subunits +
            r.costCacheRead.subunits +
            r.costCacheWrite.subunits +
            r.costReasoning.subunits,
          0n,
        ),
      );
    }
    assert.equal(
      a!.reduce((n, r) => n + r.spans, 0),
      charged.length,
    );
  });

  it("sums the spans' instance time per cloud and instance type, alike in both engines", async () => {
    const rows = fixtureSpanRows(300, 'bill-compute', 11).map((r, i) => ({
      ...r,
      cloudProvider: i % 3 === 0 ? 'aws' : i % 3 === 1 ? 'gcp' : '',
      instanceType: i % 2 === 0 ? 'p4d.24xlarge' : 'a2-highgpu-1g',
      instanceSeconds: `${i}.000000000${i % 7}`,
    }));
    for (const store of stores()) await store.insertSpanCosts(rows);
    const [a, b] = await Promise.all(
      stores().map((s) => s.tracedCompute(FIXTURE_START, FIXTURE_START + FIXTURE_SECONDS)),
    );
    assert.deepEqual(b, a, 'DuckDB differs from ClickHouse');
    const onCloud = rows.filter((r) => r.cloudProvider !== '');
    assert.equal(
      a!.reduce((n, r) => n + r.spans, 0),
      onCloud.length,
    );
    const seconds = onCloud.reduce((n, r) => n + pico(r.instanceSeconds), 0n);
    assert.equal(
      a!.reduce((n, r) => n + pico(r.instanceSeconds), 0n),
      seconds,
    );
    const cost = onCloud.reduce((n, r) => n + r.costCompute.subunits + r.costGpu.subunits, 0n);
    assert.equal(
      a!.reduce((n, r) => n + pico(r.cost), 0n),
      cost,
    );
  });

  it('groups and filters the traced side by route, with the input the usage keys record, alike in both engines', async () => {
    const rows = tracedUsageRows(400, 'bill-routes');
    for (const store of stores()) await store.insertSpanCosts(rows);
    const expected = expectedByRoute(rows);
    const range = { since: TRACED_START, until: TRACED_START + TRACED_SECONDS };
    const [a, b] = await Promise.all(stores().map((s) => s.tracedUsage({ ...range, groupBy: ['route'] })));
    assert.deepEqual(b, a, 'DuckDB differs from ClickHouse');
    assert.deepEqual(a!.map((r) => r.dimensions.route).sort(), [...expected.keys()].sort());
    for (const row of a!) {
      const e = expected.get(row.dimensions.route!)!;
      assert.deepEqual(
        [row.spans, row.requests, row.inputTokens, row.cacheReadTokens, row.cacheWriteTokens],
        [e.spans, e.requests, e.input, e.cacheRead, e.cacheWrite],
      );
      assert.equal(row.inputWithCacheTokens, e.inputWithCache);
      assert.equal(row.unkeyedCacheTokens, e.unkeyedCache);
    }
    const filter = { ...range, groupBy: ['provider', 'model'] as const, routes: [QUOTED_ROUTE] };
    const [c, d] = await Promise.all(stores().map((s) => s.tracedUsage(filter)));
    assert.deepEqual(d, c, 'DuckDB differs from ClickHouse');
    assert.equal(
      c!.reduce((n, r) => n + r.inputWithCacheTokens, 0n),
      expected.get(QUOTED_ROUTE)!.inputWithCache,
    );
  });
});
