// bench/pricing: price lookup cost in-process, and Quote over gRPC beside an empty unary RPC
// served by the same server in the same run (ratios, so machines compare).
//
//   npm run build && node bench/pricing/pricing.bench.mjs [--seconds 3] [--concurrency 1,32]
//
// Lookups: PriceSnapshot.find over the bundled catalog (dated model names, regional instance
// prices with global fallback, GPU reference rates), ns/op. RPCs: one in-process client and
// server on loopback; the baseline is a unary method with empty request and response (raw
// buffers, no codec work) registered on the pricing-cache's own gRPC server.
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { PriceSnapshot, quoteUsage } from '@costtrace/core';
import { bundledCatalogDir, readCatalogs } from '@costtrace/catalog';
import { PricingCache } from '@costtrace/pricing-cache';
import { PricingServiceClient, QuoteRequest } from '@costtrace/proto';
import { pino } from 'pino';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const seconds = Number(arg('seconds', '3'));
const concurrencies = arg('concurrency', '1,32').split(',').map(Number);

// ---- in-process lookups -------------------------------------------------------------------
const data = await readCatalogs(bundledCatalogDir());
const snapshot = new PriceSnapshot(1n, data.prices, data.overrides, Date.now());
const now = Date.now();
const queries = [
  { provider: 'openai', sku: 'gpt-4o-2024-08-06', kind: 'input_tokens', at: now },
  { provider: 'anthropic', sku: 'claude-sonnet-4', kind: 'output_tokens', at: now, inputTokens: 250_000n },
  { provider: 'aws', sku: 'p5.48xlarge', region: 'us-east-1', kind: 'instance_time', at: now },
  { provider: 'reference', sku: 'h100-80gb', region: 'eu-west-1', kind: 'gpu_time', at: now },
  { provider: 'google', sku: 'gemini-2.5-pro', kind: 'cache_read_tokens', at: now - 86_400_000 },
];
for (const q of queries) if (snapshot.find(q) === undefined) throw new Error(`bench query finds nothing: ${q.sku}`);
function measureLookups(iterations) {
  let found = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) if (snapshot.find(queries[i % queries.length]) !== undefined) found++;
  const ns = Number(process.hrtime.bigint() - start);
  if (found !== iterations) throw new Error('lookup failed');
  return ns / iterations;
}
measureLookups(200_000); // warm-up
const lookupNs = Math.min(measureLookups(2_000_000), measureLookups(2_000_000));
const usage = {
  at: now,
  models: [{ provider: 'openai', model: 'gpt-4o', inputTokens: 1200n, cacheReadTokens: 1000n, outputTokens: 300n }],
  gpus: [{ gpuType: 'h100-80gb', gpuCount: 8, seconds: 1_500_000_000n }],
};
const quoteIterations = 200_000;
quoteUsage(snapshot, usage);
let t = process.hrtime.bigint();
for (let i = 0; i < quoteIterations; i++) quoteUsage(snapshot, usage);
const quoteCoreNs = Number(process.hrtime.bigint() - t) / quoteIterations;

// ---- gRPC: Quote vs an empty unary RPC on the same server ----------------------------------
const identity = (b) => b;
const emptyDefinition = {
  Empty: {
    path: '/costtrace.bench.v1.Bench/Empty',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};
const EMPTY = Buffer.alloc(0);
const cache = new PricingCache({
  config: { host: '127.0.0.1', port: 0, httpPort: -1, stateFile: '', sources: [{ type: 'bundled' }] },
  env: {},
  logger: pino({ level: 'silent' }),
  processMetrics: false,
  extraServices: [
    { definition: emptyDefinition, implementation: { Empty: (_call, callback) => callback(null, EMPTY) } },
  ],
});
await cache.start();
const address = `127.0.0.1:${cache.grpcPort}`;
const pricing = new PricingServiceClient(address, credentials.createInsecure());
const BenchClient = makeGenericClientConstructor(emptyDefinition, 'Bench');
const bench = new BenchClient(address, credentials.createInsecure());
const quoteRequest = QuoteRequest.fromJSON({
  models: [{ provider: 'openai', model: 'gpt-4o', inputTokens: 1200, cacheReadTokens: 1000, outputTokens: 300 }],
  gpus: [{ gpuType: 'h100-80gb', gpuCount: 8, seconds: '1.5' }],
});
const calls = {
  empty: () => new Promise((resolve, reject) => bench.Empty(EMPTY, (err) => (err ? reject(err) : resolve()))),
  quote: () =>
    new Promise((resolve, reject) =>
      pricing.quote(quoteRequest, (err, res) =>
        err ? reject(err) : res.lines.length === 4 ? resolve() : reject(new Error('bad quote')),
      ),
    ),
};

async function drive(kind, concurrency, durationMs) {
  const latencies = [];
  const deadline = performance.now() + durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const start = performance.now();
      await calls[kind]();
      latencies.push(performance.now() - start);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] * 1000;
  return { calls: latencies.length, perSecond: latencies.length / elapsed, p50: pct(0.5), p99: pct(0.99) };
}

const results = [];
for (const concurrency of concurrencies) {
  await drive('empty', concurrency, 500); // warm-up both paths
  await drive('quote', concurrency, 500);
  // Alternate halves so drift (other load on the machine) hits both sides alike.
  const half = (seconds * 1000) / 2;
  const parts = { empty: [], quote: [] };
  for (const kind of ['empty', 'quote', 'quote', 'empty']) parts[kind].push(await drive(kind, concurrency, half));
  const merge = (list) => ({
    calls: list.reduce((s, r) => s + r.calls, 0),
    perSecond: list.reduce((s, r) => s + r.perSecond, 0) / list.length,
    p50: list.reduce((s, r) => s + r.p50, 0) / list.length,
    p99: list.reduce((s, r) => s + r.p99, 0) / list.length,
  });
  results.push({ concurrency, empty: merge(parts.empty), quote: merge(parts.quote) });
}
pricing.close();
bench.close();
await cache.stop();

const f = (n, d = 1) => n.toFixed(d);
console.log(`bench/pricing  node ${process.version}  ${new Date().toISOString()}`);
console.log(
  `command: node bench/pricing/pricing.bench.mjs --seconds ${seconds} --concurrency ${concurrencies.join(',')}`,
);
console.log('');
console.log(`price lookup (PriceSnapshot.find, ${snapshot.size} prices, 5 query shapes): ${f(lookupNs)} ns/op`);
console.log(`quoteUsage in-process (1 model × 3 token kinds + 1 GPU line): ${f(quoteCoreNs / 1000, 2)} µs/op`);
console.log('');
console.log('unary RPC on one server, one client channel, loopback (latency in µs):');
console.log('conc  rpc     calls      calls/s     p50      p99   | Quote/empty: p50   p99   throughput');
for (const r of results) {
  for (const kind of ['empty', 'quote']) {
    const x = r[kind];
    const ratios =
      kind === 'quote'
        ? `|              ${f(r.quote.p50 / r.empty.p50, 2)}x  ${f(r.quote.p99 / r.empty.p99, 2)}x  ${f(r.quote.perSecond / r.empty.perSecond, 2)}x`
        : '|';
    console.log(
      `${String(r.concurrency).padStart(4)}  ${kind.padEnd(5)} ${String(x.calls).padStart(7)} ${f(x.perSecond, 0).padStart(12)} ${f(x.p50).padStart(7)} ${f(x.p99).padStart(8)}   ${ratios}`,
    );
  }
}
