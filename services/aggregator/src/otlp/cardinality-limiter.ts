/**
 * Bounds the number of distinct values per dimension and time window that reach the rollups.
 * The first `maxValuesPerWindow` values of a dimension in a window pass; later new values are
 * folded into `__other__` (the per-span table keeps the truth). Windows are taken from the
 * span's own time, so a redelivered message folds the same way as long as the process lives;
 * each aggregator instance bounds its own partitions, and within it each worker thread the
 * partitions routed to it, so the bound is per instance and worker thread.
 */
export const OTHER_VALUE = '__other__';

export class CardinalityLimiter {
  private readonly windows = new Map<number, Map<string, Set<string>>>();
  private folded = 0;

  constructor(
    private readonly maxValuesPerWindow: number,
    private readonly windowSeconds: number = 3600,
    /** Windows remembered at most; the oldest is forgotten first. */
    private readonly maxWindows: number = 48,
  ) {}

  /** Whether `value` of `dimension` at `unixSeconds` must be folded into `__other__`. */
  fold(dimension: string, value: string, unixSeconds: number): boolean {
    if (value === '') return false;
    const window = Math.floor(unixSeconds / this.windowSeconds);
    let byDimension = this.windows.get(window);
    if (byDimension === undefined) {
      byDimension = new Map();
      this.windows.set(window, byDimension);
      if (this.windows.size > this.maxWindows) {
        const oldest = Math.min(...this.windows.keys());
        this.windows.delete(oldest);
      }
    }
    let seen = byDimension.get(dimension);
    if (seen === undefined) {
      seen = new Set();
      byDimension.set(dimension, seen);
    }
    if (seen.has(value)) return false;
    if (seen.size < this.maxValuesPerWindow) {
      seen.add(value);
      return false;
    }
    this.folded++;
    return true;
  }

  get foldedCount(): number {
    return this.folded;
  }
}
