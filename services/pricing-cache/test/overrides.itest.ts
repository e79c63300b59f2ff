import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { PricingModelEnum } from '@costtrace/proto';
import { call, removeDir, startTestCache } from './support/test-cache.js';
import type { TestCache } from './support/test-cache.js';

describe('overrides file on top of the bundled catalogs, visible in quotes', { timeout: 60_000 }, () => {
  let t: TestCache;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pricing-overrides-'));
    const file = join(dir, 'overrides.json');
    writeFileSync(
      file,
      JSON.stringify({
        overrides: [
          { id: 'anthropic-commit', description: 'negotiated 20% off', provider: 'anthropic', discountPercent: '20' },
          {
            id: 'owned-h100',
            description: 'our DGX H100s',
            sku: 'h100-80gb',
            ownedGpu: {
              purchasePrice: '30000',
              lifetimeMonths: 36,
              hostingPerMonth: '100',
              powerKw: '1',
              pue: '1.5',
              electricityPerKwh: '0.10',
              utilizationPercent: '80',
            },
          },
        ],
      }),
    );
    t = await startTestCache([], { sources: [{ type: 'bundled' }], overridesFile: file });
  });
  after(async () => {
    await t.close();
    removeDir(t.stateDir);
    removeDir(dir);
  });

  it('applies a negotiated discount to effective cost and the TCO rate to owned GPUs, naming each', async () => {
    const res = await call(t.client, 'quote', {
      at: { seconds: BigInt(Date.parse('2025-09-01T00:00:00Z') / 1000), nanos: 0 },
      models: [
        {
          provider: 'anthropic',
          model: 'claude-sonnet-4',
          serviceTier: 0,
          inputTokenRule: 0,
          inputTokens: 100_000n, // below the 200k long-context threshold
          outputTokens: 0n,
          cacheReadTokens: 0n,
          cacheWriteTokens: 0n,
          reasoningTokens: 0n,
          requests: 0n,
          images: 0n,
          region: '',
        },
      ],
      gpus: [
        {
          provider: '',
          gpuType: 'h100-80gb',
          gpuCount: 1,
          seconds: '3600',
          region: '',
          pricingModel: PricingModelEnum.PRICING_MODEL_INTERNAL,
        },
      ],
      instances: [],
      storage: [],
      egress: [],
    });
    const [tokens, gpu] = res.lines;
    assert.equal(tokens?.listCost?.amount, '0.3'); // 100k × 3 / 1M
    assert.equal(tokens?.effectiveCost?.amount, '0.24'); // × 0.8
    assert.deepEqual(
      tokens?.overrides.map((o) => o.id),
      ['anthropic-commit'],
    );
    assert.equal(gpu?.listCost?.amount, '6.88'); // reference H100 rate from 2025-06-01
    // (30000 / (36 × 730) + 100 / 730 + 1 × 1.5 × 0.10) / 0.8, rounded once
    assert.equal(gpu?.effectiveCost?.amount, '1.785673515982');
    assert.equal(gpu?.overrides[0]?.id, 'owned-h100');
    assert.equal(res.effectiveCost?.amount, '2.025673515982');
    assert.equal(res.listCost?.amount, '7.18');
  });
});
