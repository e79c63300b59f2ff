import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { overrideFromRecord, overrideToRecord, priceFromRecord, PricingError, priceToRecord } from '@costtrace/core';
import type { OverrideRecord, PriceRecord } from '@costtrace/core';
import type { SourceData } from './sources/price-source.js';

/** The last good data of each source plus the version it was served under. */
export interface PersistedState {
  readonly version: bigint;
  readonly sources: ReadonlyMap<string, { readonly fetchedAt: number; readonly data: SourceData }>;
}

interface FileFormat {
  readonly format: 'costtrace-pricing-snapshot/v1';
  readonly version: string;
  readonly savedAt: string;
  readonly sources: Record<string, { fetchedAt: string; prices: PriceRecord[]; overrides: OverrideRecord[] }>;
}

/** Writes atomically: a temporary file renamed over the old one, so a crash never leaves half a file. */
export async function saveState(path: string, state: PersistedState, now: number): Promise<void> {
  const body: FileFormat = {
    format: 'costtrace-pricing-snapshot/v1',
    version: state.version.toString(),
    savedAt: new Date(now).toISOString(),
    sources: Object.fromEntries(
      [...state.sources].map(([name, s]) => [
        name,
        {
          fetchedAt: new Date(s.fetchedAt).toISOString(),
          prices: s.data.prices.map(priceToRecord),
          overrides: s.data.overrides.map(overrideToRecord),
        },
      ]),
    ),
  };
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(body));
  await rename(temporary, path);
}

/** Reads a persisted state; undefined when there is none. A corrupt file is INVALID_CATALOG. */
export async function loadState(path: string): Promise<PersistedState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PricingError('SOURCE_FAILED', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const body = JSON.parse(text) as FileFormat;
    if (body.format !== 'costtrace-pricing-snapshot/v1') throw new Error(`unknown format ${String(body.format)}`);
    const sources = new Map<string, { fetchedAt: number; data: SourceData }>();
    for (const [name, s] of Object.entries(body.sources)) {
      sources.set(name, {
        fetchedAt: Date.parse(s.fetchedAt),
        data: {
          prices: s.prices.map((p, i) => priceFromRecord(p, `${name}.prices[${i}]`)),
          overrides: s.overrides.map((o, i) => overrideFromRecord(o, `${name}.overrides[${i}]`)),
        },
      });
    }
    return { version: BigInt(body.version), sources };
  } catch (err) {
    throw new PricingError('INVALID_CATALOG', `${path} is not a valid persisted snapshot: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
