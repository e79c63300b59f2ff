import { BillingImportError } from './billing-error.js';

/**
 * One row of a billing dataset, read by column name: the same row mappers serve CSV records and
 * Parquet rows (which arrive from DuckDB as arrays of strings), so a format's mapping is written
 * once.
 */
export interface BillRow {
  /**
   * The cell of a column, as text: undefined when the dataset has no such column or the cell is
   * null (Parquet); '' for an empty CSV cell.
   */
  get(column: string): string | undefined;
  /** The dataset's columns in order (mappers search provider-specific `x_` columns by name). */
  readonly columns: readonly string[];
  /** 1-based: the CSV line the record starts on, or the row number of a Parquet file. */
  readonly line: number;
}

/** A required column: one name, or a list of names any one of which will do (renames across versions). */
export type RequiredColumn = string | readonly string[];

export interface ColumnSpec {
  /** Columns every row must have, checked once against the header. */
  readonly required: readonly RequiredColumn[];
  /**
   * Also match column names regardless of case when no column has the exact name. FOCUS names
   * are case-sensitive by the spec, but warehouse round-trips (BigQuery, Snowflake, DuckDB
   * views) lower- or upper-case them, and a FOCUS name differing only in case is never a
   * different column.
   */
  readonly caseInsensitive?: boolean | undefined;
}

export interface BindOptions {
  readonly file?: string | undefined;
  /** The header's line in a CSV file, for errors (a Parquet schema has none). */
  readonly line?: number | undefined;
}

/**
 * A dataset header bound to a format's column spec: required columns are checked once, up front
 * (MISSING_FIELD naming the column and the header as read), and column names are resolved to
 * indexes once per name, not per row.
 */
export class ColumnBinding {
  private readonly exact = new Map<string, number>();
  private readonly folded = new Map<string, number>();
  /** Resolved lookups, misses included (undefined), so each name is resolved once. */
  private readonly resolved = new Map<string, number | undefined>();
  readonly columns: readonly string[];

  constructor(
    header: readonly string[],
    spec: ColumnSpec,
    private readonly options: BindOptions = {},
  ) {
    this.columns = header.map((name) => name.trim());
    // The first of duplicate names wins: exports do not repeat the columns costtrace reads.
    this.columns.forEach((name, index) => {
      if (!this.exact.has(name)) this.exact.set(name, index);
      const key = name.toLowerCase();
      if (spec.caseInsensitive === true && !this.folded.has(key)) this.folded.set(key, index);
    });
    for (const required of spec.required) {
      const names = typeof required === 'string' ? [required] : required;
      if (!names.some((name) => this.index(name) !== undefined)) {
        const [first = '', ...others] = names;
        const alternatives = others.length === 0 ? '' : ` (or ${others.join(', ')})`;
        throw new BillingImportError(
          'MISSING_FIELD',
          `missing column ${first}${alternatives}; the header has: ${describeHeader(this.columns)}`,
          { file: options.file, line: options.line, field: first },
        );
      }
    }
  }

  /** The index of a column, or undefined when the dataset does not have it. */
  index(column: string): number | undefined {
    if (this.resolved.has(column)) return this.resolved.get(column);
    const index = this.exact.get(column) ?? this.folded.get(column.toLowerCase());
    this.resolved.set(column, index);
    return index;
  }

  has(column: string): boolean {
    return this.index(column) !== undefined;
  }

  /**
   * A row of cells in header order: a CSV record's fields, or a Parquet row's values (null for
   * SQL NULL). A row whose cell count differs from the header's is malformed (INVALID_FORMAT):
   * its cells cannot be attributed to columns.
   */
  row(cells: readonly (string | null | undefined)[], line: number): BillRow {
    if (cells.length !== this.columns.length) {
      throw new BillingImportError(
        'INVALID_FORMAT',
        `the row has ${cells.length} fields, the header has ${this.columns.length}`,
        { file: this.options.file, line },
      );
    }
    return {
      get: (column) => {
        const index = this.index(column);
        return index === undefined ? undefined : (cells[index] ?? undefined);
      },
      columns: this.columns,
      line,
    };
  }
}

/** The header as named in a MISSING_FIELD message, shortened for very wide exports. */
function describeHeader(columns: readonly string[]): string {
  if (columns.length === 0) return '(nothing)';
  const text = columns.join(', ');
  return text.length <= 2000 ? text : `${text.slice(0, 2000)}… (${columns.length} columns)`;
}
