import { status } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { PricingError } from '@costtrace/core';
import { PriceMessage } from '@costtrace/proto';
import type {
  GetPriceRequest,
  ListPricesRequest,
  PricingServiceServer,
  QuoteRequest,
  WatchPricesRequest,
  WatchPricesResponse,
} from '@costtrace/proto';
import { overrideToWire, PricingApi, priceToWire, timestampToWire } from '@costtrace/proto/pricing';
import type { Logger } from 'pino';
import type { PricingMetrics } from '../metrics.js';
import type { PriceStore, StoreEvent } from '../price-store.js';
import type { BearerAuth } from './bearer-auth.js';
import { toServiceError } from './grpc-errors.js';

export interface PricingServiceDeps {
  readonly store: PriceStore;
  readonly metrics: PricingMetrics;
  readonly logger: Logger;
  readonly auth: BearerAuth;
  readonly heartbeatMs: number;
  /** Encoded price bytes per snapshot message on WatchPrices (larger snapshots are chunked). */
  readonly snapshotChunkBytes: number;
  /** Buffered bytes after which a watcher that does not read is disconnected. */
  readonly maxWatchBufferBytes: number;
  readonly now?: (() => number) | undefined;
}

/** The PricingService handlers: thin adapters from the wire to the core price model. */
export class PricingServiceHandlers {
  private readonly watchers = new Set<ServerWritableStream<WatchPricesRequest, WatchPricesResponse>>();
  private readonly now: () => number;
  private readonly api: PricingApi;

  constructor(private readonly deps: PricingServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.api = new PricingApi(deps.store, this.now);
  }

  implementation(): PricingServiceServer {
    return {
      getPrice: this.unary('GetPrice', (req: GetPriceRequest) => this.api.getPrice(req)),
      quote: this.unary('Quote', (req: QuoteRequest) => this.api.quote(req)),
      listPrices: this.unary('ListPrices', (req: ListPricesRequest) => this.api.listPrices(req)),
      watchPrices: (call: ServerWritableStream<WatchPricesRequest, WatchPricesResponse>) => this.watch(call),
    };
  }

  /** Ends every open watch stream (graceful shutdown: clients reconnect elsewhere and resume). */
  endWatchers(): void {
    for (const call of this.watchers) call.end();
    this.watchers.clear();
    this.deps.metrics.watchStreams.set(0);
  }

  private unary<Req, Res>(
    method: string,
    handle: (request: Req) => Res,
  ): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
    const histogram = this.deps.metrics.rpcDuration;
    // Label children resolved once per code: observing through labels hashes them on every call.
    const byCode = new Map<status, { observe(seconds: number): void }>();
    const observe = (code: status, seconds: number): void => {
      let child = byCode.get(code);
      if (child === undefined) byCode.set(code, (child = histogram.labels({ method, code: status[code] })));
      child.observe(seconds);
    };
    return (call, callback) => {
      const started = process.hrtime.bigint();
      let code: status = status.OK;
      try {
        if (call.cancelled || deadlinePassed(call.getDeadline(), this.now())) {
          code = status.DEADLINE_EXCEEDED;
          callback({ code, details: `${method}: deadline exceeded before handling` });
          return;
        }
        this.deps.auth.check(call.metadata);
        callback(null, handle(call.request));
      } catch (err) {
        const error = toServiceError(err);
        code = error.code;
        if (!(err instanceof PricingError)) this.deps.logger.error({ err, method }, 'unexpected error in handler');
        callback(error);
      } finally {
        observe(code, Number(process.hrtime.bigint() - started) / 1e9);
      }
    };
  }

  private watch(call: ServerWritableStream<WatchPricesRequest, WatchPricesResponse>): void {
    const { store, metrics, logger } = this.deps;
    try {
      this.deps.auth.check(call.metadata);
    } catch (err) {
      call.emit('error', toServiceError(err));
      return;
    }
    const send = (message: WatchPricesResponse): void => {
      if (call.writableLength > this.deps.maxWatchBufferBytes) {
        logger.warn({ peer: call.getPeer() }, 'watcher is not reading; closing its stream');
        cleanup();
        call.emit('error', {
          code: status.RESOURCE_EXHAUSTED,
          details: 'watcher is not reading; reconnect and resume',
        });
        return;
      }
      call.write(message);
    };
    const heartbeat = (): void =>
      send({
        version: store.current()?.version ?? 0n,
        stale: store.stale,
        heartbeat: { serverTime: timestampToWire(this.now()) },
      });
    const onEvent = (event: StoreEvent): void => {
      if (event.type === 'stale') {
        heartbeat();
        return;
      }
      const { change } = event;
      const snapshot = store.current();
      send({
        version: change.version,
        stale: store.stale,
        changes: {
          baseVersion: change.baseVersion,
          upserted: change.diff.upserted.map(priceToWire),
          removedPriceIds: [...change.diff.removedIds],
          overridesChanged: change.diff.overridesChanged,
          overrides:
            change.diff.overridesChanged && snapshot !== undefined ? snapshot.overrides.map(overrideToWire) : [],
        },
      });
    };
    // Subscribe before planning: both happen in this tick, so no change can fall between them.
    // A failing write must end this stream only, never reach the refresh that published.
    const unsubscribe = store.subscribe((event) => {
      try {
        onEvent(event);
      } catch (err) {
        logger.warn({ err, peer: call.getPeer() }, 'watch stream write failed; closing it');
        cleanup();
        call.emit('error', { code: status.INTERNAL, details: 'stream write failed; reconnect and resume' });
      }
    });
    const timer = setInterval(heartbeat, this.deps.heartbeatMs);
    timer.unref();
    this.watchers.add(call);
    metrics.watchStreams.set(this.watchers.size);
    let cleaned = false;
    const cleanup = (): void => {
      if (cleaned) return;
      cleaned = true;
      unsubscribe();
      clearInterval(timer);
      this.watchers.delete(call);
      metrics.watchStreams.set(this.watchers.size);
    };
    call.on('cancelled', cleanup);
    call.on('close', cleanup);
    call.on('error', cleanup);
    call.on('finish', cleanup);
    const plan = store.planResume(call.request.fromVersion);
    const snapshot = store.current();
    if (plan.type === 'snapshot' && snapshot !== undefined) {
      const chunks = chunkBySize(snapshot.prices.map(priceToWire), this.deps.snapshotChunkBytes);
      const builtAt = timestampToWire(snapshot.builtAt);
      chunks.forEach((prices, chunkIndex) =>
        send({
          version: snapshot.version,
          stale: store.stale,
          snapshot: {
            prices,
            overrides: chunkIndex === 0 ? snapshot.overrides.map(overrideToWire) : [],
            builtAt,
            chunkIndex,
            chunkCount: chunks.length,
          },
        }),
      );
    } else if (plan.type === 'changes') {
      for (const change of plan.changes) onEvent({ type: 'change', change });
    } else {
      heartbeat();
    }
  }
}

/** Splits prices into runs whose encoded size stays within `limit` bytes (at least one price each). */
function chunkBySize(prices: readonly PriceMessage[], limit: number): PriceMessage[][] {
  const chunks: PriceMessage[][] = [[]];
  let size = 0;
  for (const price of prices) {
    const bytes = PriceMessage.encode(price).finish().length + 8;
    const current = chunks[chunks.length - 1] as PriceMessage[];
    if (size + bytes > limit && current.length > 0) {
      chunks.push([price]);
      size = bytes;
    } else {
      current.push(price);
      size += bytes;
    }
  }
  return chunks;
}

function deadlinePassed(deadline: Date | number, now: number): boolean {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) && ms <= now;
}
