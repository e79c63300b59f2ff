import { diffSnapshots, PriceSnapshot } from '@costtrace/core';
import type { Override, Price, PriceDiff } from '@costtrace/core';

/** One published change: the snapshot at `version` is the one at `baseVersion` plus `diff`. */
export interface ChangeEvent {
  readonly version: bigint;
  readonly baseVersion: bigint;
  readonly diff: PriceDiff;
}

export type StoreEvent =
  { readonly type: 'change'; readonly change: ChangeEvent } | { readonly type: 'stale'; readonly stale: boolean };

/** What a watcher resuming from a version must receive. */
export type ResumePlan =
  | { readonly type: 'up-to-date' }
  | { readonly type: 'changes'; readonly changes: readonly ChangeEvent[] }
  | { readonly type: 'snapshot' };

/**
 * The current snapshot, its staleness and a bounded log of recent changes, so watchers can
 * resume. Versions increase strictly: a new version is max(previous + 1, publish time in ms),
 * which also keeps them increasing across restarts that lost the persisted snapshot.
 */
export class PriceStore {
  private snapshot: PriceSnapshot | undefined;
  private log: ChangeEvent[] = [];
  private listeners = new Set<(event: StoreEvent) => void>();
  private staleFlag = false;

  constructor(
    private readonly maxChangeLog: number,
    private readonly now: () => number = Date.now,
  ) {}

  current(): PriceSnapshot | undefined {
    return this.snapshot;
  }

  get stale(): boolean {
    return this.staleFlag;
  }

  setStale(stale: boolean): void {
    if (stale === this.staleFlag) return;
    this.staleFlag = stale;
    this.emit({ type: 'stale', stale });
  }

  /** Installs a persisted snapshot as is (same version): resuming clients see no change. */
  restore(snapshot: PriceSnapshot): void {
    this.snapshot = snapshot;
    this.log = [];
  }

  /**
   * Builds a snapshot from merged source data and publishes it when it differs from the
   * current one. Throws (and changes nothing) if the data is invalid, e.g. duplicate ids.
   */
  publish(prices: readonly Price[], overrides: readonly Override[]): ChangeEvent | undefined {
    const now = this.now();
    const previous = this.snapshot;
    const nextVersion = previous === undefined ? BigInt(now) : bigMax(previous.version + 1n, BigInt(now));
    const next = new PriceSnapshot(nextVersion, prices, overrides, now);
    // The first snapshot is a change from nothing (base version 0) for watchers already waiting.
    const diff = diffSnapshots(previous ?? EMPTY, next);
    if (diff.upserted.length === 0 && diff.removedIds.length === 0 && !diff.overridesChanged) return undefined;
    this.snapshot = next;
    const change: ChangeEvent = { version: nextVersion, baseVersion: previous?.version ?? 0n, diff };
    this.log.push(change);
    if (this.log.length > this.maxChangeLog) this.log.splice(0, this.log.length - this.maxChangeLog);
    this.emit({ type: 'change', change });
    return change;
  }

  /** What a client that last applied `fromVersion` needs (0: a full snapshot). */
  planResume(fromVersion: bigint): ResumePlan {
    const current = this.snapshot;
    if (current === undefined || fromVersion === 0n) return { type: 'snapshot' };
    if (fromVersion === current.version) return { type: 'up-to-date' };
    const start = this.log.findIndex((c) => c.baseVersion === fromVersion);
    if (start < 0) return { type: 'snapshot' };
    return { type: 'changes', changes: this.log.slice(start) };
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  private emit(event: StoreEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }
}

const EMPTY = new PriceSnapshot(0n, [], [], 0);

function bigMax(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
