// ClickHouse unavailable mid-run: the aggregator reaches ClickHouse through a loopback TCP proxy
// (support/tcp-cut-proxy.ts) that drops every connection and refuses new ones for the outage
// window, so the shared ClickHouse server keeps running for everyone else. Spans keep arriving
// throughout. The consumer must pause (readiness says not ready), then resume: no loss, no
// duplicate, exact sum, and the consumer group's lag back to zero. Then graceful shutdown:
// stopping mid-stream leaves committed offsets exactly at what ClickHouse holds.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import { ClickHouseStore } from '@costtrace/store';
import { startAggregator } from './support/aggregator-harness.js';
import type { Harness } from './support/aggregator-harness.js';
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
import { TcpCutProxy } from './support/tcp-cut-proxy.js';

const OUTAGE_MS = Number(process.env.COSTTRACE_OUTAGE_MS ?? 30_000);

describe('ClickHouse outage and graceful shutdown', () => {
  const services = liveServices();
  const names = uniqueNames('outage');
  const kafka = testKafka(services.kafkaBrokers);
  const store = new ClickHouseStore({ url: services.clickhouseUrl, database: names.database });
  const target = new URL(services.clickhouseUrl);
  const proxy = new TcpCutProxy(target.hostname, Number(target.port));
  let harness: Harness | undefined;

  before(async () => {
    await createTopics(kafka, [names.topic, names.dlqTopic]);
  });

  after(async () => {
    await harness?.aggregator.stop().catch(() => undefined);
    await proxy.close();
    await store.command(`DROP DATABASE IF EXISTS ${names.database}`).catch(() => undefined);
    await store.close();
    await deleteTopics(kafka, [names.topic, names.dlqTopic]);
  });

  async function groupLag(groupId: string): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [names.topic] });
      const ends = await admin.fetchTopicOffsets(names.topic);
      let lag = 0;
      for (const end of ends) {
        const at = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
        lag += Number(end.high) - Math.max(0, Number(at));
      }
      return lag;
    } finally {
      await admin.disconnect();
    }
  }

  it(
    'pauses while ClickHouse is unreachable and resumes with nothing lost or doubled',
    { timeout: OUTAGE_MS + 150_000 },
    async () => {
      const port = await proxy.listen();
      harness = await startAggregator(
        names,
        { clickhouseUrl: `http://127.0.0.1:${port}`, clickhouseTimeoutMs: 3_000, logLevel: 'error' },
        { ingest: false },
      );
      const api = `http://127.0.0.1:${harness.addresses.api!.port}`;
      const producer = exactProducer(kafka);
      await producer.connect();
      let spans = 0;
      let expected = 0n;
      let wave = 0;
      let producing = true;
      const feeding = (async () => {
        while (producing) {
          const w = mixedWorkload(5, 10, 7000 + wave++);
          await producer.send({
            topic: names.topic,
            acks: -1,
            messages: w.requests.map((r) => ({ value: Buffer.from(ExportTraceServiceRequest.encode(r).finish()) })),
          });
          spans += w.spans;
          expected += w.expectedPicos;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      })();
      const count = async (): Promise<number> =>
        Number((await store.select<{ n: number }>(`SELECT count() AS n FROM ${names.database}.span_costs`))[0]?.n);
      await waitFor('rows before the outage', count, (n) => n > 0, 30_000);

      proxy.cutLine();
      const cutAt = Date.now();
      await waitFor(
        'readiness to report ClickHouse down',
        () => fetch(`${api}/readyz`).then((r) => r.status),
        (s) => s === 503,
        20_000,
      );
      await waitFor(
        'a paused partition',
        () => harness!.aggregator.metrics.pausedPartitions.get().then((m) => m.values[0]?.value ?? 0),
        (v) => v > 0,
        20_000,
      );
      const during = await count();
      await waitFor(
        'the outage window to pass',
        () => Promise.resolve(Date.now() - cutAt),
        (t) => t >= OUTAGE_MS,
        OUTAGE_MS + 5_000,
      );
      assert.ok((await groupLag(names.groupId)) > 0, 'lag built up during the outage');
      proxy.restore();

      await waitFor(
        'readiness to recover',
        () => fetch(`${api}/readyz`).then((r) => r.status),
        (s) => s === 200,
        30_000,
      );
      producing = false;
      await feeding;
      await producer.disconnect();
      await waitFor(`all ${spans} spans stored`, count, (n) => n >= spans, 90_000);
      await waitFor(
        'consumer lag back to zero',
        () => groupLag(names.groupId),
        (lag) => lag === 0,
        30_000,
      );

      const [stats] = await store.select<{ rows: number; spans: number; total: string }>(
        `SELECT count() AS rows, uniqExact(trace_id, span_id) AS spans, toString(sum(cost_total)) AS total FROM ${names.database}.span_costs`,
      );
      assert.ok(during < spans, 'spans arrived while ClickHouse was away');
      assert.equal(Number(stats!.rows), spans, 'no loss, no duplicate');
      assert.equal(Number(stats!.spans), spans);
      assert.equal(decimalToPicos(stats!.total), expected, 'exact sum');
      const metrics = await harness.aggregator.metrics.registry.metrics();
      assert.match(metrics, /costtrace_consumer_insert_failures_total\{code="UNAVAILABLE"\} [1-9]/);
    },
  );

  it('finishes and commits the in-flight batch on graceful shutdown', { timeout: 120_000 }, async () => {
    const before = Number(
      (await store.select<{ n: number }>(`SELECT count() AS n FROM ${names.database}.span_costs`))[0]?.n,
    );
    const producer = exactProducer(kafka);
    await producer.connect();
    const w = mixedWorkload(300, 10, 99);
    await producer.send({
      topic: names.topic,
      acks: -1,
      messages: w.requests.map((r) => ({ value: Buffer.from(ExportTraceServiceRequest.encode(r).finish()) })),
    });
    await producer.disconnect();
    await waitFor(
      'some new rows',
      () => store.select<{ n: number }>(`SELECT count() AS n FROM ${names.database}.span_costs`),
      (r) => Number(r[0]?.n) > before,
      30_000,
    );
    await harness!.aggregator.stop();
    harness = undefined;
    // Every stored message is committed and nothing committed is missing.
    const stored = await store.storedOffsets(names.topic);
    const admin = kafka.admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId: names.groupId, topics: [names.topic] });
    await admin.disconnect();
    for (const [partition, offset] of stored) {
      const at = committed!.partitions.find((p) => p.partition === partition)!.offset;
      assert.equal(BigInt(at), offset + 1n, `partition ${partition}: committed right after the last stored message`);
    }
  });
});
