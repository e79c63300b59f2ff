// The consumer's batch work (decode, validate, price, encode) in worker threads against the
// consumer's own thread, in one process with no Kafka and no ClickHouse: how far the aggregator
// scales with the cores it is given. Each configuration processes the same batches (100 spans
// per message, 100 messages per batch, one partition per concurrent batch), after a warm-up.
//
//   npm run build && node bench/aggregator/worker-scaling.bench.mjs [spans=300000] [threads=0,1,2,…cores]
//
// Runs from the bench bundle too (scripts/bench-bundle.sh), on hosts without Kafka or ClickHouse.
import { Buffer } from 'node:buffer';
import { availableParallelism } from 'node:os';
import { bundledPricingView, StaticPriceSource } from '@costtrace/core';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import { InlineSpanBatchRunner, WorkerSpanBatchRunner } from '@costtrace/aggregator';
import { pino } from 'pino';
import { BATCH_SETTINGS, tokenSpanRequest } from './token-span-workload.mjs';

const SPANS = Number(process.argv[2] ?? 300_000);
const cores = availableParallelism();
const counts = (
  process.argv[3] ?? [0, ...[1, 2, 4, 8, 16, 32].filter((n) => n <= cores), ...(cores > 1 ? [cores] : [])].join(',')
)
  .split(',')
  .map(Number)
  .filter((n, i, all) => all.indexOf(n) === i);
const PER_MESSAGE = 100;
const PER_BATCH = 100;
const prices = new StaticPriceSource(bundledPricingView());
const settings = BATCH_SETTINGS;
const now = String(Date.now());
const messages = Array.from({ length: Math.ceil(SPANS / PER_MESSAGE) }, (_v, m) => ({
  offset: String(m),
  timestamp: now,
  value: Buffer.from(ExportTraceServiceRequest.encode(tokenSpanRequest(m, PER_MESSAGE)).finish()),
  contentType: undefined,
}));
const batches = [];
for (let i = 0; i < messages.length; i += PER_BATCH) batches.push(messages.slice(i, i + PER_BATCH));

/** All batches through the runner, `lanes` partitions at once (each partition sequential). */
async function drain(runner, lanes) {
  let next = 0;
  let rows = 0;
  const lane = async (partition) => {
    while (next < batches.length) {
      const batch = batches[next++];
      const result = await runner.process({ topic: 'otlp_spans', partition, messages: batch, storedUpTo: -1n });
      rows += result.rows; // after the await: `rows += await …` would read rows before it
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_v, p) => lane(p)));
  return rows;
}

console.log(
  `worker scaling: ${SPANS} spans, ${batches.length} batches of ${PER_BATCH * PER_MESSAGE} spans; ${cores} cores`,
);
const results = [];
for (const threads of counts) {
  const runner =
    threads === 0
      ? new InlineSpanBatchRunner(settings, prices)
      : new WorkerSpanBatchRunner(threads, settings, prices, pino({ level: 'silent' }));
  const lanes = Math.max(1, threads) * 2;
  await drain(runner, lanes); // warm-up: every thread compiles its hot paths
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const rows = await drain(runner, lanes);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  await runner.close();
  if (rows !== messages.length * PER_MESSAGE)
    throw new Error(`${rows} rows for ${messages.length * PER_MESSAGE} spans`);
  results.push({ threads, rate: rows / seconds, cores: (used.user + used.system) / 1e6 / seconds });
}
const inline = results.find((r) => r.threads === 0)?.rate ?? results[0].rate;
console.log('| threads | spans/s | ÷ no worker threads | CPU (cores busy) |');
console.log('|---|---|---|---|');
for (const r of results) {
  console.log(
    `| ${r.threads === 0 ? '0 (consumer thread)' : r.threads} | ${Math.round(r.rate).toLocaleString('en')} | ${(r.rate / inline).toFixed(2)}× | ${r.cores.toFixed(2)} |`,
  );
}
console.log(`reproduce: npm run build && node bench/aggregator/worker-scaling.bench.mjs ${SPANS} ${counts.join(',')}`);
