/* global setInterval, clearInterval */
// The instrumented service of the latency benchmark, in its own process: an OpenTelemetry SDK
// with CostSpanProcessor and a low-latency BatchSpanProcessor, generating a steady span rate over
// many tenants plus "probe" spans that breach a fresh tenant's budget, and a real HTTP webhook
// receiver that timestamps each throttle.engaged. Driven by latency.mjs over stdin/stdout.
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { CostSpanProcessor } from '@costtrace/otel';

const probeEnds = new Map();
const latencies = [];
let webhooks = 0;
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = Date.now();
    webhooks++;
    try {
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (event.type === 'throttle.engaged') {
        const tenant = event.data.scope.dimensions.tenant;
        const ended = probeEnds.get(tenant);
        if (ended !== undefined) {
          latencies.push(at - ended);
          probeEnds.delete(tenant);
        }
      }
    } catch {
      // counted as a webhook anyway
    }
    res.writeHead(204).end();
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
process.stdout.write(`receiver http://127.0.0.1:${server.address().port}/hook\n`);

const lines = createInterface({ input: process.stdin });
const [command] = await new Promise((resolve) => lines.once('line', (l) => resolve([l])));
const { ingest, rate, tenants, seconds, probesPerSecond, scheduledDelayMillis } = JSON.parse(command);

const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'bench-svc' }),
  spanProcessors: [
    new CostSpanProcessor(),
    // The documented low-latency export settings (the OTel default waits 5 s between exports).
    new BatchSpanProcessor(new OTLPTraceExporter({ url: ingest }), {
      scheduledDelayMillis,
      maxExportBatchSize: 512,
      maxQueueSize: 65_536,
      exportTimeoutMillis: 10_000,
    }),
  ],
});
const tracer = provider.getTracer('bench');
const background = {
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o-mini',
  'gen_ai.usage.input_tokens': 100,
  'gen_ai.usage.output_tokens': 50,
};
const probe = {
  'gen_ai.provider.name': 'anthropic',
  'gen_ai.request.model': 'claude-sonnet-4',
  'gen_ai.usage.input_tokens': 10,
  'gen_ai.usage.output_tokens': 100_000,
};
let sent = 0;
let probes = 0;
let next = 0;
const tickMs = 10;
const perTick = (rate * tickMs) / 1000;
const probeEvery = Math.round(1000 / probesPerSecond / tickMs);
const started = Date.now();
let tick = 0;
await new Promise((resolve) => {
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - started) / 1000) * rate) - sent;
    for (let i = 0; i < Math.min(due, perTick * 5); i++) {
      tracer.startSpan('chat', { attributes: { ...background, 'costtrace.tenant': `t${next++ % tenants}` } }).end();
      sent++;
    }
    if (++tick % probeEvery === 0 && Date.now() - started > 3000) {
      const tenant = `probe-${probes++}`;
      tracer.startSpan('expensive', { attributes: { ...probe, 'costtrace.tenant': tenant } }).end();
      probeEnds.set(tenant, Date.now());
      sent++;
    }
    if (Date.now() - started >= seconds * 1000) {
      clearInterval(timer);
      resolve();
    }
  }, tickMs);
});
const elapsed = (Date.now() - started) / 1000;
await provider.forceFlush();
const deadline = Date.now() + 15_000;
while (probeEnds.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
await provider.shutdown();
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
process.stdout.write(
  `result ${JSON.stringify({ spans: sent, seconds: elapsed, spansPerSecond: sent / elapsed, probes, received: latencies.length, missing: probeEnds.size, webhooks, p50: pct(50), p90: pct(90), p99: pct(99), max: latencies.at(-1) })}\n`,
);
server.close();
process.exit(0);
