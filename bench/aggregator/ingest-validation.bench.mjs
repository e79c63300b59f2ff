// Ingest: what checking an export request costs when it prices every span (as ingest did, only
// to throw the rows away) against validating only (`SpanRowOptions.price: false`, what ingest
// does now; the consumer prices). Both run in one process, interleaved round by round, on the
// same decoded requests of unstamped token spans (the case where pricing work happens), the
// workload of kafka-to-clickhouse.bench.mjs.
//   node bench/aggregator/ingest-validation.bench.mjs [spans=200000] [spans per request=100]
import { bundledPricingView, StaticPriceSource } from '@costtrace/core';
import { spanCostRows } from '@costtrace/aggregator';
import { tokenSpanRequest } from './token-span-workload.mjs';

const SPANS = Number(process.argv[2] ?? 200_000);
const PER_REQUEST = Number(process.argv[3] ?? 100);
const ROUNDS = 15;

const requests = Array.from({ length: Math.ceil(SPANS / PER_REQUEST) }, (_, r) => tokenSpanRequest(r, PER_REQUEST));
const prices = new StaticPriceSource(bundledPricingView());
const origin = { topic: '', partition: 0, offset: 0n };
const variants = {
  'price every span (before)': { prices },
  'validate only (now)': { prices, price: false },
};

function run(options) {
  const started = process.hrtime.bigint();
  let rows = 0;
  for (const r of requests) rows += spanCostRows(r, origin, Date.now(), options).rows.length;
  const ns = Number(process.hrtime.bigint() - started);
  if (rows !== requests.length * PER_REQUEST) throw new Error(`expected every span accepted, got ${rows}`);
  return ns / rows;
}

const samples = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
for (const options of Object.values(variants)) run(options); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  const names = Object.keys(variants);
  for (let k = 0; k < names.length; k++) {
    const name = names[(round + k) % names.length];
    samples[name].push(run(variants[name]));
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const before = median(samples['price every span (before)']);
console.log(
  `bench/aggregator ingest validation: ${requests.length * PER_REQUEST} spans, ${ROUNDS} interleaved rounds, medians`,
);
for (const [name, values] of Object.entries(samples)) {
  const ns = median(values);
  console.log(`  ${name.padEnd(28)} ${ns.toFixed(0).padStart(6)} ns/span  ${(ns / before).toFixed(2)}x`);
}
console.log(`  reproduce: node bench/aggregator/ingest-validation.bench.mjs ${SPANS} ${PER_REQUEST}`);
