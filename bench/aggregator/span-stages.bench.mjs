// The consumer's work per span, stage by stage, before and after (issue 17), in one process:
// decode (OTLP protobuf → what the row builder reads), build the row (validate, price), encode it
// into the insert body. "Before" is a build of a baseline commit (default 7ada02b: ts-proto
// decode, SpanCostRow objects, one TSV string per row) in a git worktree under .cache/; "after"
// is this checkout (the wire reader, one reused record, rows written straight into a RowBinary
// insert body).
// Rounds alternate between the two; medians are printed in ns/span with the ratio.
//
//   npm run build && node bench/aggregator/span-stages.bench.mjs [baseline=7ada02b] [requests=600] [rounds=7]
//
// The workload is bench/aggregator/token-span-workload.mjs: 100 unstamped LLM spans per request,
// so every span is priced.
import { Buffer } from 'node:buffer';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundledPricingView, StaticPriceSource } from '@costtrace/core';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import { SpanCostEncoder, SpanCostRecord } from '@costtrace/store';
import { buildSpanRecords, readOtlpTraces, SpanBatchProcessor } from '@costtrace/aggregator';
import { baselineTree } from './baseline-tree.mjs';
import { BATCH_SETTINGS, tokenSpanRequest } from './token-span-workload.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const baseline = process.argv[2] ?? '7ada02b';
const REQUESTS = Number(process.argv[3] ?? 600);
const ROUNDS = Number(process.argv[4] ?? 7);
const PER_REQUEST = 100;
const SPANS = REQUESTS * PER_REQUEST;

const tree = baselineTree(root, baseline);
const load = (path) => import(pathToFileURL(join(tree.dir, path)).href);
const old = {
  aggregator: await load('services/aggregator/dist/src/index.js'),
  store: await load('packages/store/dist/src/index.js'),
  core: await load('packages/core/dist/src/index.js'),
  proto: await load('packages/proto/dist/src/index.js'),
};

const values = Array.from({ length: REQUESTS }, (_v, m) =>
  Buffer.from(ExportTraceServiceRequest.encode(tokenSpanRequest(m, PER_REQUEST)).finish()),
);
const now = Date.now();
const origin = (m) => ({ topic: 'otlp_spans', partition: 0, offset: BigInt(m) });
const oldPrices = new old.core.StaticPriceSource(old.core.bundledPricingView());
const prices = new StaticPriceSource(bundledPricingView());

// Inputs of each stage, prepared once by the same side's previous stage.
const oldRequests = values.map((v) => old.proto.ExportTraceServiceRequest.decode(v));
const oldRows = oldRequests.map((r, m) => old.aggregator.spanCostRows(r, origin(m), now, { prices: oldPrices }).rows);
const views = values.map((v) => readOtlpTraces(v));
const record = new SpanCostRecord();
const encoder = new SpanCostEncoder('RowBinary');
const processor = new SpanBatchProcessor(BATCH_SETTINGS, prices);
const messages = values.map((value, m) => ({
  offset: String(m),
  timestamp: String(now),
  value,
  contentType: undefined,
}));

let sink = 0;
const stages = {
  decode: {
    before: () => {
      for (const v of values) sink += old.proto.ExportTraceServiceRequest.decode(v).resourceSpans.length;
    },
    after: () => {
      for (const v of values) sink += readOtlpTraces(v).spanCount;
    },
  },
  'validate + price (row)': {
    before: () => {
      oldRequests.forEach((r, m) => {
        sink += old.aggregator.spanCostRows(r, origin(m), now, { prices: oldPrices }).rows.length;
      });
    },
    after: () => {
      views.forEach((v, m) => {
        sink += buildSpanRecords(v, origin(m), now, { prices }, record, () => undefined).pricedHere;
      });
    },
  },
  'encode (insert body: a TSV string per row before, RowBinary bytes after)': {
    before: () => {
      for (const rows of oldRows) sink += Buffer.from(rows.map(old.store.spanCostTsv).join(''), 'utf8').length;
    },
    // Rows built and encoded as the consumer does; the row stage alone is subtracted below.
    after: () => {
      views.forEach((v, m) => {
        buildSpanRecords(v, origin(m), now, { prices }, record, (r) => encoder.add(r));
        sink += encoder.finish().rows;
      });
    },
  },
  'whole batch (what a worker thread does)': {
    // "before" is the sum of the three stages above (the baseline had no batch processor).
    after: () => {
      for (let i = 0; i < messages.length; i += 50) {
        sink += processor.process({
          topic: 'otlp_spans',
          partition: 0,
          messages: messages.slice(i, i + 50),
          storedUpTo: -1n,
        }).rows;
      }
    },
  },
};

const samples = Object.fromEntries(Object.keys(stages).map((k) => [k, { before: [], after: [] }]));
for (let round = 0; round < ROUNDS + 1; round++) {
  for (const [name, sides] of Object.entries(stages)) {
    for (const side of round % 2 === 0 ? ['before', 'after'] : ['after', 'before']) {
      if (sides[side] === undefined) continue;
      const started = process.hrtime.bigint();
      sides[side]();
      const ns = Number(process.hrtime.bigint() - started) / SPANS;
      if (round > 0) samples[name][side].push(ns); // round 0 warms up
    }
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const m = Object.fromEntries(
  Object.entries(samples).map(([k, v]) => [k, { before: median(v.before) ?? 0, after: median(v.after) }]),
);
// The after side's encode figure includes building the rows: subtract the row stage.
const encode = 'encode (insert body: a TSV string per row before, RowBinary bytes after)';
m[encode].after -= m['validate + price (row)'].after;
m['whole batch (what a worker thread does)'].before =
  m.decode.before + m['validate + price (row)'].before + m[encode].before;

console.log(`span stages, ${SPANS} spans in ${REQUESTS} requests, median of ${ROUNDS} alternating rounds`);
console.log(`before: ${baseline} (${tree.sha}); after: this checkout\n`);
console.log('| stage | before ns/span | after ns/span | after/before |');
console.log('|---|---|---|---|');
for (const [name, { before, after }] of Object.entries(m)) {
  console.log(`| ${name} | ${before.toFixed(0)} | ${after.toFixed(0)} | ${(after / before).toFixed(2)}× |`);
}
console.log(`\n(whole batch "before" is the sum of its three stages; checksum ${sink % 10})`);
console.log(
  `reproduce: npm run build && node bench/aggregator/span-stages.bench.mjs ${baseline} ${REQUESTS} ${ROUNDS}`,
);
