import { backoffDelay } from '@costtrace/core';

/**
 * When to try a failed webhook again: exponential backoff from `initialDelayMs`, doubling per
 * attempt up to `maxDelayMs`, with ±`jitter` random spread so many endpoints do not retry in
 * lock-step; a Retry-After from the receiver is honoured (up to `maxRetryAfterMs`). Deliveries
 * give up once `maxAgeMs` passed since the first attempt (default about 3 days: ~24 attempts).
 */
export interface RetryPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxAgeMs: number;
  readonly jitter: number;
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  initialDelayMs: 5_000,
  maxDelayMs: 6 * 3_600_000,
  maxAgeMs: 3 * 86_400_000,
  jitter: 0.2,
  maxRetryAfterMs: 24 * 3_600_000,
};

/** Next attempt time after attempt number `attempt` (1-based) failed, or null to give up. */
export function nextAttemptAt(
  policy: RetryPolicy,
  attempt: number,
  firstAttemptAtMs: number,
  nowMs: number,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number | null {
  let delay = backoffDelay(
    { initialMs: policy.initialDelayMs, maxMs: policy.maxDelayMs, jitter: policy.jitter },
    attempt,
    random,
  );
  if (retryAfterMs !== null) delay = Math.max(delay, Math.min(retryAfterMs, policy.maxRetryAfterMs));
  const at = nowMs + Math.round(delay);
  return at - firstAttemptAtMs > policy.maxAgeMs ? null : at;
}
