import { EventEmitter } from 'node:events';
import type { Batch, EachBatchPayload, EachMessagePayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { InProcessBus } from './in-process-bus.js';

interface RunConfig {
  autoCommit?: boolean;
  eachBatchAutoResolve?: boolean;
  partitionsConsumedConcurrently?: number;
  eachBatch?: (payload: EachBatchPayload) => Promise<void>;
  eachMessage?: (payload: EachMessagePayload) => Promise<void>;
}

interface ProducerRecord {
  topic: string;
  messages: { key?: Buffer | string | null; value: Buffer | string | null; partition?: number; headers?: never }[];
}

const EVENTS = {
  GROUP_JOIN: 'consumer.group_join',
  CRASH: 'consumer.crash',
  REBALANCING: 'consumer.rebalancing',
} as const;
const RETRY_MS = 500;

function batchOf(topic: string, partition: number, messages: KafkaMessage[], highWatermark: number): Batch {
  const last = messages.length === 0 ? '-1' : messages[messages.length - 1]!.offset;
  return {
    topic,
    partition,
    highWatermark: String(highWatermark),
    messages,
    isEmpty: () => messages.length === 0,
    firstOffset: () => messages[0]?.offset ?? null,
    lastOffset: () => last,
    offsetLag: () => String(Math.max(0, highWatermark - 1 - Number(last))),
    offsetLagLow: () => String(Math.max(0, highWatermark - 1 - Number(messages[0]?.offset ?? last))),
  };
}

/** One consumer-group member on the bus: the loop that delivers batches to `run`'s handler. */
class BusConsumer {
  readonly events = EVENTS;
  private readonly emitter = new EventEmitter();
  private topic: string | undefined;
  private fromBeginning = true;
  private running = false;
  private loop: Promise<void> | undefined;
  /** Next offset to deliver per partition. */
  private readonly position = new Map<number, number>();
  private readonly pausedPartitions = new Set<number>();
  private joined = false;

  constructor(
    private readonly bus: InProcessBus,
    private readonly groupId: string,
    private readonly logger: Logger,
  ) {}

  on(event: string, listener: (event: { payload: Record<string, unknown> }) => void): () => void {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }

  connect(): Promise<void> {
    return Promise.resolve();
  }

  subscribe(options: { topic: string; fromBeginning?: boolean }): Promise<void> {
    this.topic = options.topic;
    this.fromBeginning = options.fromBeginning ?? false;
    return Promise.resolve();
  }

  private start(partition: number): number {
    const committed = this.bus.committed(this.groupId, this.topic!, partition);
    if (committed !== undefined) return Number(committed);
    return this.fromBeginning ? 0 : this.bus.endOffset(this.topic!, partition);
  }

  run(config: RunConfig): Promise<void> {
    if (this.topic === undefined) throw new Error('subscribe before run');
    this.bus.joinGroup(this.groupId);
    this.joined = true;
    const topic = this.topic;
    const partitions = Array.from({ length: this.bus.partitions }, (_, p) => p);
    for (const p of partitions) this.position.set(p, this.start(p));
    this.running = true;
    this.emitter.emit(EVENTS.GROUP_JOIN, {
      type: EVENTS.GROUP_JOIN,
      payload: { groupId: this.groupId, memberAssignment: { [topic]: partitions }, isLeader: true },
    });
    this.loop = this.deliver(topic, partitions, config);
    return Promise.resolve();
  }

  private async deliver(topic: string, partitions: number[], config: RunConfig): Promise<void> {
    const concurrency = Math.max(1, config.partitionsConsumedConcurrently ?? 1);
    while (this.running && !this.bus.isClosed) {
      const ready = partitions.filter(
        (p) => !this.pausedPartitions.has(p) && this.position.get(p)! < this.bus.endOffset(topic, p),
      );
      if (ready.length === 0) {
        await this.bus.waitForChange();
        continue;
      }
      let failed = false;
      for (let i = 0; i < ready.length && this.running; i += concurrency) {
        const results = await Promise.all(ready.slice(i, i + concurrency).map((p) => this.one(topic, p, config)));
        failed ||= results.includes(false);
      }
      if (failed && this.running) {
        // Kafka restarts a crashed consumer from its committed offsets; so does the bus, after a pause.
        await new Promise<void>((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /** Delivers one batch of a partition; false when the handler threw. */
  private async one(topic: string, partition: number, config: RunConfig): Promise<boolean> {
    const from = this.position.get(partition)!;
    const messages = this.bus.messages(topic, partition, from);
    const batch = batchOf(topic, partition, messages, this.bus.endOffset(topic, partition));
    let resolved: number | undefined;
    const autoResolve = config.eachBatch === undefined || (config.eachBatchAutoResolve ?? true);
    const commit = (offsets?: { topics: { topic: string; partitions: { partition: number; offset: string }[] }[] }) => {
      const entries =
        offsets === undefined
          ? resolved === undefined
            ? []
            : [{ topic, partition, offset: String(resolved + 1) }]
          : offsets.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, ...p })));
      this.bus.commit(this.groupId, entries);
      return Promise.resolve();
    };
    const pause = (): (() => void) => {
      this.pausedPartitions.add(partition);
      return () => this.resume([{ topic, partitions: [partition] }]);
    };
    try {
      if (config.eachBatch !== undefined) {
        await config.eachBatch({
          batch,
          resolveOffset: (offset: string) => {
            resolved = Number(offset);
          },
          heartbeat: () => Promise.resolve(),
          pause,
          commitOffsetsIfNecessary: commit,
          uncommittedOffsets: () => ({ topics: [] }),
          isRunning: () => this.running,
          isStale: () => false,
        });
      } else if (config.eachMessage !== undefined) {
        for (const message of messages) {
          if (!this.running || this.pausedPartitions.has(partition)) break;
          await config.eachMessage({ topic, partition, message, heartbeat: () => Promise.resolve(), pause });
          resolved = Number(message.offset);
        }
      }
    } catch (error) {
      this.emitter.emit(EVENTS.CRASH, { type: EVENTS.CRASH, payload: { error, groupId: this.groupId, restart: true } });
      this.logger.warn(
        { err: error, topic, partition, groupId: this.groupId },
        'bus consumer handler failed; redelivering',
      );
      const committed = this.bus.committed(this.groupId, topic, partition);
      this.position.set(partition, committed === undefined ? this.start(partition) : Number(committed));
      return false;
    }
    if (autoResolve && !this.pausedPartitions.has(partition) && messages.length > 0) {
      resolved = Number(messages[messages.length - 1]!.offset);
    }
    // Unresolved messages are delivered again (kafkajs refetches them after a pause).
    if (resolved !== undefined) this.position.set(partition, resolved + 1);
    if ((config.autoCommit ?? true) && resolved !== undefined) await commit();
    return true;
  }

  pause(topics: { topic: string; partitions?: number[] }[]): void {
    for (const t of topics) {
      for (const p of t.partitions ?? Array.from({ length: this.bus.partitions }, (_, i) => i)) {
        this.pausedPartitions.add(p);
      }
    }
  }

  resume(topics: { topic: string; partitions?: number[] }[]): void {
    for (const t of topics) {
      for (const p of t.partitions ?? Array.from({ length: this.bus.partitions }, (_, i) => i)) {
        this.pausedPartitions.delete(p);
      }
    }
    this.bus.wake();
  }

  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void> {
    this.bus.commit(this.groupId, offsets);
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.bus.wake();
    await this.loop;
  }

  async disconnect(): Promise<void> {
    await this.stop();
    if (this.joined) this.bus.leaveGroup(this.groupId);
    this.joined = false;
  }
}

class BusProducer {
  private connected = false;

  constructor(private readonly bus: InProcessBus) {}

  connect(): Promise<void> {
    this.connected = true;
    return Promise.resolve();
  }

  send(record: ProducerRecord): Promise<{ topicName: string; partition: number; baseOffset: string }[]> {
    if (!this.connected) return Promise.reject(new Error('bus producer is not connected'));
    try {
      return Promise.resolve(
        this.bus
          .produce(record.topic, record.messages)
          .map((r) => ({ topicName: record.topic, partition: r.partition, baseOffset: r.offset })),
      );
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  disconnect(): Promise<void> {
    this.connected = false;
    return Promise.resolve();
  }
}

/**
 * The kafkajs subset the aggregator uses, over the bus. Cast to `Kafka` in this one place: the
 * aggregator's Kafka code then runs unchanged; anything outside the subset is absent.
 */
export function createBusKafka(bus: InProcessBus, logger: Logger): Kafka {
  const client = {
    consumer: (options: { groupId: string }) => new BusConsumer(bus, options.groupId, logger),
    producer: () => new BusProducer(bus),
    admin: () => ({
      connect: () => Promise.resolve(),
      disconnect: () => Promise.resolve(),
      describeCluster: () =>
        bus.isClosed
          ? Promise.reject(new Error('the in-process bus is closed'))
          : Promise.resolve({ brokers: [], controller: null, clusterId: 'in-process' }),
    }),
  };
  return client as unknown as Kafka;
}
