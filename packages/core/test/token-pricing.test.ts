import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BUNDLED_TOKEN_PRICES,
  BUNDLED_TOKEN_PRICES_VERSION,
  CostAttr,
  costAttributes,
  GenAiAttr,
  priceGenAiUsage,
  TokenPriceTable,
  tokenPriceFromRecord,
  toBillableTokens,
} from '../src/index.js';

const table = new TokenPriceTable(BUNDLED_TOKEN_PRICES_VERSION, BUNDLED_TOKEN_PRICES.map(tokenPriceFromRecord));
const lookup = (attrs: Record<string, unknown>) => (key: string) => attrs[key];

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

describe('priceGenAiUsage', () => {
  it('prices OpenAI usage with cached input at the cached rate', () => {
    const result = priceGenAiUsage(
      lookup({
        [GenAiAttr.providerName]: 'openai',
        [GenAiAttr.requestModel]: 'gpt-4o',
        [GenAiAttr.responseModel]: 'gpt-4o-2024-08-06',
        [GenAiAttr.inputTokens]: 1200,
        [GenAiAttr.cacheReadInputTokens]: 1000,
        [GenAiAttr.outputTokens]: 300,
      }),
      table,
    );
    assert.equal(result.kind, 'priced');
    if (result.kind !== 'priced') return;
    // 200 × 2.50/1M = 0.0005; 1000 × 1.25/1M = 0.00125; 300 × 10/1M = 0.003
    assert.equal(result.cost.input.toDecimalString(), '0.0005');
    assert.equal(result.cost.cacheRead.toDecimalString(), '0.00125');
    assert.equal(result.cost.output.toDecimalString(), '0.003');
    assert.equal(result.cost.total.toDecimalString(), '0.00475');
    const attrs = costAttributes(result.cost, { version: table.version, source: 'bundled', stale: false });
    assert.equal(attrs[CostAttr.total], '0.00475');
    assert.deepEqual(attrs[CostAttr.pricingPriceIds], ['openai/gpt-4o@2024-08-06']);
  });

  it('accepts the older gen_ai.system and prices Anthropic cache writes', () => {
    const result = priceGenAiUsage(
      lookup({
        [GenAiAttr.system]: 'anthropic',
        [GenAiAttr.requestModel]: 'claude-sonnet-4-20250514',
        [GenAiAttr.inputTokens]: 10,
        [GenAiAttr.cacheCreationInputTokens]: 2000,
        [GenAiAttr.cacheReadInputTokens]: 3000,
        [GenAiAttr.outputTokens]: 7,
      }),
      table,
    );
    assert.equal(result.kind, 'priced');
    if (result.kind !== 'priced') return;
    // 10×3 + 2000×3.75 + 3000×0.30 + 7×15 = 30 + 7500 + 900 + 105 = 8535 per 1M
    assert.equal(result.cost.total.toDecimalString(), '0.008535');
  });

  it('explains why a span could not be priced', () => {
    const reason = (attrs: Record<string, unknown>) => {
      const r = priceGenAiUsage(lookup(attrs), table);
      return r.kind === 'unpriced' ? r.reason : r.kind;
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
    assert.equal(
      reason({ [GenAiAttr.providerName]: 'openai', [GenAiAttr.requestModel]: 'gpt-4o', [GenAiAttr.inputTokens]: -5 }),
      'invalid_usage',
    );
    assert.equal(
      reason({
        [GenAiAttr.providerName]: 'openai',
        [GenAiAttr.requestModel]: 'gpt-4o',
        [GenAiAttr.inputTokens]: 'lots',
      }),
      'invalid_usage',
    );
  });
});
