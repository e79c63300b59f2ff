/**
 * One ClickHouse insert for the rows of every partition processed at once, instead of one insert
 * per partition. Each insert costs ClickHouse 18.16 a fixed ~140–170 ms of CPU on the 2-core
 * development machine (a part of `span_costs` and one of its rollup, whatever their size;
 * measured by bench/aggregator/insert-size.bench.mjs), so at a few thousand spans/s, where each
 * fetch brings a few hundred rows per partition, the fixed cost is nearly all of it.
 *
 * The consumer's batch handlers (one per partition, kafkajs runs several at once) `begin` when
 * they start, `submit` their rows when they are ready to insert and `end` when they finish. A
 * submission waits until every running handler has either submitted or has rows in an insert
 * already (nothing more can join), or until `maxRows` rows wait, or `maxWaitMs` passed; then the
 * waiting submissions are written together, up to `maxRows` rows per insert (the rest go in the
 * next insert, started at once). Each handler still owns its partition's exactly-once steps
 * (recovery, the commit after the store acknowledged): the coalescer only decides which rows
 * share an insert, and every submission learns the outcome of the insert that held its rows.
 * A partition never has two submissions waiting, since its handler awaits each one.
 *
 * Pure scheduling, no I/O of its own: `write` does the work (and may reject, which rejects every
 * submission of that insert).
 */
export interface InsertCoalescerOptions<M> {
  /** Rows per insert at most (one submission larger than this is written alone). */
  readonly maxRows: number;
  /**
   * Rows that are written without waiting for others: an insert this large costs ClickHouse
   * about as much per row as its fixed cost, so sharing it gains little and waiting for the
   * slowest partition would idle the cores meanwhile. At most maxRows.
   */
  readonly shareBelowRows: number;
  /** Longest a submission waits for others before it is written anyway. */
  readonly maxWaitMs: number;
  /** Writes the members' rows as one insert. */
  readonly write: (members: readonly M[]) => Promise<void>;
  /** Rows of a member. */
  readonly rowsOf: (member: M) => number;
}

interface Waiting<M> {
  readonly member: M;
  readonly rows: number;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class InsertCoalescer<M> {
  /** Handlers between begin() and end(). */
  private active = 0;
  /** Submissions written by an insert that has not finished yet. */
  private flying = 0;
  private waiting: Waiting<M>[] = [];
  private waitingRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private inserts = 0;

  constructor(private readonly options: InsertCoalescerOptions<M>) {
    if (!Number.isSafeInteger(options.maxRows) || options.maxRows < 1) {
      throw new RangeError(`maxRows must be a positive integer, got ${String(options.maxRows)}`);
    }
    if (!Number.isSafeInteger(options.shareBelowRows) || options.shareBelowRows < 1) {
      throw new RangeError(`shareBelowRows must be a positive integer, got ${String(options.shareBelowRows)}`);
    }
    if (!Number.isFinite(options.maxWaitMs) || options.maxWaitMs < 0) {
      throw new RangeError(`maxWaitMs must be a non-negative number, got ${String(options.maxWaitMs)}`);
    }
  }

  /** Inserts started so far (tests, metrics). */
  get insertCount(): number {
    return this.inserts;
  }

  /** A batch handler started: submissions wait for it until it submits or ends. */
  begin(): void {
    this.active++;
  }

  /** A batch handler ended (whether or not it submitted anything). */
  end(): void {
    this.active--;
    this.flushIfReady();
  }

  /**
   * Queues `member` for the next insert; settles once the insert that held it finished (rejects
   * with its error). Only between begin() and end().
   */
  submit(member: M): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const rows = this.options.rowsOf(member);
      this.waiting.push({ member, rows, resolve, reject });
      this.waitingRows += rows;
      this.flushIfReady();
      if (this.waiting.length > 0 && this.timer === undefined) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.flush();
        }, this.options.maxWaitMs);
        this.timer.unref();
      }
    });
  }

  private flushIfReady(): void {
    if (this.waiting.length === 0) return;
    // Handlers still working on rows that could join this insert.
    const busy = this.active - this.waiting.length - this.flying;
    if (busy <= 0 || this.waitingRows >= Math.min(this.options.shareBelowRows, this.options.maxRows)) this.flush();
  }

  /** Writes everything waiting, in inserts of at most maxRows rows, in submission order. */
  private flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.waiting.length > 0) {
      let rows = this.waiting[0]!.rows;
      let n = 1;
      while (n < this.waiting.length && rows + this.waiting[n]!.rows <= this.options.maxRows) {
        rows += this.waiting[n]!.rows;
        n++;
      }
      const group = this.waiting.splice(0, n);
      this.waitingRows -= rows;
      this.start(group);
    }
  }

  private start(group: readonly Waiting<M>[]): void {
    this.inserts++;
    this.flying += group.length;
    // A write that throws instead of rejecting fails its members the same way.
    const written = new Promise<void>((resolve) => resolve(this.options.write(group.map((w) => w.member))));
    written.then(
      () => {
        this.flying -= group.length;
        for (const w of group) w.resolve();
      },
      (err: unknown) => {
        this.flying -= group.length;
        for (const w of group) w.reject(err);
      },
    );
  }
}
