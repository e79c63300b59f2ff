// The rows of partitions processed at once share one ClickHouse insert (InsertCoalescer): each
// insert costs ClickHouse a fixed amount of CPU whatever its size, so small batches of several
// partitions are written together. Real Kafka and ClickHouse: three partitions hold small
// batches before the consumer starts, so its first fetch brings all three at once; they must be
// stored exactly (one row per span, the exact sum, the rollup equal to the spans) in fewer
// inserts than partitions, and with one partition at a time in one insert per partition.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import { ClickHouseStore } from '@costtrace/store';
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

const PARTITIONS = 3;

describe('partitions processed at once share inserts', () => {
  const services = liveServices();
  const names = uniqueNames('shared');
  const kafka = testKafka(services.kafkaBrokers);
  const store = new ClickHouseStore({ url: services.clickhouseUrl, database: names.database });
  const topics: string[] = [];
  // 12 messages of 6 spans, four per partition.
  const workload = mixedWorkload(12, 6, 4411);
  const values = workload.requests.map((r) => Buffer.from(ExportTraceServiceRequest.encode(r).finish()));

  before(async () => {
    await store.migrate();
  });

  after(async () => {
    await store.command(`DROP DATABASE IF EXISTS ${names.database}`).catch(() => undefined);
    await store.close();
    await deleteTopics(kafka, topics).catch(() => undefined);
  });

  /** Stores the workload with `concurrently` partitions at a time; returns the inserts made. */
  async function storeWith(concurrently: number): Promise<number> {
    const topic = `${names.topic}_${concurrently}`;
    topics.push(topic);
    await createTopics(kafka, [topic], PARTITIONS);
    const producer = exactProducer(kafka);
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: values.map((value, i) => ({ value, partition: i % PARTITIONS })),
    });
    await producer.disconnect();

    const where = `kafka_topic = '${topic}'`;
    const harness = await startAggregator(
      { ...names, topic, groupId: `${names.groupId}_${concurrently}` },
      { partitionsConsumedConcurrently: concurrently, workerThreads: 0, logLevel: 'error' },
      { ingest: false, api: false },
    );
    let inserts: number;
    try {
      await waitFor(
        `${workload.spans} rows with ${concurrently} partition(s) at a time`,
        async () =>
          Number(
            (
              await store.select<{ n: string }>(`SELECT count() AS n FROM ${names.database}.span_costs WHERE ${where}`)
            )[0]?.n,
          ),
        (n) => n >= workload.spans,
        60_000,
      );
      // The rows are visible before the consumer has the insert's answer: the inserts are counted
      // once it has stored (and counted) every span.
      const metrics = harness.aggregator.metrics;
      await waitFor(
        'every span counted as stored',
        async () => (await metrics.spansStored.get()).values.reduce((n, v) => n + v.value, 0),
        (n) => n >= workload.spans,
        30_000,
      );
      const count = (await metrics.batchRows.get()).values.find((v) => v.metricName?.endsWith('_count'));
      inserts = count?.value ?? Number.NaN;
    } finally {
      await harness.aggregator.stop();
    }

    const [stats] = await store.select<{ rows: string; uniq: string; total: string; rollup: string }>(
      `SELECT count() AS rows, uniqExact(kafka_partition, kafka_offset, kafka_span_index) AS uniq, ` +
        `toString(sum(cost_total)) AS total, ` +
        `(SELECT toString(sum(spans)) FROM ${names.database}.span_costs_1m WHERE ${where}) AS rollup ` +
        `FROM ${names.database}.span_costs WHERE ${where}`,
    );
    assert.equal(Number(stats!.rows), workload.spans, 'one row per span');
    assert.equal(Number(stats!.uniq), workload.spans, 'every span present');
    assert.equal(decimalToPicos(stats!.total), workload.expectedPicos, 'the exact sum');
    assert.equal(Number(stats!.rollup), workload.spans, 'the rollup counts each span once');
    assert.deepEqual(await store.rollupDifferences(), [], 'every minute of the rollup equals its spans');
    return inserts;
  }

  it('three partitions at once: fewer inserts than partitions', { timeout: 120_000 }, async () => {
    const inserts = await storeWith(3);
    assert.ok(inserts >= 1 && inserts < PARTITIONS, `${inserts} inserts for ${PARTITIONS} partitions' batches`);
  });

  it('one partition at a time: an insert per partition', { timeout: 120_000 }, async () => {
    const inserts = await storeWith(1);
    assert.ok(inserts >= PARTITIONS, `${inserts} inserts for ${PARTITIONS} partitions' batches`);
  });
});
