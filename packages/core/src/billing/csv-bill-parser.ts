import { emptyNotes } from './billed-line.js';
import type { BilledLine, ParseNotes } from './billed-line.js';
import { BillingImportError } from './billing-error.js';
import { ColumnBinding } from './bill-row.js';
import type { BillRow, ColumnSpec } from './bill-row.js';
import { CsvReader } from './csv-reader.js';
import type { CsvRecord } from './csv-reader.js';

/** Maps one dataset row to a bill line, or undefined for a row that carries nothing (counted in notes). */
export type BillRowMapper = (row: BillRow, notes: ParseNotes) => BilledLine | undefined;

export interface CsvBillParserOptions {
  /** Named in errors. */
  readonly file?: string | undefined;
  /** CsvReader limits (defaults: 1 MiB, 2,000 fields per record). */
  readonly maxRecordBytes?: number | undefined;
  readonly maxFields?: number | undefined;
}

/**
 * A billing CSV file as a stream of bill lines: text chunks in, lines out as soon as their
 * records are complete, so a multi-gigabyte export never sits in memory. The first record is the
 * header, bound once to the format's columns (a missing required column fails before any row).
 *
 * All or nothing: the first bad row throws a BillingImportError naming file, line and column, and
 * every later call throws it again; the caller discards what it received and imports nothing.
 */
export class CsvBillParser {
  /** Rounded amounts and skipped empty rows so far, for the import summary. */
  readonly notes: ParseNotes = emptyNotes();
  private readonly reader: CsvReader;
  private readonly file: string | undefined;
  private binding: ColumnBinding | undefined;
  private failure: unknown;
  private failed = false;

  constructor(
    private readonly spec: ColumnSpec,
    private readonly mapper: BillRowMapper,
    options: CsvBillParserOptions = {},
  ) {
    this.file = options.file;
    this.reader = new CsvReader(options);
  }

  /** The header's columns once read (undefined before the first record is complete). */
  get columns(): readonly string[] | undefined {
    return this.binding?.columns;
  }

  /** Reads the next chunk of the file; returns the lines its complete rows make. */
  push(chunk: string): BilledLine[] {
    return this.guard(() => this.map(this.reader.push(chunk)));
  }

  /** Ends the file: the last row's line, if the file does not end with a line break. */
  end(): BilledLine[] {
    return this.guard(() => {
      const lines = this.map(this.reader.end());
      if (this.binding === undefined) {
        throw new BillingImportError('INVALID_FORMAT', 'the file is empty: no header row', { file: this.file });
      }
      return lines;
    });
  }

  private map(records: readonly CsvRecord[]): BilledLine[] {
    const lines: BilledLine[] = [];
    for (const record of records) {
      if (this.binding === undefined) {
        this.binding = new ColumnBinding(record.fields, this.spec, { file: this.file, line: record.line });
        continue;
      }
      const line = this.mapper(this.binding.row(record.fields, record.line), this.notes);
      if (line !== undefined) lines.push(line);
    }
    return lines;
  }

  private guard(read: () => BilledLine[]): BilledLine[] {
    if (this.failed) throw this.failure;
    try {
      return read();
    } catch (err) {
      this.failed = true;
      this.failure = err instanceof BillingImportError && this.file !== undefined ? err.inFile(this.file) : err;
      throw this.failure;
    }
  }
}
