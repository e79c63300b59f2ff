import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InsertCoalescer } from '../src/kafka/insert-coalescer.js';

interface Member {
  readonly name: string;
  readonly rows: number;
}

/** A coalescer whose inserts are recorded and settled by the test. */
function harness(options: { maxRows?: number; shareBelowRows?: number; maxWaitMs?: number } = {}) {
  const writes: { names: string[]; settle: (err?: Error) => void }[] = [];
  const coalescer = new InsertCoalescer<Member>({
    maxRows: options.maxRows ?? 1_000,
    shareBelowRows: options.shareBelowRows ?? 1_000,
    maxWaitMs: options.maxWaitMs ?? 60_000,
    rowsOf: (m) => m.rows,
    write: (members) =>
      new Promise<void>((resolve, reject) => {
        writes.push({
          names: members.map((m) => m.name),
          settle: (err) => (err === undefined ? resolve() : reject(err)),
        });
      }),
  });
  return { coalescer, writes };
}

/** Lets pending promise callbacks run (no timers involved). */
async function settled(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe('InsertCoalescer', () => {
  it('waits for every running batch, then writes them in one insert', async () => {
    const { coalescer, writes } = harness();
    coalescer.begin();
    coalescer.begin();
    coalescer.begin();
    const a = coalescer.submit({ name: 'a', rows: 10 });
    const b = coalescer.submit({ name: 'b', rows: 20 });
    assert.equal(writes.length, 0, 'c is still processing: a and b wait for it');
    const c = coalescer.submit({ name: 'c', rows: 30 });
    assert.deepEqual(
      writes.map((w) => w.names),
      [['a', 'b', 'c']],
    );
    writes[0]!.settle();
    await Promise.all([a, b, c]);
    assert.equal(coalescer.insertCount, 1);
  });

  it('a batch that ends without rows releases those waiting for it', async () => {
    const { coalescer, writes } = harness();
    coalescer.begin();
    coalescer.begin();
    const a = coalescer.submit({ name: 'a', rows: 10 });
    assert.equal(writes.length, 0);
    coalescer.end(); // the other batch had nothing to insert
    assert.deepEqual(
      writes.map((w) => w.names),
      [['a']],
    );
    writes[0]!.settle();
    await a;
  });

  it('rows already in an insert do not hold back the next', async () => {
    const { coalescer, writes } = harness();
    coalescer.begin();
    coalescer.begin();
    const a = coalescer.submit({ name: 'a', rows: 10 });
    coalescer.end(); // b ended: a is written alone
    coalescer.begin(); // b's next batch
    const b = coalescer.submit({ name: 'b', rows: 10 });
    assert.deepEqual(
      writes.map((w) => w.names),
      [['a'], ['b']],
      'a is in flight, b is the only one still working: b goes at once',
    );
    writes[1]!.settle();
    writes[0]!.settle();
    await Promise.all([a, b]);
  });

  it('large batches go at once instead of waiting for slower partitions', () => {
    const { coalescer, writes } = harness({ shareBelowRows: 100 });
    coalescer.begin();
    coalescer.begin();
    void coalescer.submit({ name: 'big', rows: 100 });
    assert.deepEqual(
      writes.map((w) => w.names),
      [['big']],
    );
    void coalescer.submit({ name: 'small', rows: 99 });
    assert.deepEqual(
      writes.map((w) => w.names),
      [['big'], ['small']],
      'the other running batch is in flight: nothing can join',
    );
  });

  it('splits at maxRows, in submission order', () => {
    const { coalescer, writes } = harness({ maxRows: 100 });
    for (let i = 0; i < 4; i++) coalescer.begin();
    void coalescer.submit({ name: 'a', rows: 40 });
    void coalescer.submit({ name: 'b', rows: 40 });
    void coalescer.submit({ name: 'c', rows: 40 });
    assert.deepEqual(
      writes.map((w) => w.names),
      [['a', 'b'], ['c']],
      '120 rows wait: a and b fill one insert, c starts the next',
    );
    void coalescer.submit({ name: 'd', rows: 250 });
    assert.deepEqual(
      writes.map((w) => w.names),
      [['a', 'b'], ['c'], ['d']],
      'one batch above maxRows is written alone',
    );
  });

  it('a failed insert fails every batch it held', async () => {
    const { coalescer, writes } = harness();
    coalescer.begin();
    coalescer.begin();
    const a = coalescer.submit({ name: 'a', rows: 1 });
    const b = coalescer.submit({ name: 'b', rows: 1 });
    writes[0]!.settle(new Error('ClickHouse went away'));
    await assert.rejects(a, /went away/);
    await assert.rejects(b, /went away/);
    // The coalescer carries on.
    coalescer.end();
    const c = coalescer.submit({ name: 'c', rows: 1 });
    await settled();
    assert.deepEqual(writes[1]!.names, ['c']);
    writes[1]!.settle();
    await c;
  });

  it('a write that throws synchronously rejects its batches', async () => {
    const coalescer = new InsertCoalescer<Member>({
      maxRows: 10,
      shareBelowRows: 10,
      maxWaitMs: 10,
      rowsOf: (m) => m.rows,
      write: () => {
        throw new Error('no store');
      },
    });
    coalescer.begin();
    await assert.rejects(coalescer.submit({ name: 'a', rows: 1 }), /no store/);
  });

  it('writes after maxWaitMs when another batch never gets ready', async () => {
    const { coalescer, writes } = harness({ maxWaitMs: 5 });
    coalescer.begin();
    coalescer.begin(); // stuck (e.g. a slow dead-letter send)
    const a = coalescer.submit({ name: 'a', rows: 1 });
    assert.equal(writes.length, 0);
    // The write happens when the timer fires; the test awaits that write, not a sleep.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (writes.length > 0) {
          clearInterval(poll);
          resolve();
        }
      }, 1);
    });
    assert.deepEqual(writes[0]!.names, ['a']);
    writes[0]!.settle();
    await a;
  });

  it('rejects settings that cannot work', () => {
    const base = { maxWaitMs: 1, rowsOf: (m: Member) => m.rows, write: () => Promise.resolve() };
    assert.throws(() => new InsertCoalescer<Member>({ ...base, maxRows: 0, shareBelowRows: 1 }), /maxRows/);
    assert.throws(() => new InsertCoalescer<Member>({ ...base, maxRows: 1, shareBelowRows: 0 }), /shareBelowRows/);
    assert.throws(
      () => new InsertCoalescer<Member>({ ...base, maxRows: 1, shareBelowRows: 1, maxWaitMs: -1 }),
      /maxWaitMs/,
    );
  });
});
