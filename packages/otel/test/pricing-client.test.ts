import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { PricingServiceService } from '@costtrace/proto';
import type { PriceMessage, PricingServiceServer, WatchPricesRequest, WatchPricesResponse } from '@costtrace/proto';
import { CostSpanProcessor, PricingClient } from '../src/index.js';

type Watch = ServerWritableStream<WatchPricesRequest, WatchPricesResponse>;

/** A PriceMessage for a model's token kind, per 1M tokens (enum numbers as on the wire). */
function tokenPrice(sku: string, kind: 'input' | 'output', amount: string, day = 1): PriceMessage {
  return {
    id: `openai/${sku}/${kind}@2026-01-0${day}`,
    provider: 'openai',
    resourceType: 1, // MODEL
    sku,
    region: '',
    kind: kind === 'input' ? 1 : 2, // INPUT_TOKENS / OUTPUT_TOKENS
    unit: 2, // MILLION_TOKENS
    amount: { amount, currency: 'USD' },
    effectiveFrom: { seconds: BigInt(Date.UTC(2026, 0, day) / 1000), nanos: 0 },
    source: 'test',
    serviceTier: 0,
    pricingModel: 0,
    aboveInputTokens: 0n,
    gpuType: '',
    gpuCount: 0,
    description: '',
  };
}

/** An in-process pricing-cache: records subscriptions, lets the test push messages. */
class FakePricingCache {
  readonly server = new Server();
  readonly subscriptions: bigint[] = [];
  calls: Watch[] = [];
  port = 0;
  onWatch: (call: Watch) => void = () => {};

  async start(port = 0): Promise<number> {
    const impl: Partial<PricingServiceServer> = {
      watchPrices: (call: Watch) => {
        this.subscriptions.push(call.request.fromVersion);
        this.calls.push(call);
        this.onWatch(call);
      },
    };
    this.server.addService(PricingServiceService, impl as PricingServiceServer);
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    return this.port;
  }

  push(message: Partial<WatchPricesResponse> & { version: bigint }): void {
    for (const call of this.calls) if (!call.cancelled) call.write({ stale: false, ...message });
  }

  stop(): Promise<void> {
    for (const call of this.calls) call.end();
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}

const snapshotMessage = (version: bigint, input: string) => ({
  version,
  snapshot: {
    prices: [tokenPrice('gpt-4o', 'input', input), tokenPrice('gpt-4o', 'output', '10.00')],
    overrides: [],
    builtAt: undefined,
    chunkIndex: 0,
    chunkCount: 1,
  },
});

function pipeline(client: PricingClient) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new CostSpanProcessor({ prices: client, env: {} }), new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('t');
  return () => {
    const span = tracer.startSpan('chat');
    span.setAttributes({
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 1_000_000,
      'gen_ai.usage.output_tokens': 0,
    });
    span.end();
    return exporter.getFinishedSpans().pop()?.attributes ?? {};
  };
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const quiet = { warn() {}, info() {}, error() {}, debug() {}, verbose() {} };
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

describe('PricingClient', () => {
  it('prices from the bundled catalog, marked, while pricing-cache is down; switches when it comes up', async () => {
    // Reserve a port, then free it: nothing listens there at first.
    const probe = new FakePricingCache();
    const port = await probe.start();
    await probe.stop();
    const client = new PricingClient({
      address: `127.0.0.1:${port}`,
      logger: quiet,
      backoff: { initialMs: 20, maxMs: 100 },
    }).start();
    cleanups.push(() => client.shutdown());
    const price = pipeline(client);
    const first = price();
    assert.equal(first['cost.pricing.source'], 'bundled');
    assert.equal(first['cost.pricing.version'], 'bundled-2026-11-01');
    assert.equal(first['cost.total'], '2.5'); // bundled gpt-4o: $2.50 per 1M input tokens
    await until(() => client.stats().reconnects >= 2);
    assert.match(client.stats().lastError ?? '', /UNAVAILABLE/);

    const cache = new FakePricingCache();
    cache.onWatch = (call) => call.write({ stale: false, ...snapshotMessage(41n, '2.00') });
    await cache.start(port);
    cleanups.push(() => cache.stop());
    assert.equal(await client.ready(5_000), true);
    const later = price();
    assert.equal(later['cost.pricing.source'], 'pricing-cache');
    assert.equal(later['cost.pricing.version'], 'pcache-41');
    assert.equal(later['cost.total'], '2');
    assert.deepEqual(later['cost.pricing.price_ids'], ['openai/gpt-4o/input@2026-01-01']);
  });

  it('applies changes mid-run: later spans use the new version; resumes from its version after a drop', async () => {
    const cache = new FakePricingCache();
    cache.onWatch = (call) => {
      if (call.request.fromVersion === 0n) call.write({ stale: false, ...snapshotMessage(5n, '2.50') });
    };
    const port = await cache.start();
    cleanups.push(() => cache.stop());
    const client = new PricingClient({
      address: `127.0.0.1:${port}`,
      logger: quiet,
      backoff: { initialMs: 20 },
    }).start();
    cleanups.push(() => client.shutdown());
    const price = pipeline(client);
    assert.equal(await client.ready(), true);
    assert.equal(price()['cost.total'], '2.5');

    cache.push({
      version: 6n,
      changes: {
        baseVersion: 5n,
        upserted: [tokenPrice('gpt-4o', 'input', '1.75', 2)],
        removedPriceIds: ['openai/gpt-4o/input@2026-01-01'],
        overridesChanged: false,
        overrides: [],
      },
    });
    await until(() => client.stats().version === 'pcache-6');
    const after6 = price();
    assert.equal(after6['cost.pricing.version'], 'pcache-6');
    assert.equal(after6['cost.total'], '1.75');

    // The server drops the stream; the client resubscribes from version 6 and gets only changes.
    for (const call of cache.calls) call.end();
    cache.calls = [];
    await until(() => cache.subscriptions.length === 2);
    assert.deepEqual(cache.subscriptions, [0n, 6n]);
    cache.push({
      version: 7n,
      changes: {
        baseVersion: 6n,
        upserted: [tokenPrice('gpt-4o', 'input', '1.50', 3)],
        removedPriceIds: [],
        overridesChanged: false,
        overrides: [],
      },
    });
    await until(() => client.stats().version === 'pcache-7');
    // Both input versions are kept as history; the newest effective one prices the span.
    assert.equal(price()['cost.total'], '1.5');
  });

  it('resubscribes from scratch when changes do not apply to the version it holds', async () => {
    const cache = new FakePricingCache();
    cache.onWatch = (call) =>
      call.write({ stale: false, ...snapshotMessage(call.request.fromVersion === 0n ? 10n : 12n, '3.00') });
    const port = await cache.start();
    cleanups.push(() => cache.stop());
    const client = new PricingClient({
      address: `127.0.0.1:${port}`,
      logger: quiet,
      backoff: { initialMs: 20 },
    }).start();
    cleanups.push(() => client.shutdown());
    assert.equal(await client.ready(), true);
    cache.push({
      version: 12n,
      changes: { baseVersion: 11n, upserted: [], removedPriceIds: [], overridesChanged: false, overrides: [] },
    });
    await until(() => client.stats().rejected === 1 && cache.subscriptions.length === 2);
    assert.deepEqual(cache.subscriptions, [0n, 0n]);
    await until(() => client.stats().version === 'pcache-10' && client.stats().connected);
  });

  it('marks spans stale when pricing-cache says so and when it goes silent', async () => {
    const cache = new FakePricingCache();
    cache.onWatch = (call) => call.write({ stale: false, ...snapshotMessage(3n, '2.50') });
    const port = await cache.start();
    cleanups.push(() => cache.stop());
    const client = new PricingClient({
      address: `127.0.0.1:${port}`,
      logger: quiet,
      staleAfterMs: 1_000,
    }).start();
    cleanups.push(() => client.shutdown());
    const price = pipeline(client);
    assert.equal(await client.ready(), true);
    assert.equal(price()['cost.pricing.stale'], undefined, 'a fresh snapshot is not flagged');
    cache.push({ version: 3n, stale: true, heartbeat: { serverTime: undefined } });
    await until(() => client.stats().stale);
    assert.equal(price()['cost.pricing.stale'], true);
    cache.push({ version: 3n, stale: false, heartbeat: { serverTime: undefined } });
    await until(() => !client.stats().stale);
    // Silence beyond staleAfterMs.
    await until(() => client.stats().stale, 3_000);
    const silent = price();
    assert.equal(silent['cost.pricing.stale'], true);
    assert.equal(silent['cost.pricing.version'], 'pcache-3');
  });

  it('assembles a snapshot sent in chunks and applies it only when the last chunk is in', async () => {
    const cache = new FakePricingCache();
    let release: () => void = () => {};
    cache.onWatch = (call) => {
      const base = { stale: false, version: 20n };
      const chunk = (chunkIndex: number, prices: PriceMessage[]) => ({
        ...base,
        snapshot: { prices, overrides: [], builtAt: undefined, chunkIndex, chunkCount: 3 },
      });
      call.write(chunk(0, [tokenPrice('gpt-4o', 'input', '4.00')]));
      call.write(chunk(1, [tokenPrice('gpt-4o', 'output', '10.00')]));
      release = () => call.write(chunk(2, [tokenPrice('gpt-4o-mini', 'input', '0.10')]));
    };
    const port = await cache.start();
    cleanups.push(() => cache.stop());
    const client = new PricingClient({ address: `127.0.0.1:${port}`, logger: quiet }).start();
    cleanups.push(() => client.shutdown());
    await until(() => cache.calls.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(client.current().source, 'bundled', 'two of three chunks: nothing applied yet');
    release();
    assert.equal(await client.ready(), true);
    const price = pipeline(client);
    assert.equal(price()['cost.total'], '4');
    assert.equal(client.stats().version, 'pcache-20');
  });

  it('resubscribes when chunks arrive out of order', async () => {
    const cache = new FakePricingCache();
    cache.onWatch = (call) => {
      if (cache.calls.length === 1) {
        call.write({
          stale: false,
          version: 30n,
          snapshot: { prices: [], overrides: [], builtAt: undefined, chunkIndex: 1, chunkCount: 2 },
        });
      } else call.write({ stale: false, ...snapshotMessage(31n, '3.00') });
    };
    const port = await cache.start();
    cleanups.push(() => cache.stop());
    const client = new PricingClient({
      address: `127.0.0.1:${port}`,
      logger: quiet,
      backoff: { initialMs: 20 },
    }).start();
    cleanups.push(() => client.shutdown());
    assert.equal(await client.ready(), true);
    assert.equal(client.stats().version, 'pcache-31');
    assert.equal(client.stats().rejected, 1);
  });

  it('validates its options and never connects without an address', async () => {
    assert.throws(() => new PricingClient({ address: 'no port' }), /address is "no port"; use "host:port"/);
    assert.throws(() => new PricingClient({ staleAfterMs: 5 }), /staleAfterMs is 5/);
    const offline = new PricingClient({ env: {} }).start();
    assert.equal(offline.current().source, 'bundled');
    assert.equal(await offline.ready(50), false);
    await offline.shutdown();
    await offline.shutdown();
  });
});
