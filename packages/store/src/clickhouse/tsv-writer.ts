import { formatPico } from '@costtrace/core';
import type { Pico } from '@costtrace/core';
import { GrowableBytes } from './growable-bytes.js';
import { ARRAY_SPECIAL_GLOBAL, escapeChar, TSV_SPECIAL_GLOBAL } from './tsv.js';

const TAB = 0x09;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
const QUOTE = 0x27;
/** Strings up to this length are copied by a JavaScript loop; longer ones by one native write. */
const SHORT = 32;
/** Encodings of frozen (immutable, shared) arrays: see `stringArray`. */
const FROZEN_ARRAYS = new WeakMap<readonly string[], Uint8Array>();

/**
 * Per ASCII code, the letter written after a backslash (0: the code is written as it is):
 * backslash, tab, newline, carriage return and NUL always; the single quote inside array
 * elements only (see `tsvStringArray`). A table lookup per character, no branches.
 */
const FIELD_ESCAPES = new Uint8Array(128);
const ELEMENT_ESCAPES = new Uint8Array(128);
for (const [code, letter] of [
  [0x5c, 0x5c],
  [0x09, 0x74], // t
  [0x0a, 0x6e], // n
  [0x0d, 0x72], // r
  [0x00, 0x30], // 0
] as const) {
  FIELD_ESCAPES[code] = letter;
  ELEMENT_ESCAPES[code] = letter;
}
ELEMENT_ESCAPES[0x27] = 0x27;

/**
 * ClickHouse TabSeparated written straight into bytes: the consumer encodes each row into the
 * insert body as it builds it, with no per-row string. The escapes are exactly `tsvString` and
 * `tsvStringArray`'s (tested against them). The buffer grows by doubling; `bytes()` is a view
 * of what was written.
 */
export class TsvWriter extends GrowableBytes {
  constructor(initialBytes = 64 * 1024) {
    super(initialBytes);
  }

  tab(): void {
    this.ensure(1);
    this.buf[this.pos++] = TAB;
  }

  newline(): void {
    this.ensure(1);
    this.buf[this.pos++] = NEWLINE;
  }

  /** An escaped string field. */
  string(value: string): void {
    this.text(value, false);
  }

  /**
   * A string array field, ['a','b'] with each element escaped (not TSV-escaped again). A frozen
   * array (the pricer's price-id lists are shared and frozen) is encoded once and then copied.
   */
  stringArray(values: readonly string[]): void {
    if (values.length > 0 && Object.isFrozen(values)) {
      let bytes = FROZEN_ARRAYS.get(values);
      if (bytes === undefined) {
        const start = this.pos;
        this.writeArray(values);
        bytes = Uint8Array.prototype.slice.call(this.buf, start, this.pos);
        FROZEN_ARRAYS.set(values, bytes);
        return;
      }
      this.ensure(bytes.length);
      this.buf.set(bytes, this.pos);
      this.pos += bytes.length;
      return;
    }
    this.writeArray(values);
  }

  private writeArray(values: readonly string[]): void {
    this.ensure(2);
    this.buf[this.pos++] = 0x5b; // [
    for (let i = 0; i < values.length; i++) {
      this.ensure(2);
      if (i > 0) this.buf[this.pos++] = 0x2c; // ,
      this.buf[this.pos++] = QUOTE;
      this.text(values[i]!, true);
      this.ensure(1);
      this.buf[this.pos++] = QUOTE;
    }
    this.ensure(1);
    this.buf[this.pos++] = 0x5d; // ]
  }

  /** A non-negative or negative integer below 2^53 in magnitude, or any bigint. */
  integer(value: number | bigint): void {
    if (typeof value === 'number' && value >= 0 && value < 1e15 && Number.isInteger(value)) {
      this.digits(value);
      return;
    }
    this.ascii(value.toString());
  }

  /** 0 or 1. */
  flag(value: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = value ? 0x31 : 0x30;
  }

  /** An exact pico-unit amount as a plain decimal ("0.00015", "0"). */
  pico(amount: Pico): void {
    if (amount === 0 || amount === 0n) {
      this.ensure(1);
      this.buf[this.pos++] = 0x30;
      return;
    }
    this.ascii(formatPico(amount));
  }

  /** Text known to be ASCII without characters to escape (numbers, decimals). */
  ascii(text: string): void {
    const n = text.length;
    this.ensure(n);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos++] = text.charCodeAt(i);
    this.pos = pos;
  }

  /** A non-negative integer below 10^15, digit by digit (no string). */
  private digits(value: number): void {
    this.ensure(16);
    if (value < 10) {
      this.buf[this.pos++] = 0x30 + value;
      return;
    }
    let n = value;
    let width = 0;
    for (let v = n; v >= 1; v = Math.floor(v / 10)) width++;
    let at = this.pos + width - 1;
    while (n >= 1) {
      const q = Math.floor(n / 10);
      this.buf[at--] = 0x30 + (n - q * 10);
      n = q;
    }
    this.pos += width;
  }

  private text(value: string, inArray: boolean): void {
    const n = value.length;
    if (n === 0) return;
    if (n <= SHORT) {
      // ASCII copied byte by byte; the first non-ASCII character sends the string the long way.
      this.ensure(2 * n);
      const buf = this.buf;
      const escapes = inArray ? ELEMENT_ESCAPES : FIELD_ESCAPES;
      const start = this.pos;
      let pos = start;
      let i = 0;
      for (; i < n; i++) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) break;
        const letter = escapes[code]!;
        if (letter === 0) buf[pos++] = code;
        else {
          buf[pos++] = BACKSLASH;
          buf[pos++] = letter;
        }
      }
      if (i === n) {
        this.pos = pos;
        return;
      }
      this.pos = start;
    }
    const escaped = value.replace(inArray ? ARRAY_SPECIAL_GLOBAL : TSV_SPECIAL_GLOBAL, escapeChar);
    this.ensure(3 * escaped.length); // UTF-16 code unit → at most 3 bytes of UTF-8
    this.pos += this.buf.write(escaped, this.pos, 'utf8');
  }
}
