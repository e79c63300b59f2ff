import { status } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import {
  convertUnitPrice,
  invalidArgument,
  overriddenUnitPrice,
  parseQuantity,
  PricingError,
  quoteUsage,
  resolvePrice,
} from '@costtrace/core';
import type { PriceSnapshot, UsageRecord } from '@costtrace/core';
import type {
  GetPriceRequest,
  GetPriceResponse,
  ListPricesRequest,
  ListPricesResponse,
  PricingServiceServer,
  QuoteRequest,
  QuoteResponse,
  WatchPricesRequest,
  WatchPricesResponse,
} from '@costtrace/proto';
import type { Logger } from 'pino';
import type { PricingMetrics } from '../metrics.js';
import type { PriceStore, StoreEvent } from '../price-store.js';
import type { BearerAuth } from './bearer-auth.js';
import { toServiceError } from './grpc-errors.js';
import {
  appliedToWire,
  inputTokenRule,
  moneyToWire,
  overrideToWire,
  priceToWire,
  priceUnits,
  pricingModels,
  quoteToWire,
  resourceTypes,
  serviceTiers,
  timestampFromWire,
  timestampToWire,
  usageKinds,
} from './wire.js';

export interface PricingServiceDeps {
  readonly store: PriceStore;
  readonly metrics: PricingMetrics;
  readonly logger: Logger;
  readonly auth: BearerAuth;
  readonly heartbeatMs: number;
  /** Buffered bytes after which a watcher that does not read is disconnected. */
  readonly maxWatchBufferBytes: number;
  readonly now?: (() => number) | undefined;
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/** The PricingService handlers: thin adapters from the wire to the core price model. */
export class PricingServiceHandlers {
  private readonly watchers = new Set<ServerWritableStream<WatchPricesRequest, WatchPricesResponse>>();
  private readonly now: () => number;

  constructor(private readonly deps: PricingServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  implementation(): PricingServiceServer {
    return {
      getPrice: this.unary('GetPrice', (req: GetPriceRequest, snapshot) => this.getPrice(req, snapshot)),
      quote: this.unary('Quote', (req: QuoteRequest, snapshot) => this.quote(req, snapshot)),
      listPrices: this.unary('ListPrices', (req: ListPricesRequest, snapshot) => this.listPrices(req, snapshot)),
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
    handle: (request: Req, snapshot: PriceSnapshot) => Res,
  ): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
    const histogram = this.deps.metrics.rpcDuration;
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
        const snapshot = this.deps.store.current();
        if (snapshot === undefined)
          throw new PricingError('UNAVAILABLE', 'no price snapshot loaded yet; retry shortly');
        callback(null, handle(call.request, snapshot));
      } catch (err) {
        const error = toServiceError(err);
        code = error.code;
        if (!(err instanceof PricingError)) this.deps.logger.error({ err, method }, 'unexpected error in handler');
        callback(error);
      } finally {
        histogram.observe({ method, code: status[code] }, Number(process.hrtime.bigint() - started) / 1e9);
      }
    };
  }

  private getPrice(req: GetPriceRequest, snapshot: PriceSnapshot): GetPriceResponse {
    const provider = required(req.provider, 'provider');
    const sku = required(req.sku, 'sku');
    const kind = usageKinds.optional(req.kind, 'kind');
    if (kind === undefined) throw invalidArgument('kind', 'is required (e.g. USAGE_KIND_INPUT_TOKENS)');
    const at = timestampFromWire(req.at, 'at', this.now());
    const resourceType = resourceTypeOf(kind);
    const query = {
      provider,
      sku,
      region: req.region.toLowerCase(),
      kind,
      serviceTier: serviceTiers.toCore(req.serviceTier, 'service_tier'),
      pricingModel: pricingModels.toCore(req.pricingModel, 'pricing_model'),
      at,
      inputTokens: req.inputTokens,
    };
    const { basis, override } = resolvePrice(snapshot, query, resourceType);
    const unit = priceUnits.optional(req.unit, 'unit') ?? basis.unit;
    const amount = convertUnitPrice(basis.amount, basis.unit, unit);
    const effective = override === undefined ? amount : overriddenUnitPrice(override, amount, unit);
    const applied = override === undefined ? [] : [appliedToWire(override)];
    const wire = priceToWire(basis);
    return {
      price: unit === basis.unit ? wire : { ...wire, unit: priceUnits.toWire(unit), amount: moneyToWire(amount) },
      effectiveAmount: moneyToWire(effective),
      overrides: applied,
      snapshotVersion: snapshot.version,
      stale: this.deps.store.stale,
    };
  }

  private quote(req: QuoteRequest, snapshot: PriceSnapshot): QuoteResponse {
    const usage: UsageRecord = {
      at: timestampFromWire(req.at, 'at', this.now()),
      models: req.models.map((m, i) => ({
        provider: m.provider,
        model: m.model,
        region: m.region,
        serviceTier: serviceTiers.toCore(m.serviceTier, `models[${i}].service_tier`),
        inputTokenRule: inputTokenRule(m.inputTokenRule, `models[${i}].input_token_rule`),
        inputTokens: m.inputTokens,
        outputTokens: m.outputTokens,
        cacheReadTokens: m.cacheReadTokens,
        cacheWriteTokens: m.cacheWriteTokens,
        reasoningTokens: m.reasoningTokens,
        requests: m.requests,
        images: m.images,
      })),
      gpus: req.gpus.map((g, i) => ({
        provider: g.provider,
        gpuType: g.gpuType,
        gpuCount: g.gpuCount,
        seconds: parseQuantity(g.seconds, `gpus[${i}].seconds`),
        region: g.region,
        pricingModel: pricingModels.toCore(g.pricingModel, `gpus[${i}].pricing_model`),
      })),
      instances: req.instances.map((v, i) => ({
        provider: v.provider,
        instanceType: v.instanceType,
        region: v.region,
        seconds: parseQuantity(v.seconds, `instances[${i}].seconds`),
        count: v.count,
        pricingModel: pricingModels.toCore(v.pricingModel, `instances[${i}].pricing_model`),
      })),
      storage: req.storage.map((s, i) => ({
        provider: s.provider,
        storageClass: s.storageClass,
        region: s.region,
        gbMonths: parseQuantity(s.gbMonths, `storage[${i}].gb_months`),
      })),
      egress: req.egress.map((e, i) => ({
        provider: e.provider,
        egressClass: e.egressClass,
        region: e.region,
        gb: parseQuantity(e.gb, `egress[${i}].gb`),
      })),
    };
    const lines = req.models.length + req.gpus.length + req.instances.length + req.storage.length + req.egress.length;
    if (lines === 0) throw invalidArgument('models', 'a quote needs at least one usage entry');
    return quoteToWire(quoteUsage(snapshot, usage), this.deps.store.stale);
  }

  private listPrices(req: ListPricesRequest, snapshot: PriceSnapshot): ListPricesResponse {
    const pageSize = req.pageSize === 0 ? DEFAULT_PAGE : req.pageSize;
    if (pageSize > MAX_PAGE) throw invalidArgument('page_size', `must be at most ${MAX_PAGE}`);
    const offset = decodePageToken(req.pageToken);
    const all = snapshot.list({
      provider: req.provider.toLowerCase(),
      skuContains: req.skuContains,
      region: req.region.toLowerCase(),
      resourceType: resourceTypes.optional(req.resourceType, 'resource_type'),
      kind: usageKinds.optional(req.kind, 'kind'),
      at: req.includeHistory && req.at === undefined ? undefined : timestampFromWire(req.at, 'at', this.now()),
    });
    const page = all.slice(offset, offset + pageSize);
    const next = offset + page.length;
    return {
      prices: page.map(priceToWire),
      nextPageToken: next < all.length ? encodePageToken(next) : '',
      snapshotVersion: snapshot.version,
      totalSize: all.length,
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
    const unsubscribe = store.subscribe(onEvent);
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
      send({
        version: snapshot.version,
        stale: store.stale,
        snapshot: {
          prices: snapshot.prices.map(priceToWire),
          overrides: snapshot.overrides.map(overrideToWire),
          builtAt: timestampToWire(snapshot.builtAt),
        },
      });
    } else if (plan.type === 'changes') {
      for (const change of plan.changes) onEvent({ type: 'change', change });
    } else {
      heartbeat();
    }
  }
}

function deadlinePassed(deadline: Date | number, now: number): boolean {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) && ms <= now;
}

function required(value: string, field: string): string {
  const text = value.trim().toLowerCase();
  if (text === '') throw invalidArgument(field, 'is required');
  return text;
}

function resourceTypeOf(kind: string): 'model' | 'gpu' | 'instance' | 'storage' | 'egress' {
  if (kind === 'gpu_time') return 'gpu';
  if (kind === 'instance_time') return 'instance';
  if (kind === 'storage' || kind === 'egress') return kind;
  return 'model';
}

function encodePageToken(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url');
}

function decodePageToken(token: string): number {
  if (token === '') return 0;
  const match = /^o:(\d{1,9})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (match === null) throw invalidArgument('page_token', 'is not a token this service issued');
  return Number(match[1]);
}
