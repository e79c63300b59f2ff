// Exactly-once storage when the ClickHouse server itself dies: a ClickHouse server of this test's
// own (not a proxy) is killed -9 while the aggregator's inserts are in flight, several times, and
// started again. The spans' start times are spread over 40 hours, so every batch covers two or
// three UTC days: ClickHouse writes such an insert as several parts (and the rollup's part after
// them), and a server killed between them keeps only some. Afterwards span_costs must hold
// exactly one row per span with the exact sum, and the rollup must equal the spans minute by
// minute.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import { ClickHouseStore } from '@costtrace/store';
import { startAggregator } from './support/aggregator-harness.js';
import type { Harness } from './support/aggregator-harness.js';
import { ClickHouseProcess } from './support/clickhouse-process.js';
import { mixedWorkload, seededRandom } from './support/otlp-fixtures.js';
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

const KILLS = Number(process.env.COSTTRACE_CH_KILLS ?? 6);
const SEED = Number(process.env.COSTTRACE_CH_KILL_SEED ?? Date.now() % 100_000);
const SPREAD_SECONDS = 40 * 3600;

describe('exactly-once storage when the ClickHouse server is killed -9 mid-insert', () => {
  const services = liveServices();
  const names = uniqueNames('chkill');
  const kafka = testKafka(services.kafkaBrokers);
  let clickhouse: ClickHouseProcess | undefined;
  let store: ClickHouseStore | undefined;
  let harness: Harness | undefined;

  before(async () => {
    clickhouse = await ClickHouseProcess.create();
    await clickhouse.start();
    store = new ClickHouseStore({ url: clickhouse.url, database: names.database });
    await createTopics(kafka, [names.topic, names.dlqTopic]);
  });

  after(async () => {
    await harness?.aggregator.stop().catch(() => undefined);
    await store?.close();
    await clickhouse?.destroy();
    await deleteTopics(kafka, [names.topic, names.dlqTopic]);
  });

  it('stores every span once and keeps the rollup equal to the spans', { timeout: 300_000 }, async () => {
    const server = clickhouse!;
    const random = seededRandom(SEED);
    const kills: string[] = [];
    let crashing: Promise<void> | undefined;
    harness = await startAggregator(
      names,
      {
        clickhouseUrl: server.url,
        clickhouseTimeoutMs: 3_000,
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        // Several inserts per batch, each covering several days.
        maxBatchRows: 120,
        logLevel: 'error',
      },
      {
        ingest: false,
        api: false,
        onConsumerStage: (stage, info) => {
          if (stage !== 'insert-started' || info.rows === 0 || crashing !== undefined || kills.length >= KILLS) return;
          // Not every insert: some complete between the crashes.
          if (random() < 0.4) return;
          const delayMs = Math.floor(random() * 30);
          crashing = (async () => {
            await new Promise((resolve) => setTimeout(resolve, delayMs));
            await server.kill();
            kills.push(`${delayMs}ms/${info.rows}rows`);
            await server.start();
          })().finally(() => {
            crashing = undefined;
          });
        },
      },
    );

    const producer = exactProducer(kafka);
    await producer.connect();
    let spans = 0;
    let expected = 0n;
    let wave = 0;
    const deadline = Date.now() + 150_000;
    while (kills.length < KILLS && Date.now() < deadline) {
      const workload = mixedWorkload(12, 25, SEED * 1000 + wave, SPREAD_SECONDS);
      await producer.send({
        topic: names.topic,
        acks: -1,
        messages: workload.requests.map((r, i) => ({
          key: `k${(wave + i) % 5}`,
          value: Buffer.from(ExportTraceServiceRequest.encode(r).finish()),
        })),
      });
      spans += workload.spans;
      expected += workload.expectedPicos;
      wave++;
      // Produce the next wave once this one is stored (or a crash is under way): each wave is
      // a fresh batch of multi-day inserts for the next crash to hit.
      const stored = async (): Promise<number> =>
        crashing !== undefined
          ? -1
          : store!
              .select<{ n: string }>(`SELECT count() AS n FROM ${names.database}.span_costs`)
              .then((rows) => Number(rows[0]?.n ?? 0))
              .catch(() => 0);
      await waitFor('the wave stored or a crash', stored, (n) => n === -1 || n >= spans, 60_000);
      await crashing;
    }
    await producer.disconnect();
    await crashing;
    console.log(
      `seed ${SEED}: ${spans} spans in ${wave} waves, ClickHouse killed -9 ${kills.length} times: ${kills.join(', ')}`,
    );
    assert.equal(kills.length, KILLS, `ClickHouse was killed ${KILLS} times`);

    const db = names.database;
    await waitFor(
      `${spans} rows`,
      () => store!.select<{ n: string }>(`SELECT count() AS n FROM ${db}.span_costs`),
      (rows) => Number(rows[0]?.n) >= spans,
      120_000,
    );
    const metrics = await harness.aggregator.metrics.registry.getMetricsAsJSON();
    const repaired = metrics.find((m) => m.name === 'costtrace_consumer_rollup_rows_repaired_total');
    console.log(`rollup rows repaired by recovery: ${JSON.stringify(repaired?.values.map((v) => v.value))}`);

    const [stats] = await store!.select<{ rows: string; uniq: string; days: string; total: string }>(
      `SELECT count() AS rows, uniqExact(trace_id, span_id) AS uniq, uniqExact(toYYYYMMDD(start_time)) AS days, ` +
        `toString(sum(cost_total)) AS total FROM ${db}.span_costs`,
    );
    assert.equal(Number(stats!.rows), spans, 'exactly one row per span');
    assert.equal(Number(stats!.uniq), spans, 'every span present');
    assert.ok(Number(stats!.days) >= 2, `the spans cover several days (${stats!.days})`);
    assert.equal(decimalToPicos(stats!.total), expected, 'exact sum');
    const [rollup] = await store!.select<{ spans: string; total: string }>(
      `SELECT toString(sum(spans)) AS spans, toString(sum(cost_total)) AS total FROM ${db}.span_costs_1m`,
    );
    assert.equal(Number(rollup!.spans), spans, 'the rollup counts each span once');
    assert.equal(decimalToPicos(rollup!.total), expected, 'the rollup holds the exact sum');
    assert.deepEqual(await store!.rollupDifferences(), [], 'every minute of the rollup equals its spans');
  });
});
