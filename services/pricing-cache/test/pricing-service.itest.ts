import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import type { ClientReadableStream } from '@grpc/grpc-js';
import { overrideFromRecord } from '@costtrace/core';
import type { PriceRecord } from '@costtrace/core';
import { ListPricesRequest, ResourceTypeEnum, UsageKindEnum } from '@costtrace/proto';
import type { QuoteResponse, WatchPricesResponse, PricingServiceClient } from '@costtrace/proto';
import { PricingCache } from '../src/index.js';
import { call, ControlledSource, rejectsWith, removeDir, silentLogger, startTestCache } from './support/test-cache.js';
import type { TestCache } from './support/test-cache.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const ts = (ms: number) => ({ seconds: BigInt(Math.floor(ms / 1000)), nanos: 0 });

/** Independent arithmetic: decimal price per `per` units × quantity, in 10^-12 USD, half to even. */
function pico(price: string, quantity: bigint, per: bigint): bigint {
  const [whole = '0', frac = ''] = price.split('.');
  const numerator = (BigInt(whole) * 10n ** 12n + BigInt(frac.padEnd(12, '0'))) * quantity;
  const q = numerator / per;
  const r = numerator % per;
  return 2n * r > per || (2n * r === per && q % 2n === 1n) ? q + 1n : q;
}
const decimal = (p: bigint) => {
  const s = p.toString().padStart(13, '0');
  return `${s.slice(0, -12)}.${s.slice(-12)}`.replace(/\.?0+$/, '');
};

const model = (sku: string, kind: string, amount: string, effectiveFrom = '2025-06-01'): PriceRecord => ({
  provider: 'openai',
  resourceType: 'model',
  sku,
  kind,
  unit: '1m_tokens',
  amount,
  effectiveFrom,
  source: 'test',
});

const RECORDS: PriceRecord[] = [
  model('gpt-t', 'input_tokens', '2.50'),
  model('gpt-t', 'input_tokens', '2.00', '2026-01-01T12:00:00Z'),
  model('gpt-t', 'output_tokens', '10'),
  model('gpt-t', 'cache_read_tokens', '1.25'),
  {
    provider: 'reference',
    resourceType: 'gpu',
    sku: 'h100-80gb',
    kind: 'gpu_time',
    unit: 'gpu_hour',
    amount: '6.88',
    effectiveFrom: '2025-06-01',
    source: 'test',
  },
  {
    provider: 'aws',
    resourceType: 'instance',
    sku: 'p5.48xlarge',
    region: 'us-east-1',
    kind: 'instance_time',
    unit: 'instance_hour',
    amount: '55.04',
    effectiveFrom: '2025-06-01',
    source: 'test',
  },
];

function openWatch(client: PricingServiceClient, fromVersion: bigint, metadata = new Metadata()) {
  const events: WatchPricesResponse[] = [];
  const waiters: (() => void)[] = [];
  const stream: ClientReadableStream<WatchPricesResponse> = client.watchPrices({ fromVersion }, metadata);
  let ended = false;
  let error: Error | undefined;
  stream.on('data', (e: WatchPricesResponse) => {
    events.push(e);
    waiters.splice(0).forEach((w) => w());
  });
  stream.on('error', (err: Error) => {
    error = err;
    waiters.splice(0).forEach((w) => w());
  });
  stream.on('end', () => {
    ended = true;
    waiters.splice(0).forEach((w) => w());
  });
  return {
    events,
    get ended() {
      return ended;
    },
    get error() {
      return error;
    },
    /** Waits until `predicate` holds over the events received so far. */
    async until(predicate: (events: WatchPricesResponse[]) => boolean, timeoutMs = 5_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(events)) {
        if (error !== undefined) throw error;
        if (Date.now() > deadline) throw new Error(`watch: condition not met; got ${events.length} events`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
    cancel: () => stream.cancel(),
  };
}

describe('pricing-cache gRPC (real server on loopback)', { timeout: 60_000 }, () => {
  let source: ControlledSource;
  let t: TestCache;

  before(async () => {
    source = new ControlledSource();
    source.setRecords(RECORDS);
    t = await startTestCache([source], { watchHeartbeatMs: 60_000 });
  });
  after(async () => {
    await t.close();
    removeDir(t.stateDir);
  });

  it('quotes reconcile exactly with independent arithmetic', async () => {
    const res: QuoteResponse = await call(t.client, 'quote', {
      at: ts(T0 + 6 * HOUR),
      models: [
        {
          provider: 'openai',
          model: 'gpt-t-2026-01-01',
          serviceTier: 0,
          inputTokenRule: 0,
          inputTokens: 1_234_567n,
          outputTokens: 333n,
          cacheReadTokens: 1_000n,
          cacheWriteTokens: 0n,
          reasoningTokens: 0n,
          requests: 1n,
          images: 0n,
          region: '',
        },
      ],
      gpus: [{ provider: '', gpuType: 'h100-80gb', gpuCount: 8, seconds: '12.5', region: '', pricingModel: 0 }],
      instances: [
        {
          provider: 'aws',
          instanceType: 'p5.48xlarge',
          region: 'us-east-1',
          seconds: '0.75',
          pricingModel: 0,
          count: 0,
        },
      ],
      storage: [],
      egress: [],
    });
    const lines = {
      input: pico('2.50', 1_233_567n, 1_000_000n),
      cache: pico('1.25', 1_000n, 1_000_000n),
      output: pico('10', 333n, 1_000_000n),
      gpu: pico('6.88', 100n, 3600n), // 8 GPUs × 12.5 s
      instance: pico('55.04', 75n, 360_000n), // 0.75 s
    };
    assert.deepEqual(
      res.lines.map((l) => l.listCost?.amount),
      [lines.input, lines.cache, lines.output, lines.gpu, lines.instance].map(decimal),
    );
    const total = Object.values(lines).reduce((a, b) => a + b, 0n);
    assert.equal(res.listCost?.amount, decimal(total));
    assert.equal(res.effectiveCost?.amount, decimal(total));
    assert.equal(res.listCost?.currency, 'USD');
    assert.equal(res.snapshotVersion, t.cache.store.current()?.version);
    assert.equal(res.lines[0]?.priceId, 'openai/gpt-t/global/input_tokens@2025-06-01');
    assert.equal(res.lines[3]?.quantity, '100');
  });

  it('prices usage before a mid-day price change at the old rate', async () => {
    const quoteAt = async (ms: number) =>
      (
        await call(t.client, 'quote', {
          at: ts(ms),
          models: [
            {
              provider: 'openai',
              model: 'gpt-t',
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
      ).lines[0];
    const morning = await quoteAt(T0 + 11 * HOUR);
    const evening = await quoteAt(T0 + 13 * HOUR);
    assert.equal(morning?.listCost?.amount, '2.5');
    assert.equal(evening?.listCost?.amount, '2');
    assert.equal(evening?.priceId, 'openai/gpt-t/global/input_tokens@2026-01-01T12:00:00.000Z');
  });

  it('GetPrice converts units and answers NOT_FOUND with the closest names', async () => {
    const res = await call(t.client, 'getPrice', {
      provider: 'reference',
      sku: 'h100-80gb',
      region: 'eu-north-1',
      kind: UsageKindEnum.USAGE_KIND_GPU_TIME,
      unit: 3, // GPU_SECOND
      at: undefined,
      serviceTier: 0,
      pricingModel: 0,
      inputTokens: 0n,
    });
    assert.equal(res.price?.amount?.amount, '0.001911111111'); // 6.88 / 3600, half-even at 12 places
    assert.equal(res.effectiveAmount?.amount, '0.001911111111');
    const err = await rejectsWith(
      call(t.client, 'getPrice', {
        provider: 'openai',
        sku: 'gpt-tt',
        region: '',
        kind: UsageKindEnum.USAGE_KIND_INPUT_TOKENS,
        unit: 0,
        at: undefined,
        serviceTier: 0,
        pricingModel: 0,
        inputTokens: 0n,
      }),
    );
    assert.equal(err.code, status.NOT_FOUND);
    assert.match(err.details, /closest known: gpt-t/);
    assert.deepEqual(err.metadata.get('costtrace-suggestions'), ['gpt-t']);
  });

  it('INVALID_ARGUMENT names the field', async () => {
    const err = await rejectsWith(
      call(t.client, 'quote', {
        at: undefined,
        models: [],
        gpus: [{ provider: '', gpuType: 'h100-80gb', gpuCount: 1, seconds: '1e3', region: '', pricingModel: 0 }],
        instances: [],
        storage: [],
        egress: [],
      }),
    );
    assert.equal(err.code, status.INVALID_ARGUMENT);
    assert.deepEqual(err.metadata.get('costtrace-field'), ['gpus[0].seconds']);
    const empty = await rejectsWith(
      call(t.client, 'getPrice', {
        provider: 'openai',
        sku: 'gpt-t',
        region: '',
        kind: 0,
        unit: 0,
        at: undefined,
        serviceTier: 0,
        pricingModel: 0,
        inputTokens: 0n,
      }),
    );
    assert.equal(empty.code, status.INVALID_ARGUMENT);
    assert.match(empty.details, /^kind:/);
  });

  it('ListPrices filters and paginates without gaps or repeats', async () => {
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const res = await call(t.client, 'listPrices', {
        provider: '',
        skuContains: '',
        region: '',
        resourceType: 0,
        kind: 0,
        at: undefined,
        includeHistory: true,
        pageSize: 2,
        pageToken: token,
      });
      seen.push(...res.prices.map((p) => p.id));
      token = res.nextPageToken;
      pages += 1;
      assert.equal(res.totalSize, RECORDS.length);
    } while (token !== '');
    assert.equal(pages, 3);
    assert.equal(new Set(seen).size, RECORDS.length);
    const current = await call(t.client, 'listPrices', {
      provider: 'openai',
      skuContains: 'GPT',
      region: '',
      resourceType: ResourceTypeEnum.RESOURCE_TYPE_MODEL,
      kind: UsageKindEnum.USAGE_KIND_INPUT_TOKENS,
      at: ts(T0 + 13 * HOUR),
      includeHistory: false,
      pageSize: 0,
      pageToken: '',
    });
    assert.deepEqual(
      current.prices.map((p) => p.amount?.amount),
      ['2'],
    );
  });

  it('honours deadlines: a call whose deadline has passed fails with DEADLINE_EXCEEDED', async () => {
    const err = await rejectsWith(call(t.client, 'listPrices', ListPricesRequest.fromJSON({}), new Metadata(), -1));
    assert.equal(err.code, status.DEADLINE_EXCEEDED);
  });

  it('WatchPrices streams the snapshot, then changes, and resumes from a version', async () => {
    const first = openWatch(t.client, 0n);
    await first.until((e) => e.length >= 1);
    const snapshotEvent = first.events[0]!;
    assert.equal(snapshotEvent.snapshot?.prices.length, RECORDS.length);
    const v0 = snapshotEvent.version;

    // A new price for output tokens: one change event on top of v0.
    source.setRecords([...RECORDS, model('gpt-t', 'output_tokens', '8', '2026-02-01')]);
    await t.cache.refresher.refreshAll();
    await first.until((e) => e.some((x) => x.changes !== undefined));
    const change1 = first.events.find((x) => x.changes !== undefined)!;
    assert.ok(change1.version > v0);
    assert.equal(change1.changes?.baseVersion, v0);
    assert.deepEqual(
      change1.changes?.upserted.map((p) => p.id),
      ['openai/gpt-t/global/output_tokens@2026-02-01'],
    );
    first.cancel();

    // While disconnected: the source stops listing cache-read prices for the model.
    source.setRecords(
      RECORDS.filter((r) => r.kind !== 'cache_read_tokens').concat(model('gpt-t', 'output_tokens', '8', '2026-02-01')),
    );
    await t.cache.refresher.refreshAll();

    const resumed = openWatch(t.client, change1.version);
    await resumed.until((e) => e.length >= 1);
    const change2 = resumed.events[0]!;
    assert.equal(change2.snapshot, undefined, 'resuming must not resend the snapshot');
    assert.equal(change2.changes?.baseVersion, change1.version);
    assert.deepEqual(change2.changes?.removedPriceIds, ['openai/gpt-t/global/cache_read_tokens@2025-06-01']);
    assert.deepEqual(change2.changes?.upserted, []);
    assert.ok(change2.version > change1.version);
    resumed.cancel();

    // Up to date: a heartbeat with the current version; unknown version: a full snapshot.
    const current = openWatch(t.client, change2.version);
    await current.until((e) => e.length >= 1);
    assert.equal(current.events[0]?.heartbeat !== undefined, true);
    assert.equal(current.events[0]?.version, change2.version);
    current.cancel();
    const unknown = openWatch(t.client, 12345n);
    await unknown.until((e) => e.length >= 1);
    assert.equal(unknown.events[0]?.snapshot?.prices.length, RECORDS.length);
    unknown.cancel();
    source.setRecords(RECORDS);
    await t.cache.refresher.refreshAll();
  });

  it('a failing source keeps the last snapshot served and marks it stale; recovery clears it', async () => {
    const version = t.cache.store.current()!.version;
    const watch = openWatch(t.client, version);
    await watch.until((e) => e.length >= 1);
    source.failWith = new Error('connection refused');
    await t.cache.refresher.refreshAll();
    assert.equal(t.cache.store.current()!.version, version);
    const q = await call(t.client, 'listPrices', ListPricesRequest.fromJSON({ pageSize: 1 }));
    assert.equal(q.snapshotVersion, version);
    const quote = await call(t.client, 'quote', {
      at: undefined,
      models: [],
      gpus: [{ provider: '', gpuType: 'h100-80gb', gpuCount: 1, seconds: '3600', region: '', pricingModel: 0 }],
      instances: [],
      storage: [],
      egress: [],
    });
    assert.equal(quote.stale, true);
    assert.equal(quote.listCost?.amount, '6.88');
    await watch.until((e) => e.some((x) => x.heartbeat !== undefined && x.stale));
    const ready = (await (await fetch(`http://127.0.0.1:${t.cache.httpPort}/readyz`)).json()) as { stale: boolean };
    assert.equal(ready.stale, true);
    const metrics = await (await fetch(`http://127.0.0.1:${t.cache.httpPort}/metrics`)).text();
    assert.match(metrics, /costtrace_pricing_snapshot_stale 1/);
    assert.match(metrics, /costtrace_pricing_source_refresh_total\{source="controlled",result="failure"\} 1/);

    source.failWith = undefined;
    await t.cache.refresher.refreshAll();
    assert.equal(t.cache.store.stale, false);
    await watch.until((e) => e.at(-1)?.stale === false);
    watch.cancel();
  });

  it('a source returning garbage is rejected whole and counted; the previous snapshot stays', async () => {
    const before = t.cache.store.current()!;
    source.setRecords([...RECORDS, RECORDS[0]!]); // a duplicate price id
    await t.cache.refresher.refreshAll();
    assert.equal(t.cache.store.current(), before);
    const metrics = await (await fetch(`http://127.0.0.1:${t.cache.httpPort}/metrics`)).text();
    assert.match(metrics, /costtrace_pricing_source_refresh_total\{source="controlled",result="rejected"\} 1/);
    source.setRecords(RECORDS);
    await t.cache.refresher.refreshAll();
  });

  it('exposes health, readiness and RPC latency metrics by method and code', async () => {
    const health = await fetch(`http://127.0.0.1:${t.cache.httpPort}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`http://127.0.0.1:${t.cache.httpPort}/readyz`);
    assert.equal(ready.status, 200);
    const metrics = await (await fetch(`http://127.0.0.1:${t.cache.httpPort}/metrics`)).text();
    assert.match(metrics, /costtrace_pricing_rpc_duration_seconds_count\{method="Quote",code="OK"\} \d+/);
    assert.match(metrics, /costtrace_pricing_rpc_duration_seconds_count\{method="GetPrice",code="NOT_FOUND"\} 1/);
    assert.match(metrics, /costtrace_pricing_snapshot_version \d+/);
    assert.match(metrics, /costtrace_pricing_source_circuit_state\{source="controlled"\} 0/);
  });
});

describe('pricing-cache restart and shutdown', { timeout: 60_000 }, () => {
  it('serves the persisted snapshot at once after a restart, before any source answers', async () => {
    const first = new ControlledSource('catalog');
    first.setRecords(RECORDS);
    const a = await startTestCache([first]);
    const version = a.cache.store.current()!.version;
    await a.close();

    const hanging = new ControlledSource('catalog');
    hanging.hang = true;
    const started = Date.now();
    const b = await startTestCache([hanging], {}, undefined, a.stateDir);
    try {
      assert.ok(Date.now() - started < 1_500, 'start must not wait for the hanging source');
      const res = await call(b.client, 'quote', {
        at: ts(T0),
        models: [],
        gpus: [{ provider: '', gpuType: 'h100-80gb', gpuCount: 1, seconds: '3600', region: '', pricingModel: 0 }],
        instances: [],
        storage: [],
        egress: [],
      });
      assert.equal(res.snapshotVersion, version);
      assert.equal(res.listCost?.amount, '6.88');
      assert.equal(res.stale, true);
    } finally {
      await b.close();
      removeDir(a.stateDir);
    }
  });

  it('graceful shutdown: health goes NOT_SERVING, watch streams end, then the port closes', async () => {
    const source = new ControlledSource();
    source.setRecords(RECORDS);
    const t = await startTestCache([source]);
    const { HealthClient } = await healthClient();
    const health = new HealthClient(t.address, credentials.createInsecure());
    try {
      const watch = openWatch(t.client, 0n);
      await watch.until((e) => e.length >= 1);
      const check = () =>
        new Promise<string>((resolve, reject) =>
          health.check({ service: 'costtrace.pricing.v1.PricingService' }, (err, res) =>
            err === null ? resolve(res.status) : reject(err),
          ),
        );
      assert.equal(await check(), 'SERVING');
      await t.cache.stop();
      assert.equal(watch.ended || watch.error !== undefined, true);
      await assert.rejects(check());
    } finally {
      health.close();
      await t.close();
      removeDir(t.stateDir);
    }
  });

  it('sends a large snapshot in ordered chunks of one version, overrides in the first', async () => {
    const many = new ControlledSource();
    const records: PriceRecord[] = Array.from({ length: 600 }, (_, i) => model(`m-${i}`, 'input_tokens', `${i}.5`));
    many.setRecords(records, [overrideFromRecord({ id: 'd', provider: 'openai', discountPercent: '5' })]);
    const t = await startTestCache([many], { maxMessageBytes: 65_536 }); // 16 KiB of prices per message
    try {
      const watch = openWatch(t.client, 0n);
      await watch.until((e) =>
        e.some((x) => x.snapshot !== undefined && x.snapshot.chunkIndex + 1 === x.snapshot.chunkCount),
      );
      const chunks = watch.events.map((e) => e.snapshot!);
      assert.ok(chunks.length > 1, `expected several chunks, got ${chunks.length}`);
      assert.deepEqual(
        chunks.map((c) => [c.chunkIndex, c.chunkCount]),
        chunks.map((_, i) => [i, chunks.length]),
      );
      assert.equal(new Set(watch.events.map((e) => e.version)).size, 1);
      assert.equal(
        chunks.reduce((n, c) => n + c.prices.length, 0),
        600,
      );
      assert.deepEqual(
        chunks.map((c) => c.overrides.length),
        chunks.map((_, i) => (i === 0 ? 1 : 0)),
      );
      watch.cancel();
    } finally {
      await t.close();
      removeDir(t.stateDir);
    }
  });

  it('refuses invalid configuration with a message naming the variable and the fix', () => {
    assert.throws(
      () => new PricingCache({ env: { COSTTRACE_PRICING_PORT: 'abc' }, logger: silentLogger, processMetrics: false }),
      /COSTTRACE_PRICING_PORT="abc" is invalid: use an integer from 0 to 65535/,
    );
    assert.throws(
      () =>
        new PricingCache({
          env: { COSTTRACE_PRICING_SOURCES: '[{"type":"litellm"}]' },
          logger: silentLogger,
          processMetrics: false,
        }),
      /COSTTRACE_PRICING_SOURCES\[0\]\.url is missing or invalid: give an http\(s\) URL/,
    );
  });
});

/** The standard grpc.health.v1 client, from the proto that grpc-health-check ships. */
async function healthClient() {
  const { loadPackageDefinition } = await import('@grpc/grpc-js');
  const protoLoader = await import('@grpc/proto-loader');
  const { protoPath } = await import('grpc-health-check');
  const definition = protoLoader.loadSync(protoPath, { keepCase: true, enums: String });
  const grpc = loadPackageDefinition(definition) as unknown as {
    grpc: { health: { v1: { Health: new (address: string, creds: unknown) => never } } };
  };
  return { HealthClient: grpc.grpc.health.v1.Health as unknown as new (address: string, creds: unknown) => HealthStub };
}

interface HealthStub {
  check(request: { service: string }, callback: (err: Error | null, res: { status: string }) => void): void;
  close(): void;
}
