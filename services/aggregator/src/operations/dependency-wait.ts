import type { BackoffPolicy } from '@costtrace/core';
import { retry } from '@costtrace/service-kit';
import type { Logger } from 'pino';

/** How long to wait between attempts to reach a dependency at start: 250 ms doubling to 10 s. */
export const DEPENDENCY_RETRY: BackoffPolicy = { initialMs: 250, maxMs: 10_000, jitter: 0.2 };

/** Thrown by `untilAvailable` when the process is asked to stop while it still waits. */
export class StartAborted extends Error {
  override readonly name = 'StartAborted';
}

export interface DependencyWaitOptions {
  readonly logger: Logger;
  /** Aborted when a stop is requested: the wait ends at once with StartAborted. */
  readonly signal: AbortSignal;
  /**
   * Called with the dependency when waiting for it begins (reason "connecting") and with the
   * reason whenever an attempt failed: readiness reports it.
   */
  readonly onWaiting?: ((dependency: string, reason: string) => void) | undefined;
  readonly policy?: BackoffPolicy | undefined;
}

/**
 * Runs `attempt` until it succeeds. A failure `retryable` accepts (the dependency is down or
 * not ready yet) is logged and retried with capped exponential backoff, for as long as it takes;
 * any other failure (bad credentials, a broken migration) is thrown at once. A stop request ends
 * the wait immediately (the timer keeps the process alive while it waits: nothing else may).
 */
export async function untilAvailable<T>(
  dependency: string,
  attempt: () => Promise<T>,
  retryable: (err: unknown) => boolean,
  options: DependencyWaitOptions,
): Promise<T> {
  options.onWaiting?.(dependency, 'connecting');
  let attempts = 0;
  try {
    const result = await retry(
      (n) => {
        attempts = n;
        return attempt();
      },
      {
        policy: options.policy ?? DEPENDENCY_RETRY,
        retryable,
        signal: options.signal,
        onRetry: (err, n, delayMs) => {
          const reason = err instanceof Error ? err.message : String(err);
          options.onWaiting?.(dependency, reason);
          options.logger.warn(
            { dependency, attempt: n, retryInMs: delayMs, reason: reason.slice(0, 300) },
            `waiting for ${dependency}`,
          );
        },
      },
    );
    if (attempts > 1) options.logger.info({ dependency, attempts }, `${dependency} answers; continuing start-up`);
    return result;
  } catch (err) {
    if (options.signal.aborted) throw new StartAborted(`stopped while waiting for ${dependency}`, { cause: err });
    throw err;
  }
}
