// The traced GPU and instance seconds per team and tenant (what `costtrace chargeback
// --cluster-cost` spreads a cluster's idle and shared cost by), in both engines: the same spans go
// into ClickHouse (the shared server, a database of its own) and DuckDB (a temp file). The sums
// must equal independent bigint sums of the rows' decimals, agree between engines, and leave out
// spans outside the period, spans without GPU or instance time, and spans that repeat another's
// model call.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClickHouseStore, clickhouseTracedSecondsSql, duckTracedSecondsSql, DuckDbStore } from '../src/index.js';
import type { BillStore, CostStore, SpanCostRow, TracedSecondsQuery, TracedSecondsRow } from '../src/index.js';
import { FIXTURE_SECONDS, FIXTURE_START, fixtureSpanRows } from './span-cost-fixtures.js';

const url = process.env.CLICKHOUSE_URL;
if (!url) throw new Error('CLICKHOUSE_URL is not set: run with `npm run test:integration`');
const database = `ct_tsec_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

/** Decimal text → integer of 10^-12 units, independently of the code under test. */
function pico(text: string): bigint {
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const value = BigInt(whole) * 10n ** 12n + BigInt(fraction.padEnd(12, '0'));
  return negative ? -value : value;
}

const TEAMS = ['search', 'chat', '', "o'brien"];
const TENANTS = ['acme', 'globex'];

/**
 * The fixture's spans, each given GPU and/or instance time with every decimal place used, a team
 * and a tenant; every 7th repeats another span's model call (usage_role 'duplicate').
 */
function timedRows(): SpanCostRow[] {
  return fixtureSpanRows(120, 'traced-seconds').map((row, i) => ({
    ...row,
    team: TEAMS[i % TEAMS.length]!,
    tenant: TENANTS[i % TENANTS.length]!,
    gpuType: i % 3 === 0 ? '' : 'H100',
    gpuCount: i % 3 === 0 ? 0 : 8,
    gpuSeconds:
      i % 3 === 0
        ? '0'
        : `${i * 37}.${String(i * 7919)
            .padStart(12, '0')
            .slice(-12)}`,
    instanceSeconds:
      i % 5 === 0
        ? '0'
        : `${i}.${String(i * 104_729)
            .padStart(12, '0')
            .slice(-12)}`,
    cloudProvider: 'aws',
    instanceType: 'p5.48xlarge',
    usageRole: i % 7 === 0 ? 'duplicate' : '',
    duplicateOf: i % 7 === 0 ? row.spanId : '',
  }));
}

function expected(rows: readonly SpanCostRow[], by: 'team' | 'tenant', since: number, until: number) {
  const sums = new Map<string, { gpu: bigint; instance: bigint; spans: number }>();
  for (const row of rows) {
    const start = Number(row.startTimeUnixNano / 1_000_000_000n);
    if (start < since || start >= until || row.usageRole !== '') continue;
    const gpu = pico(row.gpuSeconds);
    const instance = pico(row.instanceSeconds ?? '0');
    if (gpu === 0n && instance === 0n) continue;
    const s = sums.get(row[by]) ?? { gpu: 0n, instance: 0n, spans: 0 };
    s.gpu += gpu;
    s.instance += instance;
    s.spans++;
    sums.set(row[by], s);
  }
  return sums;
}

function actual(rows: readonly TracedSecondsRow[]) {
  return new Map(
    rows.map((r) => [r.value, { gpu: pico(r.gpuSeconds), instance: pico(r.instanceSeconds), spans: r.spans }]),
  );
}

describe('traced seconds per team and tenant in ClickHouse and DuckDB', () => {
  let dir: string;
  let clickhouse: ClickHouseStore;
  let duckdb: DuckDbStore;
  const stores = (): (BillStore & CostStore)[] => [clickhouse, duckdb];
  const rows = timedRows();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-traced-seconds-'));
    clickhouse = new ClickHouseStore({ url, database });
    duckdb = new DuckDbStore({ path: join(dir, 'costtrace.duckdb') });
    for (const store of stores()) {
      await store.migrate();
      await store.insertSpanCosts(rows);
    }
  });

  after(async () => {
    await clickhouse?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    await clickhouse?.close();
    await duckdb?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const by of ['team', 'tenant'] as const) {
    it(`sums GPU- and instance-seconds by ${by} exactly, alike in both engines`, async () => {
      const query: TracedSecondsQuery = { since: FIXTURE_START, until: FIXTURE_START + FIXTURE_SECONDS, by };
      const [a, b] = await Promise.all(stores().map((s) => s.tracedSeconds(query)));
      assert.deepEqual(b, a, 'DuckDB differs from ClickHouse');
      const want = expected(rows, by, query.since, query.until);
      assert.deepEqual(actual(a!), want);
      assert.ok(want.size >= 2, 'the fixture has time in several groups');
      assert.ok(
        a!.every((r) => /^\d+(\.\d*[1-9])?$/.test(r.gpuSeconds) && /^\d+(\.\d*[1-9])?$/.test(r.instanceSeconds)),
      );
    });
  }

  it('keeps to the period (start inclusive, end exclusive)', async () => {
    const half = FIXTURE_START + FIXTURE_SECONDS / 2;
    for (const [since, until] of [
      [FIXTURE_START, half],
      [half, FIXTURE_START + FIXTURE_SECONDS],
      [FIXTURE_START + FIXTURE_SECONDS, FIXTURE_START + 2 * FIXTURE_SECONDS],
    ] as const) {
      const [a, b] = await Promise.all(stores().map((s) => s.tracedSeconds({ since, until, by: 'team' })));
      assert.deepEqual(b, a);
      assert.deepEqual(actual(a!), expected(rows, 'team', since, until));
    }
  });

  it('takes its dimension from the allow-list only', () => {
    const bad = { since: 0, until: 1, by: 'team; DROP TABLE span_costs' } as unknown as TracedSecondsQuery;
    assert.throws(() => clickhouseTracedSecondsSql(database, bad), /not a dimension of traced seconds/);
    assert.throws(() => duckTracedSecondsSql(bad), /not a dimension of traced seconds/);
  });
});
