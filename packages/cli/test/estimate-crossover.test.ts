// `costtrace estimate crossover`: build vs buy from the bundled catalog (offline). The expected
// figures are computed here from the catalog's list prices with bigint arithmetic.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bundledCatalogDir, readCatalogs } from '@costtrace/catalog';
import { catalogListPrices, PriceSnapshot } from '@costtrace/core';
import { parseEstimateArgs, runEstimate } from '../src/analysis/estimate.js';
import { offlineBackend } from '../src/commands/pricing-backend.js';

// The catalogs the offline backend prices from (pricing-cache's bundled ones).
const files = await readCatalogs(bundledCatalogDir());
const catalog = catalogListPrices(new PriceSnapshot(1n, files.prices, files.overrides, Date.now()));

/** "$1,234.5678" → pico-USD. */
function usdPico(text: string): bigint {
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = text
    .replace(/^-?\$?/, '')
    .replace(/,/g, '')
    .split('.');
  const value = BigInt(whole) * 10n ** 12n + BigInt(fraction.padEnd(12, '0'));
  return negative ? -value : value;
}

async function figures(argv: string[]): Promise<Record<string, string | null>> {
  const out: string[] = [];
  const code = await runEstimate([...argv, '--format', 'json'], {
    pricing: () => offlineBackend(),
    output: { out: (t) => out.push(t), err: (t) => out.push(t) },
  });
  assert.equal(code, 0, out.join('\n'));
  const body = JSON.parse(out.join('')) as { figures: { metric: string; value: string | null }[] };
  return Object.fromEntries(body.figures.map((f) => [f.metric, f.value]));
}

function message(result: ReturnType<typeof parseEstimateArgs>): string {
  assert.equal(result.ok, false);
  return result.ok ? '' : result.message;
}

describe('costtrace estimate crossover', () => {
  it('finds the monthly volume above which the GPUs cost less than the API', async () => {
    const f = await figures([
      'crossover',
      '--model',
      'openai/gpt-4o',
      '--gpu',
      'h100-80gb',
      '--count',
      '1',
      '--throughput',
      '2500',
    ]);
    const prices = catalog.tokenPrices('openai', 'gpt-4o', 'standard', Date.now())!;
    // 75 % input, 25 % output (no store): per 1M tokens.
    const perMillion = (prices.input * 75n + prices.output * 25n) / 100n;
    assert.equal(usdPico(f.api_per_1m_tokens!), perMillion);
    const monthly = usdPico(f.self_hosted_monthly!);
    assert.ok(monthly > 0n);
    // Capacity: 2,500 tokens/s × 730 h.
    assert.equal(f.capacity_tokens_per_month, String(2500n * 730n * 3600n));
    // Crossover: the GPUs' month ÷ the API's price per token, rounded up to a token.
    const crossover = (monthly * 1_000_000n + perMillion - 1n) / perMillion;
    assert.equal(f.crossover_tokens_per_month, crossover.toString());
  });

  it('prices the API at the short-prompt tier of a model with a long-context tier', async () => {
    const f = await figures([
      'crossover',
      '--model',
      'anthropic/claude-sonnet-4',
      '--gpu',
      'h100-80gb',
      '--count',
      '2',
      '--throughput',
      '4000',
      '--input-share',
      '80',
    ]);
    // The base tier (prompts up to 200k tokens), not the long-context one a 1M-token prompt pays.
    const base = files.prices.filter(
      (p) => p.provider === 'anthropic' && p.sku === 'claude-sonnet-4' && p.aboveInputTokens === 0n,
    );
    const perMillion = (kind: string): bigint => {
      const price = base.find((p) => p.kind === kind && p.unit === '1m_tokens');
      assert.ok(price, `a base-tier ${kind} price per 1M tokens`);
      return price.amount.subunits;
    };
    const expected = (perMillion('input_tokens') * 80n + perMillion('output_tokens') * 20n) / 100n;
    assert.equal(usdPico(f.api_per_1m_tokens!), expected);
  });

  it('says what to fix in its flags', () => {
    const now = Math.floor(Date.now() / 1000);
    assert.match(message(parseEstimateArgs(['crossover', '--gpu', 'h100-80gb', '--throughput', '10'], now)), /--model/);
    assert.match(
      message(parseEstimateArgs(['crossover', '--model', 'openai/gpt-4o', '--gpu', 'l4', '--throughput', '0'], now)),
      /--throughput must be above 0/,
    );
    assert.match(
      message(
        parseEstimateArgs(
          ['crossover', '--model', 'openai/gpt-4o', '--gpu', 'l4', '--throughput', '5', '--input-share', '120'],
          now,
        ),
      ),
      /percent/,
    );
  });
});
