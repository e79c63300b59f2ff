// Span rows for the traced-usage tests (no I/O): the deterministic fixture rows moved to their
// own day, with a route whose name needs escaping, cache tokens, usage keys of every kind (the
// input with the cache as the aggregator writes it, none, one that is not a count) and
// duplicates of a model call, plus independent expectations computed from the rows.
import type { SpanCostRow } from '../src/index.js';
import { FIXTURE_SECONDS, FIXTURE_START, fixtureSpanRows } from './span-cost-fixtures.js';

/** The rows' day: one day after the shared fixture's, so other tests' sums are untouched. */
export const TRACED_START = FIXTURE_START + 86_400;
export const TRACED_SECONDS = FIXTURE_SECONDS;
export const QUOTED_ROUTE = "/v1/o'reilly\\chat";

const NANOS_PER_DAY = 86_400n * 1_000_000_000n;

export function tracedUsageRows(count: number, topic: string): SpanCostRow[] {
  return fixtureSpanRows(count, topic, 11).map((r, i) => {
    const cacheRead = BigInt((i * 37) % 400);
    const cacheWrite = i % 4 === 0 ? BigInt((i * 13) % 90) : 0n;
    // Anthropic-style spans report input without the cache, others with it; the key always
    // records it with the cache.
    const withCache = r.inputTokens + cacheRead + cacheWrite;
    const inputTokens = r.provider === 'anthropic' ? r.inputTokens : withCache;
    const usageKey = i % 3 === 0 ? `${withCache}:${r.outputTokens}` : i % 3 === 1 ? '' : 'k:1';
    return {
      ...r,
      startTimeUnixNano: r.startTimeUnixNano + NANOS_PER_DAY,
      endTimeUnixNano: r.endTimeUnixNano + NANOS_PER_DAY,
      route: i % 5 === 0 ? QUOTED_ROUTE : r.route,
      inputTokens,
      cacheReadTokens: cacheRead,
      cacheWriteTokens: cacheWrite,
      usageKey,
      usageRole: i % 11 === 0 ? 'duplicate' : '',
      duplicateOf: i % 11 === 0 ? 'b7ad6b7169203331' : '',
    };
  });
}

export interface ExpectedTraced {
  spans: number;
  requests: number;
  input: bigint;
  cacheRead: bigint;
  cacheWrite: bigint;
  inputWithCache: bigint;
  unkeyedCache: bigint;
}

/** Independent sums per route over the charged rows (duplicates left out), from the rows alone. */
export function expectedByRoute(rows: readonly SpanCostRow[]): Map<string, ExpectedTraced> {
  const out = new Map<string, ExpectedTraced>();
  for (const r of rows) {
    if ((r.usageRole ?? '') !== '') continue;
    const e = out.get(r.route) ?? {
      spans: 0,
      requests: 0,
      input: 0n,
      cacheRead: 0n,
      cacheWrite: 0n,
      inputWithCache: 0n,
      unkeyedCache: 0n,
    };
    const key = /^(\d+):\d+$/.exec(r.usageKey ?? '');
    e.spans += 1;
    e.requests += r.isRequest ? 1 : 0;
    e.input += r.inputTokens;
    e.cacheRead += r.cacheReadTokens;
    e.cacheWrite += r.cacheWriteTokens;
    e.inputWithCache += key === null ? r.inputTokens : BigInt(key[1]!);
    e.unkeyedCache += key === null ? r.cacheReadTokens + r.cacheWriteTokens : 0n;
    out.set(r.route, e);
  }
  return out;
}
