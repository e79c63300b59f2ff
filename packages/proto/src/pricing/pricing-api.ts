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
  QuoteRequest,
  QuoteResponse,
} from '../gen/costtrace/pricing/v1/pricing.js';
import {
  appliedToWire,
  inputTokenRule,
  moneyToWire,
  priceToWire,
  priceUnits,
  pricingModels,
  quoteToWire,
  resourceTypes,
  serviceTiers,
  timestampFromWire,
  usageKinds,
} from './price-wire.js';

/** Where PricingApi reads the snapshot: undefined while none is loaded (answers UNAVAILABLE). */
export interface SnapshotHolder {
  current(): PriceSnapshot | undefined;
  /** Sources failing past their TTL: answers carry `stale`. */
  readonly stale: boolean;
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/**
 * The unary PricingService operations as plain functions of wire messages over a price snapshot:
 * the gRPC handlers wrap them, and the CLI runs them in-process for `--offline`.
 * Throws PricingError (NOT_FOUND, INVALID_ARGUMENT naming the field, UNAVAILABLE).
 */
export class PricingApi {
  /**
   * @param store the snapshot to answer from (pricing-cache's live PriceStore; the CLI's bundled
   *   snapshot) and whether it is stale.
   */
  constructor(
    private readonly store: SnapshotHolder,
    private readonly now: () => number = Date.now,
  ) {}

  private snapshot(): PriceSnapshot {
    const snapshot = this.store.current();
    if (snapshot === undefined) throw new PricingError('UNAVAILABLE', 'no price snapshot loaded yet; retry shortly');
    return snapshot;
  }

  getPrice(req: GetPriceRequest): GetPriceResponse {
    const snapshot = this.snapshot();
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
      stale: this.store.stale,
    };
  }

  quote(req: QuoteRequest): QuoteResponse {
    const snapshot = this.snapshot();
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
    return quoteToWire(quoteUsage(snapshot, usage), this.store.stale);
  }

  listPrices(req: ListPricesRequest): ListPricesResponse {
    const snapshot = this.snapshot();
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
