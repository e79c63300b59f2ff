import type { Logger } from 'pino';
import type { ClickHouseStore, RetentionPolicy } from '@costtrace/store';

/**
 * Retention on ClickHouse 18.16, which has no TTL: periodically drops whole partitions past the
 * policy (span tables by day, the rollup by month). Dropping a partition is instant and atomic.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: ClickHouseStore,
    private readonly policy: RetentionPolicy,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    const run = (): void => {
      this.running ??= this.runOnce()
        .then(() => undefined)
        .finally(() => {
          this.running = undefined;
        });
    };
    run();
    this.timer = setInterval(run, this.intervalMs);
    this.timer.unref();
  }

  async runOnce(): Promise<string[]> {
    try {
      const dropped = await this.store.dropExpiredPartitions(this.policy);
      if (dropped.length > 0) this.logger.info({ dropped, policy: this.policy }, 'retention dropped partitions');
      return dropped;
    } catch (err) {
      this.logger.warn({ err }, 'retention run failed; will retry at the next interval');
      return [];
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
