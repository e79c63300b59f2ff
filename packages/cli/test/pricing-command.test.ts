import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { run } from '../src/index.js';
import type { CliIo } from '../src/index.js';

async function cli(argv: string[], io: Partial<CliIo> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, {
    out: (t) => (out += `${t}\n`),
    err: (t) => (err += `${t}\n`),
    env: {},
    ...io,
  });
  return { code, out, err };
}

describe('costtrace pricing (offline, bundled catalog)', () => {
  it('quote prints an itemised, exact table with list and effective totals', async () => {
    const r = await cli([
      'pricing',
      'quote',
      '--offline',
      '--at',
      '2025-09-01',
      '--model',
      'openai/gpt-4o',
      '--input-tokens',
      '1000000',
      '--cache-read-tokens',
      '400000',
      '--output-tokens',
      '1000',
      '--gpu',
      'h100-80gb:2:1800',
    ]);
    assert.equal(r.code, 0, r.err);
    // 600k × 2.50/1M + 400k × 1.25/1M + 1000 × 10/1M + 2 GPUs × 0.5 h × 6.88 = 1.5 + 0.5 + 0.01 + 6.88
    assert.match(r.out, /list cost\s+8\.89 USD/);
    assert.match(r.out, /effective cost\s+8\.89 USD/);
    assert.match(r.out, /cache_read_tokens\s+openai\s+gpt-4o\s+400000\s+1\.25/);
  });

  it('quote at a past time uses the price valid then (history)', async () => {
    const usage = ['--model', 'openai/gpt-4o', '--input-tokens', '1000000', '--output', 'json'];
    const before = JSON.parse((await cli(['pricing', 'quote', '--offline', '--at', '2024-09-01', ...usage])).out);
    const after = JSON.parse((await cli(['pricing', 'quote', '--offline', '--at', '2024-11-01', ...usage])).out);
    assert.equal(before.listCost.amount, '5');
    assert.equal(after.listCost.amount, '2.5');
  });

  it('list filters and prints json', async () => {
    const r = await cli([
      'pricing',
      'list',
      '--offline',
      '--provider',
      'reference',
      '--sku',
      'h100',
      '--output',
      'json',
    ]);
    assert.equal(r.code, 0, r.err);
    const body = JSON.parse(r.out) as { prices: { sku: string }[] };
    assert.deepEqual(
      body.prices.map((p) => p.sku),
      ['h100-80gb', 'h100-94gb'],
    );
  });

  it('get shows a price; an unknown SKU fails with the closest names', async () => {
    const ok = await cli([
      'pricing',
      'get',
      'anthropic',
      'claude-sonnet-4-20250514',
      '--kind',
      'cache_write_tokens',
      '--offline',
    ]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /list amount\s+3\.75 USD per 1m_tokens/);
    const missing = await cli(['pricing', 'get', 'openai', 'gpt-4x', '--kind', 'input_tokens', '--offline']);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /closest known: gpt-4o/);
  });

  it('bad usage exits 2 with a message', async () => {
    const r = await cli(['pricing', 'quote', '--offline', '--gpu', 'h100']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--gpu must be \[provider\/\]type\[@region\]:count:seconds/);
    const none = await cli(['pricing', 'quote', '--offline']);
    assert.equal(none.code, 2);
  });

  it('talks to a running service unless --offline, with the address and token from the environment', async () => {
    const seen: unknown[] = [];
    const r = await cli(['pricing', 'list'], {
      env: { COSTTRACE_PRICING_ADDRESS: 'pricing:50051', COSTTRACE_PRICING_TOKEN: 'secret-token-123456' },
      pricingBackend: (offline, remote) => {
        seen.push(offline, remote.address, remote.token);
        return Promise.resolve({
          description: 'fake',
          getPrice: () => Promise.reject(new Error('unused')),
          quote: () => Promise.reject(new Error('unused')),
          listPrices: () => Promise.resolve({ prices: [], nextPageToken: '', snapshotVersion: 1n, totalSize: 0 }),
          close: () => undefined,
        });
      },
    });
    assert.equal(r.code, 0);
    assert.deepEqual(seen, [false, 'pricing:50051', 'secret-token-123456']);
    assert.match(r.out, /no prices match/);
  });
});
