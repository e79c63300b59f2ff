import { overrideFromRecord, overrideToRecord } from './overrides.js';
import type { Override, OverrideRecord } from './overrides.js';
import { priceFromRecord, priceToRecord } from './price.js';
import type { Price, PriceRecord } from './price.js';
import { PriceSnapshot } from './price-snapshot.js';
import { invalidArgument, PricingError } from './pricing-error.js';
import { PricingView } from './pricing-view.js';
import type { SnapshotSource } from './pricing-view.js';

/** Format marker of a snapshot document; bumped when its shape changes incompatibly. */
export const SNAPSHOT_DOCUMENT_FORMAT = 'costtrace.price-snapshot.v1';

/**
 * A pricing view as plain JSON data: what the aggregator keeps on disk (the last snapshot it
 * got from pricing-cache) and what `costtrace reprice --snapshot` reads. Amounts are exact
 * decimal strings, times ISO 8601.
 */
export interface SnapshotDocument {
  readonly format: typeof SNAPSHOT_DOCUMENT_FORMAT;
  /** `cost.pricing.version` of the view, e.g. "pcache-1042". */
  readonly version: string;
  /** pricing-cache's snapshot version (a decimal integer). */
  readonly snapshotVersion: string;
  readonly source: SnapshotSource;
  /** When pricing-cache built the snapshot. */
  readonly builtAt: string;
  readonly prices: readonly PriceRecord[];
  readonly overrides: readonly OverrideRecord[];
}

export function snapshotDocument(view: PricingView): SnapshotDocument {
  return {
    format: SNAPSHOT_DOCUMENT_FORMAT,
    version: view.version,
    snapshotVersion: view.snapshot.version.toString(),
    source: view.source,
    builtAt: new Date(view.snapshot.builtAt).toISOString(),
    prices: view.snapshot.prices.map(priceToRecord),
    overrides: view.snapshot.overrides.map(overrideToRecord),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The pricing view of a snapshot document's text (a file's content): JSON first, then every
 * field as in viewFromDocument. Throws PricingError INVALID_ARGUMENT naming `where`.
 */
export function viewFromDocumentText(text: string, where: string, stale = false): PricingView {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new PricingError('INVALID_ARGUMENT', `${where} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  return viewFromDocument(json, where, stale);
}

/**
 * The pricing view a document describes, every price and override validated. `where` names
 * the document in errors (a file path). Throws PricingError INVALID_ARGUMENT naming the field.
 */
export function viewFromDocument(document: unknown, where: string, stale = false): PricingView {
  if (!isObject(document)) throw invalidArgument(where, 'must be a JSON object (a costtrace price snapshot)');
  if (document.format !== SNAPSHOT_DOCUMENT_FORMAT) {
    throw invalidArgument(`${where}.format`, `must be "${SNAPSHOT_DOCUMENT_FORMAT}"`);
  }
  const text = (field: string): string => {
    const value = document[field];
    if (typeof value !== 'string' || value === '') throw invalidArgument(`${where}.${field}`, 'must be a string');
    return value;
  };
  const version = text('version');
  const snapshotVersion = text('snapshotVersion');
  if (!/^\d{1,20}$/.test(snapshotVersion)) throw invalidArgument(`${where}.snapshotVersion`, 'must be an integer');
  const source = text('source');
  if (source !== 'bundled' && source !== 'pricing-cache') {
    throw invalidArgument(`${where}.source`, 'must be "bundled" or "pricing-cache"');
  }
  const builtAt = Date.parse(text('builtAt'));
  if (Number.isNaN(builtAt)) throw invalidArgument(`${where}.builtAt`, 'must be an ISO 8601 time');
  if (!Array.isArray(document.prices)) throw invalidArgument(`${where}.prices`, 'must be an array');
  const overridesField = document.overrides ?? [];
  if (!Array.isArray(overridesField)) throw invalidArgument(`${where}.overrides`, 'must be an array');
  const prices: Price[] = document.prices.map((r: unknown, i) => {
    if (!isObject(r)) throw invalidArgument(`${where}.prices[${i}]`, 'must be an object');
    return priceFromRecord(r as unknown as PriceRecord, `${where}.prices[${i}]`);
  });
  const overrides: Override[] = overridesField.map((r: unknown, i) => {
    if (!isObject(r)) throw invalidArgument(`${where}.overrides[${i}]`, 'must be an object');
    return overrideFromRecord(r as unknown as OverrideRecord, `${where}.overrides[${i}]`);
  });
  const snapshot = new PriceSnapshot(BigInt(snapshotVersion), prices, overrides, builtAt);
  return new PricingView(snapshot, source, stale, version);
}
