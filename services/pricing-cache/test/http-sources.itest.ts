import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UsageKindEnum } from '@costtrace/proto';
import { fixture, startFixtureServer } from './support/fixture-server.js';
import type { FixtureServer } from './support/fixture-server.js';
import { call, removeDir, startTestCache } from './support/test-cache.js';
import type { TestCache } from './support/test-cache.js';

const getPrice = (t: TestCache, provider: string, sku: string, region: string, kind: UsageKindEnum, pricingModel = 0) =>
  call(t.client, 'getPrice', {
    provider,
    sku,
    region,
    kind,
    unit: 0,
    at: undefined,
    serviceTier: 0,
    pricingModel,
    inputTokens: 0n,
  });

describe('real-format sources over HTTP (local fixture server)', { timeout: 60_000 }, () => {
  let server: FixtureServer;
  let t: TestCache;

  before(async () => {
    server = await startFixtureServer();
    t = await startTestCache([], {
      sources: [
        { type: 'litellm', url: `${server.url}/litellm/model_prices_and_context_window.json` },
        { type: 'aws', urls: [`${server.url}/offers/v1.0/aws/AmazonEC2/current/us-east-1/index.json`] },
        { type: 'azure', url: `${server.url}/api/retail/prices?$filter=serviceName eq 'Virtual Machines'` },
        {
          type: 'gcp',
          url: `${server.url}/v1/services/6F81-5844-456A/skus`,
          apiKey: 'test-key-not-secret',
          failureThreshold: 2,
          openMs: 60_000,
          timeoutMs: 500,
        },
      ],
    });
  });
  after(async () => {
    await t.close();
    await server.close();
    removeDir(t.stateDir);
  });

  it('serves prices parsed from each format, following pagination', async () => {
    const gpt = await getPrice(t, 'openai', 'gpt-4o', '', UsageKindEnum.USAGE_KIND_CACHE_READ_TOKENS);
    assert.equal(gpt.price?.amount?.amount, '1.25');
    assert.match(gpt.price?.source ?? '', /^litellm /);
    const p5 = await getPrice(t, 'aws', 'p5.48xlarge', 'us-east-1', UsageKindEnum.USAGE_KIND_INSTANCE_TIME);
    assert.equal(p5.price?.amount?.amount, '55.04');
    const reserved = await getPrice(
      t,
      'azure',
      'standard_nd96isr_h100_v5',
      'eastus',
      UsageKindEnum.USAGE_KIND_INSTANCE_TIME,
      2,
    );
    assert.equal(reserved.price?.amount?.amount, '62.235616438356');
    const l4 = await getPrice(t, 'gcp', 'l4', 'us-central1', UsageKindEnum.USAGE_KIND_GPU_TIME);
    assert.equal(l4.price?.amount?.amount, '0.56');
    assert.ok(
      server.requests.some((r) => r.includes('$skip=100')),
      'Azure NextPageLink followed',
    );
    assert.ok(
      server.requests.some((r) => r.includes('pageToken=CAE%3D')),
      'GCP pageToken followed',
    );
    assert.ok(server.requests.some((r) => r.includes('key=test-key-not-secret')));
  });

  it('keeps serving a source’s last good prices when it fails, and opens its circuit', async () => {
    const path = '/v1/services/6F81-5844-456A/skus';
    server.set(path, { status: 503, body: '{}' });
    await t.cache.refresher.refreshAll();
    assert.equal(t.cache.store.stale, true);
    server.set(path, { body: '{"skus": [{"category": 7}]}' }); // garbage
    await t.cache.refresher.refreshAll();
    const status = t.cache.refresher.sourceStatus().find((s) => s.name === 'gcp');
    assert.equal(status?.circuit, 'open');
    const before = server.requests.length;
    await t.cache.refresher.refreshAll();
    assert.equal(
      server.requests.slice(before).some((r) => r.startsWith(path)),
      false,
      'an open circuit must not call the source',
    );
    const l4 = await getPrice(t, 'gcp', 'l4', 'us-central1', UsageKindEnum.USAGE_KIND_GPU_TIME);
    assert.equal(l4.price?.amount?.amount, '0.56');
    assert.equal(l4.stale, true);
    const metrics = await (await fetch(`http://127.0.0.1:${t.cache.httpPort}/metrics`)).text();
    assert.match(metrics, /costtrace_pricing_source_refresh_total\{source="gcp",result="failure"\} 1/);
    assert.match(metrics, /costtrace_pricing_source_refresh_total\{source="gcp",result="rejected"\} 1/);
    assert.match(metrics, /costtrace_pricing_source_refresh_total\{source="gcp",result="circuit_open"\} 1/);
    assert.match(metrics, /costtrace_pricing_source_circuit_state\{source="gcp"\} 2/);
    server.set(path, undefined);
  });

  it('keeps history for the undated LiteLLM map: a changed price is dated at the refresh that saw it', async () => {
    const path = '/litellm/model_prices_and_context_window.json';
    const map = fixture('litellm-prices.json') as Record<string, Record<string, unknown>>;
    map['gpt-4o']!.input_cost_per_token = 2e-6;
    server.set(path, { body: JSON.stringify(map) });
    const before = Date.now();
    await t.cache.refresher.refreshAll();
    const quoteAt = async (at: number) =>
      (
        await call(t.client, 'quote', {
          at: { seconds: BigInt(Math.floor(at / 1000)), nanos: 0 },
          models: [
            {
              provider: 'openai',
              model: 'gpt-4o',
              serviceTier: 0,
              inputTokenRule: 0,
              inputTokens: 1_000_000n,
              outputTokens: 0n,
              cacheReadTokens: 0n,
              cacheWriteTokens: 0n,
              reasoningTokens: 0n,
              requests: 0n,
              images: 0n,
              region: '',
            },
          ],
          gpus: [],
          instances: [],
          storage: [],
          egress: [],
        })
      ).listCost?.amount;
    assert.equal(await quoteAt(before - 60_000), '2.5');
    assert.equal(await quoteAt(Date.now() + 1_000), '2');
    server.set(path, undefined);
  });
});
