import { concatEncodedSpanCosts, selectEncodedSpanCosts, sliceEncodedSpanCosts } from '@costtrace/store';
import type { CostStore, EncodedSpanCosts, SpanCostRow } from '@costtrace/store';
import type { ProcessedSpanBatch } from './span-batch.js';

/**
 * Some of a processed batch's rows (all of them, the ones recovery found missing, one insert's
 * worth), in their order: encoded for the store or as objects, whichever the batch holds, with
 * the index of each in the batch.
 */
export class BatchRows {
  private constructor(
    private readonly batch: ProcessedSpanBatch,
    /** Index in the batch of each row; undefined: rows 0..count-1. */
    private readonly indexes: Uint32Array | undefined,
    private readonly encoded: EncodedSpanCosts | undefined,
    private readonly objects: SpanCostRow[] | undefined,
    readonly count: number,
  ) {}

  static all(batch: ProcessedSpanBatch): BatchRows {
    return new BatchRows(batch, undefined, batch.encoded, batch.objects, batch.rows);
  }

  private index(i: number): number {
    return this.indexes === undefined ? i : this.indexes[i]!;
  }

  /** The rows for which `keep(index in the batch)` holds. */
  select(keep: (batchIndex: number) => boolean): BatchRows {
    const kept: number[] = [];
    for (let i = 0; i < this.count; i++) if (keep(this.index(i))) kept.push(i);
    if (kept.length === this.count) return this;
    const keptSet = new Set(kept);
    return new BatchRows(
      this.batch,
      Uint32Array.from(kept, (i) => this.index(i)),
      this.encoded === undefined ? undefined : selectEncodedSpanCosts(this.encoded, (i) => keptSet.has(i)),
      this.objects?.filter((_row, i) => keptSet.has(i)),
      kept.length,
    );
  }

  /** Rows [from, to). */
  slice(from: number, to: number): BatchRows {
    const end = Math.min(to, this.count);
    if (from === 0 && end === this.count) return this;
    const indexes = new Uint32Array(Math.max(0, end - from));
    for (let i = from; i < end; i++) indexes[i - from] = this.index(i);
    return new BatchRows(
      this.batch,
      indexes,
      this.encoded === undefined ? undefined : sliceEncodedSpanCosts(this.encoded, from, end),
      this.objects?.slice(from, end),
      indexes.length,
    );
  }

  /**
   * The rows of several batches (of different partitions) as one insert, in the order given:
   * encoded bodies joined into one, row objects into one list.
   */
  static async insertTogether(store: CostStore, list: readonly BatchRows[]): Promise<void> {
    const rows = list.filter((r) => r.count > 0);
    if (rows.length === 0) return;
    if (rows.every((r) => r.encoded !== undefined)) {
      if (store.insertEncodedSpanCosts === undefined) throw new Error(`the ${store.kind} store takes no encoded rows`);
      await store.insertEncodedSpanCosts(concatEncodedSpanCosts(rows.map((r) => r.encoded!)));
    } else if (rows.every((r) => r.encoded === undefined)) {
      await store.insertSpanCosts(rows.flatMap((r) => r.objects ?? []));
    } else {
      // Not produced by one consumer (its runner encodes all batches or none); kept correct anyway.
      for (const r of rows) await r.insertInto(store);
    }
  }

  async insertInto(store: CostStore): Promise<void> {
    if (this.count === 0) return;
    if (this.encoded !== undefined) {
      if (store.insertEncodedSpanCosts === undefined) throw new Error(`the ${store.kind} store takes no encoded rows`);
      await store.insertEncodedSpanCosts(this.encoded);
    } else {
      await store.insertSpanCosts(this.objects ?? []);
    }
  }

  /** The rows' cost per (service, currency), as floats (the cost-by-service metric). */
  costs(): { service: string; currency: string; amount: number }[] {
    const sums = new Float64Array(this.batch.costKeys.length);
    for (let i = 0; i < this.count; i++) {
      const b = this.index(i);
      sums[this.batch.rowCostKeys[b]!]! += this.batch.rowCosts[b]!;
    }
    return this.batch.costKeys.map((key, k) => ({ ...key, amount: sums[k]! }));
  }
}
