// Latency from span end in an instrumented service to the throttle.engaged webhook at a real
// HTTP receiver, p50/p90/p99, at a sustained span rate with 10k active budget keys.
// Path: OTel SDK (CostSpanProcessor, BatchSpanProcessor scheduledDelayMillis=200) → OTLP/HTTP
// ingest → Kafka otlp_spans → the aggregator's span consumer (decode, price and encode in its
// worker threads → ClickHouse insert → budget deltas) → Kafka cost_deltas → budget evaluator →
// fsync'd outbox → signed webhook. One aggregator, wired as in production; the budget service is
// built here only to read its evaluator's figures.
//   export KAFKA_BROKERS=127.0.0.1:19092 CLICKHOUSE_URL=http://127.0.0.1:18123
//   npx tsc -b packages/core services/aggregator && node bench/budgets/latency.mjs [rate=5000] [seconds=40]
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { pino } from 'pino';
import { bundledPricingView, StaticPriceSource } from '@costtrace/core';
import { ClickHouseStore } from '@costtrace/store';
import {
  Aggregator,
  BudgetService,
  ClickHouseBudgetStore,
  generateSecret,
  KafkaMessageLog,
  loadBudgetsConfig,
  loadConfig,
} from '@costtrace/aggregator';

const rate = Number(process.argv[2] ?? 5000);
const seconds = Number(process.argv[3] ?? 40);
const tenants = 10_000;
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',');
const clickhouseUrl = process.env.CLICKHOUSE_URL;
if (!process.env.KAFKA_BROKERS || !clickhouseUrl) {
  console.error('set KAFKA_BROKERS and CLICKHOUSE_URL (see scripts/services.sh env)');
  process.exit(2);
}
const id = Math.random().toString(36).slice(2, 10);
const names = {
  spans: `bench_spans_${id}`,
  deltas: `bench_deltas_${id}`,
  throttles: `bench_throttles_${id}`,
  db: `ct_bench_${id}`,
};
const logger = pino({ level: 'warn' });
const prices = new StaticPriceSource(bundledPricingView());
const kafka = new kafkajs.Kafka({ clientId: 'bench', brokers, logLevel: kafkajs.logLevel.NOTHING });
const admin = kafka.admin();
const log = new KafkaMessageLog({ brokers, clientId: 'bench', logger: pino({ level: 'silent' }) });
await admin.connect();
await admin.createTopics({
  waitForLeaders: true,
  topics: [
    { topic: names.spans, numPartitions: 3 },
    { topic: `${names.spans}.dlq`, numPartitions: 1 },
    { topic: names.deltas, numPartitions: 3 },
    { topic: `${names.deltas}.dlq`, numPartitions: 1 },
    { topic: names.throttles, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
  ],
});
const dir = await mkdtemp(join(tmpdir(), 'costtrace-bench-'));
const child = spawn(process.execPath, [fileURLToPath(new URL('./load-service.mjs', import.meta.url))], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const lines = createInterface({ input: child.stdout });
const nextLine = (prefix) =>
  new Promise((resolve) => {
    const on = (l) => {
      if (l.startsWith(prefix)) {
        lines.off('line', on);
        resolve(l.slice(prefix.length));
      }
    };
    lines.on('line', on);
  });
const hook = await nextLine('receiver ');
const file = join(dir, 'budgets.yaml');
await writeFile(
  file,
  `webhooks: [{ id: bench, url: "${hook}", secrets: ["${generateSecret()}"] }]
budgets:
  - id: tenant-minute
    scope: { service: bench-svc }
    per: [tenant]
    window: 1m
    limit_usd: "1"
    thresholds: [100]
    action: reject
    forecast: false
    max_keys: 50000
    webhooks: [bench]
`,
);
const store = new ClickHouseStore({ url: clickhouseUrl, database: names.db });
await store.migrate();
const budgets = new BudgetService({
  config: loadBudgetsConfig(
    {
      budgetsFile: file,
      costDeltasTopic: names.deltas,
      throttlesTopic: names.throttles,
      evaluatorGroupId: `bench-budgets-${id}`,
      instanceId: 'bench',
      outboxDirectory: join(dir, 'outbox'),
      webhookAllowPrivate: ['127.0.0.1/32'],
    },
    {},
  ),
  log,
  store: new ClickHouseBudgetStore(store),
  logger,
});
await budgets.start();
// The aggregator as deployed: OTLP ingest, and the span consumer that stores rows and hands them
// to the budgets (COSTTRACE_WORKER_THREADS as the environment says; default the cores).
const aggregator = new Aggregator({
  config: loadConfig(
    {
      kafkaBrokers: brokers,
      clickhouseUrl,
      clickhouseDatabase: names.db,
      spansTopic: names.spans,
      deadLetterTopic: `${names.spans}.dlq`,
      consumerGroupId: `bench-${id}`,
      httpPort: 0,
      grpcPort: 0,
      apiPort: 0,
      retentionIntervalSeconds: 0,
      logLevel: 'warn',
      maxRequestBytes: 64 * 1024 * 1024,
    },
    process.env,
  ),
  prices,
  budgetService: budgets,
});
const { http, api } = await aggregator.start();
const cpuBefore = process.cpuUsage();
// Where a slow probe can lose its time in this process: the event loop blocked (GC, synchronous
// work), or a ClickHouse insert that takes long (the consumer's insert histogram, read at the end).
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
child.stdin.write(
  `${JSON.stringify({ ingest: `http://127.0.0.1:${http.port}/v1/traces`, rate, tenants, seconds, probesPerSecond: 10, scheduledDelayMillis: 200 })}\n`,
);
const result = JSON.parse(await nextLine('result '));
const cpu = process.cpuUsage(cpuBefore);
loopDelay.disable();
const metricsText = await (await globalThis.fetch(`http://127.0.0.1:${api.port}/metrics`)).text();
/** Cumulative count of a histogram bucket (`le`) of a metric in the Prometheus text. */
const bucket = (name, le) =>
  Number(new RegExp(`^${name}_bucket\\{le="${le.replace('+', '\\+')}"\\} (\\d+)`, 'm').exec(metricsText)?.[1] ?? 'NaN');
const inserts = bucket('costtrace_consumer_insert_seconds', '+Inf');
const engine = budgets.evaluator.engine;
console.log(`budgets latency benchmark: span end → throttle.engaged webhook received`);
console.log(
  `  load: ${result.spans} spans in ${result.seconds.toFixed(1)} s = ${result.spansPerSecond.toFixed(0)} spans/s (target ${rate}), ${tenants} background tenants`,
);
console.log(
  `  active budget keys in the evaluator: ${engine.size}; deltas applied ${engine.stats.deltasApplied}; rows stored by the consumer ${aggregator.stats.rowsStored}`,
);
console.log(
  `  probes: ${result.probes} breaches, ${result.received} throttle.engaged received, ${result.missing} missing`,
);
console.log(
  `  latency ms: p50 ${result.p50}  p90 ${result.p90}  p99 ${result.p99}  max ${result.max}   (target p99 ≤ 1000)`,
);
console.log(
  `  aggregator process CPU (ingest, consumer and its worker threads, budgets): ${(((cpu.user + cpu.system) / 1e6 / result.seconds) * 100).toFixed(0)} % of one core; worker threads ${aggregator.workerThreads}`,
);
console.log(
  `  ClickHouse inserts by the consumer: ${inserts}; over 0.5 s: ${inserts - bucket('costtrace_consumer_insert_seconds', '0.5')}, over 1 s: ${inserts - bucket('costtrace_consumer_insert_seconds', '1')}, over 2.5 s: ${inserts - bucket('costtrace_consumer_insert_seconds', '2.5')}`,
);
console.log(
  `  event loop delay of this process (aggregator and budgets): p50 ${(loopDelay.percentile(50) / 1e6).toFixed(0)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, max ${(loopDelay.max / 1e6).toFixed(0)} ms`,
);
console.log(`  SDK settings: BatchSpanProcessor scheduledDelayMillis=200, maxExportBatchSize=512, maxQueueSize=65536`);
console.log(
  `  reproduce: export KAFKA_BROKERS=… CLICKHOUSE_URL=…; npx tsc -b packages/core services/aggregator && node bench/budgets/latency.mjs ${rate} ${seconds}`,
);
await aggregator.stop();
await budgets.stop();
await store.command(`DROP DATABASE IF EXISTS ${names.db}`);
await store.close();
await admin.deleteTopics({
  topics: [names.spans, `${names.spans}.dlq`, names.deltas, `${names.deltas}.dlq`, names.throttles],
});
await admin.disconnect();
await rm(dir, { recursive: true, force: true });
process.exit(0);
