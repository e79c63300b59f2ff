import { Buffer } from 'node:buffer';
import { parseScaled } from '@costtrace/core';
import type { Pico } from '@costtrace/core';
import { GrowableBytes } from './growable-bytes.js';

const TWO_32 = 4_294_967_296;
const SHORT = 127;

/**
 * ClickHouse's RowBinary format written straight into bytes: the consumer's insert body, what
 * the ClickHouse Kafka Connect sink sends too. Numbers are little-endian fixed-width integers,
 * decimals their scaled integers (Decimal(38, 12) takes pico-units as they are, as 16 bytes),
 * strings a LEB128 byte length and UTF-8; nothing is formatted as text and nothing escaped, so
 * it costs a fraction of TabSeparated to write. The buffer grows by doubling; `bytes()` is a
 * view of what was written.
 */
export class RowBinaryWriter extends GrowableBytes {
  private view: DataView;

  constructor(initialBytes = 64 * 1024) {
    super(initialBytes);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  protected override replaced(): void {
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  uint8(value: number): void {
    this.ensure(1);
    this.buf[this.pos++] = value;
  }

  uint32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, value, true);
    this.pos += 4;
  }

  /** A UInt64: a non-negative safe integer or a bigint below 2^64. */
  uint64(value: number | bigint): void {
    this.ensure(8);
    if (typeof value === 'number') {
      this.view.setUint32(this.pos, value % TWO_32, true);
      this.view.setUint32(this.pos + 4, Math.floor(value / TWO_32), true);
    } else {
      this.view.setBigUint64(this.pos, value, true);
    }
    this.pos += 8;
  }

  float64(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** A Decimal(38, 12) of pico-units (an Int128, two's complement, little-endian). */
  pico(amount: Pico): void {
    this.ensure(16);
    if (typeof amount === 'number' && amount >= 0 && amount <= Number.MAX_SAFE_INTEGER) {
      this.view.setUint32(this.pos, amount % TWO_32, true);
      this.view.setUint32(this.pos + 4, Math.floor(amount / TWO_32), true);
      this.view.setUint32(this.pos + 8, 0, true);
      this.view.setUint32(this.pos + 12, 0, true);
    } else {
      const value = BigInt(amount);
      this.view.setBigUint64(this.pos, BigInt.asUintN(64, value), true);
      this.view.setBigInt64(this.pos + 8, BigInt.asIntN(64, value >> 64n), true);
    }
    this.pos += 16;
  }

  /** A Decimal(38, 12) given as exact decimal text ("0", "2.5", "0.000000001"). */
  decimalText(text: string): void {
    this.pico(text === '0' ? 0 : parseScaled(text, 12));
  }

  private varint(n: number): void {
    this.ensure(5);
    let value = n;
    while (value >= 0x80) {
      this.buf[this.pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.buf[this.pos++] = value;
  }

  /** A String: its UTF-8 byte length, then the bytes. */
  string(value: string): void {
    const n = value.length;
    if (n <= SHORT) {
      // ASCII (nearly every string) is copied byte by byte after a one-byte length; the first
      // other character sends the string the long way.
      this.ensure(n + 1);
      const buf = this.buf;
      const start = this.pos;
      let pos = start + 1;
      let i = 0;
      for (; i < n; i++) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) break;
        buf[pos++] = code;
      }
      if (i === n) {
        buf[start] = n;
        this.pos = pos;
        return;
      }
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    this.varint(bytes);
    this.ensure(bytes);
    this.pos += this.buf.write(value, this.pos, 'utf8');
  }

  /** An Array(String): the element count, then each string. */
  stringArray(values: readonly string[]): void {
    this.varint(values.length);
    for (let i = 0; i < values.length; i++) this.string(values[i]!);
  }
}
