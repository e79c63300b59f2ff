import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PricingCache } from '@costtrace/pricing-cache';
import { pino } from 'pino';
import { run } from '../src/index.js';

const TOKEN = 'cli-test-token-0123456789';

describe('costtrace pricing against a running pricing-cache', { timeout: 60_000 }, () => {
  let cache: PricingCache;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-pricing-'));
    cache = new PricingCache({
      config: { host: '127.0.0.1', port: 0, httpPort: -1, stateFile: join(dir, 's.json'), authTokens: [TOKEN] },
      env: {},
      logger: pino({ level: 'silent' }),
      processMetrics: false,
    });
    await cache.start();
  });
  after(async () => {
    await cache.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = async (argv: string[], env: Record<string, string> = {}) => {
    let out = '';
    let err = '';
    const code = await run(argv, { out: (t) => (out += t), err: (t) => (err += t), env });
    return { code, out, err };
  };

  it('quotes over gRPC exactly as offline does', async () => {
    const usage = ['pricing', 'quote', '--model', 'openai/gpt-4o', '--input-tokens', '12345', '--output', 'json'];
    const env = { COSTTRACE_PRICING_ADDRESS: `127.0.0.1:${cache.grpcPort}`, COSTTRACE_PRICING_TOKEN: TOKEN };
    const remote = await cli(usage, env);
    assert.equal(remote.code, 0, remote.err);
    const offline = await cli([...usage, '--offline']);
    assert.equal(JSON.parse(remote.out).listCost.amount, JSON.parse(offline.out).listCost.amount);
    assert.equal(JSON.parse(remote.out).listCost.amount, '0.0308625'); // 12345 × 2.50 / 1M
  });

  it('reports a rejected token', async () => {
    const r = await cli([
      'pricing',
      'list',
      '--address',
      `127.0.0.1:${cache.grpcPort}`,
      '--token',
      'wrong-token-000000000',
    ]);
    assert.equal(r.code, 1);
    assert.match(r.err, /invalid bearer token/);
  });
});
