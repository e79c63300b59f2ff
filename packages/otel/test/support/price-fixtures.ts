import { PriceSnapshot, priceFromRecord, overrideFromRecord } from '@costtrace/core';
import type { OverrideRecord, PriceRecord } from '@costtrace/core';
import { PricingView } from '../../src/index.js';

/** A model price record per kind, per 1M tokens, effective 2026-01-01. */
export function modelPrices(
  provider: string,
  sku: string,
  perMillion: Partial<Record<'input' | 'output' | 'cache_read' | 'cache_write' | 'reasoning', string>>,
): PriceRecord[] {
  return Object.entries(perMillion).map(([kind, amount]) => ({
    provider,
    resourceType: 'model',
    sku,
    kind: `${kind}_tokens`,
    unit: '1m_tokens',
    amount,
    effectiveFrom: '2026-01-01',
    source: 'test',
  }));
}

export function viewOf(
  records: readonly PriceRecord[],
  options: { version?: bigint; overrides?: readonly OverrideRecord[]; source?: 'bundled' | 'pricing-cache' } = {},
): PricingView {
  const snapshot = new PriceSnapshot(
    options.version ?? 7n,
    records.map((r) => priceFromRecord(r)),
    (options.overrides ?? []).map((o) => overrideFromRecord(o)),
    Date.now(),
  );
  return new PricingView(snapshot, options.source ?? 'pricing-cache', false);
}
