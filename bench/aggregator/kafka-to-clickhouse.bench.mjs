// End-to-end throughput of one aggregator process, Kafka → decode/validate/price → ClickHouse,
// measured beside raw kafkajs consumption of the same topic and raw @clickhouse/client
// insertion of the same rows, in the same run, on the same machine.
//
//   npm run build && KAFKA_BROKERS=127.0.0.1:19092 CLICKHOUSE_URL=http://127.0.0.1:18123 \
//     node bench/aggregator/kafka-to-clickhouse.bench.mjs [spans=300000] [spansPerMessage=100]
//
// The aggregator runs as its own process (services/aggregator/dist/src/main.js, budgets off), once
// per worker-thread count in BENCH_THREADS (default 0,1,2: in the consumer's thread, one worker,
// two). Prints spans/s for each, the ratios, the peak RSS of the aggregator process alone, and
// checks that every run stored the same total. BENCH_MAX_BYTES_PER_PARTITION sets the fetch size;
// BENCH_LOG=1 shows the aggregator's debug log (its start-up steps and batches, with times).
// It also prints the CPU seconds per 1,000 spans of the aggregator, ClickHouse and Kafka processes
// (read from /proc) for each run; BENCH_NODE_FLAGS passes flags to the aggregator's node (e.g.
// "--cpu-prof --cpu-prof-dir=/tmp/prof").
import { Buffer } from 'node:buffer';
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { clearInterval, setInterval } from 'node:timers';
import { Readable } from 'node:stream';
import kafkajs from 'kafkajs';
import { createClient } from '@clickhouse/client';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import { ClickHouseStore, SPAN_COST_COLUMNS, spanCostTsv } from '@costtrace/store';
import { bundledPricingView, StaticPriceSource } from '@costtrace/core';
import { spanCostRows } from '@costtrace/aggregator';
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

// Where the cores go: CPU seconds (user + system, from /proc) of the aggregator process, of the
// ClickHouse server and of the Kafka broker on this machine while each path runs. Their sum per
// span bounds the rate this machine can reach however the work is arranged.
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const CORES = availableParallelism();

function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat; fields here start at field 3.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0; // gone, or not ours to read
  }
}

function pidsOf(pattern) {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (pattern.test(readFileSync(`/proc/${entry}/cmdline`, 'utf8'))) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

const servicePids = { clickhouse: pidsOf(/clickhouse(-server|\0server)/), kafka: pidsOf(/kafka\.Kafka/) };

function serviceCpu() {
  const sum = (pids) => pids.reduce((n, pid) => n + cpuSecondsOf(pid), 0);
  return { clickhouse: sum(servicePids.clickhouse), kafka: sum(servicePids.kafka) };
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
// Into a table of span_costs' columns without the rollup view (the figure the ratios have always
// used), and into span_costs itself, where the materialized view writes the rollup with every
// insert (what the aggregator's inserts cost ClickHouse).
await store.command(`CREATE TABLE ${database}.raw_insert AS ${database}.span_costs`);
const client = createClient({ url: clickhouseUrl });
const rawInsert = (table) =>
  time(async () => {
    for (const body of tsvChunks) {
      await client.insert({
        table: `${database}.${table}`,
        columns: [...SPAN_COST_COLUMNS],
        format: 'TabSeparated',
        values: Readable.from([body], { objectMode: false }),
      });
    }
  });
const insertSeconds = await rawInsert('raw_insert');
const rollupCpuBefore = serviceCpu();
const rollupInsertSeconds = await rawInsert('span_costs');
const rollupInsertCpu = serviceCpu().clickhouse - rollupCpuBefore.clickhouse;
await client.close();

// 3. The aggregator, end to end into span_costs (with the rollup view), as a process of its own
//    (the production entry point, budgets off), once per worker-thread count, timed from the
//    process's start (Node's start-up, connecting, the group join and the first fetch included).
//    Its peak RSS is the kernel's high-water mark of that process alone (VmHWM), read just before
//    it stops.
const aggregatorMain = fileURLToPath(new URL('../../services/aggregator/dist/src/main.js', import.meta.url));

function peakRssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /VmHWM:\s+(\d+) kB/.exec(status);
  return kib === null ? Number.NaN : Number(kib[1]) * 1024;
}

async function endToEnd(threads, run) {
  const db = `${database}_r${run}`;
  // The schema exists already (as it does for a restarted aggregator, and as it did for the
  // aggregator of the raw-insert database before this bench ran it as a process): start-up
  // checks the migrations but runs none.
  const runStore = new ClickHouseStore({ url: clickhouseUrl, database: db });
  await runStore.migrate();
  await runStore.close();
  const child = spawn(
    process.execPath,
    [...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), aggregatorMain],
    {
      env: {
        PATH: process.env.PATH,
        KAFKA_BROKERS: brokers.join(','),
        CLICKHOUSE_URL: clickhouseUrl,
        CLICKHOUSE_DATABASE: db,
        COSTTRACE_SPANS_TOPIC: topic,
        COSTTRACE_DLQ_TOPIC: `${topic}.dlq`,
        COSTTRACE_CONSUMER_GROUP: `bench-e2e-${id}-r${run}`,
        COSTTRACE_KAFKA_MAX_BYTES_PER_PARTITION: String(process.env.BENCH_MAX_BYTES_PER_PARTITION ?? 16 * 1024 * 1024),
        COSTTRACE_WORKER_THREADS: String(threads),
        COSTTRACE_BUDGETS: 'off',
        COSTTRACE_HTTP_PORT: '0',
        COSTTRACE_GRPC_PORT: '0',
        COSTTRACE_API_PORT: '0',
        COSTTRACE_RETENTION_INTERVAL_SECONDS: '0',
        COSTTRACE_LOG_LEVEL: process.env.BENCH_LOG ? 'debug' : 'warn',
      },
      stdio: ['ignore', process.env.BENCH_LOG ? 'inherit' : 'ignore', 'inherit'],
    },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // The bench must not leave an aggregator behind, whatever ends it.
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  const started = process.hrtime.bigint();
  const cpuBefore = serviceCpu();
  const benchCpuBefore = process.cpuUsage();
  let aggregatorCpu = 0;
  let firstRowAt = 0n;
  let firstRows = 0;
  let peakRss = 0;
  const deadline = Date.now() + 600_000;
  for (;;) {
    peakRss = Math.max(peakRss, peakRssOf(child.pid));
    aggregatorCpu = Math.max(aggregatorCpu, cpuSecondsOf(child.pid));
    const n = await store
      .select(`SELECT count() AS n FROM ${db}.span_costs`)
      .then(([row]) => Number(row.n))
      .catch(() => 0); // the process creates its database at start
    if (firstRowAt === 0n && n > 0) {
      firstRowAt = process.hrtime.bigint();
      firstRows = n;
    }
    if (n >= spans) break;
    if (child.exitCode !== null) throw new Error(`the aggregator exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`only ${n} of ${spans} spans stored after 10 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const done = process.hrtime.bigint();
  peakRss = Math.max(peakRss, peakRssOf(child.pid));
  aggregatorCpu = Math.max(aggregatorCpu, cpuSecondsOf(child.pid));
  const cpuAfter = serviceCpu();
  const benchCpu = process.cpuUsage(benchCpuBefore);
  child.kill('SIGTERM');
  await exited;
  process.removeListener('exit', killChild);
  const [{ total }] = await store.select(`SELECT toString(sum(cost_total)) AS total FROM ${db}.span_costs`);
  await store.command(`DROP DATABASE IF EXISTS ${db}`);
  return {
    threads,
    seconds: Number(done - started) / 1e9,
    steadySeconds: Number(done - firstRowAt) / 1e9,
    steadySpans: spans - firstRows,
    peakRss,
    total,
    cpu: {
      aggregator: aggregatorCpu,
      clickhouse: cpuAfter.clickhouse - cpuBefore.clickhouse,
      kafka: cpuAfter.kafka - cpuBefore.kafka,
      // The bench's own polling (a count query every 50 ms) while it waits.
      bench: (benchCpu.user + benchCpu.system) / 1e6,
    },
  };
}

const threadCounts = (process.env.BENCH_THREADS ?? '0,1,2').split(',').map(Number);
const runs = [];
for (const [run, threads] of threadCounts.entries()) runs.push(await endToEnd(threads, run));
clearInterval(sampler);

const rate = (s) => Math.round(spans / s);
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
console.log(
  `raw kafkajs consumption:        ${rate(rawSeconds).toLocaleString('en')} spans/s (${rawSeconds.toFixed(2)} s)`,
);
console.log(
  `raw @clickhouse/client insert:  ${rate(insertSeconds).toLocaleString('en')} spans/s (${insertSeconds.toFixed(2)} s)`,
);
console.log(
  `raw insert into span_costs with its rollup view: ${rate(rollupInsertSeconds).toLocaleString('en')} spans/s (${rollupInsertSeconds.toFixed(2)} s)`,
);
for (const run of runs) {
  const steady = Math.round(run.steadySpans / run.steadySeconds);
  console.log(
    `aggregator, ${run.threads === 0 ? 'no worker threads' : `${run.threads} worker thread${run.threads > 1 ? 's' : ''}`}: ` +
      `end to end ${rate(run.seconds).toLocaleString('en')} spans/s (${run.seconds.toFixed(2)} s from process start), ` +
      `after the first insert ${steady.toLocaleString('en')} spans/s; ` +
      `end-to-end / raw insert = ${(insertSeconds / run.seconds).toFixed(2)} ` +
      `(/ raw insert with the rollup = ${(rollupInsertSeconds / run.seconds).toFixed(2)}), ` +
      `end-to-end / raw consume = ${(rawSeconds / run.seconds).toFixed(2)}; ` +
      `peak RSS of the aggregator process ${mib(run.peakRss)}`,
  );
  const { cpu } = run;
  const total = cpu.aggregator + cpu.clickhouse + cpu.kafka + cpu.bench;
  const perThousand = (seconds) => `${((seconds / spans) * 1e6).toFixed(1)} ms`;
  console.log(
    `  CPU per 1,000 spans: aggregator ${perThousand(cpu.aggregator)}, ClickHouse ${perThousand(cpu.clickhouse)}, ` +
      `Kafka ${perThousand(cpu.kafka)}, this bench ${perThousand(cpu.bench)}; all ${perThousand(total)} ` +
      `= ${(total / run.seconds).toFixed(2)} of ${CORES} cores busy; ${CORES} cores at this cost per span: at most ` +
      `${Math.round((spans / total) * CORES).toLocaleString('en')} spans/s`,
  );
}
if (servicePids.clickhouse.length > 0) {
  console.log(
    `ClickHouse CPU for the raw insert into span_costs with its rollup view: ${((rollupInsertCpu / spans) * 1e6).toFixed(1)} ms per 1,000 spans`,
  );
} else {
  console.log('ClickHouse and Kafka CPU not measured: their processes are not visible on this machine');
}
const totals = new Set(runs.map((r) => r.total));
console.log(
  `stored cost total, every run: ${[...totals].join(' / ')} USD${totals.size === 1 ? ' (identical)' : ' (DIFFERENT)'}`,
);
console.log(`peak RSS of this bench process (generator, raw paths): ${mib(peakRss)}`);
console.log(
  `reproduce: npm run build && KAFKA_BROKERS=${brokers.join(',')} CLICKHOUSE_URL=<url> [BENCH_THREADS=0,1,2] node bench/aggregator/kafka-to-clickhouse.bench.mjs ${SPANS} ${PER_MESSAGE}`,
);

await store.command(`DROP DATABASE IF EXISTS ${database}`);
await store.close();
await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] });
await admin.disconnect();
