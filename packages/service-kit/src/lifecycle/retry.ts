import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '@costtrace/core';
import type { BackoffPolicy } from '@costtrace/core';

export interface RetryOptions {
  /** Delays between attempts (core's one backoff rule). */
  readonly policy: BackoffPolicy;
  /** Most attempts in all; default: until it succeeds. */
  readonly maxAttempts?: number | undefined;
  /** Whether a failure is worth another attempt; default: every failure. Others are thrown at once. */
  readonly retryable?: ((err: unknown) => boolean) | undefined;
  /** Aborting ends the wait at once: `retry` rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /** Called after a failed attempt that will be retried, before the wait. */
  readonly onRetry?: ((err: unknown, attempt: number, delayMs: number) => void) | undefined;
  /** For tests: the random source of the jitter. */
  readonly random?: (() => number) | undefined;
}

/**
 * Runs `attempt` until it succeeds, waiting `backoffDelay(policy, n)` after the n-th failure.
 * Throws the last failure once `maxAttempts` are spent, a failure `retryable` refuses at once,
 * and the signal's reason when it is aborted (before an attempt or during a wait).
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let n = 1; ; n++) {
    options.signal?.throwIfAborted();
    try {
      return await attempt(n);
    } catch (err) {
      if (options.retryable !== undefined && !options.retryable(err)) throw err;
      if (options.maxAttempts !== undefined && n >= options.maxAttempts) throw err;
      const delayMs = backoffDelay(options.policy, n, options.random);
      options.onRetry?.(err, n, delayMs);
      await sleep(delayMs, undefined, options.signal === undefined ? {} : { signal: options.signal }).catch(
        (cause: unknown) => {
          throw options.signal?.reason ?? cause;
        },
      );
    }
  }
}
