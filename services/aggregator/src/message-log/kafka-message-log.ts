import kafkajs from 'kafkajs';
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, logCreator, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type {
  BatchContext,
  ConsumerGroupOptions,
  LogConsumer,
  LogMessage,
  LogProducer,
  LogRecord,
  MessageLog,
  ProducerPurpose,
} from './message-log.js';

const { Partitioners } = kafkajs;

/**
 * kafkajs warnings that describe a deliberate choice, not a problem: the idempotent producer
 * has bounded retries so that ingest can answer 503 instead of hanging while Kafka is down.
 */
const QUIET_WARNINGS = [/Limiting retries for the idempotent producer/];

export interface KafkaMessageLogOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
}

/**
 * The message log on Apache Kafka through kafkajs. Every client option lives here: the client
 * (timeouts, retries, logs into pino), each consumer group member (from its ConsumerSettings)
 * and the producers (idempotent, one request in flight, acks=all, no topic auto-creation;
 * ingest's with bounded retries so that a client gets a retryable answer within seconds while
 * Kafka is down).
 */
export class KafkaMessageLog implements MessageLog {
  readonly kind = 'kafka';
  private readonly kafka: Kafka;
  private admin: Admin | undefined;

  constructor(options: KafkaMessageLogOptions) {
    const { logger } = options;
    const toPino: logCreator =
      () =>
      ({ level, log }) => {
        const { message, ...fields } = log;
        const child = { ...fields, component: 'kafkajs' };
        if (level === kafkajs.logLevel.ERROR) logger.error(child, message);
        else if (level === kafkajs.logLevel.WARN && !QUIET_WARNINGS.some((re) => re.test(message)))
          logger.warn(child, message);
        else if (level === kafkajs.logLevel.INFO) logger.debug(child, message);
      };
    this.kafka = new kafkajs.Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: kafkajs.logLevel.WARN,
      logCreator: toPino,
      connectionTimeout: 5_000,
      requestTimeout: 30_000,
      retry: { initialRetryTime: 300, retries: 8 },
    });
  }

  consumer(options: ConsumerGroupOptions): LogConsumer {
    return new KafkaLogConsumer(this.kafka, options);
  }

  producer(purpose: ProducerPurpose = 'internal'): LogProducer {
    return new KafkaLogProducer(
      this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        ...(purpose === 'ingest' ? { retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 } } : {}),
      }),
    );
  }

  async ping(): Promise<void> {
    this.admin ??= this.kafka.admin();
    try {
      await this.admin.connect();
      await this.admin.describeCluster();
    } catch (err) {
      // Nothing of a failed attempt stays open: kafkajs keeps (and may reopen) connections of a
      // client that is not disconnected, and the next attempt connects afresh.
      await this.disconnect();
      throw err;
    }
  }

  async disconnect(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect().catch(() => undefined);
  }
}

function toBuffer(value: Buffer | string | (Buffer | string)[] | undefined): Buffer | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : typeof first === 'string' ? Buffer.from(first, 'utf8') : first;
}

function toLogMessage(message: KafkaMessage): LogMessage {
  const headers: Record<string, Buffer | undefined> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = toBuffer(value);
  return { key: message.key, value: message.value, headers, timestamp: message.timestamp, offset: message.offset };
}

class KafkaLogConsumer implements LogConsumer {
  private readonly consumer: Consumer;

  constructor(
    kafka: Kafka,
    private readonly options: ConsumerGroupOptions,
  ) {
    const { settings } = options;
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: settings.sessionTimeoutMs,
      rebalanceTimeout: settings.rebalanceTimeoutMs,
      heartbeatInterval: settings.heartbeatIntervalMs,
      maxBytesPerPartition: settings.maxBytesPerPartition,
      maxBytes: Math.max(settings.maxBytesPerPartition, 50 * 1024 * 1024),
      maxWaitTimeInMs: settings.maxWaitTimeMs,
      minBytes: settings.minBytes,
      allowAutoTopicCreation: false,
    });
    const listeners = options.listeners ?? {};
    const { assigned, rebalancing, crashed } = listeners;
    if (rebalancing !== undefined) this.consumer.on(this.consumer.events.REBALANCING, () => rebalancing());
    if (assigned !== undefined) {
      this.consumer.on(this.consumer.events.GROUP_JOIN, (event) =>
        assigned(event.payload.memberAssignment[options.topic] ?? []),
      );
    }
    if (crashed !== undefined) {
      this.consumer.on(this.consumer.events.CRASH, (event) => crashed(event.payload.error, event.payload.restart));
    }
  }

  async start(eachBatch: (context: BatchContext) => Promise<void>): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: this.options.fromBeginning ?? true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.settings.partitionsConsumedConcurrently,
      eachBatch: (payload) => eachBatch(batchContext(payload)),
    });
  }

  commit(offsets: readonly { readonly partition: number; readonly offset: string }[]): Promise<void> {
    if (offsets.length === 0) return Promise.resolve();
    return this.consumer.commitOffsets(
      offsets.map((o) => ({ topic: this.options.topic, partition: o.partition, offset: o.offset })),
    );
  }

  pauseAll(): void {
    this.consumer.pause([{ topic: this.options.topic }]);
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

function batchContext(payload: EachBatchPayload): BatchContext {
  const { batch } = payload;
  return {
    batch: {
      topic: batch.topic,
      partition: batch.partition,
      messages: batch.messages.map(toLogMessage),
      highWatermark: batch.highWatermark,
    },
    heartbeat: () => payload.heartbeat(),
    resolveOffset: (offset) => payload.resolveOffset(offset),
    // Through the batch payload: consumer.commitOffsets() silently does nothing once a graceful
    // stop has begun, which would leave the in-flight batch stored but uncommitted.
    commit: (nextOffset) =>
      payload.commitOffsetsIfNecessary({
        topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: nextOffset }] }],
      }),
    pause: () => payload.pause(),
    isActive: () => payload.isRunning() && !payload.isStale(),
  };
}

class KafkaLogProducer implements LogProducer {
  constructor(private readonly producer: Producer) {}

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async send(
    topic: string,
    records: readonly LogRecord[],
    options: { readonly timeoutMs?: number } = {},
  ): Promise<void> {
    await this.producer.send({
      topic,
      acks: -1,
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
      messages: records.map((r) => ({
        key: r.key ?? null,
        value: r.value,
        ...(r.headers === undefined ? {} : { headers: { ...r.headers } }),
      })),
    });
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}
