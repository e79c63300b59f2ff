import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OTLPProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ExportTraceServiceRequest, TraceServiceService } from '@costtrace/proto';
import type { AnyValue, TraceServiceServer } from '@costtrace/proto';
import { CostSpanProcessor, recordGpuUsage } from '../src/index.js';

/** Flattens a decoded OTLP AnyValue. */
function plain(value: AnyValue | undefined): unknown {
  if (value === undefined) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return value.arrayValue.values.map(plain);
  return undefined;
}

function spansOf(requests: ExportTraceServiceRequest[]): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const req of requests)
    for (const rs of req.resourceSpans)
      for (const ss of rs.scopeSpans)
        for (const span of ss.spans) {
          out.set(span.name, Object.fromEntries(span.attributes.map((kv) => [kv.key, plain(kv.value)])));
        }
  return out;
}

// NodeSDK also sets up OTLP metrics and logs exporters from the environment by default; this test
// is about traces, and flushing those against no collector would retry for seconds.
process.env.OTEL_METRICS_EXPORTER = 'none';
process.env.OTEL_LOGS_EXPORTER = 'none';

/** Runs an instrumented "request" through a real NodeSDK with the given exporter. */
async function runSdk(exporter: SpanExporter): Promise<void> {
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': 'wire-test', 'deployment.environment.name': 'test' }),
    autoDetectResources: false,
    spanProcessors: [new CostSpanProcessor({ env: { GITHUB_SHA: '0123abcd' } }), new BatchSpanProcessor(exporter)],
  });
  sdk.start();
  const tracer = trace.getTracer('wire');
  const edge = propagation.setBaggage(
    ROOT_CONTEXT,
    propagation.createBaggage({ 'costtrace.tenant': { value: 'acme' } }),
  );
  const server = tracer.startSpan('POST /v1/chat', { attributes: { 'http.route': '/v1/chat' } }, edge);
  const llm = tracer.startSpan(
    'chat claude-sonnet-4',
    {
      attributes: {
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.request.model': 'claude-sonnet-4',
        'gen_ai.usage.input_tokens': 1200,
        'gen_ai.usage.cache_read.input_tokens': 8000,
        'gen_ai.usage.cache_creation.input_tokens': 1000,
        'gen_ai.usage.output_tokens': 300,
      },
    },
    trace.setSpan(edge, server),
  );
  recordGpuUsage(llm, { gpuType: 'h100-80gb', count: 2, seconds: 1.5 });
  llm.end();
  server.end();
  await sdk.shutdown();
  // NodeSDK registered the globals; free them for the next test in this process.
  trace.disable();
  propagation.disable();
  context.disable();
}

function assertOnWire(spans: Map<string, Record<string, unknown>>): void {
  const llm = spans.get('chat claude-sonnet-4');
  assert.ok(llm, 'the LLM span was exported');
  // 0.01425 tokens (see span-cost-processor.test) + 3 GPU-seconds × $6.88/h = 0.005733333333
  assert.equal(llm['cost.total'], '0.019983333333');
  assert.equal(llm['cost.total_float'], 0.019983333333);
  assert.equal(llm['cost.gpu'], '0.005733333333');
  assert.equal(llm['cost.cache_read_tokens'], '0.0024');
  assert.equal(llm['cost.currency'], 'USD');
  assert.equal(llm['cost.pricing.source'], 'bundled');
  assert.equal(llm['cost.pricing.stale'], undefined, 'a fresh snapshot is not flagged');
  assert.equal((llm['cost.pricing.price_ids'] as string[]).length, 5);
  assert.equal(llm['costtrace.tenant'], 'acme');
  assert.equal(llm['http.route'], '/v1/chat');
  assert.equal(llm['vcs.ref.head.revision'], '0123abcd');
  assert.equal(spans.get('POST /v1/chat')?.['cost.total'], undefined);
}

describe('a real NodeSDK exporting OTLP', () => {
  it('carries the cost attributes on the wire over OTLP/gRPC', async () => {
    const received: ExportTraceServiceRequest[] = [];
    const server = new Server();
    const impl: TraceServiceServer = {
      export: (call, callback) => {
        received.push(call.request);
        callback(null, { partialSuccess: undefined });
      },
    };
    server.addService(TraceServiceService, impl);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    try {
      await runSdk(new OTLPGrpcExporter({ url: `http://127.0.0.1:${port}` }));
    } finally {
      server.forceShutdown();
    }
    assertOnWire(spansOf(received));
  });

  it('carries the cost attributes on the wire over OTLP/HTTP protobuf', async () => {
    const received: ExportTraceServiceRequest[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        assert.equal(req.headers['content-type'], 'application/x-protobuf');
        received.push(ExportTraceServiceRequest.decode(Buffer.concat(chunks)));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      await runSdk(new OTLPProtoExporter({ url: `http://127.0.0.1:${port}/v1/traces` }));
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    assertOnWire(spansOf(received));
  });
});
