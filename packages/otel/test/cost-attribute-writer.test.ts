import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Span, SpanLimits } from '@opentelemetry/sdk-trace-base';
import { CostSpanProcessor } from '../src/index.js';

function run(spanLimits: SpanLimits | undefined, extra: number) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    ...(spanLimits === undefined ? {} : { spanLimits }),
    spanProcessors: [new CostSpanProcessor({ env: {} }), new SimpleSpanProcessor(exporter)],
  });
  const span = provider.getTracer('t').startSpan('chat');
  for (let i = 0; i < extra; i++) span.setAttribute(`app.extra_${i}`, i);
  span.setAttributes({
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.usage.input_tokens': 1000,
    'gen_ai.usage.output_tokens': 100,
  });
  span.end();
  return { span: exporter.getFinishedSpans()[0], internals: span as unknown as { _attributesCount: number } };
}

describe('cost attribute writer', () => {
  it('keeps the SDK attribute count right when it writes directly', () => {
    const { span, internals } = run(undefined, 20);
    assert.equal(span?.attributes['cost.total'], '0.0035');
    assert.equal(Object.keys(span?.attributes ?? {}).length, internals._attributesCount);
    assert.equal(span?.droppedAttributesCount, 0);
  });

  it('takes the direct path on the installed sdk-trace-base (the capability check holds for 2.12.1)', () => {
    // A processor ahead of CostSpanProcessor counts the cost attributes that arrive through the
    // public setAttribute/setAttributes: none on the direct path. If a new 2.x release changed
    // the span's bookkeeping, the writer would fall back (still correct) and this test says so.
    const exporter = new InMemorySpanExporter();
    let publicCostWrites = 0;
    const counter = {
      onStart(span: Span): void {
        const setAttribute = span.setAttribute.bind(span);
        span.setAttribute = (key, value) => {
          if (key.startsWith('cost.')) publicCostWrites += 1;
          return setAttribute(key, value);
        };
      },
      onEnd: (): void => undefined,
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const provider = new BasicTracerProvider({
      spanProcessors: [counter, new CostSpanProcessor({ env: {} }), new SimpleSpanProcessor(exporter)],
    });
    const span = provider.getTracer('t').startSpan('chat');
    span.setAttributes({
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 100,
    });
    span.end();
    assert.equal(exporter.getFinishedSpans()[0]?.attributes['cost.total'], '0.0035');
    assert.equal(publicCostWrites, 0);
    // The same span near its limit goes through the public path (the counter sees it).
    const limited = new BasicTracerProvider({
      spanLimits: { attributeCountLimit: 10 },
      spanProcessors: [counter, new CostSpanProcessor({ env: {} }), new SimpleSpanProcessor(exporter)],
    });
    const near = limited.getTracer('t').startSpan('chat');
    near.setAttributes({
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 100,
    });
    near.end();
    assert.ok(publicCostWrites > 0);
  });

  it('goes through setAttribute, which enforces the limit, when the span is near its attribute limit', () => {
    const { span } = run({ attributeCountLimit: 30 }, 20);
    assert.equal(Object.keys(span?.attributes ?? {}).length, 30);
    assert.equal(span?.attributes['cost.total'], '0.0035');
    assert.ok((span?.droppedAttributesCount ?? 0) > 0);
  });

  it('goes through setAttribute when a value length limit could truncate', () => {
    const { span } = run({ attributeValueLengthLimit: 8 }, 0);
    assert.deepEqual(span?.attributes['cost.pricing.price_ids'], ['openai/g', 'openai/g']);
  });
});

describe('cost attribute writer on a frozen attribute object', () => {
  it('never throws into the application: the span stays unpriced and the failure is counted', () => {
    const exporter = new InMemorySpanExporter();
    const warnings: unknown[] = [];
    const logger = { warn: (...args: unknown[]) => warnings.push(args) } as never;
    const processor = new CostSpanProcessor({ env: {}, logger });
    const provider = new BasicTracerProvider({ spanProcessors: [processor, new SimpleSpanProcessor(exporter)] });
    const span = provider.getTracer('t').startSpan('chat', {
      attributes: {
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 1,
      },
    });
    Object.freeze((span as unknown as { attributes: object }).attributes);
    assert.doesNotThrow(() => span.end());
    const [finished] = exporter.getFinishedSpans();
    assert.equal(finished?.attributes['cost.total'], undefined);
    assert.equal(processor.stats().errors, 1);
    assert.equal(processor.stats().priced, 0);
    assert.equal(warnings.length, 1);
  });
});
