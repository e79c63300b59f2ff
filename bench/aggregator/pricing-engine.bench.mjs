// The aggregator end to end, Kafka → decode/validate/price → ClickHouse, before and after, in one
// run (written for issue 13, one pricing engine; any later baseline works too, e.g. to check that a
// refactoring such as issue 16's message-log port costs nothing). "Before" is a build of a baseline commit (default
// d04af85, the last commit with the aggregator's token-only price table) in a git worktree under
// .cache/; "after" is this checkout. Each round runs kafka-to-clickhouse.bench.mjs of the baseline
// and of this checkout, in alternating order, on the same Kafka and ClickHouse; the medians are
// compared, with each run's raw-insert rate beside it (what the machine did at that moment).
//
//   npm run build && KAFKA_BROKERS=127.0.0.1:19092 CLICKHOUSE_URL=http://127.0.0.1:18123 \
//     node bench/aggregator/pricing-engine.bench.mjs [baseline=d04af85] [spans=200000] [rounds=3]
//
// First, in this one process, the consumer's row builder (decode → validate → price → row) of the
// baseline and of this checkout on the same decoded requests, interleaved round by round, and this
// checkout's row builder without pricing (`price: false`): the difference is the consumer's
// pricing time per span.
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundledPricingView, StaticPriceSource } from '@costtrace/core';
import { spanCostRows } from '@costtrace/aggregator';
import { baselineTree, run } from './baseline-tree.mjs';
import { tokenSpanRequest } from './token-span-workload.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const baseline = process.argv[2] ?? 'd04af85';
const SPANS = Number(process.argv[3] ?? 200_000);
const ROUNDS = Number(process.argv[4] ?? 3);

/** The first figure labelled so (both output formats: before and after issue 17's per-thread runs). */
function figure(text, label) {
  const match = new RegExp(`${label}:?\\s+([\\d,]+) spans/s`).exec(text);
  if (match === null) throw new Error(`no "${label}" in the output:\n${text}`);
  return Number(match[1].replaceAll(',', ''));
}

function measure(dir) {
  // One aggregator run per side: in the consumer's thread where the side has worker threads.
  const out = run(process.execPath, ['bench/aggregator/kafka-to-clickhouse.bench.mjs', String(SPANS), '100'], dir, {
    ...process.env,
    BENCH_THREADS: process.env.BENCH_THREADS ?? '0',
  });
  return {
    e2e: figure(out, 'end to end'),
    steady: figure(out, 'after the first insert'),
    insert: figure(out, 'raw @clickhouse/client insert'),
  };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** ns per span of the row builders, in this process, interleaved (no Kafka, no ClickHouse). */
async function rowBuilders(dir) {
  const old = await import(pathToFileURL(join(dir, 'services/aggregator/dist/src/index.js')).href);
  // Baselines after issue 13 price through their own core's bundled view (d04af85 had PriceSnapshots).
  const oldCore = await import(pathToFileURL(join(dir, 'packages/core/dist/src/index.js')).href);
  const requests = Array.from({ length: 1000 }, (_, r) => tokenSpanRequest(r, 100));
  const origin = { topic: '', partition: 0, offset: 0n };
  const prices = new StaticPriceSource(bundledPricingView());
  const variants = {
    before: () => {
      const oldPrices =
        old.PriceSnapshots !== undefined
          ? old.PriceSnapshots.bundled()
          : new oldCore.StaticPriceSource(oldCore.bundledPricingView());
      return (r) => old.spanCostRows(r, origin, Date.now(), { prices: oldPrices });
    },
    after: () => (r) => spanCostRows(r, origin, Date.now(), { prices }),
    'after, validate only': () => (r) => spanCostRows(r, origin, Date.now(), { prices, price: false }),
  };
  // Where the baseline has the same switch, run it through both shapes too: a function that sees
  // two option shapes is slower than one that sees one, and the comparison must not favour either.
  if (old.PriceSnapshots === undefined) {
    const oldPrices = new oldCore.StaticPriceSource(oldCore.bundledPricingView());
    variants['before, validate only'] = () => (r) =>
      old.spanCostRows(r, origin, Date.now(), { prices: oldPrices, price: false });
  }
  const builders = Object.fromEntries(Object.entries(variants).map(([name, make]) => [name, make()]));
  const samples = Object.fromEntries(Object.keys(builders).map((name) => [name, []]));
  const names = Object.keys(builders);
  for (let round = 0; round < 16; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length];
      const started = process.hrtime.bigint();
      let rows = 0;
      for (const r of requests) rows += builders[name](r).rows.length;
      if (rows !== requests.length * 100) throw new Error(`${name}: expected every span accepted, got ${rows}`);
      if (round > 0) samples[name].push(Number(process.hrtime.bigint() - started) / rows);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
}

const tree = baselineTree(root, baseline);
const current = run('git', ['rev-parse', '--short=12', 'HEAD'], root).trim();
const builders = await rowBuilders(tree.dir);
console.log(`row builder, 100,000 unstamped token spans, 15 interleaved rounds, medians (ns/span):`);
for (const [name, ns] of Object.entries(builders)) {
  console.log(`  ${name.padEnd(22)} ${ns.toFixed(0).padStart(6)}  ${(ns / builders.before).toFixed(2)}x of before`);
}
console.log(
  `  consumer pricing time (after): ${(builders.after - builders['after, validate only']).toFixed(0)} ns/span`,
);
// ROUNDS=0 (or no Kafka and ClickHouse at hand): the row builders only.
if (ROUNDS === 0) process.exit(0);

const samples = { before: [], after: [] };
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
  for (const which of order) {
    const m = measure(which === 'before' ? tree.dir : root);
    samples[which].push(m);
    console.log(
      `round ${round + 1} ${which.padEnd(6)} end to end ${m.e2e.toLocaleString('en')} spans/s, after the first insert ${m.steady.toLocaleString('en')} spans/s, raw insert ${m.insert.toLocaleString('en')} spans/s`,
    );
  }
}
const summary = (which, key) => median(samples[which].map((m) => m[key]));
console.log(`\nbench/aggregator before/after: ${SPANS} unstamped token spans per run, ${ROUNDS} rounds, medians`);
console.log(`  before (${tree.sha}) and after (${current}, this checkout)`);
for (const key of ['e2e', 'steady', 'insert']) {
  const before = summary('before', key);
  const after = summary('after', key);
  const label = { e2e: 'end to end', steady: 'after the first insert', insert: 'raw insert (reference)' }[key];
  console.log(
    `  ${label.padEnd(24)} before ${before.toLocaleString('en').padStart(8)}  after ${after.toLocaleString('en').padStart(8)} spans/s  after/before ${(after / before).toFixed(2)}x`,
  );
}
console.log(
  `  row builder              before ${builders.before.toFixed(0).padStart(8)}  after ${builders.after.toFixed(0).padStart(8)} ns/span  after/before ${(builders.after / builders.before).toFixed(2)}x; pricing ${(builders.after - builders['after, validate only']).toFixed(0)} ns/span`,
);
console.log(
  `  reproduce: KAFKA_BROKERS=<brokers> CLICKHOUSE_URL=<url> node bench/aggregator/pricing-engine.bench.mjs ${baseline} ${SPANS} ${ROUNDS}`,
);
