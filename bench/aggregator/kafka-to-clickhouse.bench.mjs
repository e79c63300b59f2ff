// End-to-end throughput of one aggregator process, Kafka → decode/validate/price → ClickHouse,
// measured beside raw kafkajs consumption of the same topic and raw @clickhouse/client
// insertion of the same rows, in the same run, on the same machine.
//
//   npm run build && KAFKA_BROKERS=127.0.0.1:19092 CLICKHOUSE_URL=http://127.0.0.1:18123 \
//     node bench/aggregator/kafka-to-clickhouse.bench.mjs [spans=300000] [spansPerMessage=100]
//
// Prints spans/s for each, the ratios, and the peak RSS of this process. BENCH_TRACE=1 also prints
// the consumer's batch stages with timestamps; BENCH_MAX_BYTES_PER_PARTITION sets the fetch size.
import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { clearInterval, setInterval } from 'node:timers';
import { Readable } from 'node:stream';
import kafkajs from 'kafkajs';
import { createClient } from '@clickhouse/client';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import { ClickHouseStore, SPAN_COST_COLUMNS, spanCostTsv } from '@costtrace/store';
import { bundledPricingView, StaticPriceSource } from '@costtrace/core';
import { Aggregator, loadConfig, spanCostRows } from '@costtrace/aggregator';
import { tokenSpanRequest } from './token-span-workload.mjs';

const SPANS = Number(process.argv[2] ?? 300_000);
const PER_MESSAGE = Number(process.argv[3] ?? 100);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const clickhouseUrl = process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:18123';
const id = randomUUID().replaceAll('-', '').slice(0, 10);
const topic = `bench_${id}`;
const database = `ct_bench_${id}`;
const kafka = new kafkajs.Kafka({ clientId: 'costtrace-bench', brokers, logLevel: kafkajs.logLevel.NOTHING });

function message(m) {
  return Buffer.from(ExportTraceServiceRequest.encode(tokenSpanRequest(m, PER_MESSAGE)).finish());
}

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);

async function time(fn) {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const admin = kafka.admin();
await admin.connect();
await admin.createTopics({
  topics: [
    { topic, numPartitions: 3 },
    { topic: `${topic}.dlq`, numPartitions: 1 },
  ],
  waitForLeaders: true,
});
const messages = Math.ceil(SPANS / PER_MESSAGE);
const values = Array.from({ length: messages }, (_v, m) => message(m));
const producer = kafka.producer();
await producer.connect();
for (let i = 0; i < values.length; i += 20) {
  await producer.send({ topic, acks: -1, messages: values.slice(i, i + 20).map((value) => ({ value })) });
}
await producer.disconnect();
const spans = messages * PER_MESSAGE;
const bytes = values.reduce((n, v) => n + v.length, 0);
console.log(`topic ${topic}: ${messages} messages, ${spans} spans, ${(bytes / 1e6).toFixed(1)} MB of otlp_proto`);

// 1. Raw kafkajs consumption of the same topic (no decoding).
let consumed = 0;
const raw = kafka.consumer({
  groupId: `bench-raw-${id}`,
  maxBytesPerPartition: 16 * 1024 * 1024,
  maxWaitTimeInMs: 100,
});
await raw.connect();
await raw.subscribe({ topic, fromBeginning: true });
const rawSeconds = await time(
  () =>
    new Promise((resolve) => {
      void raw.run({
        eachBatch: async ({ batch }) => {
          consumed += batch.messages.length;
          if (consumed >= messages) resolve();
        },
      });
    }),
);
await raw.disconnect();

// 2. Raw @clickhouse/client insertion of the same rows (prepared TSV, 100k rows per insert).
const store = new ClickHouseStore({ url: clickhouseUrl, database });
await store.migrate();
const prices = new StaticPriceSource(bundledPricingView());
const tsvChunks = [];
let chunk = [];
for (let m = 0; m < values.length; m++) {
  const result = spanCostRows(
    ExportTraceServiceRequest.decode(values[m]),
    { topic, partition: 0, offset: BigInt(m) },
    Date.now(),
    { prices },
  );
  for (const row of result.rows) chunk.push(spanCostTsv(row));
  if (chunk.length >= 100_000 || m === values.length - 1) {
    tsvChunks.push(Buffer.from(chunk.join('')));
    chunk = [];
  }
}
await store.command(`CREATE TABLE ${database}.raw_insert AS ${database}.span_costs`);
const client = createClient({ url: clickhouseUrl });
const insertSeconds = await time(async () => {
  for (const body of tsvChunks) {
    await client.insert({
      table: `${database}.raw_insert`,
      columns: [...SPAN_COST_COLUMNS],
      format: 'TabSeparated',
      values: Readable.from([body], { objectMode: false }),
    });
  }
});
await client.close();

// 3. The aggregator, end to end, into span_costs (with the rollup view).
const aggregator = new Aggregator({
  config: loadConfig(
    {
      kafkaBrokers: brokers,
      clickhouseUrl,
      clickhouseDatabase: database,
      spansTopic: topic,
      deadLetterTopic: `${topic}.dlq`,
      consumerGroupId: `bench-e2e-${id}`,
      maxBytesPerPartition: Number(process.env.BENCH_MAX_BYTES_PER_PARTITION ?? 16 * 1024 * 1024),
      retentionIntervalSeconds: 0,
      logLevel: 'warn',
    },
    {},
  ),
  ingest: false,
  api: false,
  onConsumerStage: (stage, info) => {
    if (process.env.BENCH_TRACE)
      console.log(
        `${(Number(process.hrtime.bigint() - traceStart) / 1e6).toFixed(0)} ms ${stage} p${info.partition} ${info.rows}`,
      );
  },
});
let firstRowAt = 0n;
const traceStart = process.hrtime.bigint();
let firstRows = 0;
const e2eSeconds = await time(async () => {
  await aggregator.start();
  for (;;) {
    const [{ n }] = await store.select(`SELECT count() AS n FROM ${database}.span_costs`);
    if (firstRowAt === 0n && Number(n) > 0) {
      firstRowAt = process.hrtime.bigint();
      firstRows = Number(n);
    }
    if (Number(n) >= spans) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});
const steadySeconds = Number(process.hrtime.bigint() - firstRowAt) / 1e9;
await aggregator.stop();
clearInterval(sampler);

const rate = (s) => Math.round(spans / s);
console.log(
  `raw kafkajs consumption:        ${rate(rawSeconds).toLocaleString('en')} spans/s (${rawSeconds.toFixed(2)} s)`,
);
console.log(
  `raw @clickhouse/client insert:  ${rate(insertSeconds).toLocaleString('en')} spans/s (${insertSeconds.toFixed(2)} s)`,
);
console.log(
  `aggregator end to end:          ${rate(e2eSeconds).toLocaleString('en')} spans/s (${e2eSeconds.toFixed(2)} s from start(), group join included)`,
);
console.log(
  `aggregator after the first insert: ${Math.round((spans - firstRows) / steadySeconds).toLocaleString('en')} spans/s (${steadySeconds.toFixed(2)} s)`,
);
console.log(
  `ratios: end-to-end / raw consume = ${(rawSeconds / e2eSeconds).toFixed(2)}, end-to-end / raw insert = ${(insertSeconds / e2eSeconds).toFixed(2)}`,
);
console.log(`peak RSS of this process: ${(peakRss / 1024 / 1024).toFixed(0)} MiB`);
console.log(
  `reproduce: KAFKA_BROKERS=${brokers.join(',')} CLICKHOUSE_URL=<url> node bench/aggregator/kafka-to-clickhouse.bench.mjs ${SPANS} ${PER_MESSAGE}`,
);

await store.command(`DROP DATABASE IF EXISTS ${database}`);
await store.close();
await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] });
await admin.disconnect();
