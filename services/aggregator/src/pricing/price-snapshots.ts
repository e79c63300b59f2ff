import { readFile } from 'node:fs/promises';
import {
  BUNDLED_TOKEN_PRICES,
  BUNDLED_TOKEN_PRICES_VERSION,
  TokenPriceTable,
  tokenPriceFromRecord,
} from '@costtrace/core';
import type { TokenPriceRecord } from '@costtrace/core';

/** One price snapshot as a file holds it: a version, when it took effect, and token prices. */
export interface PriceSnapshotRecord {
  readonly version: string;
  /** ISO 8601 instant; absent: valid since forever. */
  readonly effectiveFrom?: string;
  readonly prices: readonly TokenPriceRecord[];
}

interface Entry {
  readonly fromNanos: bigint;
  readonly table: TokenPriceTable;
}

/**
 * Price snapshots ordered by effective time: a span is priced with the snapshot that was in
 * effect at the span's start, so a late price change never reprices history silently (that is
 * what `costtrace reprice` is for).
 */
export class PriceSnapshots {
  private readonly entries: readonly Entry[];

  constructor(snapshots: readonly { readonly effectiveFromUnixNano: bigint; readonly table: TokenPriceTable }[]) {
    if (snapshots.length === 0) throw new Error('PriceSnapshots needs at least one snapshot');
    this.entries = [...snapshots]
      .map((s) => ({ fromNanos: s.effectiveFromUnixNano, table: s.table }))
      .sort((a, b) => (a.fromNanos < b.fromNanos ? -1 : a.fromNanos > b.fromNanos ? 1 : 0));
  }

  /** Only the price table bundled with costtrace. */
  static bundled(): PriceSnapshots {
    return new PriceSnapshots([{ effectiveFromUnixNano: 0n, table: bundledTable() }]);
  }

  /** The snapshot in effect at `unixNano` (the earliest one for spans older than all). */
  at(unixNano: bigint): TokenPriceTable {
    let found = this.entries[0]!.table;
    for (const entry of this.entries) {
      if (entry.fromNanos <= unixNano) found = entry.table;
      else break;
    }
    return found;
  }

  get latest(): TokenPriceTable {
    return this.entries[this.entries.length - 1]!.table;
  }

  get versions(): string[] {
    return this.entries.map((e) => e.table.version);
  }
}

export function bundledTable(): TokenPriceTable {
  return new TokenPriceTable(BUNDLED_TOKEN_PRICES_VERSION, BUNDLED_TOKEN_PRICES.map(tokenPriceFromRecord));
}

export class PriceFileError extends Error {
  override readonly name = 'PriceFileError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function snapshotFromJson(value: unknown, where: string, fallbackVersion: string): PriceSnapshotRecord {
  if (Array.isArray(value)) return { version: fallbackVersion, prices: value as TokenPriceRecord[] };
  if (!isRecord(value) || !Array.isArray(value.prices) || typeof value.version !== 'string') {
    throw new PriceFileError(
      `${where}: expected {"version": "...", "prices": [TokenPriceRecord...]} or an array of TokenPriceRecord`,
    );
  }
  if (
    value.effectiveFrom !== undefined &&
    (typeof value.effectiveFrom !== 'string' || Number.isNaN(Date.parse(value.effectiveFrom)))
  ) {
    throw new PriceFileError(`${where}: effectiveFrom must be an ISO 8601 time`);
  }
  return value as unknown as PriceSnapshotRecord;
}

/** A TokenPriceTable from a snapshot record; every amount is checked as an exact decimal. */
export function tableFromSnapshot(record: PriceSnapshotRecord, where: string): TokenPriceTable {
  try {
    return new TokenPriceTable(record.version, record.prices.map(tokenPriceFromRecord));
  } catch (err) {
    throw new PriceFileError(`${where}: ${(err as Error).message}`);
  }
}

/**
 * Reads price snapshots from a JSON file: one snapshot object, an array of snapshot objects, or
 * a plain array of TokenPriceRecord (then the version is `file:<name>`).
 */
export async function readPriceSnapshotFile(path: string): Promise<PriceSnapshotRecord[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new PriceFileError(`cannot read price snapshot file ${path}: ${(err as Error).message}`);
  }
  const name = path.split('/').pop() ?? path;
  if (Array.isArray(parsed) && parsed.every((p) => isRecord(p) && Array.isArray(p.prices))) {
    return parsed.map((p, i) => snapshotFromJson(p, `${path}[${i}]`, `file:${name}`));
  }
  return [snapshotFromJson(parsed, path, `file:${name}`)];
}

/** Bundled prices plus the snapshots of a file (each from its effectiveFrom). */
export async function loadPriceSnapshots(path: string | undefined): Promise<PriceSnapshots> {
  if (path === undefined) return PriceSnapshots.bundled();
  const records = await readPriceSnapshotFile(path);
  return new PriceSnapshots([
    { effectiveFromUnixNano: 0n, table: bundledTable() },
    ...records.map((r) => ({
      effectiveFromUnixNano: r.effectiveFrom === undefined ? 0n : BigInt(Date.parse(r.effectiveFrom)) * 1_000_000n,
      table: tableFromSnapshot(r, path),
    })),
  ]);
}
