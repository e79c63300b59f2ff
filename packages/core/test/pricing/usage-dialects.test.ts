// The usage reader on the attributes real instrumentations write (keys and values as read in
// their sources; see usage-dialects.ts and the README's emitter table). Expected money is worked
// out by hand from the bundled list prices (USD per 1M tokens): claude-sonnet-4 input 3,
// cache write 3.75, cache read 0.30, output 15; gpt-4o input 2.50, cache read 1.25, output 10.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bundledPricingView, formatPico, readSpanUsage, SpanCost, SpanPricer, SpanUsage } from '../../src/index.js';
import { normalizeProvider } from '../../src/pricing/usage-dialects.js';
import type { EmitterScope, UsageReaderOptions } from '../../src/index.js';

const view = bundledPricingView();
const AT = Date.parse('2026-11-15T00:00:00Z');

function priced(
  scope: EmitterScope | undefined,
  span: Record<string, unknown>,
  options?: UsageReaderOptions,
): { cost: SpanCost; usage: SpanUsage } {
  const usage = readSpanUsage(span, {}, new SpanUsage(), undefined, scope, options);
  return { usage, cost: new SpanPricer().price(view, usage, AT, new SpanCost()) };
}

/** 10 uncached input, 2000 cache write, 3000 cache read, 7 output on claude-sonnet-4. */
const ANTHROPIC_CALL = '0.008535'; // (10×3 + 2000×3.75 + 3000×0.30 + 7×15) / 1M

describe('usage dialects: Anthropic input with or without the cache, by emitter', () => {
  const cases: [string, EmitterScope, Record<string, unknown>][] = [
    [
      'OpenInference Python (prompt includes the cache)',
      { name: 'openinference.instrumentation.anthropic', version: '1.1.2' },
      {
        'llm.provider': 'anthropic',
        'llm.system': 'anthropic',
        'llm.model_name': 'claude-sonnet-4-20250514',
        'llm.token_count.prompt': 5010,
        'llm.token_count.completion': 7,
        'llm.token_count.total': 5017,
        'llm.token_count.prompt_details.cache_read': 3000,
        'llm.token_count.prompt_details.cache_write': 2000,
      },
    ],
    [
      'OpenLIT Python (input excludes the cache)',
      { name: 'openlit.instrumentation.anthropic' },
      {
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.request.model': 'claude-sonnet-4-20250514',
        'gen_ai.usage.input_tokens': 10,
        'gen_ai.usage.output_tokens': 7,
        'gen_ai.usage.cache_read.input_tokens': 3000,
        'gen_ai.usage.cache_creation.input_tokens': 2000,
        'gen_ai.usage.cost': 0.0085,
      },
    ],
    [
      'OpenLLMetry Python 0.62 (input includes the cache)',
      { name: 'opentelemetry.instrumentation.anthropic', version: '0.62.1' },
      {
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.request.model': 'claude-sonnet-4-20250514',
        'gen_ai.usage.input_tokens': 5010,
        'gen_ai.usage.output_tokens': 7,
        'gen_ai.usage.total_tokens': 5017,
        'gen_ai.usage.cache_read.input_tokens': 3000,
        'gen_ai.usage.cache_creation.input_tokens': 2000,
      },
    ],
    [
      'OpenLLMetry JS before 2026-06 (deprecated names, prompt excludes the cache)',
      { name: '@traceloop/instrumentation-anthropic', version: '0.22.0' },
      {
        'gen_ai.system': 'Anthropic',
        'gen_ai.request.model': 'claude-sonnet-4-20250514',
        'gen_ai.usage.prompt_tokens': 10,
        'gen_ai.usage.completion_tokens': 7,
        'gen_ai.usage.cache_read_input_tokens': 3000,
        'gen_ai.usage.cache_creation_input_tokens': 2000,
        'llm.usage.total_tokens': 17,
      },
    ],
    [
      'OpenLLMetry JS 0.27 (input without the cache, as run in the compatibility suite)',
      { name: '@traceloop/instrumentation-anthropic', version: '0.27.0' },
      {
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.request.model': 'claude-sonnet-4-20250514',
        'gen_ai.usage.input_tokens': 10,
        'gen_ai.usage.output_tokens': 7,
        'gen_ai.usage.cache_read.input_tokens': 3000,
        'gen_ai.usage.cache_creation.input_tokens': 2000,
      },
    ],
    [
      'the Anthropic TypeScript client’s own span (input includes the cache; cache_write name)',
      { name: 'com.anthropic.sdk.typescript', version: '1.16.0' },
      {
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.request.model': 'claude-sonnet-4-20250514',
        'gen_ai.usage.input_tokens': 5010,
        'gen_ai.usage.output_tokens': 7,
        'gen_ai.usage.cache_read.input_tokens': 3000,
        'gen_ai.usage.cache_write.input_tokens': 2000,
      },
    ],
    [
      'the Anthropic Python client’s own span',
      { name: 'com.anthropic.sdk.python', version: '2.16.0' },
      {
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.request.model': 'claude-sonnet-4-20250514',
        'gen_ai.usage.input_tokens': 5010,
        'gen_ai.usage.output_tokens': 7,
        'gen_ai.usage.cache_read.input_tokens': 3000,
        'gen_ai.usage.cache_write.input_tokens': 2000,
      },
    ],
    [
      'OpenInference JS anthropic 0.2.8 (prompt includes the cache)',
      { name: '@arizeai/openinference-instrumentation-anthropic', version: '0.2.8' },
      {
        'llm.provider': 'anthropic',
        'llm.system': 'anthropic',
        'llm.model_name': 'claude-sonnet-4-20250514',
        'llm.token_count.prompt': 5010,
        'llm.token_count.prompt_details.cache_read': 3000,
        'llm.token_count.prompt_details.cache_write': 2000,
        'llm.token_count.completion': 7,
      },
    ],
    [
      'OpenTelemetry Python genai anthropic (input includes the cache; cache_write name)',
      { name: 'opentelemetry.instrumentation.genai.anthropic' },
      {
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.request.model': 'claude-sonnet-4-20250514',
        'gen_ai.usage.input_tokens': 5010,
        'gen_ai.usage.output_tokens': 7,
        'gen_ai.usage.cache_read.input_tokens': 3000,
        'gen_ai.usage.cache_write.input_tokens': 2000,
      },
    ],
    [
      'Vercel AI SDK 7 OpenTelemetry (scope gen_ai, input includes the cache)',
      { name: 'gen_ai' },
      {
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.request.model': 'claude-sonnet-4-20250514',
        'gen_ai.usage.input_tokens': 5010,
        'gen_ai.usage.output_tokens': 7,
        'gen_ai.usage.cache_read.input_tokens': 3000,
        'gen_ai.usage.cache_creation.input_tokens': 2000,
      },
    ],
  ];
  for (const [name, scope, span] of cases) {
    it(name, () => {
      const { cost, usage } = priced(scope, span);
      assert.equal(usage.provider, 'anthropic');
      assert.equal(cost.reason, undefined);
      assert.equal(formatPico(cost.total), ANTHROPIC_CALL);
    });
  }

  it('an unknown emitter keeps the provider default, and configuration can say otherwise', () => {
    const span = {
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4',
      'gen_ai.usage.input_tokens': 5010,
      'gen_ai.usage.output_tokens': 7,
      'gen_ai.usage.cache_read.input_tokens': 3000,
      'gen_ai.usage.cache_creation.input_tokens': 2000,
    };
    // Anthropic's own counts exclude the cache: read that way, 5010 input are all uncached.
    assert.equal(formatPico(priced({ name: 'my-llm-lib' }, span).cost.total), '0.023535');
    const configured = priced({ name: 'my-llm-lib' }, span, {
      emitterInputRules: { 'my-llm-lib': 'input-includes-cache' },
    });
    assert.equal(formatPico(configured.cost.total), ANTHROPIC_CALL);
  });
});

describe('usage dialects: other keys and provider names', () => {
  it('reads the Vercel AI SDK (scope ai): openai.chat, ai.usage.* and cached input', () => {
    const { cost, usage } = priced(
      { name: 'ai' },
      {
        'ai.model.provider': 'openai.chat',
        'gen_ai.system': 'openai.chat',
        'ai.model.id': 'gpt-4o',
        'ai.usage.promptTokens': 1200,
        'ai.usage.completionTokens': 300,
        'ai.usage.cachedInputTokens': 1000,
      },
    );
    assert.equal(usage.provider, 'openai');
    assert.equal(usage.model, 'gpt-4o');
    // OpenAI's prompt count includes cached tokens with every emitter (the AI SDK v4/v5 rule
    // applies to Anthropic only): 200 × 2.50 + 1000 × 1.25 + 300 × 10 per 1M.
    assert.equal(formatPico(cost.total), '0.00475');
  });

  it('reads the cache the legacy AI SDK integration puts only under ai.usage.* beside GenAI input counts', () => {
    // A doGenerate span as @ai-sdk/otel's LegacyOpenTelemetry wrote it in the compatibility suite.
    const { cost, usage } = priced(
      { name: 'ai' },
      {
        'ai.operationId': 'ai.generateText.doGenerate',
        'ai.model.provider': 'openai.responses',
        'gen_ai.system': 'openai.responses',
        'ai.model.id': 'gpt-4o',
        'gen_ai.usage.input_tokens': 1200,
        'gen_ai.usage.output_tokens': 300,
        'ai.usage.inputTokens': 1200,
        'ai.usage.cachedInputTokens': 1000,
        'ai.usage.inputTokenDetails.cacheReadTokens': 1000,
        'ai.usage.reasoningTokens': 120,
      },
    );
    assert.deepEqual([usage.cacheReadTokens, usage.reasoningTokens, usage.rollup], [1000, 120, false]);
    assert.equal(formatPico(cost.total), '0.00475');
  });

  it('treats an in-process agent’s invoke_agent span as a roll-up and a remote agent’s as a call', () => {
    const span = {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 5,
    };
    const internal = readSpanUsage(span, {}, new SpanUsage(), undefined, { name: 'gen_ai' }, undefined, true);
    const client = readSpanUsage(span, {}, new SpanUsage(), undefined, { name: 'gen_ai' }, undefined, false);
    assert.deepEqual([internal.rollup, client.rollup], [true, false]);
  });

  it('flags OpenAI cached tokens an emitter does not report (the cost is an upper bound)', () => {
    const { cost, usage } = priced(
      { name: '@opentelemetry/instrumentation-openai', version: '0.19.0' },
      {
        'gen_ai.system': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 1200,
        'gen_ai.usage.output_tokens': 300,
      },
    );
    assert.equal(usage.cacheUnreported, true);
    assert.equal(cost.upperBound, true);
    assert.equal(formatPico(cost.total), '0.006');
    const counted = priced(
      { name: '@opentelemetry/instrumentation-openai' },
      {
        'gen_ai.system': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 1200,
        'gen_ai.usage.cache_read.input_tokens': 1000,
        'gen_ai.usage.output_tokens': 300,
      },
    );
    assert.equal(counted.cost.upperBound, false, 'a cached count, when there is one, makes it exact');
    for (const scope of ['opentelemetry.util.genai.handler', '@traceloop/instrumentation-openai']) {
      const bound = priced(
        { name: scope },
        {
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.usage.input_tokens': 1200,
          'gen_ai.usage.output_tokens': 300,
        },
      );
      assert.equal(bound.cost.upperBound, true, `${scope} writes no cached count`);
    }
  });

  it('reads reasoning in its names', () => {
    for (const key of [
      'gen_ai.usage.reasoning.output_tokens',
      'gen_ai.usage.reasoning_tokens',
      'llm.token_count.completion_details.reasoning',
      'ai.usage.reasoningTokens',
    ]) {
      const usage = readSpanUsage({ 'gen_ai.usage.output_tokens': 100, [key]: 40 }, {});
      assert.equal(usage.reasoningTokens, 40, key);
    }
  });

  it('normalises provider names to the names prices use', () => {
    const expected: [string, string][] = [
      ['openai', 'openai'],
      ['OpenAI', 'openai'],
      ['openai.chat', 'openai'],
      ['openai.responses', 'openai'],
      ['Anthropic', 'anthropic'],
      ['anthropic.messages', 'anthropic'],
      ['bedrock.anthropic.messages', 'bedrock'],
      ['googleVertex.anthropic.messages', 'google'],
      ['aws.bedrock', 'bedrock'],
      ['AWS', 'bedrock'],
      ['az.ai.openai', 'azure'],
      ['azure.ai.openai', 'azure'],
      ['azure.responses', 'azure'],
      ['gcp.vertex_ai', 'google'],
      ['google.vertex.chat', 'google'],
      ['google.generative-ai', 'google'],
      ['gcp.gemini', 'google'],
      ['mistral_ai', 'mistral'],
      ['x_ai', 'xai'],
      ['OpenRouter', 'openrouter'],
    ];
    for (const [raw, name] of expected) assert.equal(normalizeProvider(raw), name, raw);
    assert.equal(normalizeProvider('My-Proxy', { 'my-proxy': 'openai' }), 'openai');
  });

  it('reads costs other tools wrote for comparison, never adding them', () => {
    const span = {
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4',
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 7,
    };
    for (const [extra, key, currency] of [
      [{ 'gen_ai.usage.cost': 0.25 }, 'gen_ai.usage.cost', 'USD'],
      [{ 'llm.cost.total': '0.25' }, 'llm.cost.total', 'USD'],
      [{ 'gen_ai.usage.cost.amount': 0.25, 'gen_ai.usage.cost.currency': 'EUR' }, 'gen_ai.usage.cost.amount', 'EUR'],
    ] as const) {
      const { cost, usage } = priced({ name: 'openlit.instrumentation.anthropic' }, { ...span, ...extra });
      assert.deepEqual(usage.emittedCost, { amount: 0.25, currency, key });
      assert.equal(formatPico(cost.total), '0.000135', 'costtrace prices the usage; the emitted cost is not added');
    }
  });

  it('gives a model without usable usage a reason', () => {
    assert.equal(priced(undefined, { 'llm.model_name': 'gpt-4o', 'llm.provider': 'openai' }).cost.reason, 'no_usage');
  });
});
