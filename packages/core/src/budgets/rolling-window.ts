/** Buckets per rolling window: the window is exact to 1/60 of its length. */
export const BUCKETS_PER_WINDOW = 60;

/** One non-empty bucket: its index (start = index × bucketMs) and exact total in 10^-12 USD. */
export interface BucketTotal {
  readonly index: number;
  readonly subunits: bigint;
}

/**
 * Exact rolling sum over a time window, kept as BUCKETS_PER_WINDOW (+1) buckets of
 * `windowMs / 60` each: memory per key is fixed whatever the traffic. The total at `nowMs`
 * covers the bucket containing `nowMs` and the buckets before it whose start is within the
 * window, so a delta counts for between `windowMs - bucketMs` and `windowMs` after it happened
 * ("exact to the bucket"). Amounts are bigint: no rounding ever happens here.
 */
export class RollingWindow {
  readonly bucketMs: number;
  /** Buckets covering one window. */
  readonly span: number;
  private readonly totals: bigint[];
  private readonly indexes: number[];
  private sum = 0n;
  /** Highest bucket index the sum is aged to. */
  private head = Number.NEGATIVE_INFINITY;

  constructor(readonly windowMs: number) {
    if (!Number.isSafeInteger(windowMs) || windowMs < BUCKETS_PER_WINDOW) {
      throw new RangeError(`rolling window must be at least ${BUCKETS_PER_WINDOW} ms, got ${windowMs}`);
    }
    this.bucketMs = Math.floor(windowMs / BUCKETS_PER_WINDOW);
    this.span = Math.ceil(windowMs / this.bucketMs);
    this.totals = new Array<bigint>(this.span).fill(0n);
    this.indexes = new Array<number>(this.span).fill(Number.NEGATIVE_INFINITY);
  }

  bucketIndex(timeMs: number): number {
    return Math.floor(timeMs / this.bucketMs);
  }

  /**
   * Adds `subunits` at event time `timeMs`, as seen at `nowMs`. A delta older than the window
   * is dropped (returns false); one from the future (clock skew) counts in the current bucket.
   */
  add(timeMs: number, subunits: bigint, nowMs: number): boolean {
    this.advance(nowMs);
    const current = this.bucketIndex(nowMs);
    const index = Math.min(this.bucketIndex(timeMs), current);
    if (index <= current - this.span) return false;
    const slot = ((index % this.span) + this.span) % this.span;
    if (this.indexes[slot] !== index) {
      this.sum -= this.totals[slot]!;
      this.totals[slot] = 0n;
      this.indexes[slot] = index;
    }
    this.totals[slot]! += subunits;
    this.sum += subunits;
    return true;
  }

  /** Ages out buckets that left the window by `nowMs`. Time never goes backwards here. */
  advance(nowMs: number): void {
    const current = this.bucketIndex(nowMs);
    if (current <= this.head) return;
    const oldest = current - this.span + 1;
    for (let slot = 0; slot < this.span; slot++) {
      const index = this.indexes[slot]!;
      if (index !== Number.NEGATIVE_INFINITY && index < oldest) {
        this.sum -= this.totals[slot]!;
        this.totals[slot] = 0n;
        this.indexes[slot] = Number.NEGATIVE_INFINITY;
      }
    }
    this.head = current;
  }

  /** Exact total in the window at `nowMs`. */
  total(nowMs: number): bigint {
    this.advance(nowMs);
    return this.sum;
  }

  /** Sum of the buckets that started within the last `ms` before `nowMs` (burn-rate sampling). */
  recent(nowMs: number, ms: number): bigint {
    this.advance(nowMs);
    const from = this.bucketIndex(nowMs - ms) + 1;
    let out = 0n;
    for (let slot = 0; slot < this.span; slot++) if (this.indexes[slot]! >= from) out += this.totals[slot]!;
    return out;
  }

  /** Non-empty buckets, oldest first (for snapshots). */
  buckets(): BucketTotal[] {
    const out: BucketTotal[] = [];
    for (let slot = 0; slot < this.span; slot++) {
      const index = this.indexes[slot]!;
      if (index !== Number.NEGATIVE_INFINITY && this.totals[slot] !== 0n)
        out.push({ index, subunits: this.totals[slot]! });
    }
    return out.sort((a, b) => a.index - b.index);
  }

  /** Restores buckets from a snapshot (replaces current content). */
  restore(buckets: readonly BucketTotal[], nowMs: number): void {
    this.totals.fill(0n);
    this.indexes.fill(Number.NEGATIVE_INFINITY);
    this.sum = 0n;
    this.head = Number.NEGATIVE_INFINITY;
    for (const b of buckets) this.add(b.index * this.bucketMs, b.subunits, nowMs);
    this.advance(nowMs);
  }

  /**
   * When the total would first drop to at most `level` if nothing more were spent: the moment
   * the oldest buckets age out. Returns `nowMs` if already at or below, never null for level ≥ 0.
   */
  dropsToAt(level: bigint, nowMs: number): number {
    let remaining = this.total(nowMs);
    if (remaining <= level) return nowMs;
    for (const b of this.buckets()) {
      remaining -= b.subunits;
      if (remaining <= level) return (b.index + this.span) * this.bucketMs;
    }
    return (this.bucketIndex(nowMs) + this.span) * this.bucketMs;
  }

  /** Start of the window at `nowMs` (first millisecond counted). */
  windowStart(nowMs: number): number {
    return (this.bucketIndex(nowMs) - this.span + 1) * this.bucketMs;
  }
}
