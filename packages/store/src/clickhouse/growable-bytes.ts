import { Buffer } from 'node:buffer';

/**
 * The byte buffer under the insert-body writers (TsvWriter, RowBinaryWriter): grows by
 * doubling, `bytes()` is a view of what was written, valid until the next write or reset.
 */
export abstract class GrowableBytes {
  protected buf: Buffer;
  protected pos = 0;

  constructor(initialBytes: number) {
    this.buf = Buffer.allocUnsafe(Math.max(1024, initialBytes));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** Forgets what was written, keeping the buffer. */
  reset(): void {
    this.pos = 0;
  }

  /** Room for `extra` more bytes. */
  protected ensure(extra: number): void {
    const needed = this.pos + extra;
    if (needed <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.replaced();
  }

  /** Called when the buffer was replaced by a larger one (a subclass may hold views of it). */
  protected replaced(): void {}
}
