// The catalogs shipped with costtrace: every file parses, every price names its public source.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PricingError } from '@costtrace/core';
import { bundledCatalogDir, parseCatalog, readCatalogs } from '../src/index.js';

const invalid = (err: unknown) => err instanceof PricingError && err.code === 'INVALID_CATALOG';

describe('bundled catalogs', () => {
  it('load, and every price names a public source and the catalog its gathering date', async () => {
    const data = await readCatalogs(bundledCatalogDir());
    assert.ok(data.prices.length > 150);
    for (const p of data.prices) assert.match(p.source, /^https:\/\//, p.id);
    const providers = new Set(data.prices.map((p) => p.provider));
    for (const provider of ['openai', 'anthropic', 'google', 'aws', 'gcp', 'azure', 'reference']) {
      assert.ok(providers.has(provider), provider);
    }
    for (const gpu of ['h100-80gb', 'h200', 'a100-40gb', 'a100-80gb', 'l40s', 'l4', 'a10g', 't4', 'v100']) {
      assert.ok(
        data.prices.some((p) => p.provider === 'reference' && p.sku === gpu),
        gpu,
      );
    }
    assert.ok(data.prices.some((p) => p.kind === 'cache_read_tokens' && p.provider === 'anthropic'));
  });

  it('reject a catalog with a bad record, naming it', () => {
    assert.throws(
      () =>
        parseCatalog({ prices: [{ provider: 'x', resourceType: 'model', sku: 'y', kind: 'input_tokens' }] }, 'c.json'),
      (err: unknown) => invalid(err) && /c\.json\.prices\[0\]/.test((err as Error).message),
    );
  });
});
