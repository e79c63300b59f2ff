import type { Override, Price } from '@costtrace/core';

/** What one successful fetch of a source yields, already validated. */
export interface SourceData {
  readonly prices: readonly Price[];
  readonly overrides: readonly Override[];
}

/** How often and how patiently a source is asked, and when its circuit opens. */
export interface SourceSchedule {
  /** Time between successful refreshes. */
  readonly ttlMs: number;
  /** Random spread of each interval, as a fraction of it (0.1: ±10 %). */
  readonly jitter: number;
  /** Whole fetch-and-parse budget. */
  readonly timeoutMs: number;
  /** Consecutive failures that open the circuit. */
  readonly failureThreshold: number;
  /** How long an open circuit rejects calls before one trial (half-open). */
  readonly openMs: number;
}

/**
 * A pluggable price source. `fetch` returns validated data or throws PricingError
 * (SOURCE_FAILED for transport problems, INVALID_CATALOG for a malformed payload, which is then
 * rejected whole). It must honour `signal`.
 */
export interface PriceSource {
  readonly name: string;
  readonly schedule: SourceSchedule;
  fetch(signal: AbortSignal): Promise<SourceData>;
}

export const DEFAULT_SCHEDULE: SourceSchedule = {
  ttlMs: 15 * 60_000,
  jitter: 0.1,
  timeoutMs: 30_000,
  failureThreshold: 3,
  openMs: 60_000,
};
