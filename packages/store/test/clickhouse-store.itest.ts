// ClickHouseStore against the real server from scripts/services.sh: migrations (and the rollup
// rebuilt on upgrade), exact decimals, strings that try to break out of TSV or SQL literals, one
// part per day of an insert, and the rollup repair after a crash between a span part and its view
// part.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Money } from '@costtrace/core';
import { ClickHouseStore, MIGRATIONS, SPAN_COST_COLUMNS, spanCostTsv, stringLiteral, tsvRow } from '../src/index.js';
import { rebuildStatements, renderStatement, ROLLUP_KEY, ROLLUP_MEASURES } from '../src/clickhouse/migrations.js';
import type { SpanCostRow } from '../src/index.js';

const url = process.env.CLICKHOUSE_URL;
if (!url) throw new Error('CLICKHOUSE_URL is not set: run with `npm run test:integration`');
const database = `ct_store_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

/** Migration 8's and 9's columns: not there yet in a database migrated to an older version. */
const PRICING_USAGE_COLUMNS = MIGRATIONS.filter((m) => m.version >= 8).flatMap(
  (m) => m.addColumns?.columns.map(([name]) => name) ?? [],
);

/**
 * `rows` as TabSeparated lines and their column list without `without`: rows as a schema that
 * lacks those columns stores them (array fields hold no raw tab, so a line splits on tabs).
 */
function olderSchemaTsv(rows: readonly SpanCostRow[], without: readonly string[]): { columns: string[]; tsv: Buffer } {
  const keep = SPAN_COST_COLUMNS.map((c) => !without.includes(c));
  const line = (r: SpanCostRow): string =>
    `${spanCostTsv(r)
      .slice(0, -1)
      .split('\t')
      .filter((_, i) => keep[i])
      .join('\t')}\n`;
  return { columns: SPAN_COST_COLUMNS.filter((c) => !without.includes(c)), tsv: Buffer.from(rows.map(line).join('')) };
}

function row(overrides: Partial<SpanCostRow>): SpanCostRow {
  const zero = Money.zero();
  return {
    startTimeUnixNano: 1_795_000_000_123_456_789n,
    endTimeUnixNano: 1_795_000_001_123_456_789n,
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    parentSpanId: '',
    spanName: 'chat',
    spanKind: 2,
    statusCode: 0,
    isRequest: true,
    service: 'svc',
    environment: 'test',
    route: '/v1/chat',
    commit: 'abc',
    model: 'gpt-4o',
    provider: 'openai',
    team: '',
    tenant: '',
    feature: '',
    inputTokens: 1n,
    outputTokens: 2n,
    cacheReadTokens: 0n,
    cacheWriteTokens: 0n,
    reasoningTokens: 0n,
    gpuType: '',
    gpuCount: 0,
    gpuSeconds: '0',
    instanceType: '',
    costInput: zero,
    costOutput: zero,
    costCacheRead: zero,
    costCacheWrite: zero,
    costReasoning: zero,
    costGpu: zero,
    costCompute: zero,
    costTotal: zero,
    currency: 'USD',
    pricingVersion: 'v',
    pricingSource: 'bundled',
    priceIds: [],
    unpricedReason: '',
    kafkaTopic: 't',
    kafkaPartition: 0,
    kafkaOffset: 0n,
    kafkaSpanIndex: 0,
    attributeKeys: [],
    attributeValues: [],
    rollupOverflow: [],
    sanitized: [],
    ...overrides,
  };
}

describe('ClickHouseStore', () => {
  const store = new ClickHouseStore({ url, database });
  before(async () => {
    assert.deepEqual(
      await store.migrate(),
      MIGRATIONS.map((m) => m.version),
    );
  });
  after(async () => {
    await store.command(`DROP DATABASE IF EXISTS ${database}`);
    await store.close();
  });

  it('applies migrations once', async () => {
    assert.deepEqual(await store.migrate(), []);
    const [applied] = await store.select<{ n: string }>(`SELECT count() AS n FROM ${database}.schema_migrations`);
    assert.equal(Number(applied?.n), MIGRATIONS.length);
  });

  it('stores decimals exactly at the extremes of the scale', async () => {
    const amounts = ['0.000000000001', '12345678901234567890.123456789012', '0.1', '-3.000000000007'];
    await store.insertSpanCosts(amounts.map((a, i) => row({ spanId: `dec${i}`, costTotal: Money.parse(a) })));
    const rows = await store.select<{ span_id: string; c: string }>(
      `SELECT span_id, toString(cost_total) AS c FROM ${database}.span_costs WHERE span_id LIKE 'dec%' ORDER BY span_id`,
    );
    assert.deepEqual(
      rows.map((r) => Money.parse(r.c).subunits),
      amounts.map((a) => Money.parse(a).subunits),
    );
    const [sum] = await store.select<{ s: string }>(
      `SELECT toString(sum(cost_total)) AS s FROM ${database}.span_costs WHERE span_id LIKE 'dec%'`,
    );
    assert.equal(
      Money.parse(sum!.s).subunits,
      amounts.reduce((acc, a) => acc + Money.parse(a).subunits, 0n),
    );
  });

  it('round-trips hostile strings through inserts and quoted literals', async () => {
    const hostile = [
      "x' OR '1'='1",
      'tab\there',
      'new\nline',
      'back\\slash',
      "\\'; DROP TABLE span_costs; --",
      'ünïcødé ☃',
      'nul\0byte',
    ];
    await store.insertSpanCosts(
      hostile.map((h, i) =>
        row({ spanId: `h${i}`, tenant: h, attributeKeys: ['k'], attributeValues: [h], priceIds: [h] }),
      ),
    );
    for (const [i, h] of hostile.entries()) {
      const rows = await store.select<{ span_id: string; v: string[]; p: string[] }>(
        `SELECT span_id, attribute_values AS v, price_ids AS p FROM ${database}.span_costs WHERE tenant = ${stringLiteral(h)}`,
      );
      assert.deepEqual(rows, [{ span_id: `h${i}`, v: [h], p: [h] }], JSON.stringify(h));
    }
    const [count] = await store.select<{ n: string }>(`SELECT count() AS n FROM ${database}.span_costs`);
    assert.equal(Number(count?.n), 4 + hostile.length, 'the table is intact');
  });

  const DAY = 86_400_000_000_000n;
  const DAY0 = 1_795_046_400n * 1_000_000_000n; // 2026-11-19T00:00:00Z, the start of a UTC day

  it('writes an insert whose rows cover several days as one part per day', async () => {
    const parts = async (): Promise<Map<string, number>> =>
      new Map(
        (
          await store.select<{ partition: string; n: string }>(
            `SELECT partition, count() AS n FROM system.parts WHERE database = ${stringLiteral(database)} ` +
              `AND table = 'span_costs' AND active GROUP BY partition`,
          )
        ).map((r) => [r.partition, Number(r.n)]),
      );
    const before = await parts();
    // Days 20..22 after DAY0, three rows each, interleaved as a batch would hold them.
    const rows = Array.from({ length: 9 }, (_, i) =>
      row({
        spanId: `day${i}`,
        kafkaTopic: 'days',
        kafkaOffset: BigInt(i),
        startTimeUnixNano: DAY0 + BigInt(20 + (i % 3)) * DAY + 5n,
      }),
    );
    await store.insertSpanCosts(rows);
    const after = await parts();
    for (const day of ['20261209', '20261210', '20261211']) {
      assert.equal((after.get(day) ?? 0) - (before.get(day) ?? 0), 1, `one new part for ${day}`);
    }
  });

  it('repairs the rollup of spans whose part was committed without the view part, exactly once', async () => {
    const topic = 'repair';
    const make = (offset: number, index: number, day: bigint, cost: string): SpanCostRow =>
      row({
        spanId: `r${offset}-${index}`,
        kafkaTopic: topic,
        kafkaPartition: 5,
        kafkaOffset: BigInt(offset),
        kafkaSpanIndex: index,
        startTimeUnixNano: DAY0 + day * DAY + BigInt(offset) * 60_000_000_000n,
        inputTokens: 100n,
        costInput: Money.parse(cost),
        costTotal: Money.parse(cost),
      });
    await store.insertSpanCosts([make(1, 0, 30n, '0.5'), make(1, 1, 30n, '0.25')]);
    // What a server killed between the span part and the view part leaves: span parts without
    // their rollup rows (the view detached while they are written), over two days.
    const lost = [make(2, 0, 30n, '1.000000000001'), make(2, 1, 31n, '2'), make(3, 0, 31n, '3')];
    await store.command(`DETACH TABLE ${database}.span_costs_1m_mv`);
    try {
      await store.insertSpanCosts(lost);
    } finally {
      await store.command(`ATTACH TABLE ${database}.span_costs_1m_mv`);
    }
    const before = await store.rollupDifferences();
    assert.equal(before.length, 3, 'three minutes lack their rollup rows');
    const recovered = await store.recoverStoredSpans(topic, 5, 1n, 3n);
    assert.deepEqual(
      recovered.spans,
      new Map([
        [1n, new Set([0, 1])],
        [2n, new Set([0, 1])],
        [3n, new Set([0])],
      ]),
    );
    assert.equal(recovered.rollupRowsRepaired, 3);
    assert.deepEqual(recovered.rollupExcessKeys, []);
    assert.deepEqual(await store.rollupDifferences(), [], 'the rollup equals the spans');
    const again = await store.recoverStoredSpans(topic, 5, 1n, 3n);
    assert.equal(again.rollupRowsRepaired, 0, 'a second recovery writes nothing');
    const [sum] = await store.select<{ spans: string; total: string; tokens: string }>(
      `SELECT toString(sum(spans)) AS spans, toString(sum(cost_total)) AS total, toString(sum(input_tokens)) AS tokens ` +
        `FROM ${database}.span_costs_1m WHERE kafka_topic = 'repair'`,
    );
    assert.deepEqual(sum, { spans: '5', total: '6.750000000001', tokens: '500' });
  });

  it('takes away rollup rows whose spans were never stored, in the minutes about to be inserted', async () => {
    // What a release that wrote the view's part before the table's would leave when killed
    // between them: rollup rows for spans that are not there.
    const minute = Number((DAY0 + 40n * DAY) / 1_000_000_000n);
    const columns = [...ROLLUP_KEY, ...ROLLUP_MEASURES.map(([c]) => c)];
    const values: Record<string, string> = {
      minute: String(minute),
      kafka_topic: 'excess',
      kafka_partition: '7',
      currency: 'USD',
    };
    for (const [column] of ROLLUP_MEASURES) values[column] = '0';
    values.spans = '2';
    values.cost_total = '4.25';
    await store.insertTsv('span_costs_1m', columns, Buffer.from(tsvRow(columns.map((c) => values[c] ?? ''))), 1);
    assert.equal((await store.rollupDifferences()).length, 1);
    const recovered = await store.recoverStoredSpans('excess', 7, 0n, 10n, [minute]);
    assert.equal(recovered.spans.size, 0, 'no span of these messages is stored');
    assert.equal(recovered.rollupExcessKeys.length, 1);
    assert.equal(recovered.rollupRowsRepaired, 1);
    assert.deepEqual(await store.rollupDifferences(), []);
  });

  it('migrates once when several migrators start on a fresh database at the same moment', async () => {
    const shared = `${database}_race`;
    const stores = Array.from({ length: 4 }, () => new ClickHouseStore({ url, database: shared }));
    try {
      const applied = await Promise.all(stores.map((s) => s.migrate()));
      assert.deepEqual(
        applied.flat().sort((a, b) => a - b),
        MIGRATIONS.map((m) => m.version),
        'each migration applied by exactly one of them',
      );
      const versions = await stores[0]!.select<{ version: number }>(
        `SELECT version FROM ${shared}.schema_migrations ORDER BY version`,
      );
      assert.deepEqual(
        versions.map((v) => Number(v.version)),
        MIGRATIONS.map((m) => m.version),
        'recorded once each',
      );
      const tables = await stores[0]!.select<{ name: string }>(
        `SELECT name FROM system.tables WHERE database = ${stringLiteral(shared)} ORDER BY name`,
      );
      assert.deepEqual(
        tables.map((t) => t.name),
        [
          'bill_imports',
          'billed_lines',
          'cost_corrections',
          'job_estimates',
          'reconcile_results',
          'schema_migrations',
          'span_costs',
          'span_costs_1m',
          'span_costs_1m_mv',
        ],
      );
      await stores[1]!.insertSpanCosts([row({ spanId: 'race', kafkaTopic: 'race', costTotal: Money.parse('2') })]);
      assert.deepEqual(await stores[2]!.rollupDifferences(), []);
    } finally {
      await stores[0]!.command(`DROP DATABASE IF EXISTS ${shared}`).catch(() => undefined);
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('resumes a rollup rebuild whose migrator died between its two renames, taking over its stale lock', async () => {
    const crashed = `${database}_resume`;
    const store2 = new ClickHouseStore({ url, database: crashed });
    try {
      await store2.migrate(MIGRATIONS.filter((m) => m.version <= 5));
      const rows = Array.from({ length: 6 }, (_, i) =>
        row({
          spanId: `z${i}`,
          kafkaTopic: 'resume',
          kafkaPartition: i % 2,
          kafkaOffset: BigInt(i),
          costTotal: Money.parse(`${i}.25`),
        }),
      );
      const older = olderSchemaTsv(rows, PRICING_USAGE_COLUMNS);
      await store2.insertTsv('span_costs', older.columns, older.tsv, rows.length);
      // Migration 6 as far as its first rename, then the migrator died holding the lock.
      const six = MIGRATIONS.find((m) => m.version === 6)!;
      const steps = [...six.statements.map((st) => renderStatement(st, crashed)), ...rebuildStatements(six, crashed)];
      for (const statement of steps.slice(0, -1)) await store2.command(statement);
      await store2.command(
        `CREATE TABLE ${crashed}.schema_migrations_lock ENGINE = Log AS SELECT 'dead' AS holder, now() - 3600 AS at`,
      );
      assert.deepEqual(
        await store2.migrate(),
        MIGRATIONS.filter((m) => m.version >= 6).map((m) => m.version),
      );
      assert.deepEqual(await store2.rollupDifferences(), []);
      const [sum] = await store2.select<{ spans: string; total: string }>(
        `SELECT toString(sum(spans)) AS spans, toString(sum(cost_total)) AS total FROM ${crashed}.span_costs_1m`,
      );
      assert.equal(sum!.spans, '6');
      assert.equal(Money.parse(sum!.total).subunits, Money.parse('16.5').subunits);
      const tables = await store2.select<{ name: string }>(
        `SELECT name FROM system.tables WHERE database = ${stringLiteral(crashed)} ORDER BY name`,
      );
      assert.deepEqual(
        tables.map((t) => t.name),
        [
          'bill_imports',
          'billed_lines',
          'cost_corrections',
          'job_estimates',
          'reconcile_results',
          'schema_migrations',
          'span_costs',
          'span_costs_1m',
          'span_costs_1m_mv',
        ],
      );
    } finally {
      await store2.command(`DROP DATABASE IF EXISTS ${crashed}`).catch(() => undefined);
      await store2.close();
    }
  });

  it('adds the job to an existing rollup, rebuilt from the spans (migrations 12 and 13)', async () => {
    const old = `${database}_jobs`;
    const upgraded = new ClickHouseStore({ url, database: old });
    try {
      await upgraded.migrate(MIGRATIONS.filter((m) => m.version <= 11));
      const rows = Array.from({ length: 4 }, (_, i) =>
        row({ spanId: `o${i}`, kafkaTopic: 'jobs', kafkaOffset: BigInt(i), costTotal: Money.parse(`${i}.125`) }),
      );
      const jobColumns = MIGRATIONS.find((m) => m.version === 12)!.addColumns!.columns.map(([c]) => c);
      const older = olderSchemaTsv(rows, jobColumns);
      await upgraded.insertTsv('span_costs', older.columns, older.tsv, rows.length);
      assert.deepEqual(await upgraded.migrate(), [12, 13]);
      assert.deepEqual(await upgraded.rollupDifferences(), []);
      // New spans of a job reach the rebuilt rollup, under the job's id and kind.
      await upgraded.insertSpanCosts([
        row({
          spanId: 'j1',
          kafkaTopic: 'jobs',
          kafkaOffset: 10n,
          jobId: 'ft-1',
          jobKind: 'fine_tuning',
          jobEpoch: 0,
          jobSamples: 500,
          costTotal: Money.parse('7.000000000001'),
        }),
        row({
          spanId: 'j2',
          kafkaTopic: 'jobs',
          kafkaOffset: 11n,
          jobId: 'ft-1',
          jobKind: 'fine_tuning',
          jobEpoch: 1,
          jobSamples: 500,
          costTotal: Money.parse('3'),
        }),
      ]);
      assert.deepEqual(await upgraded.rollupDifferences(), []);
      const byJob = await upgraded.select<{ job_id: string; job_kind: string; spans: string; total: string }>(
        `SELECT job_id, job_kind, toString(sum(spans)) AS spans, toString(sum(cost_total)) AS total ` +
          `FROM ${old}.span_costs_1m GROUP BY job_id, job_kind ORDER BY job_id`,
      );
      assert.deepEqual(
        byJob.map((r) => [r.job_id, r.job_kind, r.spans, Money.parse(r.total).subunits]),
        [
          ['', '', '4', Money.parse('6.5').subunits],
          ['ft-1', 'fine_tuning', '2', Money.parse('10.000000000001').subunits],
        ],
      );
      const [stored] = await upgraded.select<{ epochs: string; samples: string; none: string }>(
        `SELECT toString(groupArray(job_epoch)) AS epochs, toString(sum(job_samples)) AS samples, ` +
          `toString(countIf(job_epoch = -1)) AS none FROM ${old}.span_costs`,
      );
      assert.equal(stored!.samples, '1000');
      assert.equal(stored!.none, '4', 'spans stored before the migration are in no epoch');
    } finally {
      await upgraded.command(`DROP DATABASE IF EXISTS ${old}`).catch(() => undefined);
      await upgraded.close();
    }
  });

  it('rebuilds an existing rollup with its source partitions from the spans (migrations 6 and 7)', async () => {
    const old = `${database}_upgrade`;
    const upgraded = new ClickHouseStore({ url, database: old });
    try {
      await upgraded.migrate(MIGRATIONS.filter((m) => m.version <= 4));
      const rows = Array.from({ length: 12 }, (_, i) =>
        row({
          spanId: `u${i}`,
          kafkaTopic: 'upgrade',
          kafkaPartition: i % 3,
          kafkaOffset: BigInt(i),
          startTimeUnixNano: DAY0 + BigInt(i) * 3_600_000_000_000n,
          costTotal: Money.parse(`${i}.5`),
          costInput: Money.parse(`${i}.5`),
        }),
      );
      // Rows as the old schema stores them: without kafka_span_index and migration 8's columns.
      const older = olderSchemaTsv(rows, ['kafka_span_index', ...PRICING_USAGE_COLUMNS]);
      await upgraded.insertTsv('span_costs', older.columns, older.tsv, rows.length);
      assert.deepEqual(
        await upgraded.migrate(),
        MIGRATIONS.filter((m) => m.version >= 5).map((m) => m.version),
      );
      assert.deepEqual(await upgraded.rollupDifferences(), []);
      const bySource = await upgraded.select<{ partition: number; spans: string; total: string }>(
        `SELECT kafka_partition AS partition, toString(sum(spans)) AS spans, toString(sum(cost_total)) AS total ` +
          `FROM ${old}.span_costs_1m GROUP BY kafka_partition ORDER BY kafka_partition`,
      );
      // Partition p holds rows p, p+3, p+6, p+9: 4 spans costing (4p + 18) + 4 × 0.5.
      assert.deepEqual(
        bySource.map((r) => [Number(r.partition), r.spans, Money.parse(r.total).subunits]),
        [
          [0, '4', 20n * 10n ** 12n],
          [1, '4', 24n * 10n ** 12n],
          [2, '4', 28n * 10n ** 12n],
        ],
      );
      const tables = await upgraded.select<{ name: string }>(
        `SELECT name FROM system.tables WHERE database = ${stringLiteral(old)} ORDER BY name`,
      );
      assert.deepEqual(
        tables.map((t) => t.name),
        [
          'bill_imports',
          'billed_lines',
          'cost_corrections',
          'job_estimates',
          'reconcile_results',
          'schema_migrations',
          'span_costs',
          'span_costs_1m',
          'span_costs_1m_mv',
        ],
      );
      // New spans reach the rebuilt rollup through the view.
      await upgraded.insertSpanCosts([row({ spanId: 'new', kafkaTopic: 'upgrade', costTotal: Money.parse('1') })]);
      assert.deepEqual(await upgraded.rollupDifferences(), []);
    } finally {
      await upgraded.command(`DROP DATABASE IF EXISTS ${old}`).catch(() => undefined);
      await upgraded.close();
    }
  });
});
