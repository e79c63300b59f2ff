// ClickHouseStore against the real server from scripts/services.sh: migrations, exact decimals,
// and strings that try to break out of TSV or SQL literals round-trip unchanged.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Money } from '@costtrace/core';
import { ClickHouseStore, MIGRATIONS, stringLiteral } from '../src/index.js';
import type { SpanCostRow } from '../src/index.js';

const url = process.env.CLICKHOUSE_URL;
if (!url) throw new Error('CLICKHOUSE_URL is not set: run with `npm run test:integration`');
const database = `ct_store_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

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
});
