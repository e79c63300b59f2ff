import type { LogProducer, MessageLog } from '../message-log/message-log.js';
import type { CostDelta } from './cost-delta.js';
import { encodeDelta } from './cost-delta.js';

/** Default topic of cost deltas; compaction is not wanted here (every delta counts). */
export const DEFAULT_COST_DELTAS_TOPIC = 'cost_deltas';

/**
 * Produces cost deltas to the message log keyed by budget scope key, so every delta of one key lands on
 * one partition and is evaluated by the one evaluator that owns it. acks=all and idempotent:
 * `send` resolves only when Kafka has the deltas, so the span consumer can commit after it.
 */
export class CostDeltaProducer {
  private readonly producer: LogProducer;
  private connected = false;
  produced = 0;

  constructor(
    log: MessageLog,
    readonly topic: string = DEFAULT_COST_DELTAS_TOPIC,
    private readonly maxMessagesPerRequest = 10_000,
  ) {
    this.producer = log.producer();
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  async send(deltas: readonly CostDelta[]): Promise<void> {
    if (deltas.length === 0) return;
    if (!this.connected) throw new Error('cost delta producer is not connected');
    for (let i = 0; i < deltas.length; i += this.maxMessagesPerRequest) {
      const chunk = deltas.slice(i, i + this.maxMessagesPerRequest);
      await this.producer.send(
        this.topic,
        chunk.map((d) => ({ key: d.scopeKey, value: encodeDelta(d) })),
        { timeoutMs: 10_000 },
      );
      this.produced += chunk.length;
    }
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect();
  }
}
