import { formatScaled, MONEY_SCALE, parseScaled } from '@costtrace/core';
import { ROLLUP_KEY, ROLLUP_MEASURES } from './migrations.js';

/**
 * A rollup row as read back for comparison: key columns and measures as text (64-bit counts and
 * decimals read as strings, so nothing passes through binary floating point). `minute` is unix
 * seconds.
 */
export type RollupTextRow = Readonly<Record<string, string>>;

/** What the rollup lacks, per key, to equal the spans; and the keys where it holds more. */
export interface RollupDelta {
  /** Rows to add (every measure ≥ 0, at least one > 0), as text in `ROLLUP_KEY` + measure order. */
  readonly missing: RollupTextRow[];
  /** Keys where the rollup holds more than the spans in some measure (never expected). */
  readonly excess: string[];
}

function scaleOf(type: string): number {
  return type.startsWith('Decimal') ? MONEY_SCALE : 0;
}

function keyOf(row: RollupTextRow): string {
  return JSON.stringify(ROLLUP_KEY.map((column) => row[column] ?? ''));
}

/**
 * Compares the rollup as the spans say it should be (`truth`, one row per key) with what the
 * rollup holds (`rollup`, summed per key) and returns the rows that make them equal. Pure.
 *
 * A crash can only leave the rollup short (ClickHouse writes a materialized view's part after the
 * source table's part, and one consumer owns a source partition), so a negative difference is
 * reported as `excess` and never written back: counts cannot go below zero in a SummingMergeTree.
 */
export function rollupDelta(truth: readonly RollupTextRow[], rollup: readonly RollupTextRow[]): RollupDelta {
  const held = new Map<string, RollupTextRow>();
  for (const row of rollup) held.set(keyOf(row), row);
  const missing: RollupTextRow[] = [];
  const excess: string[] = [];
  for (const row of truth) {
    const key = keyOf(row);
    const have = held.get(key);
    held.delete(key);
    const out: Record<string, string> = {};
    for (const column of ROLLUP_KEY) out[column] = row[column] ?? '';
    let positive = false;
    let negative = false;
    for (const [column, type] of ROLLUP_MEASURES) {
      const scale = scaleOf(type);
      const diff = parseScaled(row[column] ?? '0', scale) - parseScaled(have?.[column] ?? '0', scale);
      if (diff > 0n) positive = true;
      if (diff < 0n) negative = true;
      out[column] = formatScaled(diff, scale);
    }
    if (negative) excess.push(key);
    else if (positive) missing.push(out);
  }
  // Keys the rollup holds and the spans do not: excess unless every measure is zero.
  for (const [key, row] of held) {
    if (ROLLUP_MEASURES.some(([column, type]) => parseScaled(row[column] ?? '0', scaleOf(type)) !== 0n)) {
      excess.push(key);
    }
  }
  return { missing, excess };
}
