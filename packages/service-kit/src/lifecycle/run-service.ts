import type { Logger } from 'pino';
import { ConfigError } from '../config/config-error.js';

/** A service `runService` drives: started once, stopped once. */
export interface RunnableService {
  start(): Promise<unknown>;
  /** Finishes in-flight work (batches, requests) and releases everything. Idempotent. */
  stop(): Promise<void>;
}

export interface RunServiceOptions {
  readonly logger: Logger;
  /** A start-up failure that only means "stopped while starting" (a signal came first). */
  readonly isAbort?: ((err: unknown) => boolean) | undefined;
  /** Longest graceful stop before the process exits anyway (code 1). Default 30 s. */
  readonly stopTimeoutMs?: number | undefined;
  /** Logged after a clean stop (counts, totals). */
  readonly onStopped?: (() => Record<string, unknown>) | undefined;
  /** Injected in tests; default: the real process. */
  readonly process?: Pick<NodeJS.Process, 'on' | 'exit'> | undefined;
}

/**
 * The one shutdown sequence of every costtrace service: SIGTERM or SIGINT stops it gracefully
 * (in-flight work finishes) and exits 0, or 1 when stopping fails or outlasts `stopTimeoutMs`; a
 * second signal exits at once (130). A start-up failure is logged, the service stopped, and the
 * process exits 1, unless it was the stop itself (`isAbort`).
 */
export async function runService(service: RunnableService, options: RunServiceOptions): Promise<void> {
  const proc = options.process ?? process;
  const { logger } = options;
  let stopping = false;
  const onSignal = (signal: string): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without finishing');
      proc.exit(130);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timeoutMs = options.stopTimeoutMs ?? 30_000;
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown took too long; exiting');
      proc.exit(1);
    }, timeoutMs);
    deadline.unref();
    service.stop().then(
      () => {
        clearTimeout(deadline);
        logger.info(options.onStopped?.() ?? {}, 'stopped');
        proc.exit(0);
      },
      (err: unknown) => {
        clearTimeout(deadline);
        logger.error({ err }, 'shutdown failed');
        proc.exit(1);
      },
    );
  };
  proc.on('SIGTERM', () => onSignal('SIGTERM'));
  proc.on('SIGINT', () => onSignal('SIGINT'));
  try {
    await service.start();
  } catch (err) {
    if (stopping && (options.isAbort?.(err) ?? false)) return;
    logger.fatal({ err }, 'failed to start');
    await service.stop().catch(() => undefined);
    proc.exit(1);
  }
}

/**
 * Loads a service's configuration at boot: a ConfigError is logged as `invalid configuration: …`
 * and the process exits 2 (what to fix is in the message); anything else is thrown.
 */
export function loadConfigOrExit<T>(load: () => T, logger: Logger, proc: Pick<NodeJS.Process, 'exit'> = process): T {
  try {
    return load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    logger.fatal({ variable: err.variable }, `invalid configuration: ${err.message}`);
    return proc.exit(2);
  }
}
