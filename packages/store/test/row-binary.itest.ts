// The consumer's insert format against the real server: every column's RowBinary type is the
// schema's, and rows inserted as RowBinary read back exactly as the same rows inserted as
// TabSeparated (the text format ClickHouse parses itself): exact decimals beyond 2^53, strings
// with every character TSV escapes, non-ASCII, arrays, GPU and instance seconds as decimals.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Money } from '@costtrace/core';
import { ClickHouseStore, SPAN_COST_COLUMNS, SPAN_COST_TYPES, spanCostTsv, stringLiteral } from '../src/index.js';
import type { SpanCostRow } from '../src/index.js';
import { fixtureSpanRows } from './span-cost-fixtures.js';

const url = process.env.CLICKHOUSE_URL;
if (!url) throw new Error('CLICKHOUSE_URL is not set: run with `npm run test:integration`');
const database = `ct_rowbinary_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

/** Rows that exercise what the two formats encode differently. */
function edgeRows(): SpanCostRow[] {
  const [base] = fixtureSpanRows(1, 'otlp_spans');
  const big = Money.fromSubunits(123_456_789_012_345_678_901_234_567n); // far beyond 2^64 pico-units
  return [
    {
      ...base!,
      spanId: '00000000000000a1',
      spanName: 'tab\there, newline\nthere, back\\slash, quote \' and "double", NUL \0, CR \r',
      route: '/v1/é/中文/🙂',
      team: '\ud800lone surrogate',
      tenant: 'x'.repeat(127),
      feature: 'y'.repeat(128),
      costInput: big,
      costTotal: big.add(Money.fromSubunits(1n)),
      priceIds: ["it's", 'back\\slash', 'tab\t', 'ünï'],
      attributeKeys: ['a', 'b'],
      attributeValues: ['', 'z'.repeat(300)],
      gpuType: 'H100',
      gpuCount: 0.5,
      gpuSeconds: '2.000000001',
      instanceSeconds: '3600.5',
      instanceType: 'p5.48xlarge',
      usageComplete: true,
      costUpperBound: true,
      usageRole: 'duplicate',
      duplicateOf: 'b7ad6b7169203331',
      responseId: 'chatcmpl-123',
      usageKey: 'openai|gpt-4o|1|2',
      emitter: 'opentelemetry.instrumentation.openai@0.1',
      kafkaOffset: 9_007_199_254_740_993n, // above 2^53
      kafkaSpanIndex: 4_000_000_000,
      inputTokens: 18_446_744_073_709_551_615n, // the largest UInt64
    },
    {
      ...base!,
      spanId: '00000000000000a2',
      sanitized: ['attribute_truncated', 'invalid_enum_value'],
      rollupOverflow: [],
    },
  ];
}

describe('RowBinary inserts (the consumer’s format)', () => {
  const store = new ClickHouseStore({ url, database });

  before(async () => {
    await store.migrate();
    await store.command(`CREATE TABLE ${database}.span_costs_text AS ${database}.span_costs`);
  });

  after(async () => {
    await store.command(`DROP DATABASE IF EXISTS ${database}`);
    await store.close();
  });

  it('writes each column with the type the schema has', async () => {
    const columns = await store.select<{ name: string; type: string }>(
      `SELECT name, type FROM system.columns WHERE database = ${stringLiteral(database)} AND table = 'span_costs'`,
    );
    const types = new Map(columns.map((c) => [c.name, c.type]));
    for (const column of SPAN_COST_COLUMNS) {
      assert.equal(SPAN_COST_TYPES[column], types.get(column), column);
    }
  });

  it('stores exactly what the same rows inserted as TabSeparated store', async () => {
    const rows = [...fixtureSpanRows(500, 'otlp_spans', 11), ...edgeRows()];
    await store.insertSpanCosts(rows); // RowBinary, one insert per day
    await store.insertTsv(
      'span_costs_text',
      SPAN_COST_COLUMNS,
      Buffer.from(rows.map(spanCostTsv).join(''), 'utf8'),
      rows.length,
    );
    const read = (table: string) =>
      store.select<Record<string, unknown>>(
        `SELECT ${SPAN_COST_COLUMNS.map((c) => `toString(${c}) AS ${c}`).join(', ')} FROM ${database}.${table} ` +
          'ORDER BY trace_id, span_id',
      );
    const binary = await read('span_costs');
    const text = await read('span_costs_text');
    assert.equal(binary.length, rows.length);
    assert.deepEqual(binary, text);
    // And what was meant: a decimal beyond 2^64 pico-units and a bigint offset, exactly.
    const edge = binary.find((r) => r.span_id === '00000000000000a1')!;
    const exact = (value: unknown): string => String(value).replace(/\.?0+$/, '');
    assert.equal(exact(edge.cost_input), '123456789012345.678901234567');
    assert.equal(exact(edge.gpu_seconds), '2.000000001');
    assert.equal(edge.kafka_offset, '9007199254740993');
    assert.equal(edge.input_tokens, '18446744073709551615');
  });
});
