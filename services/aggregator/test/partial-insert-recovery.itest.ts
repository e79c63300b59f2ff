// Recovery from every state a crash of ClickHouse can leave, made deterministic. A batch of
// three messages whose spans cover three UTC days is written by ClickHouse as a sequence of
// parts: per day the span part, then the rollup part of the materialized view (the view's part
// follows the table's). A server killed mid-insert keeps a prefix of that sequence. Each case
// below builds one such prefix for real on the server (a span part without its view part is
// written with the view detached), as if the consumer had died with it, and then starts the
// aggregator on the topic with nothing committed. Every case must end with exactly one row per
// span, the exact sum, and the rollup equal to the spans in every minute. Two more cases are the
// prefixes an older aggregator's single multi-day insert left (several span parts, no view part).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import { ClickHouseStore } from '@costtrace/store';
import type { SpanCostRow } from '@costtrace/store';
import { bundledPricingView, StaticPriceSource } from '@costtrace/core';
import { spanCostRows } from '../src/index.js';
import { startAggregator } from './support/aggregator-harness.js';
import { mixedWorkload } from './support/otlp-fixtures.js';
import {
  createTopics,
  decimalToPicos,
  deleteTopics,
  exactProducer,
  liveServices,
  testKafka,
  uniqueNames,
  waitFor,
} from './support/live-services.js';

const NANOS_PER_DAY = 86_400_000_000_000n;

/** A step of the part sequence: a day's span part, or the rollup part of that day's spans. */
type Step = { readonly kind: 'spans' | 'rollup'; readonly day: number };

describe('recovery from a ClickHouse insert cut at every part boundary', () => {
  const services = liveServices();
  const names = uniqueNames('partial');
  const kafka = testKafka(services.kafkaBrokers);
  const store = new ClickHouseStore({ url: services.clickhouseUrl, database: names.database });
  const topics: string[] = [];

  // Three messages of 8 spans each, spread over the last 60 hours: three UTC days at least.
  const now = Date.now();
  const workload = mixedWorkload(3, 8, 1207, 60 * 3600);
  const messages = workload.requests.map((r) => Buffer.from(ExportTraceServiceRequest.encode(r).finish()));

  before(async () => {
    await store.migrate();
  });

  after(async () => {
    await store.command(`DROP DATABASE IF EXISTS ${names.database}`).catch(() => undefined);
    await store.close();
    await deleteTopics(kafka, topics).catch(() => undefined);
  });

  /** The rows the consumer makes of the three messages at offsets 0..2 of partition 0 of `topic`. */
  function consumerRows(topic: string): SpanCostRow[][] {
    const prices = new StaticPriceSource(bundledPricingView());
    const days = new Map<bigint, SpanCostRow[]>();
    messages.forEach((_, offset) => {
      const result = spanCostRows(workload.requests[offset]!, { topic, partition: 0, offset: BigInt(offset) }, now, {
        prices,
      });
      assert.equal(result.rejected.length, 0);
      for (const row of result.rows) {
        const day = row.startTimeUnixNano / NANOS_PER_DAY;
        days.set(day, [...(days.get(day) ?? []), row]);
      }
    });
    return [...days.keys()].sort((a, b) => (a < b ? -1 : 1)).map((day) => days.get(day)!);
  }

  async function withViewDetached(write: () => Promise<void>): Promise<void> {
    await store.command(`DETACH TABLE ${names.database}.span_costs_1m_mv`);
    try {
      await write();
    } finally {
      await store.command(`ATTACH TABLE ${names.database}.span_costs_1m_mv`);
    }
  }

  /** Writes a prefix of the part sequence: a day's two parts together, or its span part alone. */
  async function writePrefix(days: SpanCostRow[][], steps: readonly Step[]): Promise<void> {
    for (const [i, step] of steps.entries()) {
      if (step.kind === 'rollup') continue; // written with its span part
      const rows = days[step.day]!;
      if (steps[i + 1]?.kind === 'rollup') await store.insertSpanCosts(rows);
      else await withViewDetached(() => store.insertSpanCosts(rows));
    }
  }

  async function recoverAndCheck(label: string, prefix: (days: SpanCostRow[][]) => Promise<number>): Promise<void> {
    const topic = `${names.topic}_${topics.length}`;
    topics.push(topic);
    await createTopics(kafka, [topic], 1);
    const producer = exactProducer(kafka);
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: messages.map((value) => ({ value })) });
    await producer.disconnect();

    const days = consumerRows(topic);
    assert.ok(days.length >= 3, `the batch covers ${days.length} UTC days`);
    const stored = await prefix(days);
    const where = `kafka_topic = '${topic}'`;
    const count = async (): Promise<number> =>
      Number(
        (await store.select<{ n: string }>(`SELECT count() AS n FROM ${names.database}.span_costs WHERE ${where}`))[0]
          ?.n,
      );
    assert.equal(await count(), stored, `${label}: the crash left ${stored} rows`);

    const harness = await startAggregator(
      { ...names, topic, groupId: `${names.groupId}_${topics.length}` },
      { maxBatchRows: 1000, logLevel: 'error' },
      { ingest: false, api: false },
    );
    try {
      await waitFor(`${label}: ${workload.spans} rows`, count, (n) => n >= workload.spans, 60_000);
      // Committed: the batch is done, nothing more will be written for it.
      const admin = kafka.admin();
      await admin.connect();
      await waitFor(
        `${label}: offsets committed`,
        async () =>
          (await admin.fetchOffsets({ groupId: `${names.groupId}_${topics.length}`, topics: [topic] }))[0]
            ?.partitions[0]?.offset,
        (offset) => offset === String(messages.length),
        30_000,
      );
      await admin.disconnect();
    } finally {
      await harness.aggregator.stop();
    }
    const [stats] = await store.select<{
      rows: string;
      uniq: string;
      total: string;
      rollup: string;
      rollupTotal: string;
    }>(
      `SELECT count() AS rows, uniqExact(trace_id, span_id) AS uniq, toString(sum(cost_total)) AS total, ` +
        `(SELECT toString(sum(spans)) FROM ${names.database}.span_costs_1m WHERE ${where}) AS rollup, ` +
        `(SELECT toString(sum(cost_total)) FROM ${names.database}.span_costs_1m WHERE ${where}) AS rollupTotal ` +
        `FROM ${names.database}.span_costs WHERE ${where}`,
    );
    assert.equal(Number(stats!.rows), workload.spans, `${label}: exactly one row per span`);
    assert.equal(Number(stats!.uniq), workload.spans, `${label}: every span present`);
    assert.equal(decimalToPicos(stats!.total), workload.expectedPicos, `${label}: exact sum`);
    assert.equal(Number(stats!.rollup), workload.spans, `${label}: the rollup counts each span once`);
    assert.equal(decimalToPicos(stats!.rollupTotal), workload.expectedPicos, `${label}: the rollup's exact sum`);
    assert.deepEqual(await store.rollupDifferences(), [], `${label}: every minute of the rollup equals its spans`);
  }

  const sequence: Step[] = [0, 1, 2].flatMap((day) => [
    { kind: 'spans', day },
    { kind: 'rollup', day },
  ]);
  for (let k = 0; k <= sequence.length; k++) {
    const steps = sequence.slice(0, k);
    const label = k === 0 ? 'nothing written' : `cut after ${steps.map((s) => `${s.kind}@day${s.day}`).join(', ')}`;
    it(label, { timeout: 120_000 }, async () => {
      await recoverAndCheck(label, async (days) => {
        await writePrefix(days, steps);
        return steps.filter((s) => s.kind === 'spans').reduce((n, s) => n + days[s.day]!.length, 0);
      });
    });
  }

  for (const kept of [1, 2]) {
    const label = `an older aggregator's multi-day insert cut after ${kept} of its span parts, before its view part`;
    it(label, { timeout: 120_000 }, async () => {
      await recoverAndCheck(label, async (days) => {
        await withViewDetached(async () => {
          for (const rows of days.slice(0, kept)) await store.insertSpanCosts(rows);
        });
        return days.slice(0, kept).reduce((n, rows) => n + rows.length, 0);
      });
    });
  }
});
