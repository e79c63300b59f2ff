import kafkajs from 'kafkajs';
import type { Kafka, Producer } from 'kafkajs';

const { Partitioners } = kafkajs;

/**
 * Produces OTLP export requests to the spans topic and resolves only once every in-sync
 * replica acknowledged (acks=all), so the ingest endpoint never answers 200 for data Kafka
 * does not have. Idempotent producer: a retried send is written once.
 */
export class SpanProducer {
  private readonly producer: Producer;
  private connected = false;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  /**
   * Message key: the `service.name` of the request's first resource, so one service's batches
   * stay ordered on one partition; value: the ExportTraceServiceRequest protobuf bytes.
   */
  async send(key: string, value: Buffer): Promise<void> {
    if (!this.connected) throw new Error('span producer is not connected');
    await this.producer.send({ topic: this.topic, acks: -1, timeout: 10_000, messages: [{ key, value }] });
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect();
  }
}
