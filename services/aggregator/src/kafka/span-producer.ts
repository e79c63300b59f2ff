import kafkajs from 'kafkajs';
import type { Kafka, Producer } from 'kafkajs';

const { Partitioners } = kafkajs;

/**
 * Produces OTLP export requests (otlp_proto) to the spans topic and resolves only once every
 * in-sync replica acknowledged (acks=all), so the ingest endpoint never answers success for data
 * Kafka does not have. Idempotent producer: a retried send is written once. Retries are
 * bounded so that a client gets a retryable answer within seconds while Kafka is down.
 */
export class SpanProducer {
  private readonly producer: Producer;
  private connected = false;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    private readonly ackTimeoutMs = 10_000,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
    });
  }

  /** Connected (kafkajs reconnects by itself after broker outages while this stays true). */
  get isConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  /** Key: see `serviceKey`; value: ExportTraceServiceRequest protobuf bytes. */
  async send(key: string, value: Buffer): Promise<void> {
    await this.sendAll([{ key, value }]);
  }

  async sendAll(messages: readonly { key: string; value: Buffer }[]): Promise<void> {
    if (!this.connected) throw new Error('span producer is not connected');
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      timeout: this.ackTimeoutMs,
      messages: messages.map((m) => ({
        key: m.key,
        value: m.value,
        headers: { 'content-type': 'application/x-protobuf' },
      })),
    });
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect();
  }
}
