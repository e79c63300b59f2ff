// The OTLP receivers end to end on real Kafka and ClickHouse: gRPC Export, HTTP protobuf,
// HTTP JSON, gzip, size caps before and after decompression, partial success for invalid
// spans, splitting of requests larger than a Kafka message, and retryable answers when Kafka
// cannot take the data (a receiver pointed at a topic that does not exist: the producer's
// send fails exactly as it does with the broker down, without stopping the shared broker).
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import { ExportTraceServiceRequest, ExportTraceServiceResponse, TraceServiceClient } from '@costtrace/proto';
import type { ExportTraceServiceResponse as Response } from '@costtrace/proto';
import { ClickHouseStore } from '@costtrace/store';
import { exportRequestToJson } from '../src/otlp/otlp-json.js';
import { startAggregator } from './support/aggregator-harness.js';
import type { Harness } from './support/aggregator-harness.js';
import { exportRequest, openAiUsage, span } from './support/otlp-fixtures.js';
import {
  createTopics,
  decimalToPicos,
  deleteTopics,
  liveServices,
  testKafka,
  uniqueNames,
  waitFor,
} from './support/live-services.js';

const encode = (r: ExportTraceServiceRequest): Buffer => Buffer.from(ExportTraceServiceRequest.encode(r).finish());

function grpcExport(
  port: number,
  request: ExportTraceServiceRequest,
  gzip = false,
): Promise<{ error: grpc.ServiceError | null; response?: Response }> {
  const client = new TraceServiceClient(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
    gzip ? { 'grpc.default_compression_algorithm': 2 } : {},
  );
  return new Promise((resolve) => {
    client.export(request, (error, response) => {
      client.close();
      resolve({ error, response });
    });
  });
}

describe('OTLP receivers', () => {
  const services = liveServices();
  const names = uniqueNames('ingest');
  const kafka = testKafka(services.kafkaBrokers);
  const store = new ClickHouseStore({ url: services.clickhouseUrl, database: names.database });
  let harness: Harness;
  let broken: Harness | undefined;
  let base = '';
  const expected = new Map<string, bigint>();

  before(async () => {
    await createTopics(kafka, [names.topic, names.dlqTopic]);
    harness = await startAggregator(names, {
      maxRequestBytes: 256 * 1024,
      maxDecompressedBytes: 1024 * 1024,
      maxMessageBytes: 64 * 1024,
    });
    base = `http://127.0.0.1:${harness.addresses.http!.port}/v1/traces`;
  });

  after(async () => {
    await harness?.aggregator.stop();
    await broken?.aggregator.stop();
    await store.command(`DROP DATABASE IF EXISTS ${names.database}`).catch(() => undefined);
    await store.close();
    await deleteTopics(kafka, [names.topic, names.dlqTopic]);
  });

  function request(service: string, count: number, invalid = 0) {
    const spans = [];
    for (let i = 0; i < count; i++) {
      const usage = openAiUsage(1000 + i, i % 100, 10 + i);
      const name = `${service}-${i}`;
      expected.set(name, usage.picos);
      spans.push(span({ name, attributes: usage.attributes }));
    }
    for (let i = 0; i < invalid; i++) {
      spans.push(span({ name: `${service}-bad-${i}`, attributes: { 'gen_ai.usage.input_tokens': -1 } }));
    }
    return exportRequest({ 'service.name': service }, spans);
  }

  it('accepts gRPC Export (plain and gzip) and reports partial success', async () => {
    const plain = await grpcExport(harness.addresses.grpcPort!, request('grpc-plain', 5));
    assert.equal(plain.error, null);
    assert.equal(plain.response?.partialSuccess, undefined);
    const zipped = await grpcExport(harness.addresses.grpcPort!, request('grpc-gzip', 5, 2), true);
    assert.equal(zipped.error, null);
    assert.equal(zipped.response?.partialSuccess?.rejectedSpans, 2n);
    assert.match(zipped.response?.partialSuccess?.errorMessage ?? '', /invalid_token_count: 2/);
  });

  it('accepts HTTP protobuf, gzip protobuf and JSON, with partial success', async () => {
    const proto = await fetch(base, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: encode(request('http-proto', 5, 1)),
    });
    assert.equal(proto.status, 200);
    const decoded = ExportTraceServiceResponse.decode(Buffer.from(await proto.arrayBuffer()));
    assert.equal(decoded.partialSuccess?.rejectedSpans, 1n);

    const zipped = await fetch(base, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      body: gzipSync(encode(request('http-gzip', 5))),
    });
    assert.equal(zipped.status, 200);

    const json = await fetch(base, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(exportRequestToJson(request('http-json', 5, 3))),
    });
    assert.equal(json.status, 200);
    assert.deepEqual(
      ((await json.json()) as { partialSuccess: { rejectedSpans: string } }).partialSuccess.rejectedSpans,
      '3',
    );
  });

  it('splits requests larger than a Kafka message', async () => {
    // ~240 KB of spans against a 64 KB message limit.
    const big = request('http-big', 800);
    const res = await fetch(base, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      body: gzipSync(encode(big)),
    });
    assert.equal(res.status, 200);
  });

  it('stores every accepted span exactly once with its exact cost', async () => {
    const rows = await waitFor(
      `${expected.size} rows`,
      () =>
        store.select<{ span_name: string; cost: string }>(
          `SELECT span_name, toString(cost_total) AS cost FROM ${names.database}.span_costs`,
        ),
      (r) => r.length >= expected.size,
      60_000,
    );
    assert.equal(rows.length, expected.size);
    for (const row of rows) assert.equal(decimalToPicos(row.cost), expected.get(row.span_name), row.span_name);
    const [split] = await store.select<{ messages: number }>(
      `SELECT uniqExact(kafka_partition, kafka_offset) AS messages FROM ${names.database}.span_costs WHERE service = 'http-big'`,
    );
    assert.ok(Number(split!.messages) >= 4, `the 240 KB request went out as ${split!.messages} Kafka messages`);
  });

  it('answers caps and bad input with the right codes', async () => {
    const post = (body: Buffer | string, headers: Record<string, string>) =>
      fetch(base, { method: 'POST', body, headers }).then((r) => r.status);
    assert.equal(
      await post(Buffer.alloc(300 * 1024, 1), { 'content-type': 'application/x-protobuf' }),
      413,
      'over the cap as sent',
    );
    // 2 MB of zeros gzip to ~2 KB: under the cap as sent, over it decompressed.
    assert.equal(
      await post(gzipSync(Buffer.alloc(2 * 1024 * 1024)), {
        'content-type': 'application/x-protobuf',
        'content-encoding': 'gzip',
      }),
      413,
      'over the cap decompressed',
    );
    assert.equal(
      await post(Buffer.from('not gzip'), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }),
      400,
    );
    assert.equal(await post(Buffer.from([0x0a, 0xff, 0xff]), { 'content-type': 'application/x-protobuf' }), 400);
    assert.equal(
      await post('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}', {
        'content-type': 'application/json',
      }),
      400,
    );
    assert.equal(await post('x', { 'content-type': 'text/plain' }), 415);
    assert.equal(await post('x', { 'content-type': 'application/x-protobuf', 'content-encoding': 'br' }), 415);
    assert.equal((await fetch(base)).status, 405);
  });

  it('answers retryable errors, never success, when Kafka cannot take the spans', async () => {
    const missing = { ...uniqueNames('ingest-nokafka') };
    broken = await startAggregator(
      { ...missing, database: names.database },
      { logLevel: 'fatal' },
      { consume: false, api: false },
    );
    const res = await fetch(`http://127.0.0.1:${broken.addresses.http!.port}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: encode(request('nokafka-http', 2)),
    });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '5');
    const viaGrpc = await grpcExport(broken.addresses.grpcPort!, request('nokafka-grpc', 2));
    assert.equal(viaGrpc.error?.code, grpc.status.UNAVAILABLE);
    for (const name of expected.keys()) if (name.startsWith('nokafka')) expected.delete(name);
  });
});
