// Undecodable messages and invalid spans go to the dead-letter topic with the reason and their
// source partition/offset in headers; sanitisable problems are fixed and counted; the partition
// keeps flowing (the valid message after the bad ones is stored).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import type { Span_SpanKind, Status_StatusCode } from '@costtrace/proto';
import { ClickHouseStore } from '@costtrace/store';
import { DLQ_HEADERS } from '../src/index.js';
import { exportRequestToJson } from '../src/otlp/otlp-json.js';
import { startAggregator } from './support/aggregator-harness.js';
import type { Harness } from './support/aggregator-harness.js';
import { anthropicUsage, exportRequest, openAiUsage, span } from './support/otlp-fixtures.js';
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

const encode = (r: ExportTraceServiceRequest): Buffer => Buffer.from(ExportTraceServiceRequest.encode(r).finish());

describe('dead-letter topic and span validation', () => {
  const services = liveServices();
  const names = uniqueNames('dlq');
  const kafka = testKafka(services.kafkaBrokers);
  const store = new ClickHouseStore({ url: services.clickhouseUrl, database: names.database });
  let harness: Harness | undefined;

  before(async () => {
    await createTopics(kafka, [names.topic, names.dlqTopic], 1);
  });

  after(async () => {
    await harness?.aggregator.stop();
    await store.command(`DROP DATABASE IF EXISTS ${names.database}`).catch(() => undefined);
    await store.close();
    await deleteTopics(kafka, [names.topic, names.dlqTopic]);
  });

  it('dead-letters bad messages and spans, stores the rest exactly', async () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const good1 = openAiUsage(1200, 200, 300, { 'http.route': '/a' });
    const good2 = anthropicUsage(10, 100, 0, 50);
    const jsonGood = openAiUsage(5000, 0, 100);
    const last = anthropicUsage(1, 2, 3, 4);
    const longValue = 'x'.repeat(5000);
    const mixed = exportRequest({ 'service.name': 'validate-svc' }, [
      span({ name: 'ok-1', attributes: good1.attributes }),
      span({ name: 'negative', attributes: { ...good1.attributes, 'gen_ai.usage.output_tokens': -5 } }),
      span({ name: 'absurd', attributes: { ...good1.attributes, 'gen_ai.usage.input_tokens': 10_000_000_000 } }),
      span({ name: 'nan', attributes: { ...good1.attributes, 'gen_ai.usage.input_tokens': Number.NaN } }),
      span({ name: 'future', attributes: good1.attributes, startUnixNano: now + 86_400n * 1_000_000_000n }),
      span({ name: 'ancient', attributes: good1.attributes, startUnixNano: now - 30n * 86_400n * 1_000_000_000n }),
      span({ name: 'bad-cost', attributes: { 'cost.total': 'twelve', 'cost.currency': 'USD' } }),
      span({
        name: 'ok-long-attr',
        attributes: { ...good2.attributes, 'app.note': longValue, 'http.route': `/r/${longValue}` },
      }),
    ]);
    mixed.resourceSpans[0]!.scopeSpans[0]!.spans.push({
      ...span({ name: 'short-id', attributes: {} }),
      traceId: Buffer.alloc(4, 1),
    });
    // A kind and a status code outside OTLP's enums: as text they would fail the UInt8 columns
    // and with them the whole insert; the span is stored with 0 and the fix listed.
    const badEnums = span({ name: 'ok-bad-enums', attributes: good1.attributes });
    badEnums.kind = -1 as Span_SpanKind;
    badEnums.status = { code: 9 as Status_StatusCode, message: 'from a broken emitter' };
    mixed.resourceSpans[0]!.scopeSpans[0]!.spans.push(badEnums);
    const endBeforeStart = span({ name: 'ok-end-before-start', attributes: {} });
    endBeforeStart.endTimeUnixNano = endBeforeStart.startTimeUnixNano - 5n;
    const noService = exportRequest({ 'host.name': 'h1' }, [
      span({ name: 'ok-no-service', attributes: {} }),
      endBeforeStart,
    ]);
    const jsonRequest = exportRequest({ 'service.name': 'json-svc' }, [
      span({ name: 'ok-json', attributes: jsonGood.attributes }),
    ]);

    const producer = exactProducer(kafka);
    await producer.connect();
    const sent = [
      { name: 'truncated protobuf', value: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]) },
      { name: 'json of the wrong shape', value: Buffer.from('{"resourceSpans": 5}') },
      { name: 'not json at all', value: Buffer.from('{this is not json') },
      { name: 'empty', value: Buffer.alloc(0) },
      { name: 'mixed', value: encode(mixed) },
      { name: 'no service', value: encode(noService) },
      { name: 'otlp_json', value: Buffer.from(JSON.stringify(exportRequestToJson(jsonRequest))) },
      {
        name: 'last',
        value: encode(
          exportRequest({ 'service.name': 'validate-svc' }, [span({ name: 'ok-last', attributes: last.attributes })]),
        ),
      },
    ];
    await producer.send({ topic: names.topic, acks: -1, messages: sent.map((m) => ({ value: m.value })) });
    await producer.disconnect();

    harness = await startAggregator(names, { maxSpanAgeSeconds: 7 * 86_400 }, { ingest: false, api: false });
    const rows = await waitFor(
      '7 stored spans',
      () =>
        store.select<{
          span_name: string;
          service: string;
          cost: string;
          sanitized: string[];
          route: string;
          av: string[];
          kind: number;
          status: number;
        }>(
          `SELECT span_name, service, toString(cost_total) AS cost, sanitized, route, attribute_values AS av, span_kind AS kind, status_code AS status FROM ${names.database}.span_costs ORDER BY span_name`,
        ),
      (r) => r.length >= 7,
      30_000,
    );
    const byName = new Map(rows.map((r) => [r.span_name, r]));
    assert.deepEqual([...byName.keys()].sort(), [
      'ok-1',
      'ok-bad-enums',
      'ok-end-before-start',
      'ok-json',
      'ok-last',
      'ok-long-attr',
      'ok-no-service',
    ]);
    assert.equal(decimalToPicos(byName.get('ok-1')!.cost), good1.picos);
    assert.equal(decimalToPicos(byName.get('ok-long-attr')!.cost), good2.picos);
    assert.equal(decimalToPicos(byName.get('ok-json')!.cost), jsonGood.picos);
    assert.equal(decimalToPicos(byName.get('ok-last')!.cost), last.picos, 'the partition kept flowing');
    assert.equal(byName.get('ok-no-service')!.service, 'unknown_service');
    assert.deepEqual(byName.get('ok-no-service')!.sanitized, ['missing_service_name']);
    assert.deepEqual(byName.get('ok-end-before-start')!.sanitized, ['end_before_start', 'missing_service_name']);
    assert.deepEqual(byName.get('ok-long-attr')!.sanitized, ['attribute_truncated']);
    assert.deepEqual(byName.get('ok-bad-enums')!.sanitized, ['invalid_enum_value']);
    assert.equal(Number(byName.get('ok-bad-enums')!.kind), 0);
    assert.equal(Number(byName.get('ok-bad-enums')!.status), 0);
    assert.equal(decimalToPicos(byName.get('ok-bad-enums')!.cost), good1.picos);
    assert.equal(byName.get('ok-long-attr')!.route.length, 1024);
    assert.equal(byName.get('ok-long-attr')!.av[0]!.length, 256);

    // Read the dead-letter topic.
    const dead: { reason: string; partition: string; offset: string; spans: string; value: Buffer | null }[] = [];
    const consumer = kafka.consumer({ groupId: `${names.groupId}-reader` });
    await consumer.connect();
    await consumer.subscribe({ topic: names.dlqTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const h = (k: string): string => message.headers?.[k]?.toString() ?? '';
        dead.push({
          reason: h(DLQ_HEADERS.reason),
          partition: h(DLQ_HEADERS.partition),
          offset: h(DLQ_HEADERS.offset),
          spans: h(DLQ_HEADERS.spans),
          value: message.value,
        });
        await Promise.resolve();
      },
    });
    await waitFor(
      '5 dead letters',
      () => Promise.resolve(dead.length),
      (n) => n >= 5,
      30_000,
    );
    await consumer.disconnect();
    dead.sort((a, b) => Number(a.offset) - Number(b.offset));
    assert.deepEqual(
      dead.map((d) => [d.offset, d.partition, d.reason]),
      [
        ['0', '0', 'undecodable_protobuf'],
        ['1', '0', 'undecodable_json'],
        ['2', '0', 'undecodable_json'],
        ['3', '0', 'empty_message'],
        [
          '4',
          '0',
          'invalid_token_count,not_a_number,timestamp_in_future,timestamp_too_old,invalid_cost,invalid_trace_id',
        ],
      ],
    );
    assert.deepEqual(dead[0]!.value, sent[0]!.value, 'undecodable messages are kept byte for byte');
    // The rejected spans travel as an OTLP request of their own.
    const rejected = ExportTraceServiceRequest.decode(dead[4]!.value!);
    assert.deepEqual(
      rejected.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => s.name),
      ['negative', 'absurd', 'nan', 'future', 'ancient', 'bad-cost', 'short-id'],
    );
    assert.equal(dead[4]!.spans, '7');

    const metrics = await harness.aggregator.metrics.registry.metrics();
    assert.match(metrics, /costtrace_consumer_spans_rejected_total\{reason="invalid_token_count"\} 2/);
    assert.match(metrics, /costtrace_consumer_spans_sanitized_total\{reason="missing_service_name"\} 2/);
    assert.match(metrics, /costtrace_consumer_spans_sanitized_total\{reason="invalid_enum_value"\} 1/);
    assert.match(metrics, /costtrace_consumer_dead_letter_messages_total\{reason="undecodable_json"\} 2/);
  });
});
