import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import type { ChannelCredentials, ServiceError } from '@grpc/grpc-js';
import { priceFromRecord } from '@costtrace/core';
import type { Override, Price, PriceRecord } from '@costtrace/core';
import { PricingServiceClient } from '@costtrace/proto';
import type {
  GetPriceRequest,
  GetPriceResponse,
  ListPricesRequest,
  ListPricesResponse,
  QuoteRequest,
  QuoteResponse,
} from '@costtrace/proto';
import { pino } from 'pino';
import { PricingCache } from '../../src/index.js';
import type { PriceSource, PricingCacheConfig, SourceData } from '../../src/index.js';

/** A source the test controls: set its data, make it fail or hang. */
export class ControlledSource implements PriceSource {
  readonly schedule = { ttlMs: 3_600_000, jitter: 0, timeoutMs: 2_000, failureThreshold: 3, openMs: 60_000 };
  data: SourceData = { prices: [], overrides: [] };
  failWith: Error | undefined;
  hang = false;
  calls = 0;

  constructor(readonly name = 'controlled') {}

  setRecords(records: readonly PriceRecord[], overrides: readonly Override[] = []): void {
    this.data = { prices: records.map((r, i) => priceFromRecord(r, `test[${i}]`)), overrides };
  }

  fetch(signal: AbortSignal): Promise<SourceData> {
    this.calls += 1;
    if (this.hang) {
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    }
    if (this.failWith !== undefined) return Promise.reject(this.failWith);
    return Promise.resolve(this.data);
  }
}

export const silentLogger = pino({ level: 'silent' });

export interface TestCache {
  readonly cache: PricingCache;
  readonly client: PricingServiceClient;
  readonly address: string;
  readonly stateDir: string;
  close(): Promise<void>;
}

/** Starts a PricingCache on an ephemeral loopback port with only the given sources. */
export async function startTestCache(
  sources: readonly PriceSource[],
  config: Partial<PricingCacheConfig> = {},
  clientCredentials: ChannelCredentials = credentials.createInsecure(),
  stateDir = mkdtempSync(join(tmpdir(), 'pricing-cache-test-')),
): Promise<TestCache> {
  const cache = new PricingCache({
    config: {
      host: '127.0.0.1',
      port: 0,
      httpHost: '127.0.0.1',
      httpPort: 0,
      sources: [],
      stateFile: join(stateDir, 'snapshot.json'),
      shutdownGraceMs: 2_000,
      ...config,
    },
    env: {},
    sources,
    logger: silentLogger,
    processMetrics: false,
  });
  await cache.start();
  const address = `127.0.0.1:${cache.grpcPort}`;
  const client = new PricingServiceClient(address, clientCredentials, { 'grpc.ssl_target_name_override': 'localhost' });
  return {
    cache,
    client,
    address,
    stateDir,
    close: async () => {
      client.close();
      await cache.stop();
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

type Unary<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: { deadline?: Date },
  callback: (err: ServiceError | null, response: Res) => void,
) => unknown;

interface UnaryMethods {
  getPrice: [GetPriceRequest, GetPriceResponse];
  quote: [QuoteRequest, QuoteResponse];
  listPrices: [ListPricesRequest, ListPricesResponse];
}

/** Calls a unary method and resolves with its response (rejects with the ServiceError). */
export function call<K extends keyof UnaryMethods>(
  client: PricingServiceClient,
  method: K,
  request: UnaryMethods[K][0],
  metadata = new Metadata(),
  deadlineMs = 5_000,
): Promise<UnaryMethods[K][1]> {
  const fn = client[method].bind(client) as unknown as Unary<UnaryMethods[K][0], UnaryMethods[K][1]>;
  return new Promise((resolve, reject) => {
    fn(request, metadata, { deadline: new Date(Date.now() + deadlineMs) }, (err, res) =>
      err === null ? resolve(res) : reject(err),
    );
  });
}

export function rejectsWith(promise: Promise<unknown>): Promise<ServiceError> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: ServiceError) => err,
  );
}

export type { Price };
