import { formatScaled, MONEY_SCALE, parseScaled } from '@costtrace/core';
import { ROLLUP_MEASURES } from './clickhouse/migrations.js';
import type { RollupDifference } from './cost-store.js';

/**
 * Per-minute sums of every rollup measure, as text (`minute` in unix seconds), from the spans and
 * from the rollup → the minutes where any measure differs. Pure; shared by both stores.
 */
export function minuteDifferences(
  truth: readonly Readonly<Record<string, string>>[],
  rollup: readonly Readonly<Record<string, string>>[],
): RollupDifference[] {
  const scale = (type: string): number => (type.startsWith('Decimal') ? MONEY_SCALE : 0);
  const value = (row: Readonly<Record<string, string>> | undefined, column: string, type: string): bigint =>
    parseScaled(row?.[column] ?? '0', scale(type));
  const byMinute = (rows: readonly Readonly<Record<string, string>>[]): Map<number, Readonly<Record<string, string>>> =>
    new Map(rows.map((row) => [Number(row.minute), row]));
  const spans = byMinute(truth);
  const held = byMinute(rollup);
  const out: RollupDifference[] = [];
  for (const minute of new Set([...spans.keys(), ...held.keys()])) {
    const a = spans.get(minute);
    const b = held.get(minute);
    if (ROLLUP_MEASURES.every(([column, type]) => value(a, column, type) === value(b, column, type))) continue;
    out.push({
      minute,
      spans: [value(a, 'spans', 'UInt64'), value(b, 'spans', 'UInt64')],
      costTotal: [
        formatScaled(value(a, 'cost_total', 'Decimal'), MONEY_SCALE),
        formatScaled(value(b, 'cost_total', 'Decimal'), MONEY_SCALE),
      ],
    });
  }
  return out.sort((x, y) => x.minute - y.minute);
}
