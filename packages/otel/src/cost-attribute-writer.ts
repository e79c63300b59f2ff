import type { Attributes, AttributeValue } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/sdk-trace-base';
import { CostAttr, InstanceAttr } from '@costtrace/core';

/**
 * The cost attributes of one span, filled in by the processor and written once. Reused from span
 * to span (the processor is synchronous), so pricing a span allocates no intermediate objects.
 * `undefined` fields are not written.
 */
export class CostStamp {
  total: string | undefined;
  totalFloat: number | undefined;
  currency: string | undefined;
  input: string | undefined;
  output: string | undefined;
  cacheRead: string | undefined;
  cacheWrite: string | undefined;
  reasoning: string | undefined;
  gpu: string | undefined;
  compute: string | undefined;
  shareSeconds: number | undefined;
  version: string | undefined;
  source: string | undefined;
  stale: boolean | undefined;
  priceIds: readonly string[] | undefined;
  reason: string | undefined;

  reset(): void {
    this.total = undefined;
    this.totalFloat = undefined;
    this.currency = undefined;
    this.input = undefined;
    this.output = undefined;
    this.cacheRead = undefined;
    this.cacheWrite = undefined;
    this.reasoning = undefined;
    this.gpu = undefined;
    this.compute = undefined;
    this.shareSeconds = undefined;
    this.version = undefined;
    this.source = undefined;
    this.stale = undefined;
    this.priceIds = undefined;
    this.reason = undefined;
  }
}

/** Most attributes one stamp writes. */
const MAX_STAMPED = 16;

/** The SDK span's attribute bookkeeping (sdk-trace-base 2.x), read to honour its limits. */
interface SdkSpanInternals {
  readonly attributes: Attributes;
  _attributesCount?: unknown;
  readonly _spanLimits?: { readonly attributeCountLimit?: unknown; readonly attributeValueLengthLimit?: unknown };
}

/**
 * Whether writing straight into the span's attribute object keeps every SDK guarantee:
 * sdk-trace-base 2.x bookkeeping present, the attribute count limit not reached even with every
 * cost attribute, no value length limit short enough to truncate ours, and no cost attribute
 * there yet. Otherwise the writer goes through `setAttribute`.
 */
function canWriteDirectly(internals: SdkSpanInternals): boolean {
  const count = internals._attributesCount;
  const limits = internals._spanLimits;
  const attrs = internals.attributes;
  if (typeof count !== 'number' || limits === undefined || typeof attrs !== 'object' || attrs === null) return false;
  const countLimit = limits.attributeCountLimit;
  if (countLimit !== undefined && (typeof countLimit !== 'number' || count + MAX_STAMPED > countLimit)) return false;
  const lengthLimit = limits.attributeValueLengthLimit;
  if (lengthLimit !== undefined && (typeof lengthLimit !== 'number' || lengthLimit < 1024)) return false;
  // (A frozen or sealed attribute object makes the first store throw, as it would in
  // setAttribute; the processor catches, counts and logs it.)
  return attrs['cost.total'] === undefined && attrs['cost.unpriced_reason'] === undefined;
}

/**
 * Writes a stamp onto a span in `onEnding` (still writable). Where it is safe (see
 * canWriteDirectly) it stores into the span's attribute object with constant keys and updates the
 * SDK's attribute count, like `setAttribute` would: V8 keeps such an object in fast mode, while
 * adding the same properties through `setAttribute`'s computed keys turns a span past ~20
 * attributes into a slow dictionary object (measured in bench/sdk). Otherwise it calls
 * `setAttribute` per value. The constant keys below are the `cost.*` names of core's CostAttr
 * (tests check the output). The price id list is stored as is, not copied: the processor hands
 * over either a frozen list shared by every span billed at the same prices, or a list it built
 * for this span alone, and changes neither afterwards.
 */
export function writeCostAttributes(span: Span, s: CostStamp): void {
  const internals = span as unknown as SdkSpanInternals & { _attributesCount: number };
  if (!canWriteDirectly(internals)) {
    writeThroughApi(span, s);
    return;
  }
  const a = internals.attributes;
  let added = 0;
  // Attributes every priced span has come first, in a fixed order, and the optional ones after:
  // spans that arrived with the same attribute layout then share hidden classes through the
  // first stores, which keeps those property stores polymorphic rather than megamorphic.
  if (s.total !== undefined) {
    a['cost.total'] = s.total;
    added++;
  }
  if (s.totalFloat !== undefined) {
    a['cost.total_float'] = s.totalFloat;
    added++;
  }
  if (s.currency !== undefined) {
    a['cost.currency'] = s.currency;
    added++;
  }
  if (s.version !== undefined) {
    a['cost.pricing.version'] = s.version;
    added++;
  }
  if (s.source !== undefined) {
    a['cost.pricing.source'] = s.source;
    added++;
  }
  if (s.priceIds !== undefined) {
    a['cost.pricing.price_ids'] = s.priceIds as string[];
    added++;
  }
  if (s.stale !== undefined) {
    a['cost.pricing.stale'] = s.stale;
    added++;
  }
  if (s.input !== undefined) {
    a['cost.input_tokens'] = s.input;
    added++;
  }
  if (s.output !== undefined) {
    a['cost.output_tokens'] = s.output;
    added++;
  }
  if (s.cacheRead !== undefined) {
    a['cost.cache_read_tokens'] = s.cacheRead;
    added++;
  }
  if (s.cacheWrite !== undefined) {
    a['cost.cache_write_tokens'] = s.cacheWrite;
    added++;
  }
  if (s.reasoning !== undefined) {
    a['cost.reasoning_tokens'] = s.reasoning;
    added++;
  }
  if (s.gpu !== undefined) {
    a['cost.gpu'] = s.gpu;
    added++;
  }
  if (s.compute !== undefined) {
    a['cost.compute'] = s.compute;
    added++;
  }
  if (s.shareSeconds !== undefined && a['costtrace.instance.share_seconds'] === undefined) {
    a['costtrace.instance.share_seconds'] = s.shareSeconds;
    added++;
  }
  if (s.reason !== undefined) {
    a['cost.unpriced_reason'] = s.reason;
    added++;
  }
  internals._attributesCount += added;
}

function writeThroughApi(span: Span, s: CostStamp): void {
  const set = (key: string, value: AttributeValue | undefined): void => {
    if (value !== undefined) span.setAttribute(key, value);
  };
  set(CostAttr.total, s.total);
  set(CostAttr.totalFloat, s.totalFloat);
  set(CostAttr.currency, s.currency);
  set(CostAttr.inputTokens, s.input);
  set(CostAttr.outputTokens, s.output);
  set(CostAttr.cacheReadTokens, s.cacheRead);
  set(CostAttr.cacheWriteTokens, s.cacheWrite);
  set(CostAttr.reasoningTokens, s.reasoning);
  set(CostAttr.gpu, s.gpu);
  set(CostAttr.compute, s.compute);
  set(InstanceAttr.shareSeconds, s.shareSeconds);
  set(CostAttr.pricingVersion, s.version);
  set(CostAttr.pricingSource, s.source);
  set(CostAttr.pricingStale, s.stale);
  set(CostAttr.pricingPriceIds, s.priceIds as string[] | undefined);
  set(CostAttr.unpricedReason, s.reason);
}
