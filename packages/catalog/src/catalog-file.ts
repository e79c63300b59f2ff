import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { overrideFromRecord, priceFromRecord, PricingError } from '@costtrace/core';
import type { Override, OverrideRecord, Price, PriceRecord } from '@costtrace/core';

/** The prices and overrides of one or more catalogs, validated. */
export interface CatalogData {
  readonly prices: readonly Price[];
  readonly overrides: readonly Override[];
}

function invalid(path: string, problem: string): PricingError {
  return new PricingError('INVALID_CATALOG', `${path} ${problem}`, { field: path });
}

function asObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(path, 'must be an object');
  return value as Record<string, unknown>;
}

function asArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw invalid(path, 'must be an array');
  return value;
}

/**
 * A catalog file: `{ "catalog": name, "gathered": "YYYY-MM-DD", "notes": "...",
 * "prices": [PriceRecord…], "overrides": [OverrideRecord…] }`. Every price names its public
 * source; `gathered` says when the figures were taken.
 */
export function parseCatalog(payload: unknown, where: string): CatalogData {
  const root = asObject(payload, where);
  if (root.gathered !== undefined && typeof root.gathered !== 'string')
    throw invalid(`${where}.gathered`, 'must be a string');
  const prices: Price[] = asArray(root.prices ?? [], `${where}.prices`).map((r, i) =>
    priceFromRecord(asObject(r, `${where}.prices[${i}]`) as unknown as PriceRecord, `${where}.prices[${i}]`),
  );
  const overrides: Override[] = asArray(root.overrides ?? [], `${where}.overrides`).map((r, i) => {
    try {
      return overrideFromRecord(
        asObject(r, `${where}.overrides[${i}]`) as unknown as OverrideRecord,
        `${where}.overrides[${i}]`,
      );
    } catch (err) {
      // An override that does not validate is a bad catalog, not a bad request.
      throw new PricingError('INVALID_CATALOG', (err as Error).message, { cause: err });
    }
  });
  return { prices, overrides };
}

/** Reads and merges every catalog file (`*.json`) of a directory, or one file. */
export async function readCatalogs(path: string): Promise<CatalogData> {
  let files: string[];
  try {
    const entries = await readdir(path, { withFileTypes: true });
    files = entries
      .filter((e) => e.isFile() && extname(e.name) === '.json')
      .map((e) => join(path, e.name))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') {
      throw new PricingError('SOURCE_FAILED', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
    files = [path];
  }
  const prices: Price[] = [];
  const overrides: Override[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new PricingError('SOURCE_FAILED', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new PricingError('INVALID_CATALOG', `${file} is not JSON: ${(err as Error).message}`, { cause: err });
    }
    const data = parseCatalog(json, file.slice(file.lastIndexOf('/') + 1));
    prices.push(...data.prices);
    overrides.push(...data.overrides);
  }
  return { prices, overrides };
}

/** The catalogs shipped with this package (its `catalogs/` directory, beside `dist/`). */
export function bundledCatalogDir(): string {
  return fileURLToPath(new URL('../../catalogs', import.meta.url));
}
