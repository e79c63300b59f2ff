// The walking skeleton, end to end on the real services: a real OpenTelemetry NodeSDK with
// CostSpanProcessor exports OTLP/HTTP protobuf to the aggregator's ingest endpoint, which
// produces to a real Kafka topic; the aggregator's consumer prices and inserts one row per span
// into a real ClickHouse table. Expected costs are computed here from the providers' list
// prices, independently of the pricing code.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { CostSpanProcessor } from '@costtrace/otel';
import { ClickHouseStore } from '@costtrace/store';
import { Aggregator } from '../src/index.js';
import {
  createTopics,
  decimalToPicos,
  deleteTopics,
  liveServices,
  testKafka,
  uniqueNames,
  waitFor,
} from './support/live-services.js';
import { harnessConfig } from './support/aggregator-harness.js';

/** List prices in 10^-12 USD per token (= USD per 1M tokens × 10^6). */
const PICOS_PER_TOKEN = {
  'gpt-4o-mini': { input: 150_000n, cacheRead: 75_000n, output: 600_000n },
  'claude-sonnet-4': { input: 3_000_000n, cacheRead: 300_000n, cacheWrite: 3_750_000n, output: 15_000_000n },
} as const;

interface Call {
  name: string;
  attrs: Record<string, string | number>;
  expectedPicos: bigint;
  unpricedReason?: string;
  source?: string;
}

function openAiCall(i: number, input: number, cached: number, output: number): Call {
  const p = PICOS_PER_TOKEN['gpt-4o-mini'];
  return {
    name: `openai-${i}`,
    attrs: {
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': input,
      'gen_ai.usage.cache_read.input_tokens': cached,
      'gen_ai.usage.output_tokens': output,
      'http.route': '/v1/chat',
    },
    // OpenAI counts cached tokens inside input tokens.
    expectedPicos: BigInt(input - cached) * p.input + BigInt(cached) * p.cacheRead + BigInt(output) * p.output,
  };
}

function anthropicCall(i: number, input: number, read: number, write: number, output: number): Call {
  const p = PICOS_PER_TOKEN['claude-sonnet-4'];
  return {
    name: `anthropic-${i}`,
    attrs: {
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4',
      'gen_ai.usage.input_tokens': input,
      'gen_ai.usage.cache_read.input_tokens': read,
      'gen_ai.usage.cache_creation.input_tokens': write,
      'gen_ai.usage.output_tokens': output,
      'http.route': '/v1/summarize',
    },
    // Anthropic reports input tokens without the cached ones.
    expectedPicos:
      BigInt(input) * p.input + BigInt(read) * p.cacheRead + BigInt(write) * p.cacheWrite + BigInt(output) * p.output,
  };
}

describe('walking skeleton: SDK → OTLP/HTTP → Kafka → aggregator → ClickHouse', () => {
  const services = liveServices();
  const names = uniqueNames('skeleton');
  const kafka = testKafka(services.kafkaBrokers);
  let aggregator: Aggregator;
  let store: ClickHouseStore;
  let endpoint = '';

  before(async () => {
    await createTopics(kafka, [names.topic, names.dlqTopic]);
    aggregator = new Aggregator({
      config: harnessConfig(names),
    });
    const { http } = await aggregator.start();
    endpoint = `http://127.0.0.1:${http!.port}/v1/traces`;
    store = new ClickHouseStore({ url: services.clickhouseUrl, database: names.database });
  });

  after(async () => {
    await aggregator?.stop();
    await store?.command(`DROP DATABASE IF EXISTS ${names.database}`);
    await store?.close();
    await deleteTopics(kafka, [names.topic, names.dlqTopic]);
  });

  it('stores one row per span with the exact cost of each', async () => {
    const calls: Call[] = [
      openAiCall(1, 1200, 0, 350),
      openAiCall(2, 48_213, 40_960, 1_021),
      openAiCall(3, 7, 0, 1),
      openAiCall(4, 999_999, 524_288, 16_383),
      anthropicCall(1, 12, 0, 18_000, 640),
      anthropicCall(2, 25, 18_000, 0, 1_337),
      anthropicCall(3, 3, 250_000, 2_048, 77),
      {
        name: 'unknown-model',
        attrs: {
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-unknown',
          'gen_ai.usage.input_tokens': 10,
        },
        expectedPicos: 0n,
        unpricedReason: 'unknown_model',
      },
      { name: 'plain-http', attrs: { 'http.route': '/healthz' }, expectedPicos: 0n },
    ];

    const sdk = new NodeSDK({
      resource: resourceFromAttributes({ 'service.name': 'skeleton-svc', 'vcs.ref.head.revision': 'c0ffee1' }),
      spanProcessors: [new CostSpanProcessor(), new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint }))],
      instrumentations: [],
      autoDetectResources: false,
    });
    sdk.start();
    const tracer = trace.getTracer('walking-skeleton');
    for (const call of calls) {
      const span = tracer.startSpan(call.name, { attributes: call.attrs });
      span.end();
    }
    await sdk.shutdown();

    // A service without the costtrace SDK: its spans arrive unpriced and the aggregator prices them.
    const raw = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'python-svc-without-sdk' }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint }))],
    });
    const rawCalls = [openAiCall(10, 5_000, 1_000, 200), anthropicCall(10, 100, 0, 0, 100)].map((c) => ({
      ...c,
      source: 'aggregator:bundled',
    }));
    for (const call of rawCalls) raw.getTracer('raw').startSpan(call.name, { attributes: call.attrs }).end();
    await raw.shutdown();

    const all: Call[] = [...calls.map((c) => ({ ...c, source: c.expectedPicos > 0n ? 'bundled' : '' })), ...rawCalls];
    const rows = await waitFor(
      `${all.length} rows in ${names.database}.span_costs`,
      () =>
        store.select<{
          span_name: string;
          service: string;
          commit: string;
          cost: string;
          reason: string;
          source: string;
          route: string;
        }>(
          `SELECT span_name, service, commit, route, toString(cost_total) AS cost, unpriced_reason AS reason, pricing_source AS source FROM ${names.database}.span_costs`,
        ),
      (r) => r.length >= all.length,
    );
    assert.equal(rows.length, all.length, 'exactly one row per span');
    const byName = new Map(rows.map((r) => [r.span_name, r]));
    for (const call of all) {
      const row = byName.get(call.name);
      assert.ok(row, `row for span ${call.name}`);
      assert.equal(decimalToPicos(row.cost), call.expectedPicos, `cost of ${call.name}`);
      assert.equal(row.reason, call.unpricedReason ?? '', `unpriced reason of ${call.name}`);
      assert.equal(row.source, call.source ?? '', `pricing source of ${call.name}`);
    }
    assert.equal(byName.get('openai-1')?.service, 'skeleton-svc');
    assert.equal(byName.get('openai-1')?.commit, 'c0ffee1');
    assert.equal(byName.get('openai-1')?.route, '/v1/chat');

    const [sum] = await store.select<{ total: string }>(
      `SELECT toString(sum(cost_total)) AS total FROM ${names.database}.span_costs`,
    );
    assert.equal(
      decimalToPicos(sum!.total),
      all.reduce((acc, c) => acc + c.expectedPicos, 0n),
      'sum to the last decimal',
    );
    assert.equal(aggregator.stats.deadLettered, 0);
  });

  it('answers ingest errors with the right status codes', async () => {
    const post = (body: Buffer | string, headers: Record<string, string>) =>
      fetch(endpoint, { method: 'POST', body, headers }).then(async (r) => ({
        status: r.status,
        text: await r.text(),
      }));
    assert.equal(
      (await post(Buffer.from([0xff, 0xff, 0xff]), { 'content-type': 'application/x-protobuf' })).status,
      400,
    );
    assert.equal((await post('{}', { 'content-type': 'text/plain' })).status, 415);
    assert.equal((await post(Buffer.alloc(9 * 1024 * 1024), { 'content-type': 'application/x-protobuf' })).status, 413);
    assert.equal((await fetch(endpoint)).status, 405);
  });
});
