import type { InProcessBus } from '../bus/in-process-bus.js';
import type {
  BatchContext,
  ConsumerGroupOptions,
  LogConsumer,
  LogProducer,
  LogRecord,
  MessageLog,
} from './message-log.js';

/** Wait before a handler that threw gets its partition again (Kafka restarts a crashed consumer likewise). */
const RETRY_MS = 500;

/**
 * The message log on the embedded mode's in-process bus: the same port the Kafka adapter
 * serves, so the span consumer, budgets and throttles run unchanged without Kafka.
 */
export class InProcessMessageLog implements MessageLog {
  readonly kind = 'in-process';

  constructor(private readonly bus: InProcessBus) {}

  consumer(options: ConsumerGroupOptions): LogConsumer {
    return new BusConsumer(this.bus, options);
  }

  producer(): LogProducer {
    return new BusProducer(this.bus);
  }

  ping(): Promise<void> {
    return this.bus.isClosed ? Promise.reject(new Error('the in-process bus is closed')) : Promise.resolve();
  }

  disconnect(): Promise<void> {
    return Promise.resolve();
  }
}

/** One consumer-group member on the bus: the loop that delivers batches to the handler. */
class BusConsumer implements LogConsumer {
  private running = false;
  private joined = false;
  private loop: Promise<void> | undefined;
  /** Next offset to deliver per partition. */
  private readonly position = new Map<number, number>();
  private readonly pausedPartitions = new Set<number>();
  private readonly partitions: readonly number[];

  constructor(
    private readonly bus: InProcessBus,
    private readonly options: ConsumerGroupOptions,
  ) {
    this.partitions = Array.from({ length: bus.partitions }, (_, p) => p);
  }

  private startOffset(partition: number): number {
    const committed = this.bus.committed(this.options.groupId, this.options.topic, partition);
    if (committed !== undefined) return Number(committed);
    return (this.options.fromBeginning ?? true) ? 0 : this.bus.endOffset(this.options.topic, partition);
  }

  start(eachBatch: (context: BatchContext) => Promise<void>): Promise<void> {
    this.bus.joinGroup(this.options.groupId);
    this.joined = true;
    for (const p of this.partitions) this.position.set(p, this.startOffset(p));
    this.running = true;
    this.options.listeners?.assigned?.(this.partitions);
    this.loop = this.deliver(eachBatch);
    return Promise.resolve();
  }

  private async deliver(eachBatch: (context: BatchContext) => Promise<void>): Promise<void> {
    const { topic, settings } = this.options;
    const concurrency = Math.max(1, settings.partitionsConsumedConcurrently);
    while (this.running && !this.bus.isClosed) {
      const ready = this.partitions.filter(
        (p) => !this.pausedPartitions.has(p) && this.position.get(p)! < this.bus.endOffset(topic, p),
      );
      if (ready.length === 0) {
        await this.bus.waitForChange();
        continue;
      }
      let failed = false;
      for (let i = 0; i < ready.length && this.running; i += concurrency) {
        const results = await Promise.all(ready.slice(i, i + concurrency).map((p) => this.one(p, eachBatch)));
        failed ||= results.includes(false);
      }
      if (failed && this.running) await new Promise<void>((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }

  /** Delivers one batch of a partition; false when the handler threw. */
  private async one(partition: number, eachBatch: (context: BatchContext) => Promise<void>): Promise<boolean> {
    const { topic, groupId } = this.options;
    const from = this.position.get(partition)!;
    const messages = this.bus.messages(topic, partition, from);
    let resolved: number | undefined;
    try {
      await eachBatch({
        batch: { topic, partition, messages, highWatermark: String(this.bus.endOffset(topic, partition)) },
        heartbeat: () => Promise.resolve(),
        resolveOffset: (offset) => {
          resolved = Number(offset);
        },
        commit: (nextOffset) => {
          this.bus.commit(groupId, [{ topic, partition, offset: nextOffset }]);
          return Promise.resolve();
        },
        pause: () => {
          this.pausedPartitions.add(partition);
          return () => {
            this.pausedPartitions.delete(partition);
            this.bus.wake();
          };
        },
        isActive: () => this.running,
      });
    } catch (error) {
      this.options.listeners?.crashed?.(error, true);
      this.bus.logger.warn({ err: error, topic, partition, groupId }, 'bus consumer handler failed; redelivering');
      const committed = this.bus.committed(groupId, topic, partition);
      this.position.set(partition, committed === undefined ? this.startOffset(partition) : Number(committed));
      return false;
    }
    // Unresolved messages are delivered again (as Kafka refetches them after a pause).
    if (resolved !== undefined) this.position.set(partition, resolved + 1);
    return true;
  }

  commit(offsets: readonly { readonly partition: number; readonly offset: string }[]): Promise<void> {
    this.bus.commit(
      this.options.groupId,
      offsets.map((o) => ({ topic: this.options.topic, partition: o.partition, offset: o.offset })),
    );
    return Promise.resolve();
  }

  pauseAll(): void {
    for (const p of this.partitions) this.pausedPartitions.add(p);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.bus.wake();
    await this.loop;
    if (this.joined) this.bus.leaveGroup(this.options.groupId);
    this.joined = false;
  }
}

class BusProducer implements LogProducer {
  private connected = false;

  constructor(private readonly bus: InProcessBus) {}

  connect(): Promise<void> {
    this.connected = true;
    return Promise.resolve();
  }

  send(topic: string, records: readonly LogRecord[]): Promise<void> {
    if (!this.connected) return Promise.reject(new Error('bus producer is not connected'));
    try {
      this.bus.produce(topic, records);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  disconnect(): Promise<void> {
    this.connected = false;
    return Promise.resolve();
  }
}
