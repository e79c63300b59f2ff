import type { Logger } from 'pino';
import { consumerSettings } from '../message-log/message-log.js';
import type { ConsumerSettings, LogConsumer, LogProducer, MessageLog } from '../message-log/message-log.js';
import type { ActiveThrottle } from './throttle.js';

export type ThrottleChange =
  | { readonly type: 'engaged'; readonly throttle: ActiveThrottle; readonly version: number }
  | {
      readonly type: 'released';
      /** Id of the engagement that ends. */
      readonly id: string;
      readonly scope_key: string;
      readonly budget_id: string;
      readonly version: number;
    };

type Listener = (change: ThrottleChange) => void;

/**
 * The set of active throttles of the whole deployment, as `GET /v1/throttles` and the SSE stream
 * serve it. Changes carry a version (monotonic per owner) so a late echo never undoes a newer
 * change. Listeners are called synchronously, in order.
 */
export class ThrottleBoard {
  private readonly active = new Map<string, { throttle: ActiveThrottle; version: number }>();
  /** Versions of released keys (so an older "engaged" echo is ignored); pruned after an hour. */
  private readonly released = new Map<string, { version: number; atMs: number }>();
  private readonly listeners = new Set<Listener>();
  private lastVersion = 0;
  private applied = 0;

  /** A version greater than every one this process issued. */
  nextVersion(): number {
    const now = Date.now() * 1000;
    this.lastVersion = now > this.lastVersion ? now : this.lastVersion + 1;
    return this.lastVersion;
  }

  /** Version of the latest change applied (0 before any); clients may compare documents by it. */
  get version(): number {
    return this.applied;
  }

  list(): ActiveThrottle[] {
    return [...this.active.values()].map((a) => a.throttle).sort((a, b) => (a.scope_key < b.scope_key ? -1 : 1));
  }

  get(scopeKey: string): ActiveThrottle | undefined {
    return this.active.get(scopeKey)?.throttle;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  /** Applies a change; returns false when it is older than what the board has. */
  apply(change: ThrottleChange): boolean {
    const key = change.type === 'engaged' ? change.throttle.scope_key : change.scope_key;
    const current = this.active.get(key)?.version ?? this.released.get(key)?.version ?? -1;
    if (change.version <= current) return false;
    if (change.type === 'engaged') {
      this.released.delete(key);
      this.active.set(key, { throttle: change.throttle, version: change.version });
    } else {
      if (!this.active.has(key) && !this.released.has(key)) {
        this.released.set(key, { version: change.version, atMs: Date.now() });
        return false;
      }
      this.active.delete(key);
      this.released.set(key, { version: change.version, atMs: Date.now() });
      this.prune();
    }
    this.applied = Math.max(this.applied, change.version);
    for (const listener of this.listeners) listener(change);
    return true;
  }

  private prune(): void {
    if (this.released.size < 10_000) return;
    const cutoff = Date.now() - 3_600_000;
    for (const [k, v] of this.released) if (v.atMs < cutoff) this.released.delete(k);
  }
}

export interface ThrottleSyncOptions {
  readonly log: MessageLog;
  /** Its groups' consumer settings; default: short fetch waits (100 ms). */
  readonly consumer?: ConsumerSettings | undefined;
  /** Compacted topic of throttle changes, key = scope key (default `budget_throttles`). */
  readonly topic: string;
  /** Consumer group prefix; each instance reads the whole topic under its own group. */
  readonly groupIdPrefix: string;
  readonly instanceId: string;
  readonly board: ThrottleBoard;
  readonly logger: Logger;
}

/**
 * Shares throttle changes between aggregator instances: the owner of a budget key publishes to a
 * compacted topic keyed by scope key (the latest record of a key is its state), and
 * every instance reads the whole topic from the beginning into its board, so any instance
 * answers `GET /v1/throttles` for the whole deployment.
 */
export class ThrottleSync {
  private readonly producer: LogProducer;
  private readonly consumer: LogConsumer;

  constructor(private readonly options: ThrottleSyncOptions) {
    this.producer = options.log.producer();
    this.consumer = options.log.consumer({
      groupId: `${options.groupIdPrefix}-${options.instanceId}`,
      topic: options.topic,
      fromBeginning: true,
      settings: options.consumer ?? consumerSettings({ maxWaitTimeMs: 100 }),
    });
  }

  async start(): Promise<void> {
    await this.producer.connect();
    // Never commit: every start reads the whole compacted topic again (the board is in memory).
    await this.consumer.start(({ batch, resolveOffset }) => {
      for (const message of batch.messages) {
        if (message.value !== null) {
          try {
            this.options.board.apply(JSON.parse(message.value.toString('utf8')) as ThrottleChange);
          } catch (err) {
            this.options.logger.warn({ err, offset: message.offset }, 'ignored an unreadable throttle change');
          }
        }
        resolveOffset(message.offset);
      }
      return Promise.resolve();
    });
  }

  async publish(change: ThrottleChange): Promise<void> {
    const key = change.type === 'engaged' ? change.throttle.scope_key : change.scope_key;
    await this.producer.send(this.options.topic, [{ key, value: JSON.stringify(change) }]);
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
    await this.producer.disconnect();
  }
}
