// Evaluation cost per span with 1, 100 and 10 000 budgets: the span-path hand-off (matching rows
// against budgets → deltas) and the evaluator's work per delta (rolling window + thresholds),
// each measured side by side in one run, against an empty loop over the same rows.
//   npx tsc -b packages/core services/aggregator && node bench/budgets/evaluation-cost.mjs
import { Money, parseBudget } from '@costtrace/core';
import { BudgetCatalog, BudgetEngine, budgetDeltas } from '@costtrace/aggregator';

const SPANS = 50_000;
const TENANTS = 10_000;
const zero = Money.zero('USD');

function row(i) {
  const t = Date.now() + Math.floor(i / 50);
  return {
    startTimeUnixNano: BigInt(t - 5) * 1_000_000n,
    endTimeUnixNano: BigInt(t) * 1_000_000n,
    traceId: i.toString(16).padStart(32, '0'),
    spanId: i.toString(16).padStart(16, '0'),
    parentSpanId: '',
    spanName: 'chat',
    service: `svc-${i % 10}`,
    environment: 'prod',
    route: `/v1/route-${i % 20}`,
    commit: 'c1',
    model: 'gpt-4o-mini',
    provider: 'openai',
    team: `team-${i % 8}`,
    tenant: `t${i % TENANTS}`,
    feature: '',
    inputTokens: 0n,
    outputTokens: 0n,
    cacheReadTokens: 0n,
    cacheWriteTokens: 0n,
    reasoningTokens: 0n,
    gpuType: '',
    gpuCount: 0,
    gpuSeconds: '0',
    instanceType: '',
    costInput: zero,
    costOutput: zero,
    costCacheRead: zero,
    costCacheWrite: zero,
    costReasoning: zero,
    costGpu: zero,
    costCompute: Money.fromSubunits(1_000_000n + BigInt(i % 997)),
    costTotal: Money.fromSubunits(1_000_000n + BigInt(i % 997)),
    currency: 'USD',
    pricingVersion: 'bench',
    pricingSource: 'sdk',
    priceIds: [],
    unpricedReason: '',
    kafkaTopic: 'otlp_spans',
    kafkaPartition: 0,
    kafkaOffset: BigInt(Math.floor(i / 100)),
    attributeKeys: [],
    attributeValues: [],
  };
}

/** n budgets like a real deployment: a few broad ones, the rest one per tenant (exact, indexed). */
function budgets(n, kind) {
  const out = [parseBudget({ id: 'all', window: '1h', limit_usd: '1000000', per: ['tenant'] })];
  for (let i = 1; i < n; i++) {
    const scope = kind === 'exact' ? { tenant: `t${i}` } : { tenant: `t${i}*`, route: '/v1/*' };
    out.push(parseBudget({ id: `b${i}`, scope, window: '10m', limit_usd: '1000', action: 'reject' }));
  }
  return out;
}

const rows = Array.from({ length: SPANS }, (_, i) => row(i));
function time(fn) {
  fn(); // warm-up
  const start = process.hrtime.bigint();
  const result = fn();
  return { ns: Number(process.hrtime.bigint() - start) / SPANS, result };
}

const baseline = time(() => {
  let s = 0n;
  for (const r of rows) s += r.costTotal.subunits;
  return s;
});
console.log(
  `evaluation cost per span (${SPANS} spans, ${TENANTS} tenants; empty loop ${baseline.ns.toFixed(0)} ns/span)`,
);
console.log('budgets  patterns  match→deltas ns/span  deltas/span  evaluate ns/span  total ns/span  keys');
for (const kind of ['exact', 'prefix']) {
  for (const n of [1, 100, 10_000]) {
    const catalog = new BudgetCatalog(budgets(n, kind));
    const match = time(() => budgetDeltas(rows, catalog, { anomalies: false }));
    const deltas = match.result;
    let engine;
    const evaluate = time(() => {
      engine = new BudgetEngine({ catalog: () => catalog });
      const now = Date.now();
      for (const d of deltas) engine.apply(d, 0, now);
      return engine.size;
    });
    console.log(
      `${String(n).padStart(7)}  ${kind.padEnd(8)}  ${match.ns.toFixed(0).padStart(20)}  ${(deltas.length / SPANS).toFixed(2).padStart(11)}  ${evaluate.ns.toFixed(0).padStart(16)}  ${(match.ns + evaluate.ns).toFixed(0).padStart(13)}  ${engine.size}`,
    );
  }
}
console.log('reproduce: npx tsc -b packages/core services/aggregator && node bench/budgets/evaluation-cost.mjs');
