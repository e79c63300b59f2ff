import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createThrottleGuard } from '@costtrace/otel';
import { pino } from 'pino';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemoApp, loadDemoConfig, runLoad, startTelemetry } from '../src/index.js';
import { MODELS } from '../src/catalog.js';
import { DemoConfigError } from '../src/config.js';
import { cheaperModel } from '../src/demo-app.js';
import { DemoMetrics } from '../src/demo-metrics.js';
import { GpuBatcher, GpuQueueFullError } from '../src/gpu-batcher.js';
import type { Telemetry } from '../src/index.js';

const logger = pino({ level: 'silent' });
// A batch is dispatched when four requests are queued or after 2 s (long enough never to split
// the test's four concurrent requests, however loaded the machine).
const config = loadDemoConfig(
  { httpPort: 0, latencyScale: 0, batchWindowMs: 2_000, maxBatchSize: 4, seed: 7 },
  { DEMO_ALLOW_NO_EXPORT: 'true' },
);
const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let app: DemoApp;
let base: string;

// An in-test aggregator throttle API (README contract), engaged per test.
let throttles: unknown[] = [];
const throttleApi = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ throttles }));
});

async function spans(): Promise<ReadableSpan[]> {
  await telemetry.provider.forceFlush();
  return exporter.getFinishedSpans();
}

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

before(async () => {
  await new Promise<void>((resolve) => throttleApi.listen(0, '127.0.0.1', resolve));
  const guard = createThrottleGuard<IncomingMessage>({
    url: `http://127.0.0.1:${(throttleApi.address() as AddressInfo).port}`,
    mode: 'poll',
    pollIntervalMs: 100,
    degrade: ({ request, throttle, dimensions }) => {
      const cheaper = cheaperModel(dimensions.model);
      if (throttle.action !== 'degrade' || cheaper === undefined) return false;
      (request as IncomingMessage & { degradedModel?: string }).degradedModel = cheaper;
      return true;
    },
  });
  telemetry = startTelemetry(config, { exporter });
  const metrics = new DemoMetrics({ processor: telemetry.processor });
  app = new DemoApp(config, { tracer: trace.getTracer('demo'), logger, guard, metrics });
  base = await app.start();
  await guard.ready();
  stopGuard = () => guard.shutdown();
});

let stopGuard: () => Promise<void> = () => Promise.resolve();
after(async () => {
  await app.stop();
  await stopGuard();
  await telemetry.shutdown();
  throttleApi.closeAllConnections();
  await new Promise((r) => throttleApi.close(r));
});

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('demo-inference', () => {
  it('serves a chat completion whose model-call span carries the exact cost and the baggage tenant', async () => {
    exporter.reset();
    const res = await post(
      '/v1/chat/completions',
      { model: 'gpt-4o', prompt: 'x'.repeat(4000), max_tokens: 200 },
      { baggage: 'costtrace.tenant=acme,costtrace.team=search' },
    );
    assert.equal(res.status, 200);
    const body = (await res.json()) as { usage: Record<string, number | Record<string, number>> };
    const prompt = body.usage.prompt_tokens as number;
    const completion = body.usage.completion_tokens as number;
    const cached = (body.usage.prompt_tokens_details as Record<string, number>).cached_tokens ?? 0;
    assert.equal(prompt, 1000);
    const all = await spans();
    const call = all.find((s) => s.name === 'chat gpt-4o');
    assert.ok(call);
    // gpt-4o: $2.50 input, $1.25 cached input, $10 output per 1M tokens = pd per token ×10^6.
    const pico = BigInt(prompt - cached) * 2_500_000n + BigInt(cached) * 1_250_000n + BigInt(completion) * 10_000_000n;
    assert.equal(Number(call.attributes['cost.total']) * 1e12, Number(pico));
    assert.equal(call.attributes['costtrace.tenant'], 'acme');
    assert.equal(call.attributes['costtrace.team'], 'search');
    assert.equal(call.attributes['http.route'], '/v1/chat/completions');
    const server = all.find((s) => s.name === 'POST /v1/chat/completions');
    assert.equal(server?.attributes['http.response.status_code'], 200);
  });

  it('batches self-hosted generation on the GPU and charges each request its share of the batch', async () => {
    exporter.reset();
    const responses = await Promise.all(
      [0, 1, 2, 3].map(() => post('/v1/generate', {}, { 'x-costtrace-tenant': 'globex' })),
    );
    for (const r of responses) assert.equal(r.status, 200);
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as { gpu: { batch_size: number } }[];
    assert.deepEqual(
      bodies.map((b) => b.gpu.batch_size),
      [4, 4, 4, 4],
    );
    const all = await spans();
    const batch = all.find((s) => s.name.startsWith('gpu batch'));
    const calls = all.filter((s) => s.name === 'chat llama-3.1-8b-instruct');
    assert.equal(calls.length, 4);
    assert.equal(batch?.attributes['cost.total'], undefined, 'the batch span is a roll-up, not billed');
    const shares = calls.reduce((sum, s) => sum + (s.attributes['costtrace.gpu.seconds'] as number), 0);
    assert.ok(Math.abs(shares - (batch?.attributes['costtrace.gpu.seconds'] as number)) < 1e-8);
    for (const s of calls) {
      assert.equal(s.attributes['cost.total'], s.attributes['cost.gpu']);
      assert.equal(s.attributes['cost.input_tokens'], undefined, 'self-hosted tokens are not billed');
      assert.equal(s.attributes['cost.unpriced_reason'], undefined);
      assert.equal(s.attributes['costtrace.tenant'], 'globex');
    }
  });

  it('answers 429 while a throttle covers the tenant, degrades to a cheaper model when asked, recovers', async () => {
    const throttle = {
      id: 't1',
      budgetId: 'acme-daily',
      scope: { tenant: 'acme' },
      spend: { amount: '101', currency: 'USD' },
      limit: { amount: '100', currency: 'USD' },
      until: null,
    };
    throttles = [throttle];
    await until(async () => (await post('/v1/summarize', {}, { 'x-costtrace-tenant': 'acme' })).status === 429);
    assert.equal((await post('/v1/summarize', {}, { 'x-costtrace-tenant': 'globex' })).status, 200);
    throttles = [{ ...throttle, id: 't2', scope: { model: 'claude-sonnet-4' }, action: 'degrade' }];
    await until(async () => {
      const res = await post('/v1/summarize', { model: 'claude-sonnet-4' }, { 'x-costtrace-tenant': 'acme' });
      return res.status === 200 && ((await res.json()) as { model: string }).model === 'claude-3-5-haiku';
    });
    throttles = [];
    await until(async () => {
      const res = await post('/v1/summarize', { model: 'claude-sonnet-4' }, { 'x-costtrace-tenant': 'acme' });
      return res.status === 200 && ((await res.json()) as { model: string }).model === 'claude-sonnet-4';
    });
    assert.ok(app.counts.throttled >= 1 && app.counts.degraded >= 1);
  });

  it('bounds each GPU queue: beyond it requests are refused and counted', async () => {
    const batcher = new GpuBatcher(() => {}, trace.getTracer('q'), 'h100-80gb', 10_000, 64, 0, 2);
    const model = MODELS['llama-3.1-8b-instruct'];
    assert.ok(model?.kind === 'self-hosted');
    const span = trace.getTracer('q').startSpan('x');
    const queued = [batcher.run(model, span, 10), batcher.run(model, span, 10)];
    await assert.rejects(batcher.run(model, span, 10), GpuQueueFullError);
    assert.equal(batcher.dropped, 1);
    batcher.drain([model]);
    await Promise.all(queued);
    span.end();
  });

  it('rejects unknown routes and models', async () => {
    assert.equal((await post('/v1/nope', {})).status, 404);
    assert.equal((await post('/v1/embeddings', { model: 'gpt-4o' })).status, 400);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  });

  it('serves Prometheus metrics, including what the CostSpanProcessor priced', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    assert.match(text, /demo_requests_total\{route="\/v1\/chat\/completions",status="200"\} \d+/);
    assert.match(text, /demo_gpu_batches_total\{model="llama-3.1-8b-instruct"\} \d+/);
    assert.match(text, /costtrace_sdk_spans\{outcome="priced",reason=""\} [1-9]\d*/);
  });

  it('load mode drives a reproducible mix of tenants and routes', async () => {
    const summary = await runLoad({ targetUrl: base, rps: 2000, requests: 60, seed: 3 });
    assert.equal(summary.byStatus['200'], 60);
    assert.equal(
      Object.values(summary.byTenant).reduce((a, b) => a + b, 0),
      60,
    );
    assert.ok(Object.keys(summary.byRoute).length >= 3);
    const again = await runLoad({ targetUrl: base, rps: 2000, requests: 60, seed: 3 });
    assert.deepEqual(again.byTenant, summary.byTenant);
  });

  it('validates its configuration with messages naming the variable', () => {
    assert.throws(
      () => loadDemoConfig({}, { DEMO_HTTP_PORT: 'eighty', DEMO_ALLOW_NO_EXPORT: 'true' }),
      (err: unknown) => {
        assert.ok(err instanceof DemoConfigError);
        assert.match(err.message, /DEMO_HTTP_PORT="eighty" is invalid: use an integer from 0 to 65535/);
        return true;
      },
    );
    assert.throws(() => loadDemoConfig({}, {}), /COSTTRACE_OTLP_ENDPOINT is not set/);
    assert.throws(
      () => loadDemoConfig({}, { COSTTRACE_OTLP_ENDPOINT: 'http://x:4318/v1/traces', COSTTRACE_OTLP_PROTOCOL: 'udp' }),
      /COSTTRACE_OTLP_PROTOCOL="udp" is invalid: use one of grpc, http\/protobuf/,
    );
    const ok = loadDemoConfig({}, { COSTTRACE_OTLP_ENDPOINT: 'http://x:4318/v1/traces', DEMO_MODE: 'load' });
    assert.equal(ok.mode, 'load');
    // Optional file: below the environment, above the defaults.
    const dir = mkdtempSync(join(tmpdir(), 'demo-config-'));
    try {
      const file = join(dir, 'demo.json');
      writeFileSync(file, JSON.stringify({ DEMO_HTTP_PORT: 9000, DEMO_SEED: 5, DEMO_ALLOW_NO_EXPORT: true }));
      const fromFile = loadDemoConfig({}, { DEMO_CONFIG_FILE: file, DEMO_SEED: '6' });
      assert.equal(fromFile.httpPort, 9000);
      assert.equal(fromFile.seed, 6);
      writeFileSync(file, '[1]');
      assert.throws(() => loadDemoConfig({}, { DEMO_CONFIG_FILE: file }), /must hold a JSON object/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
