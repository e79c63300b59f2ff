// One pricing engine: the SDK's CostSpanProcessor, the aggregator's row builder (for the same span
// arriving without cost attributes) and pricing-cache's Quote give identical totals, components
// and price ids for random spans on one snapshot: every token kind, long-context tiers,
// overrides, GPU time and instance time, at start times on both sides of a price change.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Attributes } from '@opentelemetry/api';
import { formatScaled, overrideFromRecord, priceFromRecord, PricingView, StaticPriceSource } from '@costtrace/core';
import type { OverrideRecord, PriceRecord } from '@costtrace/core';
import { CostSpanProcessor } from '@costtrace/otel';
import { PricingApi } from '@costtrace/proto/pricing';
import { PriceStore } from '@costtrace/pricing-cache';
import { InputTokenRule, PricingModelEnum } from '@costtrace/proto';
import type { QuoteRequest, QuoteResponse } from '@costtrace/proto';
import { spanCostRows } from '../src/index.js';
import { exportRequest, span as otlpSpan } from './support/otlp-fixtures.js';
import type { AttrValue } from './support/otlp-fixtures.js';

const T0 = Date.parse('2026-11-01T00:00:00Z');
/** Prices of one model change here; spans start on both sides. */
const CHANGE = Date.parse('2026-11-20T12:00:00Z');
const RECEIVED_MS = Date.parse('2026-11-25T00:00:00Z');

interface Rates {
  readonly fast: readonly string[];
  readonly changed: string;
  readonly tiered: readonly string[];
  readonly tierAbove: number;
  readonly discounted: readonly string[];
  readonly discountPercent: string;
  readonly gpu: string;
  readonly gpuSpot: string;
  readonly instance: string;
  readonly instanceSpot: string;
  readonly instanceDiscount: string;
}

/** A decimal amount: units with 2, 6 or 9 decimals (9: per-token prices below a pico-dollar). */
const amount = fc
  .tuple(fc.integer({ min: 1, max: 2_000_000_000 }), fc.constantFrom(2, 6, 9))
  .map(([units, scale]) => formatScaled(BigInt(units), scale));
const rates: fc.Arbitrary<Rates> = fc.record({
  fast: fc.array(amount, { minLength: 5, maxLength: 5 }),
  changed: amount,
  tiered: fc.array(amount, { minLength: 4, maxLength: 4 }),
  tierAbove: fc.integer({ min: 1, max: 300_000 }),
  discounted: fc.array(amount, { minLength: 2, maxLength: 2 }),
  discountPercent: fc.integer({ min: 1, max: 99 }).map(String),
  gpu: amount,
  gpuSpot: amount,
  instance: amount,
  instanceSpot: amount,
  instanceDiscount: fc.integer({ min: 1, max: 60 }).map(String),
});

const TOKEN_KINDS = ['input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens', 'reasoning_tokens'];

function catalog(r: Rates): { prices: PriceRecord[]; overrides: OverrideRecord[] } {
  const model = (provider: string, sku: string, kind: string, value: string, extra: Partial<PriceRecord> = {}) => ({
    provider,
    resourceType: 'model',
    sku,
    kind,
    unit: '1m_tokens',
    amount: value,
    effectiveFrom: '2026-11-01',
    source: 'test',
    ...extra,
  });
  const gpu = (provider: string, sku: string, value: string, extra: Partial<PriceRecord> = {}) => ({
    provider,
    resourceType: 'gpu',
    sku,
    kind: 'gpu_time',
    unit: 'gpu_hour',
    amount: value,
    effectiveFrom: '2026-11-01',
    source: 'test',
    ...extra,
  });
  const instance = (value: string, extra: Partial<PriceRecord> = {}) => ({
    provider: 'aws',
    resourceType: 'instance',
    sku: 'g6.xlarge',
    region: 'us-east-1',
    kind: 'instance_time',
    unit: 'instance_hour',
    amount: value,
    effectiveFrom: '2026-11-01',
    source: 'test',
    ...extra,
  });
  const prices: PriceRecord[] = [
    // Every token kind priced on its own: the fast path.
    ...TOKEN_KINDS.map((kind, i) => model('acme-ai', 'fast-1', kind, r.fast[i] ?? '1')),
    // Input price changes at CHANGE.
    model('acme-ai', 'fast-1', 'input_tokens', r.changed, { effectiveFrom: new Date(CHANGE).toISOString() }),
    // A long-context tier: every kind above tierAbove prompt tokens costs more.
    model('acme-ai', 'long-1', 'input_tokens', r.tiered[0] ?? '1'),
    model('acme-ai', 'long-1', 'output_tokens', r.tiered[1] ?? '1'),
    model('acme-ai', 'long-1', 'input_tokens', r.tiered[2] ?? '1', { aboveInputTokens: String(r.tierAbove) }),
    model('acme-ai', 'long-1', 'output_tokens', r.tiered[3] ?? '1', { aboveInputTokens: String(r.tierAbove) }),
    // A negotiated discount, cache prices absent (cache tokens billed as input).
    model('anthropic', 'disc-1', 'input_tokens', r.discounted[0] ?? '1'),
    model('anthropic', 'disc-1', 'output_tokens', r.discounted[1] ?? '1'),
    gpu('acme-cloud', 'h100-80gb', r.gpu),
    gpu('acme-cloud', 'h100-80gb', r.gpuSpot, { pricingModel: 'spot' }),
    gpu('reference', 'l4', '0.8048'),
    instance(r.instance),
    instance(r.instanceSpot, { pricingModel: 'spot' }),
  ];
  const overrides: OverrideRecord[] = [
    {
      id: 'contract-anthropic',
      provider: 'anthropic',
      sku: 'disc-1',
      resourceType: 'model',
      discountPercent: r.discountPercent,
      effectiveFrom: '2026-11-01',
    },
    {
      id: 'aws-edp',
      provider: 'aws',
      resourceType: 'instance',
      discountPercent: r.instanceDiscount,
      effectiveFrom: '2026-11-01',
    },
    {
      id: 'internal-gpu-rate',
      provider: 'acme-cloud',
      resourceType: 'gpu',
      pricingModel: 'internal',
      rate: '2.5',
      rateUnit: 'gpu_hour',
      effectiveFrom: '2026-11-01',
    },
  ];
  return { prices, overrides };
}

interface SpanCase {
  readonly startMs: number;
  readonly model: { provider: string; model: string } | undefined;
  readonly input: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
  readonly output: number;
  readonly reasoning: number;
  readonly gpu: { type: string; provider: string | undefined; seconds: string; pricingModel: string } | undefined;
  /** Instance time measured by the SDK's meter, in nanoseconds. */
  readonly instanceNanos: bigint | undefined;
  readonly instancePricingModel: string | undefined;
}

const spanCase: fc.Arbitrary<SpanCase> = fc
  .record({
    startMs: fc.integer({ min: T0 + 86_400_000, max: RECEIVED_MS - 86_400_000 }),
    model: fc.option(
      fc.constantFrom(
        { provider: 'acme-ai', model: 'fast-1' },
        { provider: 'acme-ai', model: 'long-1' },
        { provider: 'anthropic', model: 'disc-1' },
      ),
      { nil: undefined },
    ),
    input: fc.integer({ min: 0, max: 50_000_000 }),
    cacheShare: fc.tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 })),
    output: fc.integer({ min: 0, max: 5_000_000 }),
    reasoningShare: fc.integer({ min: 0, max: 100 }),
    gpu: fc.option(
      fc.record({
        type: fc.constantFrom('h100-80gb', 'l4'),
        provider: fc.constantFrom('acme-cloud', undefined),
        seconds: fc
          .tuple(fc.integer({ min: 0, max: 1_000_000_000 }), fc.constantFrom(0, 3, 9))
          .map(([n, scale]) => formatScaled(BigInt(n), scale)),
        pricingModel: fc.constantFrom('on_demand', 'spot', 'internal'),
      }),
      { nil: undefined },
    ),
    instanceNanos: fc.option(fc.bigInt({ min: 1n, max: 10n ** 15n }), { nil: undefined }),
    instancePricingModel: fc.constantFrom(undefined, 'spot'),
  })
  .map((c) => {
    const cacheRead = Math.floor((c.input * c.cacheShare[0]) / 200);
    const cacheWrite = Math.floor((c.input * c.cacheShare[1]) / 200);
    return {
      startMs: c.startMs,
      model: c.model,
      input: c.input,
      cacheRead,
      cacheWrite,
      output: c.output,
      reasoning: Math.floor((c.output * c.reasoningShare) / 100),
      gpu: c.gpu,
      instanceNanos: c.instanceNanos,
      instancePricingModel: c.instancePricingModel,
    };
  });

const RESOURCE = {
  'service.name': 'agreement',
  'host.type': 'g6.xlarge',
  'cloud.provider': 'aws',
  'cloud.region': 'us-east-1',
};

function usageAttributes(c: SpanCase): Record<string, AttrValue> {
  const a: Record<string, AttrValue> = {};
  if (c.model !== undefined) {
    a['gen_ai.provider.name'] = c.model.provider;
    a['gen_ai.request.model'] = c.model.model;
    a['gen_ai.usage.input_tokens'] = c.input;
    a['gen_ai.usage.output_tokens'] = c.output;
    if (c.cacheRead > 0) a['gen_ai.usage.cache_read.input_tokens'] = c.cacheRead;
    if (c.cacheWrite > 0) a['gen_ai.usage.cache_creation.input_tokens'] = c.cacheWrite;
    if (c.reasoning > 0) a['gen_ai.usage.reasoning.output_tokens'] = c.reasoning;
  }
  if (c.gpu !== undefined) {
    a['costtrace.gpu.type'] = c.gpu.type;
    a['costtrace.gpu.seconds'] = c.gpu.seconds;
    a['costtrace.gpu.count'] = 8;
    a['costtrace.gpu.pricing_model'] = c.gpu.pricingModel;
    if (c.gpu.provider !== undefined) a['costtrace.gpu.provider'] = c.gpu.provider;
  }
  return a;
}

/** The SDK's stamped attributes for the case (instance time from an injected clock). */
async function sdkStamp(view: PricingView, c: SpanCase): Promise<Attributes> {
  let clock = 0n;
  const exporter = new InMemorySpanExporter();
  const resource: Attributes = { ...RESOURCE };
  if (c.instancePricingModel !== undefined) resource['costtrace.instance.pricing_model'] = c.instancePricingModel;
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [
      new CostSpanProcessor({
        env: {},
        prices: new StaticPriceSource(view),
        instanceCost: c.instanceNanos === undefined ? false : { nowNs: () => clock },
      }),
      new SimpleSpanProcessor(exporter),
    ],
  });
  const span = provider.getTracer('agreement').startSpan('call', { startTime: c.startMs, root: true });
  span.setAttributes(usageAttributes(c) as Attributes);
  clock += c.instanceNanos ?? 0n;
  span.end(c.startMs + 1_000);
  await provider.forceFlush();
  const [finished] = exporter.getFinishedSpans();
  assert.ok(finished !== undefined);
  return finished.attributes;
}

/** The same span without cost attributes (a service without the SDK), through the row builder. */
function aggregatorRow(view: PricingView, c: SpanCase, stamped: Attributes) {
  const attributes = usageAttributes(c);
  // A service without the SDK writes the instance share itself; here the one the SDK measured.
  const share = stamped['costtrace.instance.share_seconds'];
  if (typeof share === 'number') attributes['costtrace.instance.share_seconds'] = share;
  const resource: Record<string, AttrValue> = { ...RESOURCE };
  if (c.instancePricingModel !== undefined) resource['costtrace.instance.pricing_model'] = c.instancePricingModel;
  const request = exportRequest(resource, [
    otlpSpan({ name: 'call', attributes, startUnixNano: BigInt(c.startMs) * 1_000_000n }),
  ]);
  const result = spanCostRows(request, { topic: 't', partition: 0, offset: 0n }, RECEIVED_MS, {
    prices: new StaticPriceSource(view),
    limits: { maxAgeSeconds: 60 * 86_400 },
  });
  assert.equal(result.rejected.length, 0, JSON.stringify(result.rejected));
  const row = result.rows[0];
  assert.ok(row !== undefined);
  return row;
}

const PRICING_MODEL_WIRE: Record<string, PricingModelEnum> = {
  on_demand: PricingModelEnum.PRICING_MODEL_UNSPECIFIED,
  spot: PricingModelEnum.PRICING_MODEL_SPOT,
  internal: PricingModelEnum.PRICING_MODEL_INTERNAL,
};

/** pricing-cache's Quote of one component, as a client asks it (on its own, for its unpriced reason). */
function quote(api: PricingApi, at: number, request: Partial<Omit<QuoteRequest, 'at'>>): QuoteResponse | undefined {
  const seconds = Math.floor(at / 1000);
  try {
    return api.quote({
      models: [],
      gpus: [],
      instances: [],
      storage: [],
      egress: [],
      ...request,
      at: { seconds: BigInt(seconds), nanos: (at - seconds * 1000) * 1_000_000 },
    });
  } catch {
    return undefined;
  }
}

/** Pico-dollars of a wire Money amount (decimal string). */
function pico(text: string | undefined): bigint {
  if (text === undefined) return 0n;
  const [whole = '0', frac = ''] = text.split('.');
  return BigInt(whole) * 10n ** 12n + BigInt(frac.padEnd(12, '0'));
}

function stampedPico(value: unknown): bigint {
  return typeof value === 'string' ? pico(value) : 0n;
}

/** Kind → effective cost, total, and the ids a quote used (prices, effective prices, overrides). */
function quoteFigures(q: QuoteResponse) {
  const byKind = new Map<string, bigint>();
  const ids = new Set<string>();
  for (const line of q.lines) {
    byKind.set(String(line.kind), (byKind.get(String(line.kind)) ?? 0n) + pico(line.effectiveCost?.amount));
    ids.add(line.priceId);
    ids.add(line.effectivePriceId);
    for (const o of line.overrides) ids.add(o.id);
  }
  return { total: pico(q.effectiveCost?.amount), byKind, ids };
}

describe('one pricing engine: SDK, aggregator and pricing-cache agree', () => {
  it('gives identical totals, components and price ids for random spans on one snapshot', async () => {
    // What the runs covered: each must be non-zero, or the property proved less than it says.
    const seen = { models: 0, tiers: 0, overrides: 0, bigint: 0, gpu: 0, instance: 0, unpriced: 0, changed: 0 };
    await fc.assert(
      fc.asyncProperty(rates, fc.array(spanCase, { minLength: 1, maxLength: 6 }), async (r, cases) => {
        const store = new PriceStore(16, () => RECEIVED_MS);
        const data = catalog(r);
        store.publish(
          data.prices.map((p, i) => priceFromRecord(p, `prices[${i}]`)),
          data.overrides.map((o, i) => overrideFromRecord(o, `overrides[${i}]`)),
        );
        const snapshot = store.current();
        assert.ok(snapshot !== undefined);
        const view = new PricingView(snapshot, 'pricing-cache', false);
        const api = new PricingApi(store, () => RECEIVED_MS);
        for (const c of cases) {
          const stamped = await sdkStamp(view, c);
          const row = aggregatorRow(view, c, stamped);
          const context = JSON.stringify(c, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

          // SDK and aggregator: the same figures, ids and reason.
          if (stamped['cost.unpriced_reason'] !== undefined) seen.unpriced++;
          const sdkIds = (stamped['cost.pricing.price_ids'] as string[] | undefined) ?? [];
          assert.deepEqual(row.priceIds, sdkIds, context);
          assert.equal(row.unpricedReason, (stamped['cost.unpriced_reason'] as string | undefined) ?? '', context);
          const components: [string, bigint][] = [
            ['cost.total', row.costTotal.subunits],
            ['cost.input_tokens', row.costInput.subunits],
            ['cost.output_tokens', row.costOutput.subunits],
            ['cost.cache_read_tokens', row.costCacheRead.subunits],
            ['cost.cache_write_tokens', row.costCacheWrite.subunits],
            ['cost.reasoning_tokens', row.costReasoning.subunits],
            ['cost.gpu', row.costGpu.subunits],
            ['cost.compute', row.costCompute.subunits],
          ];
          for (const [key, value] of components) assert.equal(value, stampedPico(stamped[key]), `${key} ${context}`);

          // pricing-cache's Quote of each component the SDK priced: the same effective cost and ids.
          const quoteIds = new Set<string>();
          let quoteTotal = 0n;
          if (c.model !== undefined && stamped['cost.unpriced_reason'] === undefined) {
            const q = quote(api, c.startMs, {
              models: [
                {
                  provider: c.model.provider,
                  model: c.model.model,
                  region: '',
                  serviceTier: 0,
                  inputTokenRule: InputTokenRule.INPUT_TOKEN_RULE_UNSPECIFIED,
                  inputTokens: BigInt(c.input),
                  outputTokens: BigInt(c.output),
                  cacheReadTokens: BigInt(c.cacheRead),
                  cacheWriteTokens: BigInt(c.cacheWrite),
                  reasoningTokens: BigInt(c.reasoning),
                  requests: 0n,
                  images: 0n,
                },
              ],
            });
            assert.ok(q !== undefined, `Quote refused a model the SDK priced: ${context}`);
            const f = quoteFigures(q);
            seen.models++;
            if (q.lines.some((l) => l.aboveInputTokens > 0n)) seen.tiers++;
            if (q.lines.some((l) => l.overrides.length > 0)) seen.overrides++;
            if (f.total > BigInt(Number.MAX_SAFE_INTEGER)) seen.bigint++;
            if (c.model.model === 'fast-1' && c.startMs >= CHANGE) seen.changed++;
            quoteTotal += f.total;
            for (const id of f.ids) quoteIds.add(id);
            const kinds: [string, bigint][] = [
              ['1', row.costInput.subunits],
              ['2', row.costOutput.subunits],
              ['3', row.costCacheRead.subunits],
              ['4', row.costCacheWrite.subunits],
              ['5', row.costReasoning.subunits],
            ];
            for (const [kind, value] of kinds) assert.equal(value, f.byKind.get(kind) ?? 0n, `kind ${kind} ${context}`);
          }
          if (c.gpu !== undefined && stamped['cost.gpu'] !== undefined) {
            const gpu = c.gpu;
            const ask = (provider: string) =>
              quote(api, c.startMs, {
                gpus: [
                  {
                    provider,
                    gpuType: gpu.type,
                    gpuCount: 1,
                    seconds: gpu.seconds,
                    region: 'us-east-1',
                    pricingModel: PRICING_MODEL_WIRE[gpu.pricingModel] ?? 0,
                  },
                ],
              });
            // The pricer's rule: the span's provider (else the resource's cloud.provider), then the reference rate.
            const q = ask(gpu.provider ?? 'aws') ?? ask('reference');
            assert.ok(q !== undefined, `Quote refused GPU time the SDK priced: ${context}`);
            const f = quoteFigures(q);
            assert.equal(row.costGpu.subunits, f.total, context);
            seen.gpu++;
            quoteTotal += f.total;
            for (const id of f.ids) quoteIds.add(id);
          }
          if (c.instanceNanos !== undefined && stamped['cost.compute'] !== undefined) {
            const q = quote(api, c.startMs, {
              instances: [
                {
                  provider: 'aws',
                  instanceType: 'g6.xlarge',
                  region: 'us-east-1',
                  seconds: formatScaled(c.instanceNanos, 9),
                  count: 1,
                  pricingModel: PRICING_MODEL_WIRE[c.instancePricingModel ?? 'on_demand'] ?? 0,
                },
              ],
            });
            assert.ok(q !== undefined, `Quote refused instance time the SDK priced: ${context}`);
            const f = quoteFigures(q);
            assert.equal(row.costCompute.subunits, f.total, context);
            seen.instance++;
            quoteTotal += f.total;
            for (const id of f.ids) quoteIds.add(id);
          }
          if (stamped['cost.unpriced_reason'] === undefined && stamped['cost.total'] !== undefined) {
            assert.equal(row.costTotal.subunits, quoteTotal, `total ${context}`);
            assert.deepEqual([...row.priceIds].sort(), [...quoteIds].sort(), `ids ${context}`);
          }
        }
      }),
      { numRuns: 150 },
    );
    for (const [what, count] of Object.entries(seen))
      assert.ok(count > 0, `no run covered ${what}: ${JSON.stringify(seen)}`);
  });
});
