import { divideRoundHalfEven, formatScaled, MONEY_SCALE, parseScaled } from '@costtrace/core';
import type { CostQuery, QueryDimension } from './cost-query.js';

/** A row as the SQL of clickhouse-cost-sql returns it (JSONEachRow). */
export interface RawCostRow {
  readonly [column: string]: string | number | undefined;
  readonly cost: string;
  readonly spans: number | string;
  readonly requests: number | string;
  readonly tokens: number | string;
}

/** One report row: dimension values, optional bucket start, sums and exact per-unit costs. */
export interface CostReportRow {
  readonly dimensions: Readonly<Partial<Record<QueryDimension, string>>>;
  /** Bucket start, unix seconds (series queries only). */
  readonly bucket?: number;
  /** Exact decimal sum. */
  readonly cost: string;
  readonly spans: number;
  readonly requests: number;
  /** Input plus output tokens as reported by the spans. */
  readonly tokens: number;
  /** Exact, rounded once half to even at 12 places; null when the denominator is zero. */
  readonly costPerRequest: string | null;
  readonly costPer1kRequests: string | null;
  readonly costPer1MTokens: string | null;
}

function ratio(costScaled: bigint, multiplier: bigint, denominator: number): string | null {
  if (denominator <= 0) return null;
  return formatScaled(divideRoundHalfEven(costScaled * multiplier, BigInt(denominator)), MONEY_SCALE);
}

/** Turns raw rows into report rows, computing per-request and per-token costs exactly. */
export function costReportRows(query: CostQuery, rows: readonly RawCostRow[]): CostReportRow[] {
  return rows.map((row) => {
    const scaled = parseScaled(row.cost, MONEY_SCALE);
    const spans = Number(row.spans);
    const requests = Number(row.requests);
    const tokens = Number(row.tokens);
    const dimensions: Partial<Record<QueryDimension, string>> = {};
    for (const d of query.groupBy) dimensions[d] = String(row[d] ?? '');
    return {
      dimensions,
      ...(query.bucketSeconds !== undefined ? { bucket: Number(row.bucket) } : {}),
      cost: formatScaled(scaled, MONEY_SCALE),
      spans,
      requests,
      tokens,
      costPerRequest: ratio(scaled, 1n, requests),
      costPer1kRequests: ratio(scaled, 1000n, requests),
      costPer1MTokens: ratio(scaled, 1_000_000n, tokens),
    };
  });
}
