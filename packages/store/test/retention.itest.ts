// Retention without TTL on the real ClickHouse: whole partitions past the policy are dropped,
// newer ones and partitions that still hold recent days stay.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { ClickHouseStore } from '../src/index.js';

describe('partition-drop retention', () => {
  const url = process.env.CLICKHOUSE_URL;
  if (!url) throw new Error('CLICKHOUSE_URL is not set: run with `npm run test:integration`');
  const database = `ct_retention_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const store = new ClickHouseStore({ url, database });

  after(async () => {
    await store.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    await store.close();
  });

  it('drops span partitions older than the span days and rollup months older than the rollup days', async () => {
    await store.migrate();
    const now = Date.UTC(2026, 10, 23, 12, 0, 0);
    const day = 86_400;
    const insert = async (secondsAgo: number, id: string): Promise<void> => {
      const t = Math.floor(now / 1000) - secondsAgo;
      await store.command(
        `INSERT INTO ${database}.span_costs (start_time, start_time_unix_nano, trace_id, span_id, service, cost_total, currency, kafka_topic, kafka_offset) ` +
          `VALUES (toDateTime(${t}, 'UTC'), ${t}000000000, '${id}', '${id}', 'svc', 1, 'USD', 't', 0)`,
      );
    };
    await insert(40 * day, 'old');
    await insert(31 * day, 'edge');
    await insert(29 * day, 'kept');
    await insert(0, 'today');
    const dropped = await store.dropExpiredPartitions({ spanDays: 30, rollupDays: 60 }, now);
    const left = await store.select<{ trace_id: string }>(
      `SELECT trace_id FROM ${database}.span_costs ORDER BY start_time`,
    );
    assert.deepEqual(
      left.map((r) => r.trace_id),
      ['kept', 'today'],
    );
    assert.deepEqual(dropped.filter((d) => d.startsWith('span_costs/')).sort(), [
      'span_costs/20261014',
      'span_costs/20261023',
    ]);
    // The rollup is by month: October 2026 ends 23 days before "now", within 60 days: kept.
    const months = await store.select<{ m: string }>(
      `SELECT DISTINCT toString(toYYYYMM(minute)) AS m FROM ${database}.span_costs_1m ORDER BY m`,
    );
    assert.deepEqual(
      months.map((r) => r.m),
      ['202610', '202611'],
    );
    const later = await store.dropExpiredPartitions({ spanDays: 30, rollupDays: 20 }, now);
    assert.ok(later.includes('span_costs_1m/202610'), JSON.stringify(later));
  });
});
