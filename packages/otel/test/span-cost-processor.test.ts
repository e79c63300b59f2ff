import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { CostSpanProcessor } from '../src/index.js';

function setup() {
  const exporter = new InMemorySpanExporter();
  const processor = new CostSpanProcessor();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter), processor] });
  return { exporter, processor, tracer: provider.getTracer('test'), provider };
}

describe('CostSpanProcessor', () => {
  it('stamps exact cost attributes that the exporter sees', async () => {
    const { exporter, processor, tracer, provider } = setup();
    const span = tracer.startSpan('chat gpt-4o-mini');
    span.setAttributes({
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 3000,
      'gen_ai.usage.cache_read.input_tokens': 2000,
      'gen_ai.usage.output_tokens': 500,
    });
    span.end();
    await provider.forceFlush();
    const [exported] = exporter.getFinishedSpans();
    // Independent arithmetic, in USD per token: 1000 × 0.15e-6 + 2000 × 0.075e-6 + 500 × 0.6e-6
    // = 0.00015 + 0.00015 + 0.0003 = 0.0006
    assert.equal(exported?.attributes['cost.total'], '0.0006');
    assert.equal(exported?.attributes['cost.input_tokens'], '0.00015');
    assert.equal(exported?.attributes['cost.cache_read_tokens'], '0.00015');
    assert.equal(exported?.attributes['cost.output_tokens'], '0.0003');
    assert.equal(exported?.attributes['cost.currency'], 'USD');
    assert.equal(exported?.attributes['cost.pricing.source'], 'bundled');
    assert.equal(processor.stats().priced, 1);
  });

  it('marks an unknown model with a reason instead of a cost, without throwing', async () => {
    const { exporter, processor, tracer, provider } = setup();
    const span = tracer.startSpan('chat');
    span.setAttributes({
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-99',
      'gen_ai.usage.input_tokens': 1,
    });
    span.end();
    await provider.forceFlush();
    const [exported] = exporter.getFinishedSpans();
    assert.equal(exported?.attributes['cost.total'], undefined);
    assert.equal(exported?.attributes['cost.unpriced_reason'], 'unknown_model');
    assert.equal(processor.stats().unpriced, 1);
  });

  it('leaves spans without model usage untouched', async () => {
    const { exporter, tracer, provider } = setup();
    tracer.startSpan('GET /health').end();
    await provider.forceFlush();
    const [exported] = exporter.getFinishedSpans();
    assert.equal(
      Object.keys(exported?.attributes ?? {}).some((k) => k.startsWith('cost.')),
      false,
    );
  });
});
