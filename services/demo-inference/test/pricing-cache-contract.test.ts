import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { priceFromRecord } from '@costtrace/core';
import type { PriceRecord } from '@costtrace/core';
import { CostSpanProcessor, PricingClient } from '@costtrace/otel';
import { PricingCache } from '@costtrace/pricing-cache';
import type { PriceSource, SourceData } from '@costtrace/pricing-cache';
import { pino } from 'pino';

/**
 * The SDK's PricingClient against the real pricing-cache service (in process, loopback, ephemeral
 * port): the WatchPrices contract end to end, as docker-compose runs them.
 */
class TestSource implements PriceSource {
  readonly name = 'contract-test';
  readonly schedule = { ttlMs: 3_600_000, jitter: 0, timeoutMs: 2_000, failureThreshold: 3, openMs: 60_000 };
  data: SourceData = { prices: [], overrides: [] };
  set(records: readonly PriceRecord[]): void {
    this.data = { prices: records.map((r, i) => priceFromRecord(r, `test[${i}]`)), overrides: [] };
  }
  fetch(): Promise<SourceData> {
    return Promise.resolve(this.data);
  }
}

const price = (kind: string, amount: string, effectiveFrom = '2025-06-01'): PriceRecord => ({
  provider: 'openai',
  resourceType: 'model',
  sku: 'gpt-4o',
  kind,
  unit: '1m_tokens',
  amount,
  effectiveFrom,
  source: 'contract-test',
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const stateDir = mkdtempSync(join(tmpdir(), 'demo-pricing-contract-'));
const cleanups: (() => Promise<void> | void)[] = [() => rmSync(stateDir, { recursive: true, force: true })];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('PricingClient against the real pricing-cache', () => {
  it('assembles a snapshot the service sends in chunks', async () => {
    const source = new TestSource();
    const records: PriceRecord[] = [];
    for (let i = 0; i < 600; i++) {
      for (const [kind, amount] of [
        ['input_tokens', '1.00'],
        ['output_tokens', '3.00'],
      ] as const) {
        records.push({ ...price(kind, amount), sku: `model-${i}`, description: 'x'.repeat(40) });
      }
    }
    source.set(records);
    const cache = new PricingCache({
      config: {
        host: '127.0.0.1',
        port: 0,
        httpHost: '127.0.0.1',
        httpPort: 0,
        sources: [],
        stateFile: join(stateDir, 'chunked.json'),
        shutdownGraceMs: 500,
        maxMessageBytes: 64 * 1024, // 16 KiB of prices per snapshot message
      },
      env: {},
      sources: [source],
      logger: pino({ level: 'silent' }),
      processMetrics: false,
    });
    await cache.start();
    cleanups.push(() => cache.stop());
    const client = new PricingClient({ address: `127.0.0.1:${cache.grpcPort}`, env: {} }).start();
    cleanups.push(() => client.shutdown());
    assert.equal(await client.ready(10_000), true);
    assert.equal(client.stats().rejected, 0);
    const view = client.current();
    assert.equal(view.snapshot.size, 1200);
    const last = view.tokenPrice('openai', 'model-599', Date.now());
    assert.equal(last.kind, 'fast');
  });

  it('prices from pricing-cache snapshots, follows changes, and resumes after a restart', async () => {
    const source = new TestSource();
    source.set([price('input_tokens', '2.00'), price('output_tokens', '8.00')]);
    const start = async (): Promise<PricingCache> => {
      const cache = new PricingCache({
        config: {
          host: '127.0.0.1',
          port: 0,
          httpHost: '127.0.0.1',
          httpPort: 0,
          sources: [],
          stateFile: join(stateDir, 'snapshot.json'),
          shutdownGraceMs: 500,
        },
        env: {},
        sources: [source],
        logger: pino({ level: 'silent' }),
        processMetrics: false,
      });
      await cache.start();
      return cache;
    };
    let cache = await start();
    const port = cache.grpcPort;
    const quiet = { warn() {}, info() {}, error() {}, debug() {}, verbose() {} };
    const client = new PricingClient({
      address: `127.0.0.1:${port}`,
      logger: quiet,
      backoff: { initialMs: 50, maxMs: 200 },
    }).start();
    cleanups.push(() => client.shutdown());
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new CostSpanProcessor({ prices: client, env: {} }), new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('contract');
    const priceSpan = () => {
      const span = tracer.startSpan('chat gpt-4o');
      span.setAttributes({
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 1_000_000,
        'gen_ai.usage.output_tokens': 1_000_000,
      });
      span.end();
      return exporter.getFinishedSpans().pop()?.attributes ?? {};
    };

    assert.equal(await client.ready(10_000), true);
    const first = priceSpan();
    assert.equal(first['cost.pricing.source'], 'pricing-cache');
    assert.equal(first['cost.total'], '10'); // $2 + $8 for 1M tokens each
    const firstVersion = client.stats().version;

    // A price change at the source reaches the SDK as a change set: later spans use it.
    source.set([
      price('input_tokens', '2.00'),
      price('input_tokens', '1.50', '2025-09-01'),
      price('output_tokens', '8.00'),
    ]);
    await cache.refresher.refreshAll();
    await until(() => client.stats().version !== firstVersion);
    const second = priceSpan();
    assert.equal(second['cost.total'], '9.5');
    assert.notEqual(second['cost.pricing.version'], first['cost.pricing.version']);

    // pricing-cache restarts on the same port: the client reconnects and keeps pricing meanwhile.
    await cache.stop();
    assert.equal(priceSpan()['cost.total'], '9.5');
    cache = await new Promise<PricingCache>((resolve, reject) => {
      const c = new PricingCache({
        config: {
          host: '127.0.0.1',
          port,
          httpHost: '127.0.0.1',
          httpPort: 0,
          sources: [],
          stateFile: join(stateDir, 'snapshot.json'),
          shutdownGraceMs: 500,
        },
        env: {},
        sources: [source],
        logger: pino({ level: 'silent' }),
        processMetrics: false,
      });
      c.start().then(() => resolve(c), reject);
    });
    const restarted = cache;
    cleanups.push(() => restarted.stop());
    const updatesBefore = client.stats().updates;
    await until(() => client.stats().connected && client.stats().reconnects > 0);
    assert.equal(priceSpan()['cost.total'], '9.5');
    assert.ok(client.stats().updates >= updatesBefore);
    assert.equal(client.stats().rejected, 0);
  });
});
