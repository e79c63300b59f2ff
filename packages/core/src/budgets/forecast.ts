import { divideRoundHalfEven } from '../rounding.js';

const HOUR_MS = 3_600_000n;

export interface ForecastInput {
  /** Exact spend in the current window (10^-12 USD). */
  readonly spend: bigint;
  readonly limit: bigint;
  readonly nowMs: number;
  /** Spend observed over the recent sample period, and the length of that period. */
  readonly sampleSpend: bigint;
  readonly sampleMs: number;
  /**
   * Rolling window: its length (the projection is the steady-state window spend at the recent
   * burn rate). Calendar window: the period end (the projection is spend + rate × time left).
   */
  readonly window:
    { readonly kind: 'rolling'; readonly durationMs: number } | { readonly kind: 'calendar'; readonly endMs: number };
}

export interface Forecast {
  /** Recent burn rate, 10^-12 USD per hour (rounded half to even). */
  readonly burnRatePerHour: bigint;
  /** Projected spend at the end of the window (10^-12 USD, rounded half to even). */
  readonly projected: bigint;
  /** When spend reaches the limit at the current burn rate; null if it does not (rate 0, or after a calendar period ends). */
  readonly exhaustionAtMs: number | null;
}

/**
 * Burn-rate projection. The rate is the spend of the last `sampleMs` divided by `sampleMs`
 * (a simple moving average, chosen so a forecast is explainable from two numbers). For a
 * rolling window the projection is rate × window length — what the window will hold if the
 * recent rate continues; for a calendar window it is spend so far + rate × time left.
 * Time to exhaustion is (limit − spend) / rate; for rolling windows this ignores spend that
 * ages out meanwhile, so it errs early (the safe side for an alert).
 */
export function forecastSpend(input: ForecastInput): Forecast {
  if (input.sampleMs <= 0) throw new RangeError('sampleMs must be positive');
  const sampleMs = BigInt(Math.round(input.sampleMs));
  const burnRatePerHour = divideRoundHalfEven(input.sampleSpend * HOUR_MS, sampleMs);
  let projected: bigint;
  let exhaustionAtMs: number | null = null;
  if (input.window.kind === 'rolling') {
    projected = divideRoundHalfEven(input.sampleSpend * BigInt(input.window.durationMs), sampleMs);
  } else {
    const left = BigInt(Math.max(0, input.window.endMs - input.nowMs));
    projected = input.spend + divideRoundHalfEven(input.sampleSpend * left, sampleMs);
  }
  if (input.spend >= input.limit) exhaustionAtMs = input.nowMs;
  else if (input.sampleSpend > 0n) {
    const msLeft = Number(((input.limit - input.spend) * sampleMs + input.sampleSpend - 1n) / input.sampleSpend);
    const at = input.nowMs + msLeft;
    exhaustionAtMs = input.window.kind === 'calendar' && at >= input.window.endMs ? null : at;
  }
  return { burnRatePerHour, projected, exhaustionAtMs };
}

/** How long a sample a key's burn rate uses: a sixth of the window, between 6 buckets and 15 minutes. */
export function forecastSampleMs(windowMs: number, bucketMs: number): number {
  return Math.max(6 * bucketMs, Math.min(Math.floor(windowMs / 6), 15 * 60_000));
}
