import kafkajs from 'kafkajs';
import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';

const { Partitioners } = kafkajs;
import type { Logger } from 'pino';
import type { TokenPriceTable } from '@costtrace/core';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import type { ClickHouseStore, SpanCostRow } from '@costtrace/store';
import { spanCostRows } from '../otlp/span-rows.js';

export interface SpanConsumerOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly deadLetterTopic: string;
  readonly groupId: string;
  readonly store: ClickHouseStore;
  readonly prices: TokenPriceTable;
  readonly logger: Logger;
}

/**
 * Consumes OTLP export requests, turns each span into a cost row and inserts a partition's batch
 * into ClickHouse; the batch's offsets are committed only after ClickHouse acknowledged it.
 * Messages that cannot be decoded go to the dead-letter topic with the reason and their origin.
 */
export class SpanConsumer {
  private readonly consumer: Consumer;
  private readonly dlqProducer: Producer;
  private rowsStored = 0;
  private deadLettered = 0;

  constructor(private readonly options: SpanConsumerOptions) {
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: 30_000,
      rebalanceTimeout: 60_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: 8 * 1024 * 1024,
      allowAutoTopicCreation: false,
    });
    this.dlqProducer = options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  get stats(): { rowsStored: number; deadLettered: number } {
    return { rowsStored: this.rowsStored, deadLettered: this.deadLettered };
  }

  async start(): Promise<void> {
    await this.dlqProducer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.dlqProducer.disconnect();
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0 || !payload.isRunning() || payload.isStale()) return;
    const { topic, partition } = batch;
    const rows: SpanCostRow[] = [];
    const dead: { value: Buffer | null; reason: string; offset: string }[] = [];
    for (const message of batch.messages) {
      try {
        if (message.value === null) throw new Error('message has no value');
        const request = ExportTraceServiceRequest.decode(message.value);
        rows.push(
          ...spanCostRows(
            request,
            { topic, partition, offset: BigInt(message.offset) },
            { prices: this.options.prices },
          ),
        );
      } catch (err) {
        dead.push({
          value: message.value,
          reason: err instanceof Error ? err.message : String(err),
          offset: message.offset,
        });
      }
    }
    if (dead.length > 0) {
      await this.dlqProducer.send({
        topic: this.options.deadLetterTopic,
        acks: -1,
        messages: dead.map((d) => ({
          value: d.value,
          headers: {
            'costtrace.dlq.reason': d.reason.slice(0, 1024),
            'costtrace.dlq.source.topic': topic,
            'costtrace.dlq.source.partition': String(partition),
            'costtrace.dlq.source.offset': d.offset,
          },
        })),
      });
      this.deadLettered += dead.length;
      this.options.logger.warn(
        { topic, partition, count: dead.length, first: dead[0]?.reason },
        'messages sent to the dead-letter topic',
      );
    }
    await this.options.store.insertSpanCosts(rows);
    this.rowsStored += rows.length;
    const last = batch.lastOffset();
    payload.resolveOffset(last);
    await this.consumer.commitOffsets([{ topic, partition, offset: (BigInt(last) + 1n).toString() }]);
    await payload.heartbeat();
    this.options.logger.debug({ topic, partition, rows: rows.length, lastOffset: last }, 'batch stored and committed');
  }
}
