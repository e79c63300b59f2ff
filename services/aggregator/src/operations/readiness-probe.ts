import type { CostStore } from '@costtrace/store';

/**
 * Readiness: ClickHouse answers a ping, the message log (Kafka) answers a metadata request, the consumer runs.
 * Results are cached briefly so that frequent probes do not load either service. Kafka is asked
 * only while the admin client is connected (`kafkaConnected`): a metadata request on a client
 * that is not, or no longer, connected makes kafkajs connect and retry in the background, and a
 * connection it opens after the client was disconnected stays open.
 */
export class ReadinessProbe {
  private cached: { at: number; value: { ready: boolean; checks: Record<string, boolean> } } | undefined;

  constructor(
    private readonly store: CostStore,
    /** Asks the message log for its metadata (MessageLog.ping). */
    private readonly pingLog: () => Promise<void>,
    private readonly consumerRunning: () => boolean,
    private readonly kafkaConnected: () => boolean,
    private readonly cacheMs = 2_000,
  ) {}

  async check(): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    if (this.cached && Date.now() - this.cached.at < this.cacheMs) return this.cached.value;
    const timeout = <T>(p: Promise<T>): Promise<T> =>
      Promise.race([p, new Promise<T>((_r, reject) => setTimeout(() => reject(new Error('timeout')), 3_000).unref())]);
    const [clickhouse, kafka] = await Promise.all([
      timeout(this.store.ping()).catch(() => false),
      this.kafkaConnected()
        ? timeout(this.pingLog())
            .then(() => true)
            .catch(() => false)
        : false,
    ]);
    const checks = { clickhouse, kafka, consumer: this.consumerRunning() };
    const value = { ready: clickhouse && kafka && checks.consumer, checks };
    this.cached = { at: Date.now(), value };
    return value;
  }
}
