import { BillingImportError } from './billing-error.js';

/** The largest record a CsvReader accepts by default, in UTF-8 bytes of its raw text (1 MiB). */
export const CSV_MAX_RECORD_BYTES = 1024 * 1024;
/** The most fields a CsvReader accepts in one record by default. */
export const CSV_MAX_FIELDS = 2000;

/** One CSV record: its fields, unquoted, and the 1-based line of the file its first character is on. */
export interface CsvRecord {
  readonly fields: readonly string[];
  readonly line: number;
}

export interface CsvReaderOptions {
  /** Named in errors (the reader only sees text). */
  readonly file?: string | undefined;
  /** Largest raw record, UTF-8 bytes including quotes and separators; default CSV_MAX_RECORD_BYTES. */
  readonly maxRecordBytes?: number | undefined;
  /** Most fields per record; default CSV_MAX_FIELDS. */
  readonly maxFields?: number | undefined;
}

/**
 * Where the scanner is within the current record:
 * - `fieldStart`: before the first character of a field (record start or after a comma);
 * - `unquoted`: inside an unquoted field;
 * - `quoted`: inside a quoted field;
 * - `quoteInQuoted`: just after a quote inside a quoted field: a second quote makes it a literal
 *   quote, a separator or line break makes it the closing quote, anything else is malformed.
 */
type ScanState = 'fieldStart' | 'unquoted' | 'quoted' | 'quoteInQuoted';

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;
const BOM = 0xfeff;
/** What ends an unquoted field, or makes it malformed (a quote). */
const UNQUOTED_STOP = /[,\r\n"]/g;
const NON_ASCII = /[\u0080-\uffff]/;

/**
 * An RFC 4180 CSV push parser for bill exports of any size: text goes in as chunks split
 * anywhere (inside quotes, between CR and LF, between the two quotes of an escaped quote), whole
 * records come out as soon as they are complete. Only the unfinished record is kept between
 * pushes, and a record is limited in size and field count, so memory stays bounded by the limits
 * plus the chunk, whatever the file size.
 *
 * Reading rules (RFC 4180, plus what real exports need):
 * - fields are separated by commas, records by CRLF, LF or a lone CR (each one line break);
 * - a field that starts with a quote is quoted: it may hold commas, line breaks (kept verbatim)
 *   and quotes written twice; the closing quote must be followed by a comma, a line break or the
 *   end of the input;
 * - a quote anywhere in an unquoted field, or text after a closing quote, is malformed;
 * - a UTF-8 byte order mark at the very start is dropped (spreadsheet tools and some exporters
 *   write one), as is an empty line (the final line break of a file, a blank line): a record with
 *   one empty field must be written `""`.
 *
 * The first failure (BillingImportError INVALID_FORMAT or TOO_LARGE, with the line) is final:
 * every later call throws it again, so a caller cannot import past a broken record by mistake.
 */
export class CsvReader {
  private readonly file: string | undefined;
  private readonly maxRecordBytes: number;
  private readonly maxFields: number;

  private state: ScanState = 'fieldStart';
  /** Whether the current record has begun (a blank line never begins one). */
  private inRecord = false;
  /** Completed fields of the current record. */
  private fields: string[] = [];
  /** Text of the current field read so far (it may span pushes). */
  private partial = '';
  /** Raw UTF-8 size of the current record so far. */
  private recordBytes = 0;
  private recordLine = 1;
  /** The line the opening quote of the current quoted field is on (for an unterminated quote). */
  private quoteLine = 1;
  /** The line the next character is on. */
  private line = 1;
  /** The last push ended with a record-ending CR: a LF starting the next push belongs to it. */
  private skipLf = false;
  /** The quoted text read so far ends with CR: a LF right after it is the same line break. */
  private quotedCr = false;
  private sawInput = false;
  private ended = false;
  private failure: BillingImportError | undefined;

  constructor(options: CsvReaderOptions = {}) {
    this.file = options.file;
    this.maxRecordBytes = options.maxRecordBytes ?? CSV_MAX_RECORD_BYTES;
    this.maxFields = options.maxFields ?? CSV_MAX_FIELDS;
    if (!Number.isSafeInteger(this.maxRecordBytes) || this.maxRecordBytes < 1) {
      throw new RangeError(`maxRecordBytes must be a positive integer, got ${this.maxRecordBytes}`);
    }
    if (!Number.isSafeInteger(this.maxFields) || this.maxFields < 1) {
      throw new RangeError(`maxFields must be a positive integer, got ${this.maxFields}`);
    }
  }

  /** Reads the next chunk; returns the records it completed (possibly none). */
  push(chunk: string): CsvRecord[] {
    this.checkUsable();
    const out: CsvRecord[] = [];
    try {
      this.scan(chunk, out);
    } catch (err) {
      throw this.fail(err);
    }
    return out;
  }

  /** Ends the input: returns the last record when the text does not end with a line break. */
  end(): CsvRecord[] {
    this.checkUsable();
    this.ended = true;
    const out: CsvRecord[] = [];
    try {
      switch (this.state) {
        case 'quoted':
          throw this.error('INVALID_FORMAT', 'a quoted field is not closed before the end of the file', this.quoteLine);
        case 'quoteInQuoted':
        case 'unquoted':
          this.endField();
          this.endRecord(out);
          break;
        case 'fieldStart':
          if (this.inRecord) {
            // "a,b," at the very end: the record ends with an empty field.
            this.endField();
            this.endRecord(out);
          }
          break;
      }
    } catch (err) {
      throw this.fail(err);
    }
    return out;
  }

  private checkUsable(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.ended) throw new Error('CsvReader: push or end after end()');
  }

  private fail(err: unknown): unknown {
    if (err instanceof BillingImportError) this.failure = err;
    return err;
  }

  private scan(text: string, out: CsvRecord[]): void {
    const n = text.length;
    let i = 0;
    if (n === 0) return;
    if (!this.sawInput) {
      this.sawInput = true;
      if (text.charCodeAt(0) === BOM) i = 1;
    }
    if (this.skipLf) {
      this.skipLf = false;
      if (i < n && text.charCodeAt(i) === LF) i++;
    }
    while (i < n) {
      switch (this.state) {
        case 'fieldStart': {
          const c = text.charCodeAt(i);
          if (c === CR || c === LF) {
            if (this.inRecord) {
              // After a trailing comma: the record ends with an empty field.
              this.endField();
              this.endRecord(out);
            }
            i = this.lineBreak(text, i);
            break;
          }
          this.beginRecord();
          if (c === QUOTE) {
            this.grow(1);
            this.state = 'quoted';
            this.quoteLine = this.line;
            this.quotedCr = false;
            i++;
          } else if (c === COMMA) {
            this.grow(1);
            this.endField();
            i++;
          } else {
            this.state = 'unquoted';
          }
          break;
        }
        case 'unquoted': {
          UNQUOTED_STOP.lastIndex = i;
          const stop = UNQUOTED_STOP.exec(text);
          const end = stop === null ? n : stop.index;
          this.append(text, i, end);
          if (stop === null) {
            i = n;
            break;
          }
          const c = text.charCodeAt(end);
          if (c === QUOTE) {
            throw this.error(
              'INVALID_FORMAT',
              `a quote inside an unquoted field (field ${this.fields.length + 1}); quote the whole field and double the quote`,
              this.line,
            );
          }
          this.endField();
          if (c === COMMA) {
            this.grow(1);
            this.state = 'fieldStart';
            i = end + 1;
          } else {
            this.endRecord(out);
            i = this.lineBreak(text, end);
          }
          break;
        }
        case 'quoted': {
          const q = text.indexOf('"', i);
          const end = q < 0 ? n : q;
          this.appendQuoted(text, i, end);
          if (q < 0) {
            i = n;
          } else {
            this.grow(1);
            this.state = 'quoteInQuoted';
            this.quotedCr = false;
            i = q + 1;
          }
          break;
        }
        case 'quoteInQuoted': {
          const c = text.charCodeAt(i);
          if (c === QUOTE) {
            this.grow(1);
            this.partial += '"';
            this.state = 'quoted';
            i++;
          } else if (c === COMMA) {
            this.grow(1);
            this.endField();
            i++;
          } else if (c === CR || c === LF) {
            this.endField();
            this.endRecord(out);
            i = this.lineBreak(text, i);
          } else {
            throw this.error(
              'INVALID_FORMAT',
              `text after the closing quote of field ${this.fields.length + 1}; a quote inside a quoted field must be doubled`,
              this.line,
            );
          }
          break;
        }
      }
    }
  }

  private beginRecord(): void {
    if (this.inRecord) return;
    this.inRecord = true;
    this.recordLine = this.line;
    this.recordBytes = 0;
  }

  /** Consumes the line break at `i` (CR, LF or CRLF); returns the index after it. */
  private lineBreak(text: string, i: number): number {
    this.line++;
    if (text.charCodeAt(i) === CR) {
      if (i + 1 === text.length) this.skipLf = true;
      else if (text.charCodeAt(i + 1) === LF) return i + 2;
    }
    return i + 1;
  }

  private append(text: string, from: number, to: number): void {
    if (to <= from) return;
    const segment = text.slice(from, to);
    this.grow(utf8Length(segment));
    this.partial += segment;
  }

  /** Appends quoted text, counting the line breaks it holds (CRLF once, even split across pushes). */
  private appendQuoted(text: string, from: number, to: number): void {
    if (to <= from) return;
    const segment = text.slice(from, to);
    this.grow(utf8Length(segment));
    this.line += lineBreaks(segment, this.quotedCr);
    this.quotedCr = segment.charCodeAt(segment.length - 1) === CR;
    this.partial += segment;
  }

  private grow(bytes: number): void {
    this.recordBytes += bytes;
    if (this.recordBytes > this.maxRecordBytes) {
      throw this.error(
        'TOO_LARGE',
        `a record is larger than ${this.maxRecordBytes} bytes (is a quote left open?)`,
        this.recordLine,
      );
    }
  }

  private endField(): void {
    if (this.fields.length >= this.maxFields) {
      throw this.error('TOO_LARGE', `a record has more than ${this.maxFields} fields`, this.recordLine);
    }
    this.fields.push(this.partial);
    this.partial = '';
    this.state = 'fieldStart';
  }

  private endRecord(out: CsvRecord[]): void {
    out.push({ fields: this.fields, line: this.recordLine });
    this.fields = [];
    this.inRecord = false;
    this.recordBytes = 0;
    this.state = 'fieldStart';
  }

  private error(code: 'INVALID_FORMAT' | 'TOO_LARGE', problem: string, line: number): BillingImportError {
    return new BillingImportError(code, problem, { file: this.file, line });
  }
}

/** UTF-8 length of UTF-16 text: exact for valid text (a surrogate pair is 4 bytes). */
function utf8Length(text: string): number {
  if (!NON_ASCII.test(text)) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A surrogate half counts 2: a pair makes the 4 bytes of its code point.
    bytes += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3;
  }
  return bytes;
}

/** Line breaks in text (CRLF, CR, LF each one); `afterCr`: the text before it ended with CR. */
function lineBreaks(text: string, afterCr: boolean): number {
  if (!text.includes('\n') && !text.includes('\r')) return 0;
  let count = 0;
  let previousCr = afterCr;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === CR || (c === LF && !previousCr)) count++;
    previousCr = c === CR;
  }
  return count;
}
