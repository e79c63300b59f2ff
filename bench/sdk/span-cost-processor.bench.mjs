// bench/sdk: span start+end through an OpenTelemetry tracer with CostSpanProcessor, versus the
// same pipeline with a no-op processor in its place, measured in one run (interleaved rounds),
// with realistic GenAI attributes. Two pipelines:
//   sdk     the tracer and a synchronous sink that keeps the last 4096 finished spans (the SDK's
//           own cost only: the strictest comparison);
//   export  the tracer, BatchSpanProcessor and an exporter that serialises every batch to OTLP
//           protobuf and discards it (what a real service pays per span, minus the network).
// Every round runs each variant once, in rotating order; the ratio reported is the median over
// rounds of (variant / no-op) within the same round, with the interquartile range, so slow drift
// and a stray major GC do not decide the figure. (No gc() between rounds: a full collection
// shrinks the young generation, and the rounds after it measure V8 regrowing it instead.)
// A reference variant, "carry only", writes the same eight attributes (fresh values per span)
// the way the processor does but prices nothing: the part of the ratio that is the SDK carrying
// more attributes rather than the pricing.
// Prints ns/span, the ratios, and retained memory per 100k finished spans.
// Reproduce (from the repository root, after `npm run build`):
//
//   flock /tmp/costtrace-itest.lock node --expose-gc bench/sdk/span-cost-processor.bench.mjs
//
// Options (env): BENCH_SPANS per round (default 40000), BENCH_ROUNDS (default 20).
import { writeFileSync, mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { CostSpanProcessor } from '@costtrace/otel';

const SPANS = Number(process.env.BENCH_SPANS ?? 40_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
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
 * Reference point: writes eight cost-like attributes the way CostSpanProcessor does (straight
 * into the span's attribute object with constant keys, the SDK's count kept), with a fresh
 * decimal string per value and span, but prices nothing. Relies on sdk-trace-base 2.x internals
 * exactly as the processor's writer does.
 */
class CarryOnlyProcessor extends NoopProcessor {
  constructor() {
    super();
    this.n = 0;
  }
  onEnding(span) {
    const n = (this.n = (this.n + 1) & 0xfffff);
    const a = span.attributes;
    a['cost.total'] = `0.00${2765 + n}`;
    a['cost.total_float'] = 0.002765 + n / 1e9;
    a['cost.currency'] = 'USD';
    a['cost.input_tokens'] = `0.000${765 + n}`;
    a['cost.output_tokens'] = `0.00${2 + n}`;
    a['cost.pricing.version'] = 'bundled-2026-11-01';
    a['cost.pricing.source'] = 'bundled';
    a['cost.pricing.price_ids'] = CARRY_IDS;
    span._attributesCount += 8;
  }
}
const CARRY_IDS = Object.freeze([
  'openai/gpt-4o/global/input_tokens@2026-11-01',
  'openai/gpt-4o/global/output_tokens@2026-11-01',
]);

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

function pipeline(processor, sinkSize, spanLimits) {
  const sink = new RingSink(sinkSize);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench', 'deployment.environment.name': 'bench' }),
    spanProcessors: [processor, sink],
    ...(spanLimits === undefined ? {} : { spanLimits }),
  });
  return { tracer: provider.getTracer('bench'), sink, processor };
}

// Each model call is its own request: 65,536 remote parents in distinct traces, used in turn (more
// than the processor's one-charge ledger remembers, so each trace it holds has one call, as in a
// service), and a response id of its own per call (the same id twice in one trace would be one
// call reported twice, which the processor charges once). Every variant pays the same for this.
const PARENTS = Array.from({ length: 65_536 }, (_, i) =>
  trace.setSpan(
    ROOT_CONTEXT,
    trace.wrapSpanContext({
      traceId: (i + 1).toString(16).padStart(32, 'a'),
      spanId: 'b'.repeat(16),
      traceFlags: 1,
      isRemote: true,
    }),
  ),
);
let calls = 0;

function run(tracer, n) {
  for (let i = 0; i < n; i++) {
    const usage = USAGE[i & 63];
    const span = tracer.startSpan('chat', { attributes: usage.start }, PARENTS[calls & 65_535]);
    span.setAttributes(usage.end);
    span.setAttribute('gen_ai.response.id', `resp_${calls++}`);
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

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}
const median = (values) => quantile(values, 0.5);

/**
 * Runs every variant once per round, in rotating order, after warm-up rounds; returns per
 * variant the median ns/span and the median and interquartile range of its ratio to the first
 * variant (the no-op) within the same round.
 */
async function measure(variants, time, warmup) {
  const ns = variants.map(() => []);
  for (let w = 0; w < warmup; w++) for (const v of variants) await time(v.pipeline);
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < variants.length; k++) {
      const i = (k + r) % variants.length;
      ns[i].push(await time(variants[i].pipeline));
    }
  }
  return variants.map((v, i) => {
    const ratios = ns[i].map((x, r) => x / ns[0][r]);
    return {
      name: v.name,
      nsPerSpan: Number(median(ns[i]).toFixed(1)),
      ratio: Number(median(ratios).toFixed(3)),
      ratioIqr: [Number(quantile(ratios, 0.25).toFixed(3)), Number(quantile(ratios, 0.75).toFixed(3))],
    };
  });
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
const carry = pipeline(new CarryOnlyProcessor(), 4096);
// The writer's two paths under the same SDK work: a value length limit of 1024 keeps the direct
// stores into the span's attribute object (the SDK's private bookkeeping); 1023 makes the writer
// use the public setAttribute (see cost-attribute-writer.ts). Both limits make the SDK check the
// length of every attribute the instrumentation sets, alike.
const direct = pipeline(new CostSpanProcessor({ env: {} }), 4096, { attributeValueLengthLimit: 1024 });
const noLedger = pipeline(new CostSpanProcessor({ env: {}, deduplicate: false }), 4096);
const viaApi = pipeline(new CostSpanProcessor({ env: {} }), 4096, { attributeValueLengthLimit: 1023 });
const sdkResults = await measure(
  [
    { name: 'no-op processor', pipeline: noop },
    { name: 'CostSpanProcessor', pipeline: cost },
    { name: 'compact attributes', pipeline: compact },
    { name: 'carry only (8 attributes written, no pricing)', pipeline: carry },
    { name: 'CostSpanProcessor, length limit 1024 (direct attribute stores)', pipeline: direct },
    { name: 'CostSpanProcessor, length limit 1023 (public setAttribute)', pipeline: viaApi },
    { name: 'CostSpanProcessor, deduplicate: false (no one-charge ledger)', pipeline: noLedger },
  ],
  timeRound,
  3,
);
const noopExport = exportPipeline(new NoopProcessor());
const costExport = exportPipeline(new CostSpanProcessor({ env: {} }));
const compactExport = exportPipeline(new CostSpanProcessor({ env: {}, attributeSet: 'compact' }));
const exportResults = await measure(
  [
    { name: 'no-op processor', pipeline: noopExport },
    { name: 'CostSpanProcessor', pipeline: costExport },
    { name: 'compact attributes', pipeline: compactExport },
  ],
  timeExportRound,
  1,
);
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
  sdk: sdkResults,
  export: exportResults,
  otlpBytesPerSpan: {
    noop: Math.round(noopExport.exporter.bytes / noopExport.exporter.spans),
    cost: Math.round(costExport.exporter.bytes / costExport.exporter.spans),
    compact: Math.round(compactExport.exporter.bytes / compactExport.exporter.spans),
  },
  memoryPer100kSpansMiB: {
    noop: Number((memNoop / 2 ** 20).toFixed(1)),
    cost: Number((memCost / 2 ** 20).toFixed(1)),
  },
  priced: stats.priced,
  unpriced: stats.unpriced,
};
console.log('bench/sdk: span start+end, CostSpanProcessor vs no-op processor (same pipeline, one run)');
console.log(`  spans/round ${SPANS}, rounds ${ROUNDS} (interleaved), medians over rounds`);
for (const [name, rows] of [
  ['sdk    (tracer + in-memory sink)', result.sdk],
  ['export (tracer + batch + OTLP protobuf serialisation)', result.export],
]) {
  console.log(`  pipeline: ${name}`);
  for (const row of rows) {
    const ratio = row === rows[0] ? '' : `  ratio ${row.ratio}x (IQR ${row.ratioIqr[0]}-${row.ratioIqr[1]})`;
    console.log(`    ${row.name.padEnd(64)} ${String(row.nsPerSpan).padStart(8)} ns/span${ratio}`);
  }
}
console.log('  target: CostSpanProcessor <= 1.3x the no-op processor, aim <= 1.1x');
console.log(
  `  OTLP bytes per span    no-op ${result.otlpBytesPerSpan.noop}, cost ${result.otlpBytesPerSpan.cost}, compact ${result.otlpBytesPerSpan.compact}`,
);
console.log(
  `  memory per 100k spans  no-op ${result.memoryPer100kSpansMiB.noop} MiB, cost ${result.memoryPer100kSpansMiB.cost} MiB (retained finished spans)`,
);
console.log('  reproduce: flock /tmp/costtrace-itest.lock node --expose-gc bench/sdk/span-cost-processor.bench.mjs');
mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
writeFileSync(new URL('../results/sdk.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
