import kafkajs from 'kafkajs';
import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import { StoreError } from '@costtrace/store';
import type { CostStore, SpanCostRow } from '@costtrace/store';
import type { AggregatorMetrics } from '../operations/aggregator-metrics.js';
import { selectSpans, spanCostRows, spanCount } from '../otlp/span-rows.js';
import type { SpanRowOptions } from '../otlp/span-rows.js';
import { decodeSpanMessage, SpanMessageError } from './span-message-codec.js';

const { Partitioners } = kafkajs;

/** Points of a batch's life, reported to `onStage` (used by the crash tests). */
export type ConsumerStage = 'batch-received' | 'before-insert' | 'insert-started' | 'after-insert' | 'after-commit';

export interface SpanConsumerOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly deadLetterTopic: string;
  readonly groupId: string;
  readonly store: CostStore;
  readonly rowOptions: SpanRowOptions;
  readonly logger: Logger;
  readonly metrics: AggregatorMetrics;
  /** Rows per ClickHouse insert, at most (split at message boundaries). */
  readonly maxBatchRows: number;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly maxBytesPerPartition: number;
  /**
   * Partitions processed at once (each partition stays strictly sequential, which is all the
   * exactly-once argument needs); >1 overlaps decoding of one partition with another's insert.
   */
  readonly partitionsConsumedConcurrently: number;
  /** Called synchronously at each stage of a batch; must not throw. */
  readonly onStage?: ((stage: ConsumerStage, info: { partition: number; rows: number }) => void) | undefined;
  /**
   * Called with every row of a batch, in offset order, after ClickHouse stored them and before
   * their offsets are committed (the budgets hand-off). Retried; deltas are idempotent. Rows of
   * redelivered messages that were already stored are handed off again too, ahead of the new
   * ones: a crash between the insert and the hand-off must not lose them for budgets, and when
   * the hand-off had happened the evaluator drops the repeats by their source offsets.
   */
  readonly onRowsStored?: ((rows: readonly SpanCostRow[]) => Promise<void>) | undefined;
}

/** Dead-letter headers: why, and exactly where the message came from. */
export const DLQ_HEADERS = {
  reason: 'costtrace.dlq.reason',
  detail: 'costtrace.dlq.detail',
  topic: 'costtrace.dlq.source.topic',
  partition: 'costtrace.dlq.source.partition',
  offset: 'costtrace.dlq.source.offset',
  spans: 'costtrace.dlq.spans',
} as const;

interface DeadLetter {
  readonly value: Buffer | null;
  readonly reason: string;
  readonly detail: string;
  readonly offset: string;
  readonly spans: number;
}

/** Rows of consecutive messages, inserted together; `lastOffset` is the last message with rows. */
interface Chunk {
  rows: SpanCostRow[];
  lastOffset: bigint;
}

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/**
 * Kafka → ClickHouse with exactly-once storage, on any ClickHouse version:
 *
 * 1. Every row carries its message's topic, partition and offset, and each insert is one
 *    request and one block, so ClickHouse stores all of a chunk or none of it. Chunks hold
 *    whole messages in offset order, so "every message at or below the highest stored offset
 *    is stored" holds per partition.
 * 2. When a partition is (re)assigned, and after any failed or ambiguous insert, the consumer
 *    reads that highest stored offset from ClickHouse and skips messages at or below it.
 * 3. Offsets are committed only after ClickHouse acknowledged; the commit is an optimisation
 *    (it saves re-reading), correctness comes from (1) and (2).
 *
 * A process killed at any point therefore re-reads from the committed offset and skips what
 * ClickHouse already has. Each insert starts right after a heartbeat and times out well inside
 * the session timeout, so a consumer cannot still be inserting a partition the group has given
 * to another member. (Residual assumption: the server does not finish an insert whose client
 * already gave up more than session − request timeout later; see README.)
 *
 * Undecodable messages and rejected spans go to the dead-letter topic (at least once) before
 * the rows are inserted; they never stop the partition. When ClickHouse is unavailable the
 * partition is paused without resolving its offsets and resumed once ClickHouse answers.
 */
export class SpanConsumer {
  private readonly consumer: Consumer;
  private readonly dlqProducer: Producer;
  /** Highest offset known to be stored, per partition; absent: ask ClickHouse first. */
  private readonly storedUpTo = new Map<number, bigint>();
  private readonly paused = new Map<number, () => void>();
  private probing: Promise<void> | undefined;
  private running = false;
  private rowsStored = 0;
  private deadLettered = 0;
  private stopRequested = false;

  constructor(private readonly options: SpanConsumerOptions) {
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: options.rebalanceTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 10)),
      maxBytesPerPartition: options.maxBytesPerPartition,
      maxBytes: Math.max(options.maxBytesPerPartition, 50 * 1024 * 1024),
      maxWaitTimeInMs: 500,
      allowAutoTopicCreation: false,
    });
    this.dlqProducer = options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    // A new generation may have moved partitions: forget what we knew and ask ClickHouse again.
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      this.storedUpTo.clear();
      for (const resume of this.paused.values()) resume();
      this.paused.clear();
      this.options.metrics.pausedPartitions.set(0);
      options.logger.info({ topic: options.topic, assignment: event.payload.memberAssignment }, 'partitions assigned');
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      options.logger.error({ err: event.payload.error, restart: event.payload.restart }, 'Kafka consumer crashed');
    });
  }

  get stats(): { rowsStored: number; deadLettered: number } {
    return { rowsStored: this.rowsStored, deadLettered: this.deadLettered };
  }

  /** Whether the consumer is running (joined or joining its group). */
  get isRunning(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    await this.dlqProducer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    this.running = true;
  }

  /** Lets the in-flight batch finish (stored and committed), then leaves the group. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    this.running = false;
    await this.consumer.disconnect();
    await this.dlqProducer.disconnect();
    await this.probing;
  }

  /**
   * Hands stored rows to `onRowsStored`, retrying with backoff: the rows are already stored, so a
   * failure here must not fail the batch (a redelivery would skip them as stored). After the
   * retries the failure is logged and counted once per batch.
   */
  private async handOff(rows: readonly SpanCostRow[], topic: string, partition: number): Promise<void> {
    const onRowsStored = this.options.onRowsStored;
    if (onRowsStored === undefined || rows.length === 0) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await onRowsStored(rows);
        return;
      } catch (err) {
        if (attempt >= 5) {
          this.options.metrics.handOffFailures.inc();
          this.options.logger.error(
            { err, topic, partition, rows: rows.length },
            'budget hand-off failed after 5 attempts; these rows count for no budget',
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
      }
    }
  }

  private stage(stage: ConsumerStage, partition: number, rows: number): void {
    this.options.onStage?.(stage, { partition, rows });
  }

  private async storedOffset(partition: number): Promise<bigint> {
    let known = this.storedUpTo.get(partition);
    if (known === undefined) {
      known = (await this.options.store.storedOffsets(this.options.topic, [partition])).get(partition) ?? -1n;
      this.storedUpTo.set(partition, known);
      this.options.logger.debug(
        { topic: this.options.topic, partition, storedUpTo: known.toString() },
        'stored offset read',
      );
    }
    return known;
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0 || !payload.isRunning() || payload.isStale()) return;
    const { topic, partition } = batch;
    const { logger, metrics } = this.options;
    this.stage('batch-received', partition, 0);

    let storedUpTo: bigint;
    try {
      storedUpTo = await this.storedOffset(partition);
    } catch (err) {
      this.pauseUntilClickHouseAnswers(payload, partition, err);
      return;
    }

    const chunks: Chunk[] = [];
    let current: Chunk = { rows: [], lastOffset: -1n };
    const dead: DeadLetter[] = [];
    const handOffAgain: SpanCostRow[] = [];
    let skipped = 0;
    for (const message of batch.messages) {
      const offset = BigInt(message.offset);
      if (offset <= storedUpTo) {
        skipped++;
        // Already stored: not inserted again, but its rows go to the hand-off again (see
        // onRowsStored). Decoded without counting or dead-lettering a second time.
        if (this.options.onRowsStored !== undefined) {
          for (const row of this.messageRows(topic, partition, message, [], true)) handOffAgain.push(row);
        }
        continue;
      }
      const rows = this.messageRows(topic, partition, message, dead);
      if (rows.length === 0) continue;
      if (current.rows.length > 0 && current.rows.length + rows.length > this.options.maxBatchRows) {
        chunks.push(current);
        current = { rows: [], lastOffset: -1n };
      }
      for (const row of rows) current.rows.push(row);
      current.lastOffset = offset;
    }
    if (current.rows.length > 0) chunks.push(current);
    if (skipped > 0) {
      metrics.duplicatesSkipped.inc(skipped);
      logger.info(
        { topic, partition, skipped, storedUpTo: storedUpTo.toString() },
        'skipped redelivered messages already in ClickHouse',
      );
    }

    if (dead.length > 0) await this.deadLetter(topic, partition, dead);

    for (const chunk of chunks) {
      if (!payload.isRunning() && !this.stopRequested) return;
      // A heartbeat right before each insert: the session cannot expire (and the partition move
      // to another member) before this insert has finished or timed out.
      await payload.heartbeat().catch(() => undefined);
      this.stage('before-insert', partition, chunk.rows.length);
      const started = process.hrtime.bigint();
      try {
        const insert = this.options.store.insertSpanCosts(chunk.rows);
        this.stage('insert-started', partition, chunk.rows.length);
        await insert;
      } catch (err) {
        // The insert may or may not have been written (a timeout is ambiguous): forget the stored
        // offset so the retry asks ClickHouse first.
        this.storedUpTo.delete(partition);
        this.pauseUntilClickHouseAnswers(payload, partition, err);
        return;
      }
      metrics.insertSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      metrics.batchRows.observe(chunk.rows.length);
      metrics.spansStored.inc(chunk.rows.length);
      for (const row of chunk.rows) metrics.addCost(row.service, row.currency, row.costTotal.toNumber());
      this.rowsStored += chunk.rows.length;
      this.storedUpTo.set(partition, chunk.lastOffset);
      this.stage('after-insert', partition, chunk.rows.length);
      await payload.heartbeat().catch(() => undefined);
    }

    if (this.options.onRowsStored !== undefined) {
      await this.handOff([...handOffAgain, ...chunks.flatMap((chunk) => chunk.rows)], topic, partition);
    }

    const last = batch.lastOffset();
    payload.resolveOffset(last);
    try {
      // Through the batch payload: consumer.commitOffsets() silently does nothing once a graceful
      // stop has begun, which would leave the in-flight batch stored but uncommitted.
      await payload.commitOffsetsIfNecessary({
        topics: [{ topic, partitions: [{ partition, offset: (BigInt(last) + 1n).toString() }] }],
      });
    } catch (err) {
      // Not fatal: the rows are stored and their offsets with them; a redelivery is skipped.
      logger.warn({ err, topic, partition, offset: last }, 'offset commit failed after a stored batch');
    }
    this.stage('after-commit', partition, 0);
    metrics.consumerLag.set(
      { partition: String(partition) },
      Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last) - 1n)),
    );
    await payload.heartbeat().catch(() => undefined);
    logger.debug({ topic, partition, lastOffset: last, chunks: chunks.length }, 'batch stored and committed');
  }

  /**
   * Rows of one message; undecodable messages and rejected spans are added to `dead`. With
   * `again` (a redelivered message that is already stored) nothing is counted or logged.
   */
  private messageRows(
    topic: string,
    partition: number,
    message: KafkaMessage,
    dead: DeadLetter[],
    again = false,
  ): SpanCostRow[] {
    const { metrics, logger } = this.options;
    let request: ExportTraceServiceRequest;
    try {
      request = decodeSpanMessage(message.value, header(message.headers, 'content-type'));
    } catch (err) {
      const reason = err instanceof SpanMessageError ? err.reason : 'undecodable_protobuf';
      dead.push({ value: message.value, reason, detail: (err as Error).message, offset: message.offset, spans: 0 });
      return [];
    }
    const spans = spanCount(request);
    if (spans === 0) {
      dead.push({
        value: message.value,
        reason: 'no_spans',
        detail: 'the request holds no spans',
        offset: message.offset,
        spans: 0,
      });
      return [];
    }
    const timestamp = Number(message.timestamp);
    const result = spanCostRows(
      request,
      { topic, partition, offset: BigInt(message.offset) },
      Number.isFinite(timestamp) && timestamp > 0 ? timestamp : Date.now(),
      this.options.rowOptions,
    );
    if (again) return result.rows;
    metrics.spansConsumed.inc(spans);
    for (const [reason, n] of result.sanitized) metrics.spansSanitized.inc({ reason }, n);
    if (result.pricedHere > 0) metrics.spansPricedHere.inc(result.pricedHere);
    if (result.unpriced > 0) metrics.spansUnpriced.inc(result.unpriced);
    for (const diff of result.auditDifferences) {
      metrics.auditDifferences.inc();
      logger.warn(
        { topic, partition, offset: message.offset, ...diff },
        'audit: stamped cost differs from recomputation',
      );
    }
    if (result.rejected.length > 0) {
      const counts = new Map<string, number>();
      for (const r of result.rejected) {
        counts.set(r.reason, (counts.get(r.reason) ?? 0) + 1);
        metrics.spansRejected.inc({ reason: r.reason });
      }
      dead.push({
        value: Buffer.from(ExportTraceServiceRequest.encode(selectSpans(request, result.rejected)).finish()),
        reason: [...counts.keys()].join(','),
        detail: result.rejected
          .slice(0, 10)
          .map((r) => `${r.reason}: ${r.detail}`)
          .join('; '),
        offset: message.offset,
        spans: result.rejected.length,
      });
    }
    return result.rows;
  }

  private async deadLetter(topic: string, partition: number, dead: readonly DeadLetter[]): Promise<void> {
    await this.dlqProducer.send({
      topic: this.options.deadLetterTopic,
      acks: -1,
      messages: dead.map((d) => ({
        key: `${topic}/${partition}/${d.offset}`,
        value: d.value,
        headers: {
          [DLQ_HEADERS.reason]: d.reason,
          [DLQ_HEADERS.detail]: d.detail.slice(0, 2048),
          [DLQ_HEADERS.topic]: topic,
          [DLQ_HEADERS.partition]: String(partition),
          [DLQ_HEADERS.offset]: d.offset,
          [DLQ_HEADERS.spans]: String(d.spans),
        },
      })),
    });
    this.deadLettered += dead.length;
    for (const d of dead) this.options.metrics.deadLettered.inc({ reason: d.reason.split(',')[0] ?? d.reason });
    this.options.logger.warn(
      {
        topic,
        partition,
        count: dead.length,
        firstOffset: dead[0]?.offset,
        reason: dead[0]?.reason,
        detail: dead[0]?.detail.slice(0, 200),
      },
      'sent to the dead-letter topic',
    );
  }

  /**
   * Pauses the partition without resolving its offsets (Kafka refetches them on resume) and
   * starts one probe that resumes every paused partition once ClickHouse answers again.
   */
  private pauseUntilClickHouseAnswers(payload: EachBatchPayload, partition: number, err: unknown): void {
    const code = err instanceof StoreError ? err.code : 'UNKNOWN';
    this.options.metrics.insertFailures.inc({ code });
    if (!this.paused.has(partition)) {
      this.paused.set(partition, payload.pause());
      this.options.metrics.pausedPartitions.set(this.paused.size);
      this.options.logger.warn(
        { err, topic: this.options.topic, partition, code },
        'ClickHouse write failed; partition paused until ClickHouse answers',
      );
    }
    this.probing ??= this.probeClickHouse().finally(() => {
      this.probing = undefined;
    });
  }

  private async probeClickHouse(): Promise<void> {
    let delay = 250;
    while (!this.stopRequested) {
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
      delay = Math.min(delay * 2, 5_000);
      const ok = await this.options.store.ping().catch(() => false);
      if (!ok) continue;
      const writable = await this.options.store
        .storedOffsets(this.options.topic, [0])
        .then(() => true)
        .catch(() => false);
      if (!writable) continue;
      this.options.logger.info(
        { topic: this.options.topic, partitions: [...this.paused.keys()] },
        'ClickHouse answers again; resuming',
      );
      for (const resume of this.paused.values()) resume();
      this.paused.clear();
      this.options.metrics.pausedPartitions.set(0);
      return;
    }
  }
}
