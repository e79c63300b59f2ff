import type { Logger } from 'pino';
import { consumerSettings } from '../message-log/message-log.js';
import type {
  BatchContext,
  ConsumerSettings,
  LogConsumer,
  LogProducer,
  MessageLog,
} from '../message-log/message-log.js';
import type { BudgetCatalog } from './budget-catalog.js';
import { BudgetEngine } from './budget-engine.js';
import type { BudgetEngineOptions, EngineOutput, KeySnapshot } from './budget-engine.js';
import type { BudgetStore } from './budget-store.js';
import { decodeDelta } from './cost-delta.js';
import type { ThrottleBoard, ThrottleChange } from './throttle-board.js';
import type { WebhookEvent } from '../webhooks/webhook-event.js';

/** The evaluator group's consumer settings unless configured: partitions four at a time, short fetch waits. */
export const EVALUATOR_CONSUMER_DEFAULTS: Partial<ConsumerSettings> = {
  maxWaitTimeMs: 100,
  partitionsConsumedConcurrently: 4,
};

export interface BudgetEvaluatorOptions {
  readonly log: MessageLog;
  /** The evaluator group's consumer settings (BudgetsConfig.evaluatorConsumer). */
  readonly consumer?: ConsumerSettings | undefined;
  /** Topic of cost deltas keyed by scope key (default `cost_deltas`). */
  readonly topic: string;
  /** Undecodable deltas go here with the reason (default `<topic>.dlq`). */
  readonly deadLetterTopic: string;
  /** Consumer group of all evaluators: each partition, hence each budget key, has one owner. */
  readonly groupId: string;
  readonly store: BudgetStore;
  readonly catalog: () => BudgetCatalog;
  /** Delivers an event durably (outbox) to the given endpoints. */
  readonly publish: (event: WebhookEvent, endpointIds: readonly string[]) => Promise<unknown>;
  readonly board: ThrottleBoard;
  /** Shares throttle changes with other instances (ThrottleSync.publish); optional. */
  readonly shareThrottle?: ((change: ThrottleChange) => Promise<void>) | undefined;
  readonly logger: Logger;
  /** Clock tick for releases, rollovers and forecasts. Default 250 ms. */
  readonly tickMs?: number | undefined;
  /** How often key state is persisted and offsets committed. Default 2000 ms. */
  readonly flushMs?: number | undefined;
  readonly anomalies?: BudgetEngineOptions['anomalies'];
  readonly now?: (() => number) | undefined;
}

/**
 * Consumes `cost_deltas` in its own consumer group, keeps rolling spend per budget key in a
 * BudgetEngine and turns threshold crossings into webhooks and throttle changes.
 *
 * Restart safety: every `flushMs` the snapshots of changed keys (window buckets, thresholds,
 * throttle state and per-source watermarks) are written to ClickHouse, and only then are the
 * consumed offsets committed. On partition assignment the keys of that partition are restored
 * from their latest snapshot before its first batch is applied; re-delivered deltas at or below
 * a key's watermark are dropped, so totals stay exact and an announced breach is not announced
 * again. Events are written to the outbox before their batch counts as processed, and their ids
 * are deterministic, so even a crash between outbox and snapshot yields no second event.
 */
export class BudgetEvaluator {
  readonly engine: BudgetEngine;
  private readonly consumer: LogConsumer;
  private readonly producer: LogProducer;
  private readonly now: () => number;
  private lock: Promise<unknown> = Promise.resolve();
  private readonly loaded = new Set<number>();
  private assigned = new Set<number>();
  private readonly toCommit = new Map<number, string>();
  private unsaved = new Map<string, KeySnapshot>();
  private tickTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private running = false;
  private flushing: Promise<void> | undefined;
  deadLettered = 0;
  batches = 0;
  keysPersisted = 0;

  constructor(private readonly options: BudgetEvaluatorOptions) {
    this.now = options.now ?? Date.now;
    this.engine = new BudgetEngine({
      catalog: options.catalog,
      anomalies: options.anomalies,
      onKeyCap: (budgetId, cap) =>
        options.logger.warn({ budgetId, cap }, 'budget reached its key cap; further keys are counted, not tracked'),
    });
    this.consumer = options.log.consumer({
      groupId: options.groupId,
      topic: options.topic,
      fromBeginning: true,
      settings: options.consumer ?? consumerSettings(EVALUATOR_CONSUMER_DEFAULTS),
      listeners: {
        assigned: (partitions) => {
          const mine = new Set(partitions);
          void this.locked(() => {
            this.assigned = mine;
            for (const p of [...this.loaded]) if (!mine.has(p)) this.loaded.delete(p);
            for (const p of [...this.toCommit.keys()]) if (!mine.has(p)) this.toCommit.delete(p);
            const dropped = this.engine.dropPartitions(mine);
            this.options.logger.info({ partitions: [...mine], droppedKeys: dropped }, 'budget evaluator assignment');
            return Promise.resolve();
          });
        },
      },
    });
    this.producer = options.log.producer();
  }

  /** Partitions of `cost_deltas` this instance owns now. */
  get partitions(): number[] {
    return [...this.assigned].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    await this.producer.connect();
    this.running = true;
    await this.consumer.start((context) => this.locked(() => this.handleBatch(context)));
    this.tickTimer = setInterval(() => void this.locked(() => this.tick()), this.options.tickMs ?? 250);
    this.tickTimer.unref();
    this.flushTimer = setInterval(() => void this.locked(() => this.flush()), this.options.flushMs ?? 2000);
    this.flushTimer.unref();
  }

  /** Stops consuming, persists state and commits, then disconnects. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.tickTimer);
    clearInterval(this.flushTimer);
    // Pause (not stop) so the last flush can still commit for this group member.
    this.consumer.pauseAll();
    await this.locked(async () => {
      await this.flushing;
      await this.flush();
      await this.flushing;
    });
    await this.consumer.stop();
    await this.producer.disconnect();
  }

  /** Runs `fn` after everything queued before it (batches, ticks and flushes never interleave). */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch((err: unknown) => this.options.logger.error({ err }, 'budget evaluator step failed'));
    return run;
  }

  private async ensureLoaded(partition: number): Promise<void> {
    if (this.loaded.has(partition)) return;
    const snapshots = await this.options.store.loadKeyStates(this.options.topic, [partition]);
    const engaged = this.engine.restore(snapshots, this.now());
    for (const throttle of engaged)
      await this.changeThrottle({ type: 'engaged', throttle, version: this.options.board.nextVersion() });
    this.loaded.add(partition);
    this.options.logger.info({ partition, keys: snapshots.length, engaged: engaged.length }, 'budget keys restored');
  }

  private async handleBatch(payload: BatchContext): Promise<void> {
    const { batch } = payload;
    if (!this.running || batch.messages.length === 0 || !payload.isActive()) return;
    const { partition } = batch;
    await this.ensureLoaded(partition);
    const dead: { value: Buffer | null; reason: string; offset: string }[] = [];
    for (const message of batch.messages) {
      let delta;
      try {
        if (message.value === null) throw new Error('message has no value');
        delta = decodeDelta(message.value.toString('utf8'));
      } catch (err) {
        dead.push({
          value: message.value,
          reason: err instanceof Error ? err.message : String(err),
          offset: message.offset,
        });
        continue;
      }
      await this.handleOutput(this.engine.apply(delta, partition, this.now()));
    }
    if (dead.length > 0) {
      await this.producer.send(
        this.options.deadLetterTopic,
        dead.map((d) => ({
          value: d.value,
          headers: {
            'costtrace.dlq.reason': d.reason.slice(0, 1024),
            'costtrace.dlq.source.topic': batch.topic,
            'costtrace.dlq.source.partition': String(partition),
            'costtrace.dlq.source.offset': d.offset,
          },
        })),
      );
      this.deadLettered += dead.length;
      this.options.logger.warn(
        { partition, count: dead.length, first: dead[0]?.reason },
        'cost deltas sent to the dead-letter topic',
      );
    }
    const last = batch.messages[batch.messages.length - 1]!.offset;
    payload.resolveOffset(last);
    this.toCommit.set(partition, (BigInt(last) + 1n).toString());
    this.batches++;
    await payload.heartbeat();
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    await this.handleOutput(this.engine.tick(this.now()));
  }

  private async handleOutput(out: EngineOutput): Promise<void> {
    for (const { event, webhooks } of out.events) {
      this.options.logger.info(
        { eventId: event.id, type: event.type, budgetId: event.budgetId, scopeKey: event.scopeKey },
        'budget event',
      );
      await this.options.publish(event, webhooks);
    }
    for (const throttle of out.engaged)
      await this.changeThrottle({ type: 'engaged', throttle, version: this.options.board.nextVersion() });
    for (const r of out.released) {
      await this.changeThrottle({
        type: 'released',
        id: this.options.board.get(r.scopeKey)?.id ?? r.scopeKey,
        scope_key: r.scopeKey,
        budget_id: r.budgetId,
        version: this.options.board.nextVersion(),
      });
    }
  }

  private async changeThrottle(change: ThrottleChange): Promise<void> {
    this.options.board.apply(change);
    if (this.options.shareThrottle !== undefined) {
      try {
        await this.options.shareThrottle(change);
      } catch (err) {
        this.options.logger.error(
          { err, change: change.type },
          'sharing a throttle change failed; other instances will see it after the next change',
        );
      }
    }
  }

  /**
   * Persists changed keys, then commits the offsets they cover. The snapshot and the offsets are
   * taken together under the lock (a consistent cut); the ClickHouse write and the commit run
   * outside it, so evaluation never waits for storage. One flush at a time.
   */
  private flush(): Promise<void> {
    if (this.flushing !== undefined) return Promise.resolve();
    for (const s of this.engine.takeDirty()) this.unsaved.set(s.scopeKey, s);
    const now = this.now();
    const rows = [...this.unsaved.values()].map((snapshot) => ({
      snapshot,
      spend: this.engine.spend(snapshot.scopeKey, now),
      version: BigInt(this.options.board.nextVersion()),
    }));
    this.unsaved = new Map();
    const offsets = [...this.toCommit].map(([partition, offset]) => ({ topic: this.options.topic, partition, offset }));
    this.toCommit.clear();
    if (rows.length === 0 && offsets.length === 0) return Promise.resolve();
    const write = async (): Promise<void> => {
      try {
        await this.options.store.saveKeyStates(this.options.topic, rows);
      } catch (err) {
        // Keep the snapshots (unless newer ones were taken meanwhile) and do not commit.
        for (const r of rows)
          if (!this.unsaved.has(r.snapshot.scopeKey)) this.unsaved.set(r.snapshot.scopeKey, r.snapshot);
        for (const o of offsets) if (!this.toCommit.has(o.partition)) this.toCommit.set(o.partition, o.offset);
        throw err;
      }
      if (offsets.length > 0) await this.consumer.commit(offsets.filter((o) => this.assigned.has(o.partition)));
      this.keysPersisted += rows.length;
    };
    this.flushing = write()
      .catch((err: unknown) =>
        this.options.logger.error({ err, keys: rows.length }, 'persisting budget state failed; will retry'),
      )
      .finally(() => (this.flushing = undefined));
    return Promise.resolve();
  }
}
