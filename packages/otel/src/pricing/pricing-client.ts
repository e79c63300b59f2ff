import { context, diag } from '@opentelemetry/api';
import type { DiagLogger } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { readFileSync } from 'node:fs';
import { credentials, Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { ChannelCredentials, ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { backoffDelay, bundledPricingView, PriceSnapshot, PricingView } from '@costtrace/core';
import type { Override, Price, PriceSource } from '@costtrace/core';
import { PricingServiceClient } from '@costtrace/proto';
import type { OverrideMessage, PriceMessage, WatchPricesResponse } from '@costtrace/proto';
import { overrideFromWire, priceFromWire, timestampFromWire } from '@costtrace/proto/pricing';
import { CostSdkError, invalidOption } from '../sdk-error.js';

/**
 * Decodes part of a message from pricing-cache with the shared wire mapping; its PricingError
 * (naming the field) becomes the SDK's CostSdkError PRICING_PROTOCOL, so the update is rejected.
 */
function fromPricingCache<T>(what: string, id: string, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CostSdkError('PRICING_PROTOCOL', `pricing-cache sent an invalid ${what} ${id}: ${reason}`, {
      cause: err,
    });
  }
}

const priceFromPricingCache = (m: PriceMessage): Price => fromPricingCache('price', m.id, () => priceFromWire(m));
const overrideFromPricingCache = (m: OverrideMessage): Override =>
  fromPricingCache('override', m.id, () => overrideFromWire(m));

export interface PricingClientOptions {
  /**
   * pricing-cache's gRPC address, "host:port". Default: env COSTTRACE_PRICING_ADDRESS. With
   * neither, the client serves the bundled catalog only and never connects.
   */
  readonly address?: string | undefined;
  /**
   * Default: TLS when env COSTTRACE_PRICING_TLS=true or COSTTRACE_PRICING_TLS_CA_FILE names a CA
   * certificate (PEM); otherwise insecure (plaintext), for a sidecar or in-cluster service.
   */
  readonly credentials?: ChannelCredentials | undefined;
  /** Bearer token pricing-cache expects (`authorization: Bearer …`). Default: env COSTTRACE_PRICING_TOKEN. */
  readonly token?: string | undefined;
  /** Called with each snapshot from pricing-cache once it is in use (e.g. to keep it on disk). */
  readonly onSnapshot?: ((view: PricingView) => void) | undefined;
  /**
   * A snapshot is marked stale when nothing (not even a heartbeat) arrived for this long, or
   * when pricing-cache says its sources are stale. Default 60 000 ms.
   */
  readonly staleAfterMs?: number | undefined;
  /** Reconnect backoff: first delay, cap, and ± jitter fraction. Default 250 ms, 30 s, 0.2. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number; readonly jitter?: number } | undefined;
  /** What to price from until pricing-cache answers. Default: the bundled catalog. */
  readonly fallback?: PricingView | undefined;
  readonly logger?: DiagLogger | undefined;
  /** Environment variables to read (tests); default process.env. */
  readonly env?: NodeJS.ProcessEnv | undefined;
}

export interface PricingClientStats {
  readonly version: string;
  readonly source: 'bundled' | 'pricing-cache';
  readonly stale: boolean;
  readonly connected: boolean;
  /** Snapshots and change sets applied. */
  readonly updates: number;
  readonly reconnects: number;
  /** Messages rejected (invalid price, unknown base version). */
  readonly rejected: number;
  readonly lastError: string | undefined;
}

/**
 * Holds the price snapshot in memory for the CostSpanProcessor and keeps it current from
 * pricing-cache's `WatchPrices` stream. `current()` is a field read: span end never waits on I/O.
 *
 * - Starts from the catalog bundled with the package (`cost.pricing.source=bundled`), so the very
 *   first span is priced even when pricing-cache is down.
 * - On a snapshot it switches to it (`source=pricing-cache`, version `pcache-<n>`); change sets
 *   apply only on top of the version they name, otherwise it resubscribes from scratch.
 * - When the stream fails it reconnects with exponential backoff and jitter, resuming from the
 *   last applied version (the server sends only later changes when it still has them).
 * - The snapshot is marked stale (`cost.pricing.stale=true`) when pricing-cache says so or when
 *   nothing arrived for `staleAfterMs`; it keeps being used.
 * - Timers are unref'd; the stream is opened with tracing suppressed; `shutdown()` is idempotent.
 */
export class PricingClient implements PriceSource {
  private view: PricingView;
  private snapshot: PriceSnapshot | undefined;
  private version = 0n;
  private serverStale = false;
  /** A snapshot arriving in chunks (same version, chunk_index 0..count-1, in order). */
  private pending:
    | { version: bigint; next: number; count: number; prices: Price[]; overrides: Override[]; builtAt: number }
    | undefined;
  private lastMessageAt = 0;
  private readonly address: string | undefined;
  private readonly creds: ChannelCredentials;
  private readonly staleAfterMs: number;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly jitter: number;
  private readonly logger: DiagLogger;
  private client: InstanceType<typeof PricingServiceClient> | undefined;
  private call: ClientReadableStream<WatchPricesResponse> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = false;
  private started = false;
  private connected = false;
  private updates = 0;
  private reconnects = 0;
  private rejected = 0;
  private lastError: string | undefined;
  private warnedDown = false;
  private readonly waiters: (() => void)[] = [];
  private readonly metadata: Metadata;
  private readonly onSnapshot: ((view: PricingView) => void) | undefined;

  constructor(options: PricingClientOptions = {}) {
    const env = options.env ?? process.env;
    const address = options.address ?? (env.COSTTRACE_PRICING_ADDRESS?.trim() || undefined);
    if (
      address !== undefined &&
      !/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$|^(dns|unix|ipv4|ipv6):/.test(address)
    ) {
      throw invalidOption('address', `is ${JSON.stringify(address)}`, 'use "host:port", e.g. "pricing-cache:50051"');
    }
    const staleAfterMs = options.staleAfterMs ?? 60_000;
    if (!Number.isFinite(staleAfterMs) || staleAfterMs < 1000) {
      throw invalidOption('staleAfterMs', `is ${staleAfterMs}`, 'use at least 1000 ms');
    }
    const initialMs = options.backoff?.initialMs ?? 250;
    const maxMs = options.backoff?.maxMs ?? 30_000;
    const jitter = options.backoff?.jitter ?? 0.2;
    if (!(initialMs >= 10) || !(maxMs >= initialMs)) {
      throw invalidOption('backoff', `is ${initialMs}..${maxMs} ms`, 'use initialMs ≥ 10 and maxMs ≥ initialMs');
    }
    if (!(jitter >= 0 && jitter < 1)) throw invalidOption('backoff.jitter', `is ${jitter}`, 'use a fraction in [0, 1)');
    this.address = address;
    this.creds = options.credentials ?? channelCredentials(env);
    const token = options.token ?? (env.COSTTRACE_PRICING_TOKEN || undefined);
    if (token !== undefined && !/^[\x21-\x7e]+$/.test(token)) {
      throw invalidOption('token', 'contains spaces or control characters', 'pass the bearer token as issued');
    }
    this.metadata = new Metadata();
    if (token !== undefined) this.metadata.set('authorization', `Bearer ${token}`);
    this.onSnapshot = options.onSnapshot;
    this.staleAfterMs = staleAfterMs;
    this.initialMs = initialMs;
    this.maxMs = maxMs;
    this.jitter = jitter;
    this.logger = options.logger ?? diag;
    this.view = options.fallback ?? bundledPricingView();
  }

  /** The prices to use now. No I/O, O(1). */
  current(): PricingView {
    return this.view;
  }

  /** Opens the watch stream (once). Returns immediately; spans are priced from the fallback until then. */
  start(): this {
    if (this.started || this.stopped || this.address === undefined) return this;
    this.started = true;
    this.client = new PricingServiceClient(this.address, this.creds, {
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
    });
    this.staleTimer = setInterval(() => this.refreshStale(), Math.min(5_000, this.staleAfterMs / 2));
    this.staleTimer.unref();
    this.connect();
    return this;
  }

  /** Resolves true once a snapshot from pricing-cache is in use, false after `timeoutMs`. */
  ready(timeoutMs = 5_000): Promise<boolean> {
    if (this.view.source === 'pricing-cache') return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const at = this.waiters.indexOf(wake);
        if (at >= 0) this.waiters.splice(at, 1);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      this.waiters.push(wake);
    });
  }

  stats(): PricingClientStats {
    return {
      version: this.view.version,
      source: this.view.source,
      stale: this.view.stale,
      connected: this.connected,
      updates: this.updates,
      reconnects: this.reconnects,
      rejected: this.rejected,
      lastError: this.lastError,
    };
  }

  private connect(): void {
    if (this.stopped || this.client === undefined) return;
    const client = this.client;
    this.pending = undefined;
    const call = context.with(suppressTracing(context.active()), () =>
      client.watchPrices({ fromVersion: this.version }, this.metadata),
    );
    this.call = call;
    call.on('data', (message: WatchPricesResponse) => {
      if (call !== this.call) return;
      this.connected = true;
      this.attempt = 0;
      this.warnedDown = false;
      this.lastMessageAt = Date.now();
      try {
        this.apply(message);
      } catch (err) {
        this.rejected += 1;
        this.lastError = err instanceof Error ? err.message : String(err);
        this.logger.warn(`costtrace: pricing-cache update rejected (${this.lastError}); resubscribing from scratch`);
        this.version = 0n;
        this.restart(call);
      }
    });
    call.on('error', (err: ServiceError) => {
      if (call !== this.call || this.stopped) return;
      if (err.code === GrpcStatus.CANCELLED) return;
      this.lastError = `${GrpcStatus[err.code] ?? err.code}: ${err.details || err.message}`;
      this.scheduleReconnect();
    });
    call.on('end', () => {
      if (call !== this.call || this.stopped) return;
      this.scheduleReconnect();
    });
  }

  private restart(call: ClientReadableStream<WatchPricesResponse>): void {
    this.call = undefined;
    call.cancel();
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer !== undefined) return;
    this.call = undefined;
    this.connected = false;
    const delay = backoffDelay({ initialMs: this.initialMs, maxMs: this.maxMs, jitter: this.jitter }, this.attempt + 1);
    this.attempt = Math.min(this.attempt + 1, 30);
    if (!this.warnedDown) {
      this.warnedDown = true;
      this.logger.warn(
        `costtrace: pricing-cache at ${this.address ?? '?'} unavailable (${this.lastError ?? 'stream ended'}); pricing from ${this.view.source} ${this.view.version}, retrying with backoff`,
      );
    }
    this.reconnects += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  private apply(message: WatchPricesResponse): void {
    this.serverStale = message.stale;
    if (message.snapshot !== undefined) {
      const chunk = message.snapshot;
      const count = Math.max(1, chunk.chunkCount);
      if (chunk.chunkIndex === 0) {
        this.pending = {
          version: message.version,
          next: 0,
          count,
          prices: [],
          overrides: chunk.overrides.map(overrideFromPricingCache),
          builtAt: fromPricingCache('snapshot', `${message.version}`, () =>
            timestampFromWire(chunk.builtAt, 'snapshot.built_at', Date.now()),
          ),
        };
      }
      const pending = this.pending;
      if (
        pending === undefined ||
        pending.version !== message.version ||
        pending.next !== chunk.chunkIndex ||
        pending.count !== count
      ) {
        this.pending = undefined;
        throw new CostSdkError(
          'PRICING_PROTOCOL',
          `snapshot chunk ${chunk.chunkIndex}/${count} of version ${message.version} out of order`,
        );
      }
      for (const price of chunk.prices) pending.prices.push(priceFromPricingCache(price));
      pending.next += 1;
      if (pending.next < pending.count) return; // apply once the last chunk is in
      this.pending = undefined;
      this.install(
        new PriceSnapshot(message.version, pending.prices, pending.overrides, pending.builtAt),
        message.version,
      );
    } else if (this.pending !== undefined) {
      if (message.changes !== undefined) {
        this.pending = undefined;
        throw new CostSdkError('PRICING_PROTOCOL', 'changes arrived before the snapshot was complete');
      }
      // A heartbeat between chunks: nothing to apply yet.
    } else if (message.changes !== undefined) {
      const changes = message.changes;
      const base = this.snapshot;
      if (base === undefined || changes.baseVersion !== this.version) {
        throw new CostSdkError(
          'PRICING_PROTOCOL',
          `changes for version ${changes.baseVersion} but this client holds ${this.version}`,
        );
      }
      const removed = new Set(changes.removedPriceIds);
      const byId = new Map<string, Price>();
      for (const p of base.prices) if (!removed.has(p.id)) byId.set(p.id, p);
      for (const p of changes.upserted.map(priceFromPricingCache)) byId.set(p.id, p);
      const overrides: readonly Override[] = changes.overridesChanged
        ? changes.overrides.map(overrideFromPricingCache)
        : base.overrides;
      this.install(new PriceSnapshot(message.version, [...byId.values()], overrides, Date.now()), message.version);
    } else if (message.version !== this.version && this.snapshot !== undefined) {
      throw new CostSdkError(
        'PRICING_PROTOCOL',
        `heartbeat at version ${message.version}, client holds ${this.version}`,
      );
    } else {
      this.refreshStale();
    }
  }

  private install(snapshot: PriceSnapshot, version: bigint): void {
    this.snapshot = snapshot;
    this.version = version;
    this.view = new PricingView(snapshot, 'pricing-cache', this.isStale());
    this.updates += 1;
    for (const wake of this.waiters.splice(0)) wake();
    if (this.onSnapshot !== undefined) {
      try {
        this.onSnapshot(this.view);
      } catch (err) {
        this.logger.warn('costtrace: PricingClient onSnapshot callback failed', err);
      }
    }
  }

  private isStale(): boolean {
    return this.serverStale || Date.now() - this.lastMessageAt > this.staleAfterMs;
  }

  private refreshStale(): void {
    if (this.view.source !== 'pricing-cache') return;
    this.view = this.view.withStale(this.isStale());
  }

  /** Closes the stream and stops reconnecting. Idempotent; the last snapshot stays usable. */
  shutdown(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    if (this.staleTimer !== undefined) clearInterval(this.staleTimer);
    const call = this.call;
    this.call = undefined;
    call?.cancel();
    this.client?.close();
    return Promise.resolve();
  }
}

/** Channel credentials from the environment: TLS (system roots or a CA file) or plaintext. */
function channelCredentials(env: NodeJS.ProcessEnv): ChannelCredentials {
  const caFile = env.COSTTRACE_PRICING_TLS_CA_FILE?.trim() || undefined;
  const tls = env.COSTTRACE_PRICING_TLS?.trim();
  if (tls !== undefined && tls !== '' && tls !== 'true' && tls !== 'false') {
    throw invalidOption('COSTTRACE_PRICING_TLS', `is ${JSON.stringify(tls)}`, 'use true or false');
  }
  if (caFile === undefined) return tls === 'true' ? credentials.createSsl() : credentials.createInsecure();
  let ca: Buffer;
  try {
    ca = readFileSync(caFile);
  } catch (err) {
    throw invalidOption(
      'COSTTRACE_PRICING_TLS_CA_FILE',
      `cannot be read (${(err as Error).message})`,
      "point it at pricing-cache's CA certificate (PEM)",
    );
  }
  return credentials.createSsl(ca);
}
