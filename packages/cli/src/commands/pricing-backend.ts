import { readFileSync } from 'node:fs';
import { credentials, Metadata } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { bundledCatalogDir, readCatalogs } from '@costtrace/catalog';
import { PriceSnapshot, PricingError } from '@costtrace/core';
import { PricingServiceClient } from '@costtrace/proto';
import { PricingApi } from '@costtrace/proto/pricing';
import type {
  GetPriceRequest,
  GetPriceResponse,
  ListPricesRequest,
  ListPricesResponse,
  QuoteRequest,
  QuoteResponse,
} from '@costtrace/proto';

/** Where `costtrace pricing` gets its answers: a running pricing-cache, or the bundled catalog. */
export interface PricingBackend {
  readonly description: string;
  getPrice(request: GetPriceRequest): Promise<GetPriceResponse>;
  quote(request: QuoteRequest): Promise<QuoteResponse>;
  listPrices(request: ListPricesRequest): Promise<ListPricesResponse>;
  close(): void;
}

export interface RemoteOptions {
  readonly address: string;
  readonly token: string | undefined;
  /** PEM file of the CA to trust; implies TLS. */
  readonly caFile: string | undefined;
  readonly tls: boolean;
  readonly timeoutMs: number;
}

/**
 * The same operations pricing-cache runs, in-process over the bundled catalogs: one snapshot,
 * versioned by its build time as pricing-cache versions its first.
 */
export async function offlineBackend(now: () => number = Date.now): Promise<PricingBackend> {
  const data = await readCatalogs(bundledCatalogDir());
  const builtAt = now();
  const snapshot = new PriceSnapshot(BigInt(builtAt), data.prices, data.overrides, builtAt);
  const api = new PricingApi({ current: () => snapshot, stale: false }, now);
  return {
    description: 'bundled catalog (offline)',
    getPrice: (r) => Promise.resolve().then(() => api.getPrice(r)),
    quote: (r) => Promise.resolve().then(() => api.quote(r)),
    listPrices: (r) => Promise.resolve().then(() => api.listPrices(r)),
    close: () => undefined,
  };
}

export function remoteBackend(options: RemoteOptions): PricingBackend {
  const creds =
    options.tls || options.caFile !== undefined
      ? credentials.createSsl(options.caFile === undefined ? null : readFileSync(options.caFile))
      : credentials.createInsecure();
  const client = new PricingServiceClient(options.address, creds);
  const metadata = (): Metadata => {
    const m = new Metadata();
    if (options.token !== undefined) m.set('authorization', `Bearer ${options.token}`);
    return m;
  };
  type Callback<Res> = (err: ServiceError | null, res: Res) => void;
  type Unary<Req, Res> = (req: Req, md: Metadata, opts: { deadline: Date }, cb: Callback<Res>) => unknown;
  const unary =
    <Req, Res>(fn: Unary<Req, Res>) =>
    (request: Req): Promise<Res> =>
      new Promise((resolve, reject) => {
        fn(request, metadata(), { deadline: new Date(Date.now() + options.timeoutMs) }, (err, res) =>
          err === null ? resolve(res) : reject(fromServiceError(err, options.address)),
        );
      });
  return {
    description: `pricing-cache at ${options.address}`,
    getPrice: unary(client.getPrice.bind(client) as Unary<GetPriceRequest, GetPriceResponse>),
    quote: unary(client.quote.bind(client) as Unary<QuoteRequest, QuoteResponse>),
    listPrices: unary(client.listPrices.bind(client) as Unary<ListPricesRequest, ListPricesResponse>),
    close: () => client.close(),
  };
}

/** A service error as a PricingError, so offline and remote failures read the same. */
function fromServiceError(err: ServiceError, address: string): PricingError {
  const codes: Record<number, PricingError['code']> = { 3: 'INVALID_ARGUMENT', 5: 'NOT_FOUND', 16: 'UNAUTHENTICATED' };
  const code = codes[err.code] ?? 'UNAVAILABLE';
  const message = code === 'UNAVAILABLE' ? `pricing-cache at ${address}: ${err.details || err.message}` : err.details;
  return new PricingError(code, message, { cause: err });
}
