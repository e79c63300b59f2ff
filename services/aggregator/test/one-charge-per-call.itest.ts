// One model call, one charge, across an aggregator restart: the client's span of an Anthropic
// call is stored by one aggregator process; the instrumentation's span around it and a sibling
// with the same response id arrive after a restart, on the same partition. The new process
// restores the partition's ledger from ClickHouse and stores both uncharged, pointing at the
// charged span: the trace costs one call (worked out here from list prices), and redelivering
// everything changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import type { Span } from '@costtrace/proto';
import { ClickHouseStore } from '@costtrace/store';
import { startAggregator } from './support/aggregator-harness.js';
import type { Harness } from './support/aggregator-harness.js';
import { anthropicUsage, exportRequest, span } from './support/otlp-fixtures.js';
import {
  createTestTopics,
  decimalToPicos,
  deleteTopics,
  exactProducer,
  liveServices,
  testKafka,
  uniqueNames,
  waitFor,
} from './support/live-services.js';

const encode = (r: ExportTraceServiceRequest): Buffer => Buffer.from(ExportTraceServiceRequest.encode(r).finish());

interface Row {
  span_name: string;
  usage_role: string;
  duplicate_of: string;
  span_id: string;
  cost: string;
  input_tokens: string;
}

describe('one model call, one charge, across a restart', { timeout: 120_000 }, () => {
  const services = liveServices();
  const names = uniqueNames('onecharge');
  const kafka = testKafka(services.kafkaBrokers);
  const store = new ClickHouseStore({ url: services.clickhouseUrl, database: names.database });
  let harness: Harness | undefined;

  before(async () => {
    await createTestTopics(kafka, [names.topic, names.dlqTopic]);
  });

  after(async () => {
    await harness?.aggregator.stop();
    await store.command(`DROP DATABASE IF EXISTS ${names.database}`).catch(() => undefined);
    await store.close();
    await deleteTopics(kafka, [names.topic, names.dlqTopic]);
  });

  const rows = (): Promise<Row[]> =>
    store.select<Row>(
      `SELECT span_name, usage_role, duplicate_of, span_id, toString(cost_total) AS cost, ` +
        `toString(input_tokens) AS input_tokens FROM ${names.database}.span_costs ORDER BY kafka_offset, kafka_span_index`,
    );

  it('restores the partition’s ledger from ClickHouse and charges the call once', async () => {
    const traceId = Buffer.alloc(16, 0x5a);
    const id = (n: number): Buffer => Buffer.alloc(8, n);
    // 10 uncached input, 3000 cache read, 7 output on claude-sonnet-4 (list prices in the fixtures).
    const call = anthropicUsage(10, 3000, 0, 7, { 'gen_ai.response.id': 'msg_restart' });
    const withIds = (s: Span, spanId: number, parent?: number): Span => ({
      ...s,
      traceId,
      spanId: id(spanId),
      parentSpanId: parent === undefined ? Buffer.alloc(0) : id(parent),
    });
    const clientSpan = exportRequest({ 'service.name': 'chat-svc' }, [
      withIds(span({ name: 'client', attributes: call.attributes }), 1, 2),
    ]);
    const later = exportRequest({ 'service.name': 'chat-svc' }, [
      // The instrumentation's span counts the cache in its input (OpenLLMetry Python's rule).
      withIds(span({ name: 'wrapper', attributes: { ...call.attributes, 'gen_ai.usage.input_tokens': 3010 } }), 2, 3),
      // Elsewhere in the trace, the same response reported by another emitter.
      withIds(span({ name: 'same-response', attributes: call.attributes }), 4, 3),
    ]);
    later.resourceSpans[0]!.scopeSpans[0]!.scope = {
      name: 'opentelemetry.instrumentation.anthropic',
      version: '0.62.0',
      attributes: [],
      droppedAttributesCount: 0,
    };

    const producer = exactProducer(kafka);
    await producer.connect();
    try {
      harness = await startAggregator(names);
      await producer.send({ topic: names.topic, acks: -1, messages: [{ key: 'chat-svc', value: encode(clientSpan) }] });
      await waitFor('the client span stored', rows, (r) => r.length === 1, 30_000);
      await harness.aggregator.stop();
      harness = undefined;

      await producer.send({ topic: names.topic, acks: -1, messages: [{ key: 'chat-svc', value: encode(later) }] });
      harness = await startAggregator(names);
      const stored = await waitFor('all three spans stored', rows, (r) => r.length === 3, 30_000);
      const charged = id(1).toString('hex');
      assert.deepEqual(
        stored.map((r) => [r.span_name, r.usage_role, r.duplicate_of, decimalToPicos(r.cost), r.input_tokens]),
        [
          ['client', '', '', call.picos, '10'],
          ['wrapper', 'duplicate', charged, 0n, '0'],
          ['same-response', 'duplicate', charged, 0n, '0'],
        ],
      );

      // Everything again (a producer retry from the start): nothing stored twice, nothing charged twice.
      await producer.send({
        topic: names.topic,
        acks: -1,
        messages: [
          { key: 'chat-svc', value: encode(later) },
          { key: 'chat-svc', value: encode(clientSpan) },
        ],
      });
      const all = await waitFor('the repeated messages stored', rows, (r) => r.length === 6, 30_000);
      const total = all.reduce((sum, r) => sum + decimalToPicos(r.cost), 0n);
      // New messages are new rows (not redeliveries of stored ones), but the same spans are still
      // one call: the client's span sent again is a duplicate of its first copy.
      assert.equal(total, call.picos, 'the trace costs one call');
      assert.deepEqual(
        all.slice(3).map((r) => [r.span_name, r.usage_role, r.duplicate_of]),
        [
          ['wrapper', 'duplicate', charged],
          ['same-response', 'duplicate', charged],
          ['client', 'duplicate', charged],
        ],
      );
    } finally {
      await producer.disconnect();
    }
  });
});
