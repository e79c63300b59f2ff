import type { SpanCostRecord } from '../span-cost-record.js';
import { RowBinaryWriter } from './row-binary-writer.js';
import { writeSpanCostRowBinary } from './span-cost-row-binary.js';
import { writeSpanCostTsv } from './span-cost-tsv.js';
import { TsvWriter } from './tsv-writer.js';

/** The insert formats span rows are encoded in: RowBinary for the consumer, TabSeparated for text. */
export type SpanCostFormat = 'RowBinary' | 'TabSeparated';

/**
 * Span cost rows already encoded as the body of a ClickHouse insert (columns in
 * SPAN_COST_COLUMNS order), with where each row ends and the day it belongs to. Plain data
 * (typed arrays): it crosses from a worker thread to the consumer by transfer, not by copy.
 */
export interface EncodedSpanCosts {
  readonly format: SpanCostFormat;
  readonly rows: number;
  readonly body: Uint8Array;
  /** Byte offset just past each row (its line, in TabSeparated), in row order. */
  readonly lineEnds: Uint32Array;
  /** Each row's table partition: its start time in whole days since the epoch. */
  readonly days: Int32Array;
}

const NANOS_PER_DAY = 86_400_000_000_000n;

/** Encodes records one after another into one insert body, in RowBinary or TabSeparated. */
export class SpanCostEncoder {
  private readonly writer: TsvWriter | RowBinaryWriter;
  private lineEnds = new Uint32Array(1024);
  private days = new Int32Array(1024);
  private count = 0;

  constructor(
    readonly format: SpanCostFormat = 'RowBinary',
    initialBytes = 256 * 1024,
  ) {
    this.writer = format === 'RowBinary' ? new RowBinaryWriter(initialBytes) : new TsvWriter(initialBytes);
  }

  get rows(): number {
    return this.count;
  }

  add(record: SpanCostRecord): void {
    if (this.writer instanceof RowBinaryWriter) writeSpanCostRowBinary(this.writer, record);
    else writeSpanCostTsv(this.writer, record);
    if (this.count === this.lineEnds.length) {
      const ends = new Uint32Array(this.count * 2);
      ends.set(this.lineEnds);
      this.lineEnds = ends;
      const days = new Int32Array(this.count * 2);
      days.set(this.days);
      this.days = days;
    }
    this.lineEnds[this.count] = this.writer.length;
    this.days[this.count] = Number(record.startTimeUnixNano / NANOS_PER_DAY);
    this.count++;
  }

  /** The rows encoded so far, in buffers of their own (the encoder starts over). */
  finish(): EncodedSpanCosts {
    const encoded: EncodedSpanCosts = {
      format: this.format,
      rows: this.count,
      body: Uint8Array.prototype.slice.call(this.writer.bytes()),
      lineEnds: this.lineEnds.slice(0, this.count),
      days: this.days.slice(0, this.count),
    };
    this.writer.reset();
    this.count = 0;
    return encoded;
  }
}

/** The TabSeparated encoder (text: `spanCostTsv`'s lines one after another). */
export class SpanCostTsvEncoder extends SpanCostEncoder {
  constructor(initialBytes = 256 * 1024) {
    super('TabSeparated', initialBytes);
  }
}

/** No rows (in any format: nothing is inserted). */
export const NO_ENCODED_SPAN_COSTS: EncodedSpanCosts = {
  format: 'RowBinary',
  rows: 0,
  body: new Uint8Array(0),
  lineEnds: new Uint32Array(0),
  days: new Int32Array(0),
};

/** Rows [from, to) of an encoded batch; views, no copy (the lines are contiguous). */
export function sliceEncodedSpanCosts(encoded: EncodedSpanCosts, from: number, to: number): EncodedSpanCosts {
  const first = Math.max(0, from);
  const last = Math.min(encoded.rows, to);
  if (first === 0 && last === encoded.rows) return encoded;
  if (last <= first) return NO_ENCODED_SPAN_COSTS;
  const startByte = first === 0 ? 0 : encoded.lineEnds[first - 1]!;
  const endByte = encoded.lineEnds[last - 1]!;
  const lineEnds = new Uint32Array(last - first);
  for (let i = first; i < last; i++) lineEnds[i - first] = encoded.lineEnds[i]! - startByte;
  return {
    format: encoded.format,
    rows: last - first,
    body: encoded.body.subarray(startByte, endByte),
    lineEnds,
    days: encoded.days.subarray(first, last),
  };
}

/** The rows for which `keep(i)` holds, copied into a new body in their order. */
export function selectEncodedSpanCosts(encoded: EncodedSpanCosts, keep: (row: number) => boolean): EncodedSpanCosts {
  let bytes = 0;
  let rows = 0;
  for (let i = 0; i < encoded.rows; i++) {
    if (!keep(i)) continue;
    bytes += encoded.lineEnds[i]! - (i === 0 ? 0 : encoded.lineEnds[i - 1]!);
    rows++;
  }
  if (rows === encoded.rows) return encoded;
  const body = new Uint8Array(bytes);
  const lineEnds = new Uint32Array(rows);
  const days = new Int32Array(rows);
  let at = 0;
  let n = 0;
  for (let i = 0; i < encoded.rows; i++) {
    if (!keep(i)) continue;
    const from = i === 0 ? 0 : encoded.lineEnds[i - 1]!;
    const to = encoded.lineEnds[i]!;
    body.set(encoded.body.subarray(from, to), at);
    at += to - from;
    lineEnds[n] = at;
    days[n] = encoded.days[i]!;
    n++;
  }
  return { format: encoded.format, rows, body, lineEnds, days };
}

/**
 * The batch split by day (table partition), days in ascending order: one insert per day is one
 * part, which ClickHouse commits atomically. A batch within one day (nearly all) is returned
 * as it is.
 */
export function encodedSpanCostsByDay(encoded: EncodedSpanCosts): EncodedSpanCosts[] {
  if (encoded.rows === 0) return [];
  const first = encoded.days[0]!;
  let single = true;
  for (let i = 1; i < encoded.rows; i++) {
    if (encoded.days[i] !== first) {
      single = false;
      break;
    }
  }
  if (single) return [encoded];
  const days = [...new Set(encoded.days)].sort((a, b) => a - b);
  return days.map((day) => selectEncodedSpanCosts(encoded, (i) => encoded.days[i] === day));
}

/**
 * Several encoded batches as one (their rows one after another, in the order given), copied into
 * one body: the rows of several partitions written by one insert. All must share one format.
 */
export function concatEncodedSpanCosts(list: readonly EncodedSpanCosts[]): EncodedSpanCosts {
  const nonEmpty = list.filter((e) => e.rows > 0);
  if (nonEmpty.length === 0) return NO_ENCODED_SPAN_COSTS;
  if (nonEmpty.length === 1) return nonEmpty[0]!;
  const format = nonEmpty[0]!.format;
  let bytes = 0;
  let rows = 0;
  for (const e of nonEmpty) {
    if (e.format !== format) throw new Error(`cannot join ${format} and ${e.format} rows in one insert`);
    bytes += e.body.byteLength;
    rows += e.rows;
  }
  const body = new Uint8Array(bytes);
  const lineEnds = new Uint32Array(rows);
  const days = new Int32Array(rows);
  let at = 0;
  let n = 0;
  for (const e of nonEmpty) {
    body.set(e.body, at);
    for (let i = 0; i < e.rows; i++) lineEnds[n + i] = e.lineEnds[i]! + at;
    days.set(e.days, n);
    at += e.body.byteLength;
    n += e.rows;
  }
  return { format, rows, body, lineEnds, days };
}
