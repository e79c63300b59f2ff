import { formatScaled, MONEY_SCALE, parseScaled } from '@costtrace/core';
import { ROLLUP_KEY, ROLLUP_MEASURES } from './migrations.js';

/**
 * A rollup row as read back for comparison: key columns and measures as text (64-bit counts and
 * decimals read as strings, so nothing passes through binary floating point). `minute` is unix
 * seconds.
 */
export type RollupTextRow = Readonly<Record<string, string>>;

/** What to add to the rollup, per key, to make it equal the spans. */
export interface RollupDelta {
  /** Rows to add, as text in `ROLLUP_KEY` + measure order (measures may be negative). */
  readonly rows: RollupTextRow[];
  /** Keys where the rollup held more than the spans in some measure (corrected downwards). */
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
 * On ClickHouse 18.16 a crash can only leave the rollup short (the view's part is written after
 * the table's). The measures are signed, so a rollup holding more (a release that wrote the view
 * first, or a key the spans no longer have) is corrected too, and reported as `excess`.
 */
export function rollupDelta(truth: readonly RollupTextRow[], rollup: readonly RollupTextRow[]): RollupDelta {
  const held = new Map<string, RollupTextRow>();
  for (const row of rollup) held.set(keyOf(row), row);
  const rows: RollupTextRow[] = [];
  const excess: string[] = [];
  const difference = (key: string, want: RollupTextRow | undefined, have: RollupTextRow | undefined): void => {
    const keyRow = want ?? have!;
    const out: Record<string, string> = {};
    for (const column of ROLLUP_KEY) out[column] = keyRow[column] ?? '';
    let changed = false;
    let negative = false;
    for (const [column, type] of ROLLUP_MEASURES) {
      const scale = scaleOf(type);
      const diff = parseScaled(want?.[column] ?? '0', scale) - parseScaled(have?.[column] ?? '0', scale);
      if (diff !== 0n) changed = true;
      if (diff < 0n) negative = true;
      out[column] = formatScaled(diff, scale);
    }
    if (negative) excess.push(key);
    if (changed) rows.push(out);
  };
  for (const row of truth) {
    const key = keyOf(row);
    difference(key, row, held.get(key));
    held.delete(key);
  }
  for (const [key, row] of held) difference(key, undefined, row);
  return { rows, excess };
}
