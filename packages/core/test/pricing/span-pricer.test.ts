import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bundledPricingView,
  formatPico,
  GenAiAttr,
  GpuAttr,
  InstanceAttr,
  readSpanUsage,
  ROLLUP_ATTRIBUTE,
  SpanCost,
  SpanPricer,
  SpanUsage,
} from '../../src/index.js';
import { toBillableTokens } from '../../src/token-usage.js';

const view = bundledPricingView();
const AT = Date.parse('2026-11-15T00:00:00Z');

function price(
  span: Record<string, unknown>,
  resource: Record<string, unknown> | Map<string, unknown> = {},
  pricer = new SpanPricer(),
): SpanCost {
  return pricer.price(view, readSpanUsage(span, resource), AT, new SpanCost());
}

describe('token usage rules', () => {
  it('subtracts cache tokens from input when the provider counts them in input', () => {
    const t = toBillableTokens(
      { input: 1000, cacheRead: 600, cacheWrite: 100, output: 50 },
      'input-includes-cache',
      false,
    );
    assert.deepEqual(t, { uncachedInput: 300n, cacheRead: 600n, cacheWrite: 100n, output: 50n, reasoning: 0n });
  });

  it('takes input as uncached when the provider reports cache separately (Anthropic)', () => {
    const t = toBillableTokens(
      { input: 1000, cacheRead: 600, cacheWrite: 100, output: 50 },
      'input-excludes-cache',
      false,
    );
    assert.deepEqual(t, { uncachedInput: 1000n, cacheRead: 600n, cacheWrite: 100n, output: 50n, reasoning: 0n });
  });

  it('separates reasoning from output only when billed separately', () => {
    assert.equal(toBillableTokens({ output: 100, reasoning: 40 }, 'input-includes-cache', true).output, 60n);
    assert.equal(toBillableTokens({ output: 100, reasoning: 40 }, 'input-includes-cache', false).output, 100n);
  });

  it('rejects impossible counts', () => {
    assert.throws(() => toBillableTokens({ input: 10, cacheRead: 11 }, 'input-includes-cache', false));
    assert.throws(() => toBillableTokens({ input: -1 }, 'input-includes-cache', false));
    assert.throws(() => toBillableTokens({ input: 1.5 }, 'input-includes-cache', false));
    assert.throws(() => toBillableTokens({ output: 1, reasoning: 2 }, 'input-includes-cache', true));
  });
});

describe('SpanPricer', () => {
  it('prices OpenAI usage with cached input at the cached rate, in one price-id format', () => {
    const cost = price({
      [GenAiAttr.providerName]: 'openai',
      [GenAiAttr.requestModel]: 'gpt-4o',
      [GenAiAttr.responseModel]: 'gpt-4o-2024-08-06',
      [GenAiAttr.inputTokens]: 1200,
      [GenAiAttr.cacheReadInputTokens]: 1000,
      [GenAiAttr.outputTokens]: 300,
    });
    // 200 × 2.50/1M = 0.0005; 1000 × 1.25/1M = 0.00125; 300 × 10/1M = 0.003
    assert.equal(formatPico(cost.input), '0.0005');
    assert.equal(formatPico(cost.cacheRead), '0.00125');
    assert.equal(formatPico(cost.output), '0.003');
    assert.equal(formatPico(cost.total), '0.00475');
    assert.equal(cost.currency, 'USD');
    assert.deepEqual(cost.ids, [
      'openai/gpt-4o/global/input_tokens@2026-11-01',
      'openai/gpt-4o/global/cache_read_tokens@2026-11-01',
      'openai/gpt-4o/global/output_tokens@2026-11-01',
    ]);
  });

  it('accepts the older gen_ai.system and prices Anthropic cache writes (input excludes cache)', () => {
    const cost = price({
      [GenAiAttr.system]: 'anthropic',
      [GenAiAttr.requestModel]: 'claude-sonnet-4-20250514',
      [GenAiAttr.inputTokens]: 10,
      [GenAiAttr.cacheCreationInputTokens]: 2000,
      [GenAiAttr.cacheReadInputTokens]: 3000,
      [GenAiAttr.outputTokens]: 7,
    });
    // 10×3 + 2000×3.75 + 3000×0.30 + 7×15 = 30 + 7500 + 900 + 105 = 8535 per 1M
    assert.equal(formatPico(cost.total), '0.008535');
  });

  it('reads OTLP maps and bigint counts like plain attribute objects', () => {
    const span = new Map<string, unknown>([
      [GenAiAttr.providerName, 'openai'],
      [GenAiAttr.requestModel, 'gpt-4o-mini'],
      [GenAiAttr.inputTokens, 1000n],
      [GenAiAttr.outputTokens, 10n],
    ]);
    const usage = readSpanUsage(span, new Map());
    const cost = new SpanPricer().price(view, usage, AT, new SpanCost());
    // 1000 × 0.15/1M + 10 × 0.60/1M = 0.00015 + 0.000006
    assert.equal(formatPico(cost.total), '0.000156');
  });

  it('explains why a span could not be priced', () => {
    const reason = (attrs: Record<string, unknown>): string | undefined => {
      const cost = price(attrs);
      return cost.applicable ? cost.reason : 'not-applicable';
    };
    assert.equal(reason({}), 'not-applicable');
    assert.equal(
      reason({ [GenAiAttr.providerName]: 'openai', [GenAiAttr.requestModel]: 'gpt-9', [GenAiAttr.inputTokens]: 1 }),
      'unknown_model',
    );
    assert.equal(
      reason({ [GenAiAttr.providerName]: 'acme', [GenAiAttr.requestModel]: 'gpt-4o', [GenAiAttr.inputTokens]: 1 }),
      'unknown_provider',
    );
    assert.equal(reason({ [GenAiAttr.providerName]: 'openai', [GenAiAttr.requestModel]: 'gpt-4o' }), 'no_usage');
    for (const bad of [-5, 1.5, 'lots', 2n ** 60n]) {
      assert.equal(
        reason({
          [GenAiAttr.providerName]: 'openai',
          [GenAiAttr.requestModel]: 'gpt-4o',
          [GenAiAttr.inputTokens]: bad,
        }),
        'invalid_usage',
      );
    }
    assert.equal(reason({ [GpuAttr.seconds]: 10 }), 'unknown_gpu');
    assert.equal(reason({ [GpuAttr.seconds]: -1, [GpuAttr.type]: 'h100-80gb' }), 'invalid_usage');
    assert.equal(reason({ [InstanceAttr.shareSeconds]: 3 }), 'unknown_instance');
    assert.equal(reason({ [InstanceAttr.shareSeconds]: 'x' }), 'invalid_usage');
  });

  it('never prices a roll-up span', () => {
    const cost = price({
      [ROLLUP_ATTRIBUTE]: true,
      [GenAiAttr.providerName]: 'openai',
      [GenAiAttr.requestModel]: 'gpt-4o',
      [GenAiAttr.inputTokens]: 1000,
      [GpuAttr.seconds]: 10,
      [GpuAttr.type]: 'h100-80gb',
    });
    assert.equal(cost.applicable, false);
    assert.equal(cost.priced, false);
  });

  it('prices GPU seconds at the reference rate when the named provider has none', () => {
    // 3600 GPU-seconds of an H100 at the reference 6.88 per GPU-hour.
    const cost = price(
      { [GpuAttr.seconds]: '3600', [GpuAttr.type]: 'h100-80gb', [GpuAttr.count]: 8 },
      { [InstanceAttr.cloudProvider]: 'acme-cloud' },
    );
    assert.equal(cost.reason, undefined);
    assert.equal(formatPico(cost.gpu ?? 0), '6.88');
    assert.equal(formatPico(cost.total), '6.88');
    assert.deepEqual(cost.ids, ['reference/h100-80gb/global/gpu_time@2026-11-01']);
  });

  it('prices instance share seconds from the resource host', () => {
    // 1800 s of an m5.xlarge in us-east-1 at 0.192 per hour = 0.096.
    const cost = price(
      { [InstanceAttr.shareSeconds]: 1800 },
      {
        [InstanceAttr.type]: 'm5.xlarge',
        [InstanceAttr.cloudProvider]: 'aws',
        [InstanceAttr.cloudRegion]: 'us-east-1',
      },
    );
    assert.equal(formatPico(cost.compute ?? 0), '0.096');
    assert.equal(formatPico(cost.total), '0.096');
  });

  it('leaves self-hosted tokens unbilled and charges their GPU time', () => {
    const pricer = new SpanPricer({ selfHostedProviders: ['vllm'] });
    const cost = price(
      {
        [GenAiAttr.providerName]: 'vllm',
        [GenAiAttr.requestModel]: 'llama-3-70b',
        [GenAiAttr.inputTokens]: 1000,
        [GpuAttr.seconds]: 36,
        [GpuAttr.type]: 'l4',
      },
      {},
      pricer,
    );
    // 36 s of an L4 at 0.8048 per hour = 0.008048.
    assert.equal(cost.reason, undefined);
    assert.equal(formatPico(cost.total), '0.008048');
  });

  it('reuses one usage record without carrying values over', () => {
    const usage = new SpanUsage();
    readSpanUsage({ [GpuAttr.seconds]: 1, [GpuAttr.type]: 'l4' }, { [InstanceAttr.cloudProvider]: 'aws' }, usage);
    assert.equal(usage.gpuProvider, 'aws');
    readSpanUsage({ [GenAiAttr.inputTokens]: 1 }, {}, usage);
    assert.equal(usage.hasGpu, false);
    assert.equal(usage.gpuProvider, undefined);
    assert.equal(usage.cloudProvider, undefined);
  });

  it('stops at construction on an invalid input-token rule', () => {
    assert.throws(
      () => new SpanPricer({ inputTokenRules: { openai: 'sometimes' as never } }),
      /inputTokenRules.openai/,
    );
  });
});
