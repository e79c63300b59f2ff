/**
 * The aggregator's port to its message log: what the span consumer, the ingest and cost-delta
 * producers, the budget evaluator and the throttle board need of Kafka, and nothing else. Two
 * adapters implement it: `KafkaMessageLog` (kafkajs, production) and `InProcessMessageLog` (the
 * embedded mode's bus). The Kafka client options of every producer and consumer group are set in
 * the Kafka adapter, from the settings below.
 */

/** A record to append. A string key or value is written as UTF-8. */
export interface LogRecord {
  readonly key?: string | Buffer | null | undefined;
  readonly value: string | Buffer | null;
  readonly headers?: Readonly<Record<string, string | Buffer>> | undefined;
}

/** A record as delivered, with its offset in its partition (a decimal string, as Kafka's). */
export interface LogMessage {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, Buffer | undefined>>;
  /** Append time, epoch milliseconds as a decimal string. */
  readonly timestamp: string;
  readonly offset: string;
}

/** Consecutive messages of one partition, in offset order. */
export interface LogBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly LogMessage[];
  /** Offset of the next message the partition will hold (its end when the batch was fetched). */
  readonly highWatermark: string;
}

/** One batch being handled, and what the handler may do about its partition. */
export interface BatchContext {
  readonly batch: LogBatch;
  /**
   * Confirms this member still holds the partition (Kafka: a heartbeat). Rejects when the group
   * is rebalancing or has moved the partition: the handler must then write nothing more.
   */
  readonly heartbeat: () => Promise<void>;
  /** Marks messages up to `offset` handled: delivery continues after it (nothing is committed). */
  readonly resolveOffset: (offset: string) => void;
  /** Commits `nextOffset` (the offset of the next message to read) for this batch's partition. Works during a graceful stop. */
  readonly commit: (nextOffset: string) => Promise<void>;
  /** Pauses this partition; unresolved messages are delivered again after `resume()`. */
  readonly pause: () => () => void;
  /** False once the consumer is stopping or the batch belongs to a membership that no longer holds. */
  readonly isActive: () => boolean;
}

export interface ConsumerListeners {
  /** The group assigned these partitions of the topic to this member (after every rebalance). */
  readonly assigned?: ((partitions: readonly number[]) => void) | undefined;
  /** The group began rebalancing: partitions may move. */
  readonly rebalancing?: (() => void) | undefined;
  /** The consumer failed; `restart`: it rejoins by itself. */
  readonly crashed?: ((error: unknown, restart: boolean) => void) | undefined;
}

/** How a consumer group member talks to the log. */
export interface ConsumerSettings {
  /** A member silent this long is removed from the group. */
  readonly sessionTimeoutMs: number;
  /** How long the group waits for members to rejoin; at least the session timeout. */
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /** Longest wait of one fetch for new data. */
  readonly maxWaitTimeMs: number;
  /**
   * Bytes a fetch waits for (up to maxWaitTimeMs) before the broker answers: Kafka's
   * fetch.min.bytes. 1 answers as soon as anything is there.
   */
  readonly minBytes: number;
  readonly maxBytesPerPartition: number;
  /** Partitions handled at once (each one stays strictly sequential). */
  readonly partitionsConsumedConcurrently: number;
}

/** The heartbeat interval for a session timeout: a tenth of it, at least 500 ms. */
export function heartbeatIntervalFor(sessionTimeoutMs: number): number {
  return Math.max(500, Math.floor(sessionTimeoutMs / 10));
}

/** Settings with the defaults filled in: 30 s session, 60 s rebalance, 1 MiB per partition, one partition at a time. */
export function consumerSettings(partial: Partial<ConsumerSettings> = {}): ConsumerSettings {
  const sessionTimeoutMs = partial.sessionTimeoutMs ?? 30_000;
  const settings: ConsumerSettings = {
    sessionTimeoutMs,
    rebalanceTimeoutMs: partial.rebalanceTimeoutMs ?? Math.max(60_000, sessionTimeoutMs),
    heartbeatIntervalMs: partial.heartbeatIntervalMs ?? heartbeatIntervalFor(sessionTimeoutMs),
    maxWaitTimeMs: partial.maxWaitTimeMs ?? 500,
    minBytes: partial.minBytes ?? 1,
    maxBytesPerPartition: partial.maxBytesPerPartition ?? 1024 * 1024,
    partitionsConsumedConcurrently: partial.partitionsConsumedConcurrently ?? 1,
  };
  if (settings.rebalanceTimeoutMs < settings.sessionTimeoutMs) {
    throw new RangeError(
      `rebalance timeout (${settings.rebalanceTimeoutMs} ms) is below the session timeout (${settings.sessionTimeoutMs} ms): make it at least as long`,
    );
  }
  if (settings.heartbeatIntervalMs >= settings.sessionTimeoutMs) {
    throw new RangeError(
      `heartbeat interval (${settings.heartbeatIntervalMs} ms) must be below the session timeout (${settings.sessionTimeoutMs} ms)`,
    );
  }
  return settings;
}

export interface ConsumerGroupOptions {
  readonly groupId: string;
  readonly topic: string;
  readonly settings: ConsumerSettings;
  /** Where a partition without a committed offset starts. Default: its first message. */
  readonly fromBeginning?: boolean | undefined;
  readonly listeners?: ConsumerListeners | undefined;
}

/** A consumer group member. Nothing is committed unless the handler or `commit` says so. */
export interface LogConsumer {
  /** Connects, subscribes and starts delivering batches to `eachBatch`. */
  start(eachBatch: (context: BatchContext) => Promise<void>): Promise<void>;
  /** Commits offsets (the next offset to read) of partitions this member holds. */
  commit(offsets: readonly { readonly partition: number; readonly offset: string }[]): Promise<void>;
  /** Stops fetching every partition (a stop that still commits afterwards). */
  pauseAll(): void;
  /** Lets the batches in flight finish, then leaves the group. */
  stop(): Promise<void>;
}

/** What a producer is for: ingest answers clients, so its retries are bounded. */
export type ProducerPurpose = 'ingest' | 'internal';

export interface LogProducer {
  connect(): Promise<void>;
  /**
   * Appends records (partition by key hash) and resolves once every in-sync replica has them
   * (acks=all); idempotent, so a retried send is written once.
   */
  send(topic: string, records: readonly LogRecord[], options?: { readonly timeoutMs?: number }): Promise<void>;
  disconnect(): Promise<void>;
}

export interface MessageLog {
  /** "kafka" or "in-process", for logs and readiness checks. */
  readonly kind: string;
  consumer(options: ConsumerGroupOptions): LogConsumer;
  producer(purpose?: ProducerPurpose): LogProducer;
  /** Checks that the log answers (a metadata request); rejects while it does not. */
  ping(): Promise<void>;
  /** Releases the connection `ping` used (a later `ping` opens it again). */
  disconnect(): Promise<void>;
}

/** A header's value as text (the first, when repeated), or undefined. */
export function headerText(message: LogMessage, name: string): string | undefined {
  return message.headers[name]?.toString();
}
