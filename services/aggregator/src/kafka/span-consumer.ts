import { Buffer } from 'node:buffer';
import { retry } from '@costtrace/service-kit';
import type { Logger } from 'pino';
import { backoffDelay } from '@costtrace/core';
import type { BackoffPolicy } from '@costtrace/core';
import { StoreError } from '@costtrace/store';
import type { CostStore } from '@costtrace/store';
import type { BudgetRow } from '../budgets/cost-delta.js';
import { consumerSettings, headerText } from '../message-log/message-log.js';
import type { BatchContext, LogConsumer, LogProducer, MessageLog } from '../message-log/message-log.js';
import type { AggregatorMetrics } from '../operations/aggregator-metrics.js';
import { BatchRows } from './batch-rows.js';
import { InsertCoalescer } from './insert-coalescer.js';
import { LedgerStateLost } from './span-batch.js';
import type { BatchMessage, LedgerJob, ProcessedSpanBatch, SpanBatchJob } from './span-batch.js';
import type { SpanBatchRunner } from './span-batch-runner.js';

/** Points of a batch's life, reported to `onStage` (used by the crash tests). */
export type ConsumerStage = 'batch-received' | 'before-insert' | 'insert-started' | 'after-insert' | 'after-commit';

export interface SpanConsumerOptions {
  readonly log: MessageLog;
  readonly topic: string;
  readonly deadLetterTopic: string;
  readonly groupId: string;
  readonly store: CostStore;
  /**
   * Decodes, validates, prices and encodes batches (in this thread or in worker threads); the
   * consumer owns it and closes it on stop.
   */
  readonly runner: SpanBatchRunner;
  readonly logger: Logger;
  readonly metrics: AggregatorMetrics;
  /**
   * Rows per ClickHouse insert, at most. The rows of the partitions processed at once share
   * inserts up to this many rows (see InsertCoalescer); one batch larger than this is split.
   */
  readonly maxBatchRows: number;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly maxBytesPerPartition: number;
  /** Kafka's fetch.min.bytes for the spans topic; default (consumerSettings) 1: answer as soon as anything is there. */
  readonly fetchMinBytes?: number | undefined;
  /** Longest a fetch waits for fetchMinBytes; default (consumerSettings) 500 ms. */
  readonly fetchMaxWaitMs?: number | undefined;
  /**
   * Partitions processed at once (each partition stays strictly sequential, which is all the
   * exactly-once argument needs); >1 overlaps decoding of one partition with another's insert.
   */
  readonly partitionsConsumedConcurrently: number;
  /** Called synchronously at each stage of a batch; must not throw. */
  readonly onStage?: ((stage: ConsumerStage, info: { partition: number; rows: number }) => void) | undefined;
  /**
   * Called with every row of a batch that costs something (or has usage without a price), in
   * offset and span order with its index among its message's rows, after the store holds them
   * all and before their offsets are committed (the budgets hand-off). Retried; deltas are
   * idempotent. Rows that were already stored (a redelivery) are handed off again with the rest:
   * a crash between the insert and the hand-off must not lose them for budgets, and when the
   * hand-off had happened the evaluator drops the repeats by their source offsets.
   */
  readonly onRowsStored?: ((rows: readonly BudgetRow[]) => Promise<void>) | undefined;
  /**
   * One model call, one charge across the spans of a partition: a ModelCallLedger per assigned
   * partition remembering at most `maxTraces` traces, restored on assignment from the
   * partition's usage-bearing rows stored in the last `restoreWindowSeconds` (by span start).
   * Absent: only spans marked by their emitter are uncharged.
   */
  readonly ledger?: { readonly maxTraces: number; readonly restoreWindowSeconds: number } | undefined;
}

/** Retries of the budget hand-off: 400 ms doubling (5 attempts in about 6 s). */
const HAND_OFF_BACKOFF: BackoffPolicy = { initialMs: 400, maxMs: 6_400, jitter: 0 };
/** Probing a store that failed: 250 ms doubling to 5 s, spread so instances do not probe in step. */
const STORE_PROBE_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 5_000, jitter: 0.2 };

/**
 * Rows of partitions processed at once share an insert while fewer than this many wait. Measured
 * on ClickHouse 18.16 (docs/benchmarks.md): an insert into span_costs costs a fixed 140–170 ms of
 * CPU plus about 6 ms per 1,000 rows, so near 25,000 rows the two are alike; larger batches are
 * inserted as soon as they are ready, overlapping the other partitions' decoding.
 */
const INSERT_SHARE_BELOW_ROWS = 25_000;

/**
 * Longest a batch's rows wait for those of the other partitions processed at once (normally they
 * wait only until those are ready; this bounds a stalled one, e.g. a slow dead-letter send).
 */
const INSERT_MAX_WAIT_MS = 1_000;

/** Dead-letter headers: why, and exactly where the message came from. */
export const DLQ_HEADERS = {
  reason: 'costtrace.dlq.reason',
  detail: 'costtrace.dlq.detail',
  topic: 'costtrace.dlq.source.topic',
  partition: 'costtrace.dlq.source.partition',
  offset: 'costtrace.dlq.source.offset',
  spans: 'costtrace.dlq.spans',
} as const;

/** A batch's rows waiting for (or in) an insert shared with other partitions' rows. */
interface InsertMember {
  readonly rows: BatchRows;
  readonly payload: BatchContext;
  readonly partition: number;
  readonly generation: number;
  /** Set by the insert: the partition was revoked meanwhile, its rows were left out. */
  skipped: boolean;
  /** Set by the insert: it failed (any subset of its rows may be stored). */
  failure: unknown;
}

interface DeadLetter {
  readonly value: Buffer | null;
  readonly reason: string;
  readonly detail: string;
  readonly offset: string;
  readonly spans: number;
}

/**
 * Kafka → ClickHouse with exactly-once storage, on ClickHouse 18.16 and current releases alike.
 * The argument:
 *
 * 1. Every row carries its message's topic, partition and offset and its span's index in the
 *    message: that key identifies the row. One consumer owns a partition at a time (each insert
 *    starts right after a heartbeat and times out well inside the session timeout), so nothing
 *    else writes that partition's rows while we do.
 * 2. An insert is not all-or-nothing as a whole: ClickHouse commits one part per table partition
 *    (per day of start time) one at a time, and the rollup's part after the span part, so a
 *    server killed mid-insert keeps any prefix of them. The store therefore inserts one day at a
 *    time (each one part, atomic) and offers `recoverStoredSpans`, which answers exactly which
 *    keys of a range of messages are stored and first repairs the rollup of the minutes they fall
 *    in (rollup rows carry their source partition, so the owner compares like with like).
 * 3. Messages above the highest stored offset of the partition (`storedOffsets`, read on
 *    assignment and after any failed or ambiguous insert) have no stored row. For a batch reaching
 *    at or below it, the consumer asks `recoverStoredSpans` for the batch's range and inserts only
 *    the rows whose keys are missing. Recovery decides from what is stored, never from the highest
 *    offset alone.
 * 4. Offsets are committed only after every row of the batch is stored; the commit is an
 *    optimisation (it saves re-reading), correctness comes from (1)–(3).
 *
 * A process killed at any point (or ClickHouse killed mid-insert) therefore re-reads from the
 * committed offset, finds out exactly what is stored, repairs the rollup and stores the rest.
 * (Residual assumption: the server does not finish an insert whose client already gave up more
 * than session − request timeout later; see docs/aggregator.md.)
 *
 * Undecodable messages and rejected spans go to the dead-letter topic (at least once) before any
 * row of the batch is inserted, so every message at or below a stored offset has been
 * dead-lettered already; they never stop the partition. When ClickHouse is unavailable the
 * partition is paused without resolving its offsets and resumed once ClickHouse answers.
 */
export class SpanConsumer {
  private readonly consumer: LogConsumer;
  private readonly dlqProducer: LogProducer;
  /**
   * Per partition, the highest offset that may have stored rows from before this consumer's
   * current run of it (another owner, or an insert of ours that failed); absent: ask the store.
   * Messages above it have none.
   */
  private readonly storedUpTo = new Map<number, bigint>();
  private readonly paused = new Map<number, () => void>();
  /**
   * Per assigned partition, the generation of its model-call ledger (kept by the runner, see
   * `ledgerJob`); absent: restore it from the store with the next batch.
   */
  private readonly ledgerGenerations = new Map<number, number>();
  private ledgerGeneration = 0;
  /**
   * Per partition, the highest offset this consumer dead-lettered since it was assigned: a batch
   * retried after a failed insert does not send its dead letters again (they stay at least once
   * across consumers and restarts).
   */
  private readonly deadLetteredUpTo = new Map<number, bigint>();
  private probing: Promise<void> | undefined;
  /** Bumped whenever the group is (re)joined or rejoining: see `confirmOwnership`. */
  private generation = 0;
  private running = false;
  private rowsStored = 0;
  private deadLettered = 0;
  private stopRequested = false;
  private readonly inserts: InsertCoalescer<InsertMember>;

  constructor(private readonly options: SpanConsumerOptions) {
    this.inserts = new InsertCoalescer<InsertMember>({
      maxRows: options.maxBatchRows,
      shareBelowRows: INSERT_SHARE_BELOW_ROWS,
      maxWaitMs: INSERT_MAX_WAIT_MS,
      rowsOf: (member) => member.rows.count,
      write: (members) => this.insertTogether(members),
    });
    // Any (re)join may move partitions: batches that began before it must not write any more,
    // and a new generation forgets what it knew and asks the store again.
    this.consumer = options.log.consumer({
      groupId: options.groupId,
      topic: options.topic,
      fromBeginning: true,
      settings: consumerSettings({
        sessionTimeoutMs: options.sessionTimeoutMs,
        rebalanceTimeoutMs: options.rebalanceTimeoutMs,
        maxBytesPerPartition: options.maxBytesPerPartition,
        maxWaitTimeMs: options.fetchMaxWaitMs,
        minBytes: options.fetchMinBytes,
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
      }),
      listeners: {
        rebalancing: () => {
          this.generation++;
        },
        assigned: (partitions) => {
          this.generation++;
          this.storedUpTo.clear();
          this.deadLetteredUpTo.clear();
          for (const partition of this.ledgerGenerations.keys()) this.options.runner.forget(partition);
          this.ledgerGenerations.clear();
          for (const resume of this.paused.values()) resume();
          this.paused.clear();
          this.options.metrics.pausedPartitions.set(0);
          options.logger.info({ topic: options.topic, partitions }, 'partitions assigned');
        },
        crashed: (error, restart) => {
          this.generation++;
          options.logger.error({ err: error, restart }, 'Kafka consumer crashed');
        },
      },
    });
    this.dlqProducer = options.log.producer();
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
    await this.consumer.start((context) => this.handleBatch(context));
    this.running = true;
  }

  /** Lets the in-flight batch finish (stored and committed), then leaves the group. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    this.running = false;
    await this.consumer.stop();
    await this.dlqProducer.disconnect();
    await this.probing;
    await this.options.runner.close();
  }

  /**
   * Hands stored rows to `onRowsStored`, retrying with backoff: the rows are already stored, so a
   * failure here must not fail the batch (a redelivery would skip them as stored). After the
   * retries the failure is logged and counted once per batch.
   */
  private async handOff(rows: readonly BudgetRow[], topic: string, partition: number): Promise<void> {
    const onRowsStored = this.options.onRowsStored;
    if (onRowsStored === undefined || rows.length === 0) return;
    try {
      await retry(() => onRowsStored(rows), { policy: HAND_OFF_BACKOFF, maxAttempts: 5 });
    } catch (err) {
      this.options.metrics.handOffFailures.inc();
      this.options.logger.error(
        { err, topic, partition, rows: rows.length },
        'budget hand-off failed after 5 attempts; these rows count for no budget',
      );
    }
  }

  /**
   * A heartbeat before anything is written for a partition. When it fails (the group is
   * rebalancing, or has already given the partition to another member after this one stalled
   * past its session), the error ends the batch before the write and kafkajs rejoins: a consumer
   * that lost its partition never writes to it. When it succeeds the session lasts at least
   * session timeout − heartbeat interval more, longer than an insert may take (the ClickHouse
   * request timeout), so the partition cannot move while this insert runs.
   */
  private async confirmOwnership(payload: BatchContext, generation: number): Promise<void> {
    try {
      // Another partition's worker may have seen the rebalance first (kafkajs consumes several
      // partitions at once and rejoins as soon as one of them fails): this batch began in a
      // membership that no longer holds, so it must not write.
      const current = (): void => {
        if (this.generation !== generation) {
          throw new Error('the group was rejoined since this batch began; its partition may have moved');
        }
      };
      current();
      await payload.heartbeat();
      current();
    } catch (err) {
      this.options.metrics.ownershipLost.inc();
      this.options.logger.warn(
        { err, topic: payload.batch.topic, partition: payload.batch.partition },
        'heartbeat failed before a write: leaving the batch unwritten for the group to reassign',
      );
      throw err;
    }
  }

  private stage(stage: ConsumerStage, partition: number, rows: number): void {
    this.options.onStage?.(stage, { partition, rows });
  }

  /**
   * One insert of the rows of several partitions' batches (InsertCoalescer's `write`). Members
   * whose partition was revoked meanwhile are left out (`skipped`). A heartbeat and the
   * generation of every member are checked right before the insert starts, as for a single
   * batch (see `confirmOwnership`): when that fails the error rejects every member, which ends
   * their batches unwritten. An insert that fails is reported to every member (`failure`).
   */
  private async insertTogether(members: readonly InsertMember[]): Promise<void> {
    const live: InsertMember[] = [];
    for (const m of members) {
      m.skipped = !m.payload.isActive() && !this.stopRequested;
      if (!m.skipped) live.push(m);
    }
    if (live.length === 0) return;
    for (const m of live) await this.confirmOwnership(m.payload, m.generation);
    const rows = live.reduce((n, m) => n + m.rows.count, 0);
    const started = process.hrtime.bigint();
    try {
      const insert = BatchRows.insertTogether(
        this.options.store,
        live.map((m) => m.rows),
      );
      for (const m of live) this.stage('insert-started', m.partition, m.rows.count);
      await insert;
    } catch (err) {
      for (const m of live) m.failure = err;
      return;
    }
    this.options.metrics.insertSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    this.options.metrics.batchRows.observe(rows);
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

  /**
   * The partition's ledger for the next batch. On the first batch after assignment it is
   * restored from what the store holds (the decisions of the partition's previous owner, or of
   * this process before a restart), so a span whose sibling was stored before is decided as if
   * nothing had happened; the runner keeps it between batches.
   */
  private async ledgerJob(partition: number): Promise<LedgerJob | undefined> {
    const options = this.options.ledger;
    if (options === undefined) return undefined;
    const generation = this.ledgerGenerations.get(partition);
    if (generation !== undefined) return { generation, maxTraces: options.maxTraces };
    const since = Math.floor(Date.now() / 1000) - options.restoreWindowSeconds;
    const restore = await this.options.store.recentUsageSpans(
      this.options.topic,
      partition,
      since,
      options.maxTraces * 8,
    );
    const next = ++this.ledgerGeneration;
    this.ledgerGenerations.set(partition, next);
    this.options.logger.info(
      { topic: this.options.topic, partition, restoredSpans: restore.length },
      'model-call ledger restored',
    );
    return { generation: next, maxTraces: options.maxTraces, restore };
  }

  /**
   * Runs the batch through the runner. A worker that was replaced since the partition's last
   * batch no longer holds its ledger: it is restored again and the batch run once more.
   */
  private async process(job: SpanBatchJob): Promise<ProcessedSpanBatch> {
    try {
      return await this.options.runner.process(job);
    } catch (err) {
      if (!(err instanceof LedgerStateLost)) throw err;
      this.options.logger.warn(
        { topic: job.topic, partition: job.partition },
        'ledger lost with its worker; restoring',
      );
      this.ledgerGenerations.delete(job.partition);
      return this.options.runner.process({ ...job, ledger: await this.ledgerJob(job.partition) });
    }
  }

  private async handleBatch(payload: BatchContext): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0 || !payload.isActive()) return;
    // Other partitions' rows wait for this batch's (to share an insert) until it submits or ends.
    this.inserts.begin();
    try {
      await this.storeBatch(payload);
    } finally {
      this.inserts.end();
    }
  }

  private async storeBatch(payload: BatchContext): Promise<void> {
    const { batch } = payload;
    const { topic, partition } = batch;
    const { logger, metrics } = this.options;
    const generation = this.generation;
    this.stage('batch-received', partition, 0);

    let storedUpTo: bigint;
    let ledger: LedgerJob | undefined;
    try {
      storedUpTo = await this.storedOffset(partition);
      ledger = await this.ledgerJob(partition);
    } catch (err) {
      this.pauseUntilClickHouseAnswers(payload, partition, err);
      return;
    }

    const messages: BatchMessage[] = batch.messages.map((m) => ({
      offset: m.offset,
      timestamp: m.timestamp,
      value: m.value,
      contentType: headerText(m, 'content-type'),
    }));
    const processed = await this.process({ topic, partition, messages, storedUpTo, ledger });
    this.count(processed, messages);
    const offsets = messages.map((m) => BigInt(m.offset));

    // Still ours? Recovery may write (rollup repairs): see `confirmOwnership`.
    await this.confirmOwnership(payload, generation);
    let stored: ReadonlyMap<bigint, ReadonlySet<number>>;
    try {
      stored = await this.recover(topic, partition, processed, offsets, storedUpTo);
    } catch (err) {
      this.pauseUntilClickHouseAnswers(payload, partition, err);
      return;
    }
    const all = BatchRows.all(processed);
    const missing =
      stored.size === 0
        ? all
        : all.select((i) => stored.get(offsets[processed.rowMessages[i]!]!)?.has(processed.rowSpans[i]!) !== true);
    const skipped = all.count - missing.count;
    if (skipped > 0) {
      metrics.duplicatesSkipped.inc(skipped);
      logger.info(
        { topic, partition, skipped, storedUpTo: storedUpTo.toString() },
        'skipped redelivered spans already stored',
      );
    }

    // At or below storedUpTo the message was dead-lettered by the batch that stored rows there
    // (dead letters go out before any insert): not again. Nor twice by this consumer.
    const sentUpTo = this.deadLetteredUpTo.get(partition) ?? -1n;
    const unsent: DeadLetter[] = [];
    for (const d of processed.deadLetters) {
      const offset = offsets[d.message]!;
      if (offset <= storedUpTo || offset <= sentUpTo) continue;
      const message = messages[d.message]!;
      const value = d.value ?? message.value;
      unsent.push({
        value: value === null ? null : Buffer.from(value.buffer, value.byteOffset, value.byteLength),
        reason: d.reason,
        detail: d.detail,
        offset: message.offset,
        spans: d.spans,
      });
    }
    if (unsent.length > 0) {
      await this.deadLetter(topic, partition, unsent);
      this.deadLetteredUpTo.set(partition, BigInt(unsent[unsent.length - 1]!.offset));
    }

    for (let i = 0; i < missing.count; i += this.options.maxBatchRows) {
      const chunk = missing.slice(i, i + this.options.maxBatchRows);
      if (!payload.isActive() && !this.stopRequested) return;
      this.stage('before-insert', partition, chunk.count);
      // Shares an insert with the rows of the other partitions being processed (ownership of
      // every one of them is confirmed right before it starts: see insertTogether).
      const member: InsertMember = { rows: chunk, payload, partition, generation, skipped: false, failure: undefined };
      await this.inserts.submit(member);
      if (member.skipped) return;
      if (member.failure !== undefined) {
        // Any subset of the insert may have been stored (a timeout is ambiguous, a server killed
        // mid-insert keeps some parts): forget what we knew so the retry recovers first.
        this.storedUpTo.delete(partition);
        this.pauseUntilClickHouseAnswers(payload, partition, member.failure);
        return;
      }
      metrics.spansStored.inc(chunk.count);
      for (const cost of chunk.costs()) metrics.addCost(cost.service, cost.currency, cost.amount);
      this.rowsStored += chunk.count;
      this.stage('after-insert', partition, chunk.count);
      await payload.heartbeat().catch(() => undefined);
    }

    if (this.options.onRowsStored !== undefined) await this.handOff(processed.budgetRows, topic, partition);

    const last = batch.messages[batch.messages.length - 1]!.offset;
    payload.resolveOffset(last);
    try {
      await payload.commit((BigInt(last) + 1n).toString());
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
    logger.debug({ topic, partition, lastOffset: last, rows: missing.count }, 'batch stored and committed');
  }

  /**
   * Which of a batch's rows are stored already, by message offset and span index. Nothing above
   * `storedUpTo` is; for the messages at or below it the store answers exactly, after repairing
   * the rollup of the minutes of those rows (stored or about to be inserted) for this partition.
   */
  private async recover(
    topic: string,
    partition: number,
    processed: ProcessedSpanBatch,
    offsets: readonly bigint[],
    storedUpTo: bigint,
  ): Promise<ReadonlyMap<bigint, ReadonlySet<number>>> {
    if (processed.rows === 0) return new Map();
    const first = offsets[processed.rowMessages[0]!]!;
    if (first > storedUpTo) return new Map();
    const { logger, metrics } = this.options;
    let to = first;
    const minutes = new Set<number>();
    for (let i = 0; i < processed.rows; i++) {
      const offset = offsets[processed.rowMessages[i]!]!;
      if (offset > storedUpTo) break;
      to = offset;
      minutes.add(processed.rowMinutes[i]!);
    }
    const recovered = await this.options.store.recoverStoredSpans(topic, partition, first, to, minutes);
    if (recovered.rollupRowsRepaired > 0) metrics.rollupRowsRepaired.inc(recovered.rollupRowsRepaired);
    if (recovered.rollupExcessKeys.length > 0) {
      metrics.rollupExcessKeys.inc(recovered.rollupExcessKeys.length);
      logger.warn(
        { topic, partition, keys: recovered.rollupExcessKeys.slice(0, 5), count: recovered.rollupExcessKeys.length },
        'the rollup held more than the stored spans for these keys; corrected',
      );
    }
    logger.info(
      {
        topic,
        partition,
        from: first.toString(),
        to: to.toString(),
        storedMessages: recovered.spans.size,
        rollupRowsRepaired: recovered.rollupRowsRepaired,
      },
      'recovery: checked which spans of redelivered messages are stored',
    );
    return recovered.spans;
  }

  /** Adds a batch's counts (of messages not counted before) to the metrics, and logs its samples. */
  private count(processed: ProcessedSpanBatch, messages: readonly BatchMessage[]): void {
    const { metrics, logger, topic } = this.options;
    const c = processed.counts;
    if (c.spansConsumed > 0) metrics.spansConsumed.inc(c.spansConsumed);
    for (const [reason, n] of Object.entries(c.sanitized)) metrics.spansSanitized.inc({ reason }, n);
    if (c.pricedHere > 0) metrics.spansPricedHere.inc(c.pricedHere);
    if (c.upperBound > 0) metrics.upperBoundSpans.inc(c.upperBound);
    if (c.usageExact > 0) metrics.usageSpans.inc({ outcome: 'exact' }, c.usageExact);
    if (c.usageUpperBound > 0) metrics.usageSpans.inc({ outcome: 'upper_bound' }, c.usageUpperBound);
    if (c.usageUnpriced > 0) metrics.usageSpans.inc({ outcome: 'unpriced' }, c.usageUnpriced);
    if (c.duplicates > 0) metrics.unchargedSpans.inc({ role: 'duplicate' }, c.duplicates);
    if (c.rollups > 0) metrics.unchargedSpans.inc({ role: 'rollup' }, c.rollups);
    for (const [k, n] of Object.entries(c.emittedCosts)) {
      const split = k.lastIndexOf('|');
      metrics.emittedCosts.inc({ key: k.slice(0, split), outcome: k.slice(split + 1) }, n);
    }
    for (const sample of processed.emittedSamples) {
      logger.debug({ topic, ...sample }, 'another tool’s cost on the span differs');
    }
    if (c.unpriced > 0) metrics.spansUnpriced.inc(c.unpriced);
    if (c.auditDifferences > 0) metrics.auditDifferences.inc(c.auditDifferences);
    for (const diff of processed.auditSamples) {
      logger.warn({ topic, ...diff }, 'audit: stamped cost differs from recomputation');
    }
    if (c.auditDifferences > processed.auditSamples.length) {
      logger.warn(
        { topic, differences: c.auditDifferences, logged: processed.auditSamples.length, messages: messages.length },
        'audit: more stamped costs differ in this batch than are logged',
      );
    }
    for (const [reason, n] of Object.entries(c.rejected)) metrics.spansRejected.inc({ reason }, n);
    if (c.rollupValuesFolded > 0) metrics.rollupValuesFolded.inc(c.rollupValuesFolded);
  }

  private async deadLetter(topic: string, partition: number, dead: readonly DeadLetter[]): Promise<void> {
    await this.dlqProducer.send(
      this.options.deadLetterTopic,
      dead.map((d) => ({
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
    );
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
  private pauseUntilClickHouseAnswers(payload: BatchContext, partition: number, err: unknown): void {
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
    for (let attempt = 1; !this.stopRequested; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(STORE_PROBE_BACKOFF, attempt)).unref());
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
