/**
 * The walking-skeleton demo: starts the aggregator against the local Kafka and ClickHouse,
 * drives an instrumented "inference service" (a real OpenTelemetry tracer with
 * CostSpanProcessor, exporting OTLP/HTTP protobuf) through a mix of models, routes, tenants and
 * two commits, waits until every span is stored, and prints what it cost from ClickHouse.
 *
 *   KAFKA_BROKERS=… CLICKHOUSE_URL=… node services/aggregator/dist/src/demo/skeleton-demo.js
 */
import { randomUUID } from 'node:crypto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import kafkajs from 'kafkajs';
import { pino } from 'pino';
import { CostSpanProcessor } from '@costtrace/otel';
import { ClickHouseStore } from '@costtrace/store';
import { Aggregator } from '../aggregator.js';
import { loadConfig } from '../config.js';

const logger = pino({ level: 'warn' });
const out = (line = ''): void => void process.stdout.write(`${line}\n`);

const MODELS = [
  { provider: 'openai', model: 'gpt-4o-mini', route: '/v1/chat' },
  { provider: 'openai', model: 'gpt-4o', route: '/v1/chat' },
  { provider: 'anthropic', model: 'claude-sonnet-4', route: '/v1/summarize' },
  { provider: 'anthropic', model: 'claude-3-5-haiku', route: '/v1/classify' },
] as const;
const TENANTS = ['acme', 'globex', 'initech'] as const;

/** Deterministic pseudo-random numbers so every run prints the same figures. */
function* lcg(seed: number): Generator<number, never> {
  let s = seed;
  for (;;) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    yield s / 2 ** 31;
  }
}

async function main(): Promise<void> {
  const id = randomUUID().slice(0, 8);
  const config = loadConfig({
    spansTopic: `demo_spans_${id}`,
    deadLetterTopic: `demo_spans_${id}.dlq`,
    consumerGroupId: `demo-${id}`,
    clickhouseDatabase: 'costtrace_demo',
    httpPort: 0,
    grpcPort: 0,
    apiPort: 0,
    logLevel: 'warn',
  });
  const kafka = new kafkajs.Kafka({ brokers: [...config.kafkaBrokers], logLevel: kafkajs.logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic: config.spansTopic, numPartitions: 3 }, { topic: config.deadLetterTopic }],
    waitForLeaders: true,
  });

  const aggregator = new Aggregator({ config, logger });
  const { http } = await aggregator.start();
  const endpoint = `http://127.0.0.1:${http!.port}/v1/traces`;
  out(
    `aggregator: OTLP/HTTP on ${endpoint}, Kafka topic ${config.spansTopic}, ClickHouse database ${config.clickhouseDatabase}`,
  );

  const random = lcg(42);
  const next = (): number => random.next().value;
  let spans = 0;
  for (const commit of ['a1b2c3d', 'e4f5a6b']) {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        'service.name': 'demo-inference',
        'deployment.environment.name': 'demo',
        'vcs.ref.head.revision': commit,
      }),
      spanProcessors: [new CostSpanProcessor(), new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint }))],
    });
    const tracer = provider.getTracer('demo-inference');
    for (let i = 0; i < 300; i++) {
      const m = MODELS[Math.floor(next() * MODELS.length)]!;
      const tenant = TENANTS[Math.floor(next() * TENANTS.length)]!;
      // The second commit sends longer prompts on /v1/summarize: that route gets more expensive.
      const promptScale = commit === 'e4f5a6b' && m.route === '/v1/summarize' ? 3 : 1;
      const input = Math.floor((200 + next() * 4000) * promptScale);
      const cached = m.provider === 'openai' ? Math.floor(input * next() * 0.5) : 0;
      const span = tracer.startSpan(`chat ${m.model}`, {
        attributes: {
          'gen_ai.provider.name': m.provider,
          'gen_ai.request.model': m.model,
          'gen_ai.usage.input_tokens': input,
          'gen_ai.usage.cache_read.input_tokens': cached,
          'gen_ai.usage.output_tokens': Math.floor(50 + next() * 800),
          'http.route': m.route,
          'costtrace.tenant': tenant,
        },
      });
      span.end();
      spans += 1;
    }
    await provider.shutdown();
  }
  out(
    `emitted ${spans} spans from an instrumented service (2 commits, ${MODELS.length} models, ${TENANTS.length} tenants)`,
  );

  const db = config.clickhouseDatabase;
  const store = aggregator.store;
  if (!(store instanceof ClickHouseStore)) throw new Error('the skeleton demo runs on ClickHouse');
  const topic = config.spansTopic.replaceAll("'", '');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [row] = await store.select<{ n: string }>(
      `SELECT count() AS n FROM ${db}.span_costs WHERE kafka_topic = '${topic}'`,
    );
    if (Number(row?.n ?? 0) >= spans) break;
    if (Date.now() > deadline) throw new Error(`only ${row?.n ?? 0} of ${spans} spans stored after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }

  out('\ncost by commit and route (USD, exact):');
  const rows = await store.select<{
    commit: string;
    route: string;
    requests: string | number;
    cost: string;
    per1k: string;
  }>(
    `SELECT commit, route, count() AS requests, toString(sum(cost_total)) AS cost,
            toString(toDecimal128(sum(cost_total) * 1000 / count(), 6)) AS per1k
     FROM ${db}.span_costs WHERE kafka_topic = '${topic}'
     GROUP BY commit, route ORDER BY route, commit`,
  );
  out(
    `${'commit'.padEnd(9)} ${'route'.padEnd(15)} ${'requests'.padStart(8)} ${'cost'.padStart(22)} ${'per 1k req'.padStart(14)}`,
  );
  for (const r of rows) {
    out(
      `${r.commit.padEnd(9)} ${r.route.padEnd(15)} ${String(r.requests).padStart(8)} ${r.cost.padStart(22)} ${r.per1k.padStart(14)}`,
    );
  }
  const [total] = await store.select<{ cost: string }>(
    `SELECT toString(sum(cost_total)) AS cost FROM ${db}.span_costs WHERE kafka_topic = '${topic}'`,
  );
  out(`\ntotal: ${total?.cost ?? '0'} USD over ${spans} spans; rows stay in ClickHouse database ${db}`);

  await aggregator.stop();
  await admin.deleteTopics({ topics: [config.spansTopic, config.deadLetterTopic] });
  await admin.disconnect();
}

main().catch((err: unknown) => {
  logger.fatal({ err }, 'demo failed');
  process.exitCode = 1;
});
