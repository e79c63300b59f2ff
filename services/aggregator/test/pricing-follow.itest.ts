// The aggregator prices spans from services without costtrace's SDK with pricing-cache's live
// prices. A real PricingCache (bundled catalogs plus an overrides file) serves the watch stream;
// a real OpenTelemetry Python SDK (scripts/python-otel) sends the spans over OTLP/HTTP; real
// Kafka and ClickHouse carry and store them. Expected money is computed here from the rates
// pricing-cache quotes over gRPC, with bigint arithmetic that shares no code with the pricer.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { credentials } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { pino } from 'pino';
import { PricingCache } from '@costtrace/pricing-cache';
import { PriceUnitEnum, PricingServiceClient, UsageKindEnum } from '@costtrace/proto';
import type { GetPriceRequest, GetPriceResponse } from '@costtrace/proto';
import { ClickHouseStore } from '@costtrace/store';
import type { Harness } from './support/aggregator-harness.js';
import { startAggregator } from './support/aggregator-harness.js';
import {
  createTopics,
  decimalToPicos,
  deleteTopics,
  liveServices,
  testKafka,
  uniqueNames,
  waitFor,
} from './support/live-services.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const PICO = 10n ** 12n;

/** Half-to-even rounding of num / den (den > 0), written out here. */
function roundHalfEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const r = num % den;
  return 2n * r > den || (2n * r === den && q % 2n === 1n) ? q + 1n : q;
}

interface StoredRow {
  span_name: string;
  cost: string;
  gpu: string;
  version: string;
  source: string;
  ids: string[];
  reason: string;
}

describe('the aggregator follows pricing-cache for spans without the SDK', { timeout: 240_000 }, () => {
  const services = liveServices();
  const names = uniqueNames('pfollow');
  const kafka = testKafka(services.kafkaBrokers);
  const dir = mkdtempSync(join(tmpdir(), 'costtrace-pricing-follow-'));
  const overridesFile = join(dir, 'overrides.json');
  const stateFile = join(dir, 'aggregator', 'price-snapshot.json');
  let python = '';
  let cache: PricingCache | undefined;
  let client: PricingServiceClient;
  let harness: Harness | undefined;
  let store: ClickHouseStore;

  const writeDiscount = (percent: string): void =>
    writeFileSync(
      overridesFile,
      JSON.stringify({
        overrides: [
          {
            id: 'openai-contract',
            description: `negotiated ${percent}% off`,
            provider: 'openai',
            resourceType: 'model',
            discountPercent: percent,
            effectiveFrom: '2025-01-01',
          },
        ],
      }),
    );

  const getPrice = (request: Partial<GetPriceRequest>): Promise<GetPriceResponse> =>
    new Promise((resolve, reject) =>
      client.getPrice(
        {
          provider: '',
          sku: '',
          region: '',
          kind: 0,
          serviceTier: 0,
          pricingModel: 0,
          unit: 0,
          inputTokens: 0n,
          ...request,
        },
        (err: ServiceError | null, res?: GetPriceResponse) =>
          err || !res ? reject(err ?? new Error('GetPrice answered nothing')) : resolve(res),
      ),
    );

  const metrics = async (): Promise<string> => {
    const res = await fetch(`http://127.0.0.1:${harness!.addresses.api!.port}/metrics`);
    return res.text();
  };
  const pricingVersionInUse = async (): Promise<string | undefined> =>
    /costtrace_pricing_snapshot_info\{version="([^"]+)",source="pricing-cache"\} 1/.exec(await metrics())?.[1];

  /**
   * Sends spans with the OpenTelemetry Python SDK, as a Python service without costtrace does.
   * Asynchronous: the aggregator answering the export runs in this process.
   */
  const emit = async (spans: { name: string; attributes: Record<string, string | number> }[]): Promise<void> => {
    const endpoint = `http://127.0.0.1:${harness!.addresses.http!.port}/v1/traces`;
    const child = spawn(python, [join(ROOT, 'scripts/python-otel/emit-spans.py'), endpoint], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(JSON.stringify({ resource: { 'service.name': 'python-trainer' }, spans }));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(status, 0, `emit-spans.py failed:\n${stderr}`);
  };

  const rows = async (count: number): Promise<Map<string, StoredRow>> => {
    const found = await waitFor(
      `${count} rows in ${names.database}.span_costs`,
      () =>
        store.select<StoredRow>(
          `SELECT span_name, toString(cost_total) AS cost, toString(cost_gpu) AS gpu, pricing_version AS version,
                  pricing_source AS source, price_ids AS ids, unpriced_reason AS reason
           FROM ${names.database}.span_costs`,
        ),
      (r) => r.length >= count,
    );
    return new Map(found.map((r) => [r.span_name, r]));
  };

  const startCache = async (): Promise<PricingCache> => {
    const started = new PricingCache({
      config: {
        host: '127.0.0.1',
        port: 0,
        httpHost: '127.0.0.1',
        httpPort: 0,
        sources: [{ type: 'bundled' }],
        overridesFile,
        stateFile: join(dir, 'pricing-cache-state.json'),
        watchHeartbeatMs: 1_000,
        shutdownGraceMs: 1_000,
      },
      env: {},
      logger: pino({ level: 'silent' }),
      processMetrics: false,
    });
    await started.start();
    return started;
  };

  before(async () => {
    const install = spawnSync('bash', [join(ROOT, 'scripts/python-otel/install.sh')], {
      encoding: 'utf8',
      timeout: 600_000,
    });
    assert.equal(install.status, 0, `scripts/python-otel/install.sh failed:\n${install.stderr}`);
    python = install.stdout.trim();
    writeDiscount('10');
    cache = await startCache();
    client = new PricingServiceClient(`127.0.0.1:${cache.grpcPort}`, credentials.createInsecure());
    await createTopics(kafka, [names.topic, names.dlqTopic]);
    harness = await startAggregator(names, {
      pricingAddress: `127.0.0.1:${cache.grpcPort}`,
      pricingStateFile: stateFile,
    });
    store = new ClickHouseStore({ url: services.clickhouseUrl, database: names.database });
    await waitFor('the aggregator on pricing-cache prices', pricingVersionInUse, (v) => v !== undefined, 30_000);
  });

  after(async () => {
    client?.close();
    await harness?.aggregator.stop();
    await cache?.stop();
    await store?.command(`DROP DATABASE IF EXISTS ${names.database}`);
    await store?.close();
    await deleteTopics(kafka, [names.topic, names.dlqTopic]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prices GPU time recorded by a Python training job at pricing-cache’s rate', async () => {
    // What a Python job writes: float seconds (GPU-seconds across its 8 GPUs), type and count.
    await emit([
      {
        name: 'train-epoch',
        attributes: { 'costtrace.gpu.seconds': 5400.25, 'costtrace.gpu.type': 'h100-80gb', 'costtrace.gpu.count': 8 },
      },
    ]);
    const row = (await rows(1)).get('train-epoch');
    assert.ok(row);
    const rate = await getPrice({ provider: 'reference', sku: 'h100-80gb', kind: UsageKindEnum.USAGE_KIND_GPU_TIME });
    assert.equal(rate.price?.unit, PriceUnitEnum.PRICE_UNIT_GPU_HOUR, 'a per-GPU-hour rate');
    const perHourPico = decimalToPicos(rate.price.amount!.amount);
    // 5400.25 GPU-seconds = 5_400_250_000_000 ns at perHour / 3600 s, rounded half to even once.
    const expected = roundHalfEven(perHourPico * 5_400_250_000_000n, 3_600n * 1_000_000_000n);
    assert.ok(expected > 10n * PICO, 'a rate of dollars per hour');
    assert.equal(decimalToPicos(row.gpu), expected);
    assert.equal(decimalToPicos(row.cost), expected);
    assert.deepEqual(row.ids, [rate.price.id]);
    assert.equal(row.source, 'aggregator:pricing-cache');
    assert.equal(row.version, await pricingVersionInUse());
    assert.equal(row.reason, '');
  });

  it('applies an override changed in the running pricing-cache to new spans within seconds', async () => {
    const call = (name: string) => ({
      name,
      attributes: {
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': 1_000_000,
        'gen_ai.usage.output_tokens': 0,
      },
    });
    const list = await getPrice({
      provider: 'openai',
      sku: 'gpt-4o-mini',
      kind: UsageKindEnum.USAGE_KIND_INPUT_TOKENS,
    });
    const listPico = decimalToPicos(list.price!.amount!.amount); // per 1M tokens = the cost of this call
    const before = await pricingVersionInUse();
    await emit([call('at-10-percent')]);
    await rows(2);

    writeDiscount('30');
    const changedAt = Date.now();
    await cache!.refresher.refreshAll();
    const after = await waitFor('the new snapshot in use', pricingVersionInUse, (v) => v !== before, 10_000);
    const seconds = (Date.now() - changedAt) / 1000;
    assert.ok(seconds < 10, `took ${seconds} s`);
    console.log(`pricing-cache override change in use by the aggregator after ${seconds.toFixed(2)} s`);
    await emit([call('at-30-percent')]);
    const stored = await rows(3);
    const ten = stored.get('at-10-percent');
    const thirty = stored.get('at-30-percent');
    assert.ok(ten && thirty);
    assert.equal(decimalToPicos(ten.cost), (listPico * 90n) / 100n);
    assert.equal(decimalToPicos(thirty.cost), (listPico * 70n) / 100n);
    assert.equal(ten.version, before);
    assert.equal(thirty.version, after);
    assert.ok(thirty.ids.includes('openai-contract'), `the override is named: ${thirty.ids.join(', ')}`);
    assert.ok(thirty.ids.includes(list.price!.id));
  });

  it('keeps pricing while pricing-cache is down, and after a restart without it', async () => {
    const inUse = await pricingVersionInUse();
    const list = await getPrice({
      provider: 'openai',
      sku: 'gpt-4o-mini',
      kind: UsageKindEnum.USAGE_KIND_INPUT_TOKENS,
    });
    const expected = (decimalToPicos(list.price!.amount!.amount) * 70n) / 100n;
    const call = (name: string) => ({
      name,
      attributes: {
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': 1_000_000,
      },
    });
    client.close();
    await cache!.stop();
    cache = undefined;
    await emit([call('pricing-cache-down')]);
    let stored = await rows(4);
    assert.equal(decimalToPicos(stored.get('pricing-cache-down')!.cost), expected);
    assert.equal(stored.get('pricing-cache-down')!.version, inUse);

    // Restarted while pricing-cache is still down: the kept snapshot, not the bundled catalog.
    await harness!.aggregator.stop();
    assert.ok(existsSync(stateFile), 'the last snapshot is kept on disk');
    harness = await startAggregator(names, {
      pricingAddress: '127.0.0.1:1', // nothing listens there
      pricingStateFile: stateFile,
    });
    const info = await metrics();
    assert.match(info, new RegExp(`costtrace_pricing_snapshot_info\\{version="${inUse}",source="state-file"\\} 1`));
    assert.match(info, /costtrace_pricing_connected 0/);
    await emit([call('restarted-without-pricing-cache')]);
    stored = await rows(5);
    const row = stored.get('restarted-without-pricing-cache');
    assert.ok(row);
    assert.equal(decimalToPicos(row.cost), expected);
    assert.equal(row.version, inUse);
    assert.equal(row.source, 'aggregator:pricing-cache');
    assert.ok(row.ids.includes('openai-contract'));
  });
});
