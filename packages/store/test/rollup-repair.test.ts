// The rollup repair's arithmetic, without a server: what to add per key so that the rollup
// equals the spans, exactly, in both directions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROLLUP_KEY, ROLLUP_MEASURES } from '../src/clickhouse/migrations.js';
import { rollupDelta } from '../src/clickhouse/rollup-repair.js';
import { minuteDifferences } from '../src/rollup-check.js';
import type { RollupTextRow } from '../src/clickhouse/rollup-repair.js';

function row(minute: number, route: string, measures: Record<string, string>): RollupTextRow {
  const out: Record<string, string> = {};
  for (const column of ROLLUP_KEY) out[column] = '';
  out.minute = String(minute);
  out.route = route;
  out.kafka_topic = 't';
  out.kafka_partition = '3';
  for (const [column] of ROLLUP_MEASURES) out[column] = measures[column] ?? '0';
  return out;
}

describe('rollup repair arithmetic', () => {
  it('adds what the rollup lacks, per key, to the last decimal', () => {
    const truth = [
      row(60, '/a', { spans: '3', cost_total: '1.000000000003', input_tokens: '30' }),
      row(60, '/b', { spans: '1', cost_total: '0.5' }),
      row(120, '/a', { spans: '2', cost_total: '2' }),
    ];
    const held = [
      row(60, '/a', { spans: '1', cost_total: '0.000000000001', input_tokens: '10' }),
      row(120, '/a', { spans: '2', cost_total: '2.000000000000' }),
    ];
    const { rows, excess } = rollupDelta(truth, held);
    assert.deepEqual(excess, []);
    assert.deepEqual(
      rows.map((r) => [r.minute, r.route, r.spans, r.cost_total, r.input_tokens, r.kafka_partition]),
      [
        ['60', '/a', '2', '1.000000000002', '20', '3'],
        ['60', '/b', '1', '0.5', '0', '3'],
      ],
    );
  });

  it('takes away what the rollup holds beyond the spans, and reports it', () => {
    const truth = [row(60, '/a', { spans: '1', cost_total: '1' })];
    const held = [
      row(60, '/a', { spans: '2', cost_total: '1.5' }),
      row(180, '/gone', { spans: '1', cost_total: '0.25' }),
    ];
    const { rows, excess } = rollupDelta(truth, held);
    assert.equal(excess.length, 2);
    assert.deepEqual(
      rows.map((r) => [r.minute, r.route, r.spans, r.cost_total]),
      [
        ['60', '/a', '-1', '-0.5'],
        ['180', '/gone', '-1', '-0.25'],
      ],
    );
  });

  it('writes nothing when the rollup already equals the spans', () => {
    const truth = [row(60, '/a', { spans: '1', cost_total: '1' })];
    assert.deepEqual(rollupDelta(truth, [row(60, '/a', { spans: '1', cost_total: '1.000000000000' })]), {
      rows: [],
      excess: [],
    });
  });

  it('lists the minutes where any measure differs', () => {
    const a: Record<string, string>[] = [
      { minute: '60', spans: '2', cost_total: '1', gpu_seconds: '0.5' },
      { minute: '120', spans: '1', cost_total: '3' },
    ];
    const b: Record<string, string>[] = [
      { minute: '60', spans: '2', cost_total: '1.0', gpu_seconds: '0.500000000001' },
      { minute: '120', spans: '1', cost_total: '3' },
      { minute: '180', spans: '1', cost_total: '0' },
    ];
    assert.deepEqual(minuteDifferences(a, b), [
      { minute: 60, spans: [2n, 2n], costTotal: ['1', '1'] },
      { minute: 180, spans: [0n, 1n], costTotal: ['0', '0'] },
    ]);
  });
});
