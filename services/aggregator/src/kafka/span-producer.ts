import type { LogProducer, MessageLog } from '../message-log/message-log.js';

/**
 * Produces OTLP export requests (otlp_proto) to the spans topic and resolves only once every
 * in-sync replica acknowledged (acks=all), so the ingest endpoint never answers success for data
 * Kafka does not have. Idempotent producer: a retried send is written once. Retries are
 * bounded so that a client gets a retryable answer within seconds while Kafka is down.
 */
export class SpanProducer {
  private readonly producer: LogProducer;
  private connected = false;

  constructor(
    log: MessageLog,
    private readonly topic: string,
    private readonly ackTimeoutMs = 10_000,
  ) {
    this.producer = log.producer('ingest');
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
    await this.producer.send(
      this.topic,
      messages.map((m) => ({ key: m.key, value: m.value, headers: { 'content-type': 'application/x-protobuf' } })),
      { timeoutMs: this.ackTimeoutMs },
    );
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect();
  }
}
