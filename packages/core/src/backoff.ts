/**
 * Capped exponential backoff with jitter: the one delay rule of every retry in costtrace (the
 * SDK's reconnects, start-up waits for dependencies, webhook retries, the consumer's store probe
 * and budget hand-off, the throttle feed). Pure: the random source is injected.
 */
export interface BackoffPolicy {
  /** Delay after the first failure. */
  readonly initialMs: number;
  /** Largest delay. */
  readonly maxMs: number;
  /** Random spread as a fraction of the delay, in [0, 1): 0.2 is ±20 %. */
  readonly jitter: number;
}

/** Checks a policy; returns a message naming what to fix, or undefined when it is valid. */
export function backoffProblem(policy: BackoffPolicy): string | undefined {
  if (!(Number.isFinite(policy.initialMs) && policy.initialMs >= 0)) return 'initialMs must be a number of ms ≥ 0';
  if (!(policy.maxMs >= policy.initialMs)) return 'maxMs must be at least initialMs';
  if (!(policy.jitter >= 0 && policy.jitter < 1)) return 'jitter must be a fraction in [0, 1)';
  return undefined;
}

/**
 * The delay before retry number `attempt` (1 after the first failure): `initialMs` doubling per
 * attempt up to `maxMs`, spread by ±jitter, in whole milliseconds.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 40);
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
  return Math.round(base * (1 - policy.jitter + 2 * policy.jitter * random()));
}
