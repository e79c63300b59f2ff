import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diag, DiagLogLevel, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { Attributes, MeterProvider } from '@opentelemetry/api';
import { W3CBaggagePropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { MeterProvider as SdkMeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import { quoteUsage } from '@costtrace/core';
import { CostSpanProcessor, StaticPriceSource } from '../src/index.js';
import { bundledPriceSnapshot } from '@costtrace/core';
import type { CostSpanProcessorOptions } from '../src/index.js';
import { modelPrices, viewOf } from './support/price-fixtures.js';

function setup(options: CostSpanProcessorOptions = {}, resource: Attributes = {}) {
  const exporter = new InMemorySpanExporter();
  const processor = new CostSpanProcessor({ env: {}, ...options });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'test-svc', ...resource }),
    spanProcessors: [processor, new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('test');
  const run = async (attributes: Attributes, name = 'chat'): Promise<ReadableSpan> => {
    const span = tracer.startSpan(name);
    span.setAttributes(attributes);
    span.end();
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    return spans[spans.length - 1] as ReadableSpan;
  };
  return { exporter, processor, tracer, provider, run };
}

/** A real metrics SDK meter provider with a reader the test collects from on demand. */
function recordingMeter(): { provider: MeterProvider; spans: () => Promise<Map<string, number>> } {
  const reader = new MetricReaderForTests();
  const provider = new SdkMeterProvider({ readers: [reader] });
  return {
    provider,
    /** `costtrace.sdk.spans` by series: "priced", or the unpriced reason. */
    spans: async () => {
      const { resourceMetrics, errors } = await reader.collect();
      assert.deepEqual(errors, []);
      const series = new Map<string, number>();
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          if (metric.descriptor.name !== 'costtrace.sdk.spans') continue;
          for (const point of metric.dataPoints) {
            const reason = point.attributes['cost.unpriced_reason'];
            series.set(typeof reason === 'string' ? reason : String(point.attributes.outcome), point.value as number);
          }
        }
      }
      return series;
    },
  };
}

/** A pull reader: collect() reads the current values (cumulative). */
class MetricReaderForTests extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Independent decimal formatting of a pico-dollar bigint (test side, not the code under test). */
function usd(pico: bigint): string {
  const whole = pico / 10n ** 12n;
  const frac = (pico % 10n ** 12n).toString().padStart(12, '0').replace(/0+$/, '');
  return frac === '' ? whole.toString() : `${whole}.${frac}`;
}

/** Pico-dollars per token of a price "P USD per 1M tokens", computed by hand: P × 10^12 / 10^6. */
const PD_PER_TOKEN = (perMillionMicros: bigint) => perMillionMicros; // P in micro-USD per 1M = pd per token

describe('CostSpanProcessor: tokens', () => {
  it('prices OpenAI usage where input includes cached tokens (bundled catalog, exact)', async () => {
    const { run, processor } = setup();
    const span = await run({
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.usage.input_tokens': 3000,
      'gen_ai.usage.cache_read.input_tokens': 2000,
      'gen_ai.usage.output_tokens': 500,
    });
    // gpt-4o: $2.50 input, $1.25 cached, $10.00 output per 1M = 2_500_000, 1_250_000, 10_000_000 pd/token.
    const input = 1000n * PD_PER_TOKEN(2_500_000n);
    const cached = 2000n * PD_PER_TOKEN(1_250_000n);
    const output = 500n * PD_PER_TOKEN(10_000_000n);
    assert.equal(span.attributes['cost.input_tokens'], usd(input));
    assert.equal(span.attributes['cost.cache_read_tokens'], usd(cached));
    assert.equal(span.attributes['cost.output_tokens'], usd(output));
    assert.equal(span.attributes['cost.cache_write_tokens'], undefined, 'zero components are left out');
    assert.equal(span.attributes['cost.total'], usd(input + cached + output));
    assert.equal(span.attributes['cost.total'], '0.01');
    assert.equal(span.attributes['cost.total_float'], 0.01);
    assert.equal(span.attributes['cost.currency'], 'USD');
    assert.equal(span.attributes['cost.pricing.source'], 'bundled');
    assert.equal(span.attributes['cost.pricing.version'], 'bundled-2026-11-01');
    assert.equal(span.attributes['cost.pricing.stale'], undefined, 'a fresh snapshot is not flagged');
    assert.deepEqual(span.attributes['cost.pricing.price_ids'], [
      'openai/gpt-4o/global/input_tokens@2026-11-01',
      'openai/gpt-4o/global/cache_read_tokens@2026-11-01',
      'openai/gpt-4o/global/output_tokens@2026-11-01',
    ]);
    assert.equal(processor.stats().priced, 1);
  });

  it('prices Anthropic usage where input excludes cache reads and writes', async () => {
    const { run } = setup();
    const span = await run({
      'gen_ai.system': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4',
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.usage.cache_read.input_tokens': 8000,
      'gen_ai.usage.cache_creation.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 300,
    });
    // $3 input, $0.30 read, $3.75 write, $15 output per 1M; every reported token billed once.
    const expected = 1200n * 3_000_000n + 8000n * 300_000n + 1000n * 3_750_000n + 300n * 15_000_000n;
    assert.equal(span.attributes['cost.total'], usd(expected));
    assert.equal(span.attributes['cost.total'], '0.01425');
    assert.equal(span.attributes['cost.input_tokens'], usd(1200n * 3_000_000n));
    assert.equal(span.attributes['cost.cache_write_tokens'], usd(1000n * 3_750_000n));
  });

  it('applies a configured rule per provider, and rejects cache counts larger than input', async () => {
    const includes = setup({ inputTokenRules: { anthropic: 'input-includes-cache' } });
    const same = await includes.run({
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4',
      'gen_ai.usage.input_tokens': 10_200,
      'gen_ai.usage.cache_read.input_tokens': 8000,
      'gen_ai.usage.cache_creation.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 300,
    });
    assert.equal(same.attributes['cost.total'], '0.01425');
    const { run } = setup();
    const bad = await run({
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 100,
      'gen_ai.usage.cache_read.input_tokens': 2000,
      'gen_ai.usage.output_tokens': 1,
    });
    assert.equal(bad.attributes['cost.total'], undefined);
    assert.equal(bad.attributes['cost.unpriced_reason'], 'invalid_usage');
  });

  it('bills reasoning tokens at their own price when the model has one, else inside output', async () => {
    const view = viewOf([
      ...modelPrices('acme', 'thinker', { input: '1', output: '8', reasoning: '12' }),
      ...modelPrices('acme', 'plain', { input: '1', output: '8' }),
    ]);
    const { run } = setup({ prices: new StaticPriceSource(view) });
    const usage = {
      'gen_ai.provider.name': 'acme',
      'gen_ai.usage.input_tokens': 0,
      'gen_ai.usage.output_tokens': 1000,
      'gen_ai.usage.reasoning.output_tokens': 400,
    };
    const thinker = await run({ ...usage, 'gen_ai.request.model': 'thinker' });
    assert.equal(thinker.attributes['cost.output_tokens'], usd(600n * 8_000_000n));
    assert.equal(thinker.attributes['cost.reasoning_tokens'], usd(400n * 12_000_000n));
    assert.equal(thinker.attributes['cost.total'], usd(600n * 8_000_000n + 400n * 12_000_000n));
    assert.equal(thinker.attributes['cost.pricing.version'], 'pcache-7');
    const plain = await run({ ...usage, 'gen_ai.request.model': 'plain' });
    assert.equal(plain.attributes['cost.total'], usd(1000n * 8_000_000n));
    assert.equal(plain.attributes['cost.reasoning_tokens'], undefined);
  });

  it('rounds each line once, half to even, for prices finer than a pico-dollar per token', async () => {
    // 0.0000005 USD per 1M = 500_000 pd per 1M tokens = 0.5 pd per token.
    const view = viewOf(modelPrices('acme', 'tiny', { input: '0.0000005', output: '0.123456789012' }));
    const { run } = setup({ prices: new StaticPriceSource(view) });
    const attrs = (input: number, output: number) => ({
      'gen_ai.provider.name': 'acme',
      'gen_ai.request.model': 'tiny',
      'gen_ai.usage.input_tokens': input,
      'gen_ai.usage.output_tokens': output,
    });
    // 3 × 0.5 = 1.5 → 2 (even); 5 × 0.5 = 2.5 → 2 (even); 7 × 0.5 = 3.5 → 4.
    assert.equal((await run(attrs(3, 0))).attributes['cost.input_tokens'], usd(2n));
    assert.equal((await run(attrs(5, 0))).attributes['cost.input_tokens'], usd(2n));
    assert.equal((await run(attrs(7, 0))).attributes['cost.input_tokens'], usd(4n));
    // 7 × 123456789012 / 10^6 = 864197.523084 → 864198 pd.
    assert.equal((await run(attrs(0, 7))).attributes['cost.output_tokens'], '0.000000864198');
  });

  it('agrees with core quoteUsage to the pico-dollar for any usage (fast path property)', () => {
    const snapshot = bundledPriceSnapshot();
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new CostSpanProcessor({ env: {} }), new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('prop');
    const models = [
      ['openai', 'gpt-4o'],
      ['openai', 'gpt-4o-mini'],
      ['openai', 'o3-mini'],
      ['anthropic', 'claude-sonnet-4'],
      ['anthropic', 'claude-3-5-haiku'],
    ] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...models),
        fc.nat(2_000_000),
        fc.nat(200_000),
        fc.nat(1_000_000),
        fc.nat(100_000),
        fc.nat(100_000),
        ([prov, model], uncached, output, read, write, reasoningRaw) => {
          const reasoning = Math.min(reasoningRaw, output);
          const input = prov === 'anthropic' ? uncached : uncached + read + write;
          const span = tracer.startSpan('p');
          span.setAttributes({
            'gen_ai.provider.name': prov,
            'gen_ai.request.model': model,
            'gen_ai.usage.input_tokens': input,
            'gen_ai.usage.output_tokens': output,
            'gen_ai.usage.cache_read.input_tokens': read,
            'gen_ai.usage.cache_creation.input_tokens': write,
            'gen_ai.usage.reasoning.output_tokens': reasoning,
          });
          span.end();
          const got = exporter.getFinishedSpans().pop();
          const quote = quoteUsage(snapshot, {
            at: Date.now(),
            models: [
              {
                provider: prov,
                model,
                inputTokens: BigInt(input),
                outputTokens: BigInt(output),
                cacheReadTokens: BigInt(read),
                cacheWriteTokens: BigInt(write),
                reasoningTokens: BigInt(reasoning),
              },
            ],
          });
          assert.equal(got?.attributes['cost.total'], quote.effectiveCost.toDecimalString());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('agrees with core to the pico-dollar beyond 2^53 pico-dollars too, components included', () => {
    // Line items past 2^53 pico-dollars (~9 000 USD) leave the double fast path for bigints;
    // both paths must give core's exact figures, total and every component.
    const snapshot = bundledPriceSnapshot();
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new CostSpanProcessor({ env: {} }), new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('prop-big');
    const component = { input_tokens: 'cost.input_tokens', output_tokens: 'cost.output_tokens' } as const;
    fc.assert(
      fc.property(
        fc.constantFrom('gpt-4o', 'gpt-4o-mini', 'o3-mini'),
        fc.oneof(fc.nat(5_000), fc.integer({ min: 1_000_000_000, max: 4_000_000_000_000 })),
        fc.oneof(fc.nat(5_000), fc.integer({ min: 1_000_000_000, max: 900_000_000_000 })),
        (model, input, output) => {
          const span = tracer.startSpan('p');
          span.setAttributes({
            'gen_ai.provider.name': 'openai',
            'gen_ai.request.model': model,
            'gen_ai.usage.input_tokens': input,
            'gen_ai.usage.output_tokens': output,
          });
          span.end();
          const got = exporter.getFinishedSpans().pop();
          const quote = quoteUsage(snapshot, {
            at: Date.now(),
            models: [{ provider: 'openai', model, inputTokens: BigInt(input), outputTokens: BigInt(output) }],
          });
          assert.equal(got?.attributes['cost.total'], quote.effectiveCost.toDecimalString());
          for (const [kind, key] of Object.entries(component)) {
            const amount = quote.lines
              .filter((line) => line.kind === kind)
              .reduce((sum, line) => sum + line.effectiveCost.subunits, 0n);
            assert.equal(got?.attributes[key], amount === 0n ? undefined : usd(amount), `${key} of ${model}`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('prices models with an override through the quote: effective cost, override id cited', async () => {
    const view = viewOf(modelPrices('openai', 'gpt-4o', { input: '2.50', output: '10.00' }), {
      overrides: [{ id: 'enterprise-10pct', provider: 'openai', discountPercent: '10' }],
    });
    const { run } = setup({ prices: new StaticPriceSource(view) });
    const span = await run({
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 1000,
    });
    // (1000 × 2.5e6 + 1000 × 10e6) × 0.9 = 11_250_000_000 pd
    assert.equal(span.attributes['cost.total'], usd(((1000n * 2_500_000n + 1000n * 10_000_000n) * 9n) / 10n));
    assert.ok((span.attributes['cost.pricing.price_ids'] as string[]).includes('enterprise-10pct'));
  });
});

describe('CostSpanProcessor: instrumentation dialects', () => {
  it('reads the emitter from the span’s instrumentation scope (OpenInference JS: input without the cache)', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new CostSpanProcessor({ env: {} }), new SimpleSpanProcessor(exporter)],
    });
    const attributes = {
      'llm.provider': 'anthropic',
      'llm.model_name': 'claude-sonnet-4-20250514',
      'llm.token_count.completion': 7,
    };
    // The same counts from two emitters that disagree on what the prompt count holds.
    provider
      .getTracer('@arizeai/openinference-instrumentation-anthropic', '0.1.21')
      .startSpan('js')
      .setAttributes({ ...attributes, 'llm.token_count.prompt': 10 })
      .end();
    provider
      .getTracer('openinference.instrumentation.anthropic', '1.1.2')
      .startSpan('python')
      .setAttributes({
        ...attributes,
        'llm.token_count.prompt': 5010,
        'llm.token_count.prompt_details.cache_read': 3000,
        'llm.token_count.prompt_details.cache_write': 2000,
      })
      .end();
    await provider.forceFlush();
    const [js, python] = exporter.getFinishedSpans();
    // JS: 10 × 3 + 7 × 15 per 1M; Python: 10 × 3 + 2000 × 3.75 + 3000 × 0.30 + 7 × 15 per 1M.
    assert.equal(js?.attributes['cost.total'], '0.000135');
    assert.equal(python?.attributes['cost.total'], '0.008535');
  });

  it('writes the proposed gen_ai.usage.cost.* only when asked, and never over another tool’s', async () => {
    const call = {
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 0,
    };
    const off = await setup().run(call);
    assert.equal(off.attributes['gen_ai.usage.cost.amount'], undefined);
    const { run } = setup({ writeGenAiCost: true });
    const on = await run(call);
    assert.equal(on.attributes['gen_ai.usage.cost.amount'], 0.00015);
    assert.equal(on.attributes['gen_ai.usage.cost.currency'], 'USD');
    const theirs = await run({ ...call, 'gen_ai.usage.cost.amount': 1 });
    assert.equal(theirs.attributes['gen_ai.usage.cost.amount'], 1);
    assert.equal(theirs.attributes['cost.total'], '0.00015');
  });

  it('says when a cost is an upper bound (an emitter that reports no cached tokens)', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new CostSpanProcessor({ env: {} }), new SimpleSpanProcessor(exporter)],
    });
    const call = {
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 10,
    };
    provider.getTracer('@opentelemetry/instrumentation-openai', '0.19.0').startSpan('otel').setAttributes(call).end();
    provider.getTracer('@traceloop/instrumentation-openai', '0.27.0').startSpan('traceloop').setAttributes(call).end();
    // OpenLIT writes the cached count whenever there is one: none means none were cached.
    provider.getTracer('@openlit/instrumentation-openai').startSpan('openlit').setAttributes(call).end();
    await provider.forceFlush();
    const [otel, traceloop, openlit] = exporter.getFinishedSpans();
    assert.equal(otel?.attributes['cost.upper_bound'], true);
    assert.equal(traceloop?.attributes['cost.upper_bound'], true);
    assert.equal(openlit?.attributes['cost.upper_bound'], undefined);
  });

  it('takes configured provider aliases and emitter rules, and refuses bad ones', async () => {
    const { run } = setup({
      providerAliases: { 'my-gateway': 'openai' },
    });
    const span = await run({
      'gen_ai.system': 'my-gateway',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 0,
    });
    assert.equal(span.attributes['cost.total'], '0.00015');
    assert.throws(
      () => new CostSpanProcessor({ env: {}, emitterInputRules: { x: 'sometimes' as never } }),
      /emitterInputRules\.x/,
    );
  });
});

describe('CostSpanProcessor: compact attribute set', () => {
  it('stamps total, currency, version and price ids; source and stale only when they are news', async () => {
    const usage = {
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 1000,
    };
    const cache = setup({
      attributeSet: 'compact',
      prices: new StaticPriceSource(viewOf(modelPrices('openai', 'gpt-4o', { input: '2.50', output: '10.00' }))),
    });
    const span = await cache.run(usage);
    const costKeys = Object.keys(span.attributes).filter((k) => k.startsWith('cost.'));
    assert.deepEqual(costKeys.sort(), [
      'cost.currency',
      'cost.pricing.price_ids',
      'cost.pricing.version',
      'cost.total',
    ]);
    assert.equal(span.attributes['cost.total'], usd(1000n * 2_500_000n + 1000n * 10_000_000n));
    const bundled = setup({ attributeSet: 'compact' });
    const fallback = await bundled.run(usage);
    assert.equal(fallback.attributes['cost.pricing.source'], 'bundled');
    assert.equal(fallback.attributes['cost.total_float'], undefined);
    assert.throws(() => new CostSpanProcessor({ attributeSet: 'tiny' as never }), /attributeSet is "tiny"/);
  });
});

describe('CostSpanProcessor: unpriced spans', () => {
  it('gives an unknown model a reason and no cost, counts it, and never throws', async () => {
    const meter = recordingMeter();
    const { run, processor } = setup({ meterProvider: meter.provider });
    const span = await run({
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-99',
      'gen_ai.usage.input_tokens': 1,
    });
    assert.equal(span.attributes['cost.total'], undefined);
    assert.equal(span.attributes['cost.unpriced_reason'], 'unknown_model');
    const other = await run({
      'gen_ai.provider.name': 'nobody',
      'gen_ai.request.model': 'x',
      'gen_ai.usage.input_tokens': 1,
    });
    assert.equal(other.attributes['cost.unpriced_reason'], 'unknown_provider');
    const noUsage = await run({ 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o' });
    assert.equal(noUsage.attributes['cost.unpriced_reason'], 'no_usage');
    const invalid = await run({
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': -3,
    });
    assert.equal(invalid.attributes['cost.unpriced_reason'], 'invalid_usage');
    const stats = processor.stats();
    assert.equal(stats.unpriced, 4);
    assert.deepEqual(stats.unpricedByReason, { unknown_model: 1, unknown_provider: 1, no_usage: 1, invalid_usage: 1 });
    // The counter is observed from the processor's tallies when metrics are collected.
    assert.deepEqual(
      await meter.spans(),
      new Map([
        ['priced', 0],
        ['unknown_model', 1],
        ['unknown_provider', 1],
        ['no_usage', 1],
        ['invalid_usage', 1],
      ]),
    );
    await run({ 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 10 });
    await run({ 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-99', 'gen_ai.usage.input_tokens': 1 });
    const after = await meter.spans();
    assert.equal(after.get('priced'), 1);
    assert.equal(after.get('unknown_model'), 2);
  });

  it('leaves spans without usage untouched', async () => {
    const { run } = setup();
    const span = await run({ 'http.route': '/health' }, 'GET /health');
    assert.equal(
      Object.keys(span.attributes).some((k) => k.startsWith('cost.')),
      false,
    );
  });

  it('survives a price source that throws: the span ends unpriced, the error is counted once', async () => {
    const warnings: unknown[] = [];
    const logger = { warn: (...a: unknown[]) => warnings.push(a), error() {}, info() {}, debug() {}, verbose() {} };
    const broken = {
      current: () => {
        throw new Error('boom');
      },
    };
    const { run, processor } = setup({ prices: broken, logger });
    for (let i = 0; i < 3; i++) {
      const span = await run({ 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o' });
      assert.equal(span.attributes['cost.total'], undefined);
    }
    assert.equal(processor.stats().errors, 3);
    assert.equal(warnings.length, 1);
  });

  it('skips roll-up spans so a parent summing its children is not billed twice', async () => {
    const { run, processor } = setup();
    const span = await run({
      'costtrace.usage.rollup': true,
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 5000,
    });
    assert.equal(span.attributes['cost.total'], undefined);
    assert.equal(span.attributes['cost.unpriced_reason'], undefined);
    assert.equal(processor.stats().rollups, 1);
  });

  it('charges one model call once when the client’s span and an instrumentation’s span both carry it', async () => {
    const { tracer, provider, exporter, processor } = setup();
    const anthropic = { 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-sonnet-4' };
    // OpenLLMetry Python counts the cache in its input; the client's span (here scope "test") does not.
    const instrumentation = provider.getTracer('opentelemetry.instrumentation.anthropic');
    const outer = instrumentation.startSpan('anthropic.chat');
    const inner = tracer.startSpan('messages create', {}, trace.setSpan(ROOT_CONTEXT, outer));
    inner.setAttributes({
      ...anthropic,
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.cache_read.input_tokens': 3000,
      'gen_ai.usage.output_tokens': 7,
    });
    inner.end();
    outer.setAttributes({
      ...anthropic,
      'gen_ai.usage.input_tokens': 3010,
      'gen_ai.usage.cache_read_input_tokens': 3000,
      'gen_ai.usage.output_tokens': 7,
    });
    outer.end();
    await provider.forceFlush();
    const [client, wrapper] = exporter.getFinishedSpans();
    assert.ok(client !== undefined && wrapper !== undefined);
    // 10 × $3 + 3000 × $0.30 + 7 × $15 per 1M tokens, worked out by hand: $0.001035.
    assert.equal(client.attributes['cost.total'], '0.001035');
    assert.equal(client.attributes['cost.usage_role'], undefined);
    assert.equal(wrapper.attributes['cost.total'], undefined, 'the same call is not charged again');
    assert.equal(wrapper.attributes['cost.usage_role'], 'duplicate');
    assert.equal(wrapper.attributes['cost.duplicate_of'], client.spanContext().spanId);
    assert.equal(processor.stats().duplicates, 1);
    assert.equal(processor.stats().priced, 1);
  });

  it('marks spans with the same gen_ai.response.id duplicates, and a framework root over its steps a roll-up', async () => {
    const { tracer, provider, exporter, processor } = setup();
    const usage = {
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 100,
      'gen_ai.usage.output_tokens': 10,
    };
    const root = tracer.startSpan('ai.generateText');
    const context = trace.setSpan(ROOT_CONTEXT, root);
    const step = tracer.startSpan('ai.generateText.doGenerate', {}, context);
    step.setAttributes({ ...usage, 'ai.operationId': 'ai.generateText.doGenerate', 'gen_ai.response.id': 'r-1' });
    step.end();
    // A sibling from another emitter reporting the same response (counted differently).
    const sibling = tracer.startSpan('chat gpt-4o', {}, context);
    sibling.setAttributes({ ...usage, 'gen_ai.usage.input_tokens': 90, 'gen_ai.response.id': 'r-1' });
    sibling.end();
    root.setAttributes({ ...usage, 'ai.operationId': 'ai.generateText' });
    root.end();
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    assert.deepEqual(
      spans.map((s) => [s.name, s.attributes['cost.total'] !== undefined, s.attributes['cost.usage_role']]),
      [
        ['ai.generateText.doGenerate', true, undefined],
        ['chat gpt-4o', false, 'duplicate'],
        ['ai.generateText', false, 'rollup'],
      ],
    );
    assert.deepEqual([processor.stats().duplicates, processor.stats().rollups], [1, 1]);
  });

  it('prices every span when deduplication is off, and rejects a bad bound', () => {
    assert.throws(() => new CostSpanProcessor({ deduplicate: { maxTraces: 0 } }), /deduplicate\.maxTraces/);
    const { tracer, provider, exporter } = setup({ deduplicate: false });
    const usage = {
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 5,
    };
    const outer = tracer.startSpan('outer');
    const inner = tracer.startSpan('inner', {}, trace.setSpan(ROOT_CONTEXT, outer));
    inner.setAttributes(usage);
    inner.end();
    outer.setAttributes(usage);
    outer.end();
    // A span marked as a roll-up is never charged, and says so, with deduplication off too.
    const marked = tracer.startSpan('workflow');
    marked.setAttributes({ ...usage, 'costtrace.usage.rollup': true });
    marked.end();
    return provider.forceFlush().then(() => {
      const spans = exporter.getFinishedSpans();
      assert.equal(spans.filter((s) => s.attributes['cost.total'] !== undefined).length, 2);
      const rollup = spans.find((s) => s.name === 'workflow');
      assert.equal(rollup?.attributes['cost.total'], undefined);
      assert.equal(rollup?.attributes['cost.usage_role'], 'rollup');
    });
  });

  it('reads the settled resource attributes while async detectors run, without diag errors', async () => {
    const errors: unknown[] = [];
    diag.setLogger(
      { error: (...a: unknown[]) => errors.push(a), warn() {}, info() {}, debug() {}, verbose() {} },
      DiagLogLevel.ERROR,
    );
    try {
      let settle: (value: string) => void = () => undefined;
      const pending = new Promise<string>((resolve) => (settle = resolve));
      const { tracer, provider } = setup({}, { 'costtrace.team': 'search', 'host.id': pending as unknown as string });
      const span = tracer.startSpan('chat');
      span.setAttributes({
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 10,
      });
      span.end();
      // Stamped at onEnding, while the exporter still waits for the detector.
      const ended = span as unknown as ReadableSpan;
      assert.ok(ended.attributes['cost.total'] !== undefined);
      assert.equal(ended.attributes['costtrace.team'], 'search', 'settled resource attributes are read');
      settle('h-1');
      await provider.forceFlush();
      assert.deepEqual(errors, [], 'no "Accessing resource attributes before async attributes settled"');
    } finally {
      diag.disable();
    }
  });

  it('warns once when the SDK never calls onEnding (too old to price), and shuts down idempotently', async () => {
    const warnings: unknown[] = [];
    const logger = { warn: (...a: unknown[]) => warnings.push(a), error() {}, info() {}, debug() {}, verbose() {} };
    const processor = new CostSpanProcessor({ logger, env: {} });
    const fake = {} as ReadableSpan;
    processor.onEnd(fake);
    processor.onEnd(fake);
    assert.equal(warnings.length, 1);
    assert.match(String((warnings[0] as unknown[])[0]), /sdk-trace-base >= 2\.1/);
    await processor.forceFlush();
    await processor.shutdown();
    await processor.shutdown();
    const usage = {
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 1,
    };
    const live = setup();
    assert.equal((await live.run(usage)).attributes['cost.total'], '0.0000025');
    await live.processor.shutdown();
    // A shut-down processor lets spans through untouched.
    assert.equal((await live.run(usage)).attributes['cost.total'], undefined);
  });

  it('rejects invalid options with a message naming the field', () => {
    assert.throws(
      () => new CostSpanProcessor({ inputTokenRules: { openai: 'sometimes' as never } }),
      /inputTokenRules\.openai is "sometimes"; use 'input-includes-cache'/,
    );
    assert.throws(() => new CostSpanProcessor({ dimensions: { tenant: [''] } }), /dimensions\.tenant/);
  });
});

describe('CostSpanProcessor: dimensions', () => {
  it("stamps a job's id and kind from the resource and the epoch from the epoch span, never the samples", async () => {
    const { tracer, provider, exporter } = setup(
      {},
      { 'costtrace.job.id': 'ft-7', 'costtrace.job.kind': 'fine_tuning' },
    );
    const job = tracer.startSpan('fine-tune', { attributes: { 'costtrace.job.samples': 999 } });
    const epoch = tracer.startSpan(
      'epoch',
      { attributes: { 'costtrace.job.epoch': 2, 'costtrace.job.samples': 50_000 } },
      trace.setSpan(ROOT_CONTEXT, job),
    );
    const gpu = { 'costtrace.gpu.type': 'h100-80gb', 'costtrace.gpu.count': 8, 'costtrace.gpu.seconds': 28_800 };
    const step = tracer.startSpan('step', { attributes: gpu }, trace.setSpan(ROOT_CONTEXT, epoch));
    step.end();
    const other = tracer.startSpan('eval', { attributes: { ...gpu, 'costtrace.job.id': 'eval-1' } });
    other.end();
    epoch.end();
    job.end();
    await provider.forceFlush();
    const spans = new Map(exporter.getFinishedSpans().map((s) => [s.name, s.attributes]));
    const stepAttrs = spans.get('step')!;
    assert.ok(stepAttrs['cost.total'] !== undefined, 'the step is cost-bearing');
    assert.equal(stepAttrs['costtrace.job.id'], 'ft-7');
    assert.equal(stepAttrs['costtrace.job.kind'], 'fine_tuning');
    assert.equal(stepAttrs['costtrace.job.epoch'], 2);
    assert.equal(stepAttrs['costtrace.job.samples'], undefined, "samples are the span's own");
    const otherAttrs = spans.get('eval')!;
    assert.equal(otherAttrs['costtrace.job.id'], 'eval-1', "the span's own id wins");
    assert.equal(otherAttrs['costtrace.job.kind'], 'fine_tuning');
    assert.equal(otherAttrs['costtrace.job.epoch'], undefined);
  });

  it('carries a tenant from W3C baggage at the edge to every cost-bearing child span', async () => {
    const { tracer, provider, exporter } = setup();
    // What an HTTP server instrumentation does with the incoming `baggage` header.
    const ctx = new W3CBaggagePropagator().extract(
      ROOT_CONTEXT,
      { baggage: 'costtrace.tenant=acme,team.id=search' },
      {
        get: (carrier: Record<string, string>, key: string) => carrier[key],
        keys: (c: Record<string, string>) => Object.keys(c),
      },
    );
    const server = tracer.startSpan('POST /v1/chat', { attributes: { 'http.route': '/v1/chat' } }, ctx);
    const inServer = trace.setSpan(ctx, server);
    const agent = tracer.startSpan('agent', {}, inServer);
    const llm = tracer.startSpan(
      'chat gpt-4o-mini',
      {
        attributes: {
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-4o-mini',
          'gen_ai.usage.input_tokens': 10,
          'gen_ai.usage.output_tokens': 10,
        },
      },
      trace.setSpan(inServer, agent),
    );
    llm.end();
    agent.end();
    server.end();
    await provider.forceFlush();
    const [child] = exporter.getFinishedSpans();
    assert.equal(child?.name, 'chat gpt-4o-mini');
    assert.equal(child?.attributes['costtrace.tenant'], 'acme');
    assert.equal(child?.attributes['costtrace.team'], 'search');
    assert.equal(child?.attributes['http.route'], '/v1/chat');
  });

  it('prefers span, then ancestor, then resource over baggage, with configurable keys', async () => {
    const { tracer, provider, exporter } = setup(
      { dimensions: { tenant: ['app.tenant'], feature: ['feature'] } },
      { feature: 'summaries' },
    );
    const ctx = propagation.setBaggage(
      ROOT_CONTEXT,
      propagation.createBaggage({ 'app.tenant': { value: 'from-baggage' } }),
    );
    const root = tracer.startSpan('root', { attributes: { 'app.tenant': 'from-parent' } }, ctx);
    const child = tracer.startSpan(
      'llm',
      {
        attributes: {
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.usage.input_tokens': 1,
        },
      },
      trace.setSpan(ctx, root),
    );
    child.end();
    root.end();
    await provider.forceFlush();
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.attributes['costtrace.tenant'], 'from-parent');
    assert.equal(span?.attributes['costtrace.feature'], 'summaries');
  });

  it("reads each dimension's own keys in order and never overwrites a dimension the span set itself", async () => {
    const { run } = setup({
      dimensions: {
        team: ['owner.team', 'team.id'],
        tenant: ['org.id'],
        feature: ['costtrace.feature', 'feature.name'],
      },
    });
    const usage = {
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 1,
    };
    const span = await run({
      ...usage,
      'team.id': 'second-key',
      'org.id': 'org-7',
      'feature.name': 'search',
      'costtrace.team': 'set-by-app',
    });
    assert.equal(span.attributes['costtrace.team'], 'set-by-app');
    assert.equal(span.attributes['costtrace.tenant'], 'org-7');
    assert.equal(span.attributes['costtrace.feature'], 'search');
    const second = await run({ ...usage, 'team.id': 'second-key' });
    assert.equal(second.attributes['costtrace.team'], 'second-key');
    assert.equal(second.attributes['costtrace.tenant'], undefined);
    assert.equal(second.attributes['costtrace.feature'], undefined);
  });

  it('takes resource dimensions from each resource, including one whose detectors settle late', async () => {
    let settle: (value: string) => void = () => undefined;
    const late = resourceFromAttributes({
      'service.name': 'late-svc',
      'tenant.id': new Promise<string>((resolve) => (settle = resolve)),
    });
    const processor = new CostSpanProcessor({ env: {} });
    const usage = {
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 1,
    };
    /** Ends a priced span on a provider with this resource; the export waits for the resource. */
    const endSpanOn = (resource: typeof late): (() => Promise<ReadableSpan>) => {
      const exporter = new InMemorySpanExporter();
      const provider = new BasicTracerProvider({
        resource,
        spanProcessors: [processor, new SimpleSpanProcessor(exporter)],
      });
      provider.getTracer('t').startSpan('llm', { attributes: usage }).end();
      return async () => {
        await provider.forceFlush();
        return exporter.getFinishedSpans()[0] as ReadableSpan;
      };
    };
    const spanOn = (resource: typeof late): Promise<ReadableSpan> => endSpanOn(resource)();
    // Ended while the detector is still pending: priced without the resource's tenant.
    const pending = endSpanOn(late);
    settle('acme');
    await late.waitForAsyncAttributes?.();
    assert.equal((await pending()).attributes['costtrace.tenant'], undefined);
    assert.equal((await spanOn(late)).attributes['costtrace.tenant'], 'acme');
    const other = resourceFromAttributes({ 'service.name': 'other', 'tenant.id': 'globex' });
    assert.equal((await spanOn(other)).attributes['costtrace.tenant'], 'globex');
    assert.equal((await spanOn(late)).attributes['costtrace.tenant'], 'acme');
  });

  it('stamps the VCS revision from CI variables unless the resource has one', async () => {
    const usage = {
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 1,
    };
    const fromEnv = setup({ env: { GITHUB_SHA: 'a1b2c3d4' }, environment: 'staging' });
    const span = await fromEnv.run(usage);
    assert.equal(span.attributes['vcs.ref.head.revision'], 'a1b2c3d4');
    assert.equal(span.attributes['deployment.environment.name'], 'staging');
    const fromResource = setup({ env: { CI_COMMIT_SHA: 'ffff' } }, { 'vcs.ref.head.revision': 'beef' });
    assert.equal((await fromResource.run(usage)).attributes['vcs.ref.head.revision'], undefined);
    const off = setup({ env: { GITHUB_SHA: 'a1b2c3d4' }, vcsRevision: false });
    assert.equal((await off.run(usage)).attributes['vcs.ref.head.revision'], undefined);
  });
});
