// bench/sdk: span start+end through an OpenTelemetry tracer with CostSpanProcessor, versus the
// same pipeline with a no-op processor in its place, measured in one run (interleaved rounds),
// with realistic GenAI attributes. Two pipelines:
//   sdk     the tracer and a synchronous sink that keeps the last 4096 finished spans (the SDK's
//           own cost only: the strictest comparison);
//   export  the tracer, BatchSpanProcessor and an exporter that serialises every batch to OTLP
//           protobuf and discards it (what a real service pays per span, minus the network).
// Prints ns/span for both processors, the ratio, and retained memory per 100k finished spans.
// Reproduce (from the repository root, after `npm run build`):
//
//   flock /tmp/costtrace-itest.lock node --expose-gc bench/sdk/span-cost-processor.bench.mjs
//
// Options (env): BENCH_SPANS per round (default 50000), BENCH_ROUNDS (default 12).
import { writeFileSync, mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { CostSpanProcessor } from '@costtrace/otel';

const SPANS = Number(process.env.BENCH_SPANS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const gc = globalThis.gc;
if (typeof gc !== 'function') {
  console.error('run with node --expose-gc (see the header of this file)');
  process.exit(2);
}

/** Stands in for the batch exporter's queue: keeps the last N finished spans, synchronously. */
class RingSink {
  constructor(size) {
    this.buffer = new Array(size);
    this.next = 0;
  }
  onStart() {}
  onEnd(span) {
    this.buffer[this.next] = span;
    this.next = (this.next + 1) % this.buffer.length;
  }
  forceFlush() {
    return Promise.resolve();
  }
  shutdown() {
    return Promise.resolve();
  }
}

class NoopProcessor {
  onStart() {}
  onEnding() {}
  onEnd() {}
  forceFlush() {
    return Promise.resolve();
  }
  shutdown() {
    return Promise.resolve();
  }
}

/**
 * Reference point: stamps nine fixed cost-like attributes (what the full set adds to a typical
 * span here) without pricing anything, to separate the SDK's cost of storing and carrying the
 * attributes from the cost of computing them.
 */
class StampOnlyProcessor extends NoopProcessor {
  onEnding(span) {
    span.setAttribute('cost.total', '0.002765');
    span.setAttribute('cost.total_float', 0.002765);
    span.setAttribute('cost.currency', 'USD');
    span.setAttribute('cost.input_tokens', '0.000765');
    span.setAttribute('cost.output_tokens', '0.002');
    span.setAttribute('cost.pricing.version', 'bundled-2026-11-01');
    span.setAttribute('cost.pricing.source', 'bundled');
    span.setAttribute('cost.pricing.stale', false);
    span.setAttribute('cost.pricing.price_ids', STAMP_IDS);
  }
}
const STAMP_IDS = ['openai/gpt-4o/global/input_tokens@2026-11-01', 'openai/gpt-4o/global/output_tokens@2026-11-01'];

// A realistic mix: five hosted models across two providers, varied token counts, some cache hits
// and reasoning. Each span carries what GenAI client instrumentations set (request parameters,
// response id and finish reasons, server address and port), without prompt/completion content.
const MODELS = [
  ['openai', 'gpt-4o-mini'],
  ['openai', 'gpt-4o'],
  ['anthropic', 'claude-sonnet-4'],
  ['openai', 'o3-mini'],
  ['anthropic', 'claude-3-5-haiku'],
];
const USAGE = Array.from({ length: 64 }, (_, i) => {
  const [provider, model] = MODELS[i % MODELS.length];
  const input = 200 + ((i * 7919) % 6000);
  const cached = i % 3 === 0 ? Math.floor(input / 2) : 0;
  const output = 50 + ((i * 104729) % 900);
  return {
    start: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': provider,
      'gen_ai.request.model': model,
      'gen_ai.request.max_tokens': 1024,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.top_p': 1,
      'server.address': provider === 'openai' ? 'api.openai.com' : 'api.anthropic.com',
      'server.port': 443,
    },
    end: {
      'gen_ai.response.model': model,
      'gen_ai.response.id': `${provider === 'openai' ? 'chatcmpl' : 'msg'}_${(i * 2654435761).toString(36)}`,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.output.type': 'text',
      'gen_ai.usage.input_tokens': provider === 'anthropic' ? input - cached : input,
      'gen_ai.usage.output_tokens': output,
      ...(cached > 0 ? { 'gen_ai.usage.cache_read.input_tokens': cached } : {}),
      ...(model === 'o3-mini' ? { 'gen_ai.usage.reasoning.output_tokens': Math.floor(output / 2) } : {}),
    },
  };
});

/** Serialises each batch to OTLP protobuf, as the OTLP exporters do, and drops the bytes. */
class SerializingExporter {
  constructor() {
    this.spans = 0;
    this.bytes = 0;
  }
  export(spans, done) {
    this.bytes += ProtobufTraceSerializer.serializeRequest(spans)?.length ?? 0;
    this.spans += spans.length;
    done({ code: 0 });
  }
  shutdown() {
    return Promise.resolve();
  }
}

function exportPipeline(processor) {
  const exporter = new SerializingExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench', 'deployment.environment.name': 'bench' }),
    spanProcessors: [
      processor,
      new BatchSpanProcessor(exporter, { maxQueueSize: 65_536, maxExportBatchSize: 512, scheduledDelayMillis: 1 }),
    ],
  });
  return { tracer: provider.getTracer('bench'), exporter, processor, provider };
}

function pipeline(processor, sinkSize) {
  const sink = new RingSink(sinkSize);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench', 'deployment.environment.name': 'bench' }),
    spanProcessors: [processor, sink],
  });
  return { tracer: provider.getTracer('bench'), sink, processor };
}

const parentSpan = trace.wrapSpanContext({
  traceId: 'a'.repeat(32),
  spanId: 'b'.repeat(16),
  traceFlags: 1,
  isRemote: true,
});
const parent = trace.setSpan(ROOT_CONTEXT, parentSpan);

function run(tracer, n) {
  for (let i = 0; i < n; i++) {
    const usage = USAGE[i & 63];
    const span = tracer.startSpan('chat', { attributes: usage.start }, parent);
    span.setAttributes(usage.end);
    span.end();
  }
}

function timeRound(p) {
  const t0 = performance.now();
  run(p.tracer, SPANS);
  return ((performance.now() - t0) * 1e6) / SPANS;
}

/** Export pipeline: yields every 512 spans so batches are serialised inside the timed window. */
async function timeExportRound(p) {
  const before = p.exporter.spans;
  const t0 = performance.now();
  for (let done = 0; done < SPANS; done += 512) {
    run(p.tracer, 512);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await p.provider.forceFlush();
  const ns = ((performance.now() - t0) * 1e6) / SPANS;
  const exported = p.exporter.spans - before;
  if (exported < SPANS) throw new Error(`export pipeline dropped spans (${exported}/${SPANS})`);
  return ns;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Heap retained by 100k finished spans held by the sink. */
function memoryPer100k(makeProcessor) {
  gc();
  const before = process.memoryUsage().heapUsed;
  const p = pipeline(makeProcessor(), 100_000);
  run(p.tracer, 100_000);
  gc();
  const after = process.memoryUsage().heapUsed;
  if (p.sink.buffer.length !== 100_000) throw new Error('unreachable');
  return after - before;
}

const noop = pipeline(new NoopProcessor(), 4096);
const cost = pipeline(new CostSpanProcessor({ env: {} }), 4096);
const compact = pipeline(new CostSpanProcessor({ env: {}, attributeSet: 'compact' }), 4096);
const stampOnly = pipeline(new StampOnlyProcessor(), 4096);
// Warm up (JIT, caches).
for (let i = 0; i < 3; i++) {
  timeRound(noop);
  timeRound(cost);
  timeRound(compact);
  timeRound(stampOnly);
}
const noopNs = [];
const costNs = [];
const compactNs = [];
const stampOnlyNs = [];
for (let r = 0; r < ROUNDS; r++) {
  // Interleave, rotating which goes first, so drift hits all equally.
  const order = [
    [noop, noopNs],
    [cost, costNs],
    [compact, compactNs],
    [stampOnly, stampOnlyNs],
  ];
  for (let k = 0; k < order.length; k++) {
    const [p, out] = order[(k + r) % order.length];
    out.push(timeRound(p));
  }
}
const noopExport = exportPipeline(new NoopProcessor());
const costExport = exportPipeline(new CostSpanProcessor({ env: {} }));
const compactExport = exportPipeline(new CostSpanProcessor({ env: {}, attributeSet: 'compact' }));
const noopExportNs = [];
const costExportNs = [];
const compactExportNs = [];
const exportOrder = [
  [noopExport, noopExportNs],
  [costExport, costExportNs],
  [compactExport, compactExportNs],
];
for (const [p] of exportOrder) await timeExportRound(p); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < exportOrder.length; k++) {
    const [p, out] = exportOrder[(k + r) % exportOrder.length];
    out.push(await timeExportRound(p));
  }
}
const stats = cost.processor.stats();
const lastCost = cost.sink.buffer[(cost.sink.next + 4095) % 4096];
if (stats.priced === 0 || typeof lastCost?.attributes['cost.total'] !== 'string') {
  throw new Error('CostSpanProcessor priced nothing: the benchmark would be meaningless');
}
const memNoop = memoryPer100k(() => new NoopProcessor());
const memCost = memoryPer100k(() => new CostSpanProcessor({ env: {} }));
const result = {
  date: new Date().toISOString(),
  node: process.version,
  spansPerRound: SPANS,
  rounds: ROUNDS,
  sdk: {
    noopNsPerSpan: Number(median(noopNs).toFixed(1)),
    costNsPerSpan: Number(median(costNs).toFixed(1)),
    ratio: Number((median(costNs) / median(noopNs)).toFixed(3)),
    addedNsPerSpan: Number((median(costNs) - median(noopNs)).toFixed(1)),
    compactNsPerSpan: Number(median(compactNs).toFixed(1)),
    compactRatio: Number((median(compactNs) / median(noopNs)).toFixed(3)),
    stampOnlyNsPerSpan: Number(median(stampOnlyNs).toFixed(1)),
    stampOnlyRatio: Number((median(stampOnlyNs) / median(noopNs)).toFixed(3)),
  },
  export: {
    noopNsPerSpan: Number(median(noopExportNs).toFixed(1)),
    costNsPerSpan: Number(median(costExportNs).toFixed(1)),
    ratio: Number((median(costExportNs) / median(noopExportNs)).toFixed(3)),
    addedNsPerSpan: Number((median(costExportNs) - median(noopExportNs)).toFixed(1)),
    compactNsPerSpan: Number(median(compactExportNs).toFixed(1)),
    compactRatio: Number((median(compactExportNs) / median(noopExportNs)).toFixed(3)),
    otlpBytesPerSpan: {
      noop: Math.round(noopExport.exporter.bytes / noopExport.exporter.spans),
      cost: Math.round(costExport.exporter.bytes / costExport.exporter.spans),
      compact: Math.round(compactExport.exporter.bytes / compactExport.exporter.spans),
    },
  },
  memoryPer100kSpansMiB: {
    noop: Number((memNoop / 2 ** 20).toFixed(1)),
    cost: Number((memCost / 2 ** 20).toFixed(1)),
  },
  priced: stats.priced,
  unpriced: stats.unpriced,
};
console.log('bench/sdk: span start+end, CostSpanProcessor vs no-op processor (same pipeline, one run)');
console.log(`  spans/round ${SPANS}, rounds ${ROUNDS} (interleaved), median of rounds`);
for (const [name, r] of [
  ['sdk    (tracer + in-memory sink)', result.sdk],
  ['export (tracer + batch + OTLP protobuf serialisation)', result.export],
]) {
  console.log(`  pipeline: ${name}`);
  console.log(`    no-op processor      ${r.noopNsPerSpan} ns/span`);
  console.log(`    CostSpanProcessor    ${r.costNsPerSpan} ns/span  (+${r.addedNsPerSpan} ns)`);
  console.log(`    ratio                ${r.ratio}x   (target <= 1.3x, aim <= 1.1x)`);
  if (r.compactNsPerSpan !== undefined) {
    console.log(`    compact attributes   ${r.compactNsPerSpan} ns/span  ratio ${r.compactRatio}x`);
  }
  if (r.stampOnlyNsPerSpan !== undefined) {
    console.log(
      `    stamp only (9 fixed attributes via setAttribute, no pricing) ${r.stampOnlyNsPerSpan} ns/span  ratio ${r.stampOnlyRatio}x`,
    );
  }
}
console.log(
  `  OTLP bytes per span    no-op ${result.export.otlpBytesPerSpan.noop}, cost ${result.export.otlpBytesPerSpan.cost}, compact ${result.export.otlpBytesPerSpan.compact}`,
);
console.log(
  `  memory per 100k spans  no-op ${result.memoryPer100kSpansMiB.noop} MiB, cost ${result.memoryPer100kSpansMiB.cost} MiB (retained finished spans)`,
);
console.log('  reproduce: flock /tmp/costtrace-itest.lock node --expose-gc bench/sdk/span-cost-processor.bench.mjs');
mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
writeFileSync(new URL('../results/sdk.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
