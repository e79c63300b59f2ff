import type { Logger } from 'pino';
import { consumerSettings } from '../message-log/message-log.js';
import type { BatchContext, ConsumerSettings, LogConsumer, MessageLog } from '../message-log/message-log.js';
import type { SpanCostRow } from '@costtrace/store';

/** Where a span message came from. */
export interface SpanMessageOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

export interface SpanDeltaRelayOptions {
  readonly log: MessageLog;
  /** Its group's consumer settings; default: short fetch waits (50 ms). */
  readonly consumer?: ConsumerSettings | undefined;
  /** The OTLP spans topic. */
  readonly topic: string;
  /** Its own consumer group, apart from the span consumer's. */
  readonly groupId: string;
  /**
   * Decodes and prices one `otlp_spans` message into rows, as the span consumer does (e.g.
   * `(value, origin) => spanCostRows(ExportTraceServiceRequest.decode(value), origin, { prices })`).
   * Injected so the relay follows the span path's own decoding and pricing.
   */
  readonly toRows: (value: Buffer, origin: SpanMessageOrigin) => readonly SpanCostRow[];
  /**
   * Store the rows first (as the span consumer does) so the benchmark measures the production
   * order: insert → deltas → commit. Optional.
   */
  readonly store?: { insertSpanCosts(rows: readonly SpanCostRow[]): Promise<void> } | undefined;
  /** Receives each message's rows (BudgetService.onRowsStored). */
  readonly onRows: (rows: readonly SpanCostRow[]) => Promise<void>;
  readonly logger: Logger;
}

/**
 * Budgets without touching the span consumer: reads `otlp_spans` in its own consumer group,
 * prices the rows the same way (spanCostRows) and hands them to the budgets. Offsets are
 * committed after the deltas are in Kafka. The production wiring calls `onRowsStored` from the
 * span consumer instead (one decode per span); this relay serves deployments that keep the two
 * apart, and the end-to-end tests and benchmark, which run on the skeleton span consumer.
 */
export class SpanDeltaRelay {
  private readonly consumer: LogConsumer;
  relayedRows = 0;

  constructor(private readonly options: SpanDeltaRelayOptions) {
    this.consumer = options.log.consumer({
      groupId: options.groupId,
      topic: options.topic,
      fromBeginning: true,
      settings: options.consumer ?? consumerSettings({ maxWaitTimeMs: 50 }),
    });
  }

  async start(): Promise<void> {
    await this.consumer.start((context) => this.handleBatch(context));
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
  }

  private async handleBatch(payload: BatchContext): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0 || !payload.isActive()) return;
    const rows: SpanCostRow[] = [];
    for (const message of batch.messages) {
      if (message.value === null) continue;
      try {
        rows.push(
          ...this.options.toRows(message.value, {
            topic: batch.topic,
            partition: batch.partition,
            offset: BigInt(message.offset),
          }),
        );
      } catch (err) {
        // The span consumer dead-letters undecodable messages; here they are only skipped.
        this.options.logger.debug({ err, offset: message.offset }, 'relay skipped an undecodable span message');
      }
    }
    await this.options.store?.insertSpanCosts(rows);
    await this.options.onRows(rows);
    this.relayedRows += rows.length;
    const last = batch.messages[batch.messages.length - 1]!.offset;
    payload.resolveOffset(last);
    await this.consumer.commit([{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
    await payload.heartbeat();
  }
}
