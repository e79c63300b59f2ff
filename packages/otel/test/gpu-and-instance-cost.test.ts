import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { CostSpanProcessor, migShare, recordGpuUsage, StaticPriceSource, withGpu } from '../src/index.js';
import type { CostSpanProcessorOptions } from '../src/index.js';
import { viewOf } from './support/price-fixtures.js';

function setup(options: CostSpanProcessorOptions = {}, resource: Attributes = {}) {
  const exporter = new InMemorySpanExporter();
  const processor = new CostSpanProcessor({ env: {}, ...options });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [processor, new SimpleSpanProcessor(exporter)],
  });
  const finished = async (): Promise<ReadableSpan[]> => {
    await provider.forceFlush();
    return exporter.getFinishedSpans();
  };
  return { processor, tracer: provider.getTracer('t'), finished };
}

/** Independent: pico-dollars for `nanos` ns at `hourly` USD per hour (decimal string), half to even. */
function perHour(hourly: string, nanos: bigint): bigint {
  const [whole = '0', frac = ''] = hourly.split('.');
  const pdPerHour = BigInt(whole) * 10n ** 12n + BigInt(frac.padEnd(12, '0'));
  const num = pdPerHour * nanos;
  const den = 3_600_000_000_000n;
  const q = num / den;
  const r = num % den;
  return 2n * r > den || (2n * r === den && q % 2n === 1n) ? q + 1n : q;
}

function usd(pico: bigint): string {
  const frac = (pico % 10n ** 12n).toString().padStart(12, '0').replace(/0+$/, '');
  return frac === '' ? (pico / 10n ** 12n).toString() : `${pico / 10n ** 12n}.${frac}`;
}

describe('GPU cost', () => {
  it('prices recorded GPU-seconds × count at the reference GPU-hour rate', async () => {
    const { tracer, finished } = setup();
    const span = tracer.startSpan('batch');
    recordGpuUsage(span, { gpuType: 'H100-80GB', count: 2, seconds: 1.5 });
    span.end();
    const [s] = await finished();
    assert.equal(s?.attributes['costtrace.gpu.seconds'], 3);
    assert.equal(s?.attributes['costtrace.gpu.type'], 'h100-80gb');
    // Reference $6.88 per GPU-hour × 3 GPU-seconds = 0.00573333… → 0.005733333333 (half even at 12).
    assert.equal(s?.attributes['cost.gpu'], usd(perHour('6.88', 3_000_000_000n)));
    assert.equal(s?.attributes['cost.gpu'], '0.005733333333');
    assert.equal(s?.attributes['cost.total'], '0.005733333333');
    assert.deepEqual(s?.attributes['cost.pricing.price_ids'], ['reference/h100-80gb/global/gpu_time@2026-11-01']);
  });

  it('rounds GPU time half to even once, and prices a MIG slice by its share', async () => {
    const { tracer, finished } = setup();
    const one = tracer.startSpan('one-second');
    recordGpuUsage(one, { gpuType: 'h100-80gb', seconds: 1 });
    one.end();
    const mig = tracer.startSpan('mig');
    recordGpuUsage(mig, { gpuType: 'h100-80gb', share: migShare('3g.40gb'), seconds: 7 });
    mig.end();
    const [a, b] = await finished();
    // 6.88e12 pd × 1e9 ns / 3.6e12 = 1911111111.11… → 1911111111 pd
    assert.equal(a?.attributes['cost.gpu'], usd(perHour('6.88', 1_000_000_000n)));
    assert.equal(a?.attributes['cost.gpu'], '0.001911111111');
    // 3/7 of a GPU for 7 s = 3 GPU-seconds.
    assert.equal(b?.attributes['costtrace.gpu.share'], 3 / 7);
    assert.equal(b?.attributes['cost.gpu'], usd(perHour('6.88', 3_000_000_000n)));
  });

  it('withGpu measures the occupied wall time of an async block, even when it throws', async () => {
    let now = 0n;
    const { tracer, finished } = setup();
    const span = tracer.startSpan('infer');
    const result = await withGpu(span, { gpuType: 'a100-80gb', count: 4, nowNs: () => now }, () => {
      now += 250_000_000n; // 0.25 s
      return Promise.resolve(42);
    });
    assert.equal(result, 42);
    await assert.rejects(
      withGpu(span, { gpuType: 'a100-80gb', count: 4, nowNs: () => now }, () => {
        now += 250_000_000n;
        throw new Error('oom');
      }),
      /oom/,
    );
    span.end();
    const [s] = await finished();
    assert.equal(s?.attributes['costtrace.gpu.seconds'], 2); // 2 × 0.25 s × 4 GPUs
    assert.equal(s?.attributes['costtrace.gpu.source'], 'timer');
    assert.equal(s?.attributes['cost.gpu'], usd(perHour('5.1207125', 2_000_000_000n)));
  });

  it('uses the provider rate from pricing-cache, an internal override, and the unknown_gpu reason', async () => {
    const gpu = (provider: string, amount: string) => ({
      provider,
      resourceType: 'gpu',
      sku: 'h100-80gb',
      kind: 'gpu_time',
      unit: 'gpu_hour',
      amount,
      effectiveFrom: '2026-01-01',
      source: 'test',
    });
    const view = viewOf([gpu('aws', '6.88'), gpu('reference', '3.00')], {
      overrides: [
        {
          id: 'owned-h100',
          resourceType: 'gpu',
          kind: 'gpu_time',
          pricingModel: 'internal',
          rate: '1.10',
          rateUnit: 'gpu_hour',
        },
      ],
    });
    const { tracer, finished } = setup({ prices: new StaticPriceSource(view) }, { 'cloud.provider': 'aws' });
    const cloud = tracer.startSpan('cloud');
    recordGpuUsage(cloud, { gpuType: 'h100-80gb', seconds: 3600 });
    cloud.end();
    const owned = tracer.startSpan('owned');
    recordGpuUsage(owned, { gpuType: 'h100-80gb', seconds: 3600, pricingModel: 'internal' });
    owned.end();
    const unknown = tracer.startSpan('unknown');
    recordGpuUsage(unknown, { gpuType: 'z900', seconds: 1 });
    unknown.end();
    const [a, b, c] = await finished();
    assert.equal(a?.attributes['cost.gpu'], '6.88');
    assert.equal(b?.attributes['cost.gpu'], '1.1');
    assert.ok((b?.attributes['cost.pricing.price_ids'] as string[]).includes('owned-h100'));
    assert.equal(c?.attributes['cost.unpriced_reason'], 'unknown_gpu');
    assert.equal(c?.attributes['cost.total'], undefined);
  });

  it('adds GPU and token cost into one total', async () => {
    const { tracer, finished } = setup();
    const span = tracer.startSpan('chat', {
      attributes: {
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': 1000,
        'gen_ai.usage.output_tokens': 100,
      },
    });
    recordGpuUsage(span, { gpuType: 'l4', seconds: 36 });
    span.end();
    const [s] = await finished();
    const tokens = 1000n * 150_000n + 100n * 600_000n; // $0.15 / $0.60 per 1M
    const gpuCost = perHour('0.8048', 36_000_000_000n); // $0.8048/h × 36 s
    assert.equal(s?.attributes['cost.total'], usd(tokens + gpuCost));
  });

  it('rejects a bad GPU descriptor with the field named', () => {
    const span = trace.wrapSpanContext({ traceId: '1'.repeat(32), spanId: '1'.repeat(16), traceFlags: 1 });
    assert.throws(() => recordGpuUsage(span, { gpuType: 'h100', share: 2, seconds: 1 }), /recordGpuUsage\.share is 2/);
    assert.throws(() => migShare('big'), /migShare\.profile/);
    assert.equal(migShare('1g.10gb'), 1 / 7);
    assert.equal(migShare('2g.12gb', 4), 0.5);
  });
});

describe('instance cost (opt-in), shared among concurrent local-root spans', () => {
  const host = { 'host.type': 'm5.xlarge', 'cloud.provider': 'aws', 'cloud.region': 'us-east-1' };

  it('splits each instance-second equally among the request spans open during it', async () => {
    let now = 0n;
    const second = 1_000_000_000n;
    const { tracer, finished, processor } = setup({ instanceCost: { nowNs: () => now } }, host);
    const a = tracer.startSpan('request a', {}, ROOT_CONTEXT); // t = 0
    now = 1n * second;
    const b = tracer.startSpan('request b', {}, ROOT_CONTEXT); // t = 1
    const child = tracer.startSpan('db', {}, trace.setSpan(ROOT_CONTEXT, a)); // nested: never tracked
    child.end();
    now = 2n * second;
    a.end(); // a: 1 s alone + 1 s shared = 1.5 s
    now = 3n * second;
    b.end(); // b: 1 s shared + 1 s alone = 1.5 s
    now = 5n * second;
    const spans = await finished();
    const byName = new Map(spans.map((s) => [s.name, s]));
    // m5.xlarge $0.192 per hour × 1.5 s
    const expected = usd(perHour('0.192', 1_500_000_000n));
    assert.equal(expected, '0.00008');
    assert.equal(byName.get('request a')?.attributes['cost.compute'], expected);
    assert.equal(byName.get('request b')?.attributes['cost.compute'], expected);
    assert.equal(byName.get('request a')?.attributes['costtrace.instance.share_seconds'], 1.5);
    assert.equal(byName.get('db')?.attributes['cost.compute'], undefined);
    assert.deepEqual(byName.get('request a')?.attributes['cost.pricing.price_ids'], [
      'aws/m5.xlarge/us-east-1/instance_time@2026-11-01',
    ]);
    assert.equal(processor.stats().idleInstanceSeconds, 2); // 3 s → 5 s nobody was open
  });

  it('three concurrent spans over 1 s each get a third (rounded to the nanosecond, then once in money)', async () => {
    let now = 0n;
    const { tracer, finished } = setup({ instanceCost: { nowNs: () => now } }, host);
    const spans = [0, 1, 2].map((i) => tracer.startSpan(`r${i}`, {}, ROOT_CONTEXT));
    now = 1_000_000_000n;
    for (const s of spans) s.end();
    const out = await finished();
    // 1/3 s = 333333333.33… ns → 333333333 ns; × $0.192/h
    const expected = usd(perHour('0.192', 333_333_333n));
    for (const s of out) assert.equal(s.attributes['cost.compute'], expected);
  });

  it('is off by default and says unknown_instance when the host has no price', async () => {
    const off = setup({}, host);
    off.tracer.startSpan('r', {}, ROOT_CONTEXT).end();
    assert.equal((await off.finished())[0]?.attributes['cost.compute'], undefined);
    const unknown = setup({ instanceCost: true }, { 'host.type': 'x99.huge', 'cloud.provider': 'aws' });
    unknown.tracer.startSpan('r', {}, ROOT_CONTEXT).end();
    assert.equal((await unknown.finished())[0]?.attributes['cost.unpriced_reason'], 'unknown_instance');
  });
});
