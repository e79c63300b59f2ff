import { mergeHistory, PriceSnapshot, priceSeriesKey, PricingError } from '@costtrace/core';
import type { Override, Price } from '@costtrace/core';
import type { Logger } from 'pino';
import type { PricingMetrics } from './metrics.js';
import type { PriceStore } from './price-store.js';
import { loadState, saveState } from './snapshot-persistence.js';
import type { PersistedState } from './snapshot-persistence.js';
import { CircuitBreaker } from './sources/circuit-breaker.js';
import type { PriceSource, SourceData } from './sources/price-source.js';

interface SourceState {
  readonly source: PriceSource;
  readonly breaker: CircuitBreaker;
  lastGood: SourceData | undefined;
  lastSuccessAt: number | undefined;
  /** False until this source succeeded in this process, or when its latest attempt failed. */
  fresh: boolean;
  timer: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
}

export interface RefresherOptions {
  readonly sources: readonly PriceSource[];
  readonly store: PriceStore;
  readonly metrics: PricingMetrics;
  readonly logger: Logger;
  /** Where the last good data is persisted; undefined: not persisted. */
  readonly persistPath: string | undefined;
  readonly now?: (() => number) | undefined;
  readonly random?: (() => number) | undefined;
}

/**
 * Refreshes each source on its own schedule (TTL ± jitter, timeout, circuit breaker), keeps
 * each source's last good data (stale-while-error), merges them into a snapshot (a later source
 * replaces an earlier one's prices key by key) and persists the result.
 */
export class Refresher {
  private readonly states: SourceState[];
  private readonly stopController = new AbortController();
  private readonly now: () => number;
  private readonly random: () => number;
  private persisting: Promise<void> = Promise.resolve();

  constructor(private readonly options: RefresherOptions) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    const names = new Set<string>();
    this.states = options.sources.map((source) => {
      if (names.has(source.name)) {
        throw new PricingError('INVALID_ARGUMENT', `two sources are named ${source.name}: give each a unique name`, {
          field: 'sources',
        });
      }
      names.add(source.name);
      return {
        source,
        breaker: new CircuitBreaker(source.schedule.failureThreshold, source.schedule.openMs, this.now),
        lastGood: undefined,
        lastSuccessAt: undefined,
        fresh: false,
        timer: undefined,
        running: undefined,
      };
    });
  }

  /** Loads the persisted last good data, if any, and serves it at once (marked stale). */
  async restore(): Promise<boolean> {
    const path = this.options.persistPath;
    if (path === undefined) return false;
    let state: PersistedState | undefined;
    try {
      state = await loadState(path);
    } catch (err) {
      this.options.logger.error({ err, path }, 'ignoring unreadable persisted snapshot');
      return false;
    }
    if (state === undefined) return false;
    for (const s of this.states) {
      const saved = state.sources.get(s.source.name);
      if (saved === undefined) continue;
      s.lastGood = saved.data;
      s.lastSuccessAt = saved.fetchedAt;
    }
    const { prices, overrides } = this.merged();
    this.options.store.restore(new PriceSnapshot(state.version, prices, overrides, this.now()));
    this.updateStale();
    this.options.metrics.snapshotVersion.set(Number(state.version));
    this.options.metrics.snapshotPrices.set(prices.length);
    this.options.logger.info(
      { version: state.version.toString(), prices: prices.length, path },
      'serving persisted snapshot',
    );
    return true;
  }

  /** Starts every source's schedule; resolves when each has been tried once. */
  start(): Promise<void> {
    return this.refreshAll();
  }

  /** Refreshes every source now (one attempt each), outside the schedule. */
  async refreshAll(): Promise<void> {
    await Promise.all(this.states.map((s) => this.run(s)));
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    for (const s of this.states) clearTimeout(s.timer);
    await Promise.all(this.states.flatMap((s) => (s.running === undefined ? [] : [s.running])));
    await this.persisting;
  }

  /** Seconds since the least recently refreshed source last succeeded. */
  oldestDataAgeSeconds(): number | undefined {
    let oldest: number | undefined;
    for (const s of this.states) {
      if (s.lastSuccessAt === undefined) continue;
      oldest = oldest === undefined ? s.lastSuccessAt : Math.min(oldest, s.lastSuccessAt);
    }
    return oldest === undefined ? undefined : (this.now() - oldest) / 1000;
  }

  sourceStatus(): { name: string; fresh: boolean; circuit: string; lastSuccessAt: string | null }[] {
    return this.states.map((s) => ({
      name: s.source.name,
      fresh: s.fresh,
      circuit: s.breaker.state,
      lastSuccessAt: s.lastSuccessAt === undefined ? null : new Date(s.lastSuccessAt).toISOString(),
    }));
  }

  private run(s: SourceState): Promise<void> {
    if (s.running !== undefined) return s.running;
    clearTimeout(s.timer);
    s.running = this.attempt(s).finally(() => {
      s.running = undefined;
      this.schedule(s);
    });
    return s.running;
  }

  private schedule(s: SourceState): void {
    if (this.stopController.signal.aborted) return;
    const { ttlMs, jitter } = s.source.schedule;
    const spread = 1 + jitter * (2 * this.random() - 1);
    const wait = s.fresh ? ttlMs * spread : Math.max(s.breaker.retryInMs(), Math.min(ttlMs, 5_000) * spread);
    s.timer = setTimeout(() => void this.run(s), wait);
    s.timer.unref();
  }

  private async attempt(s: SourceState): Promise<void> {
    const { metrics, logger } = this.options;
    const name = s.source.name;
    if (!s.breaker.allow()) {
      metrics.sourceRefreshes.inc({ source: name, result: 'circuit_open' });
      metrics.setCircuit(name, s.breaker.state);
      return;
    }
    let data: SourceData;
    try {
      const signal = AbortSignal.any([this.stopController.signal, AbortSignal.timeout(s.source.schedule.timeoutMs)]);
      data = await s.source.fetch(signal);
      if (signal.aborted) throw new PricingError('SOURCE_FAILED', `${name}: timed out`);
    } catch (err) {
      if (this.stopController.signal.aborted) return;
      this.failed(s, err);
      return;
    }
    const now = this.now();
    const previous = s.lastGood;
    const candidate: SourceData = {
      prices: mergeHistory(previous?.prices ?? [], data.prices, now),
      overrides: data.overrides,
    };
    s.lastGood = candidate;
    try {
      const { prices, overrides } = this.merged();
      const change = this.options.store.publish(prices, overrides);
      const snapshot = this.options.store.current();
      if (snapshot !== undefined) {
        metrics.snapshotVersion.set(Number(snapshot.version));
        metrics.snapshotPrices.set(snapshot.size);
      }
      if (change !== undefined) {
        logger.info(
          {
            source: name,
            version: change.version.toString(),
            upserted: change.diff.upserted.length,
            removed: change.diff.removedIds.length,
          },
          'published price snapshot',
        );
      }
    } catch (err) {
      // The data parsed but cannot form a snapshot (e.g. duplicate ids): reject it whole.
      s.lastGood = previous;
      this.failed(s, err);
      return;
    }
    s.breaker.success();
    s.lastSuccessAt = now;
    s.fresh = true;
    metrics.sourceRefreshes.inc({ source: name, result: 'success' });
    metrics.sourceAge.set({ source: name }, now / 1000);
    metrics.setCircuit(name, s.breaker.state);
    this.updateStale();
    this.persist();
  }

  private failed(s: SourceState, err: unknown): void {
    const { metrics, logger } = this.options;
    const name = s.source.name;
    s.breaker.failure();
    s.fresh = false;
    const rejected = err instanceof PricingError && err.code === 'INVALID_CATALOG';
    metrics.sourceRefreshes.inc({ source: name, result: rejected ? 'rejected' : 'failure' });
    metrics.setCircuit(name, s.breaker.state);
    logger.warn(
      { source: name, err, circuit: s.breaker.state, servingLastGood: s.lastGood !== undefined },
      rejected
        ? 'rejected invalid source data; keeping the last good data'
        : 'source refresh failed; keeping the last good data',
    );
    this.updateStale();
  }

  private updateStale(): void {
    const stale = this.states.some((s) => !s.fresh);
    this.options.store.setStale(stale);
    this.options.metrics.stale.set(stale ? 1 : 0);
  }

  /** Every source's last good data merged: later sources replace earlier ones key by key. */
  private merged(): { prices: Price[]; overrides: Override[] } {
    const byKey = new Map<string, Price[]>();
    const overrides = new Map<string, Override>();
    for (const s of this.states) {
      if (s.lastGood === undefined) continue;
      const mine = new Map<string, Price[]>();
      for (const price of s.lastGood.prices) {
        const key = priceSeriesKey(price);
        const list = mine.get(key);
        if (list === undefined) mine.set(key, [price]);
        else list.push(price);
      }
      for (const [key, list] of mine) byKey.set(key, list);
      for (const o of s.lastGood.overrides) overrides.set(o.id, o);
    }
    return { prices: [...byKey.values()].flat(), overrides: [...overrides.values()] };
  }

  private persist(): void {
    const path = this.options.persistPath;
    const snapshot = this.options.store.current();
    if (path === undefined || snapshot === undefined) return;
    const sources = new Map<string, { fetchedAt: number; data: SourceData }>();
    for (const s of this.states) {
      if (s.lastGood !== undefined && s.lastSuccessAt !== undefined) {
        sources.set(s.source.name, { fetchedAt: s.lastSuccessAt, data: s.lastGood });
      }
    }
    // One write at a time, in order; a failure is counted and logged, never fatal.
    this.persisting = this.persisting
      .then(() => saveState(path, { version: snapshot.version, sources }, this.now()))
      .catch((err: unknown) => {
        this.options.metrics.persistFailures.inc();
        this.options.logger.error({ err, path }, 'could not persist the price snapshot');
      });
  }
}
