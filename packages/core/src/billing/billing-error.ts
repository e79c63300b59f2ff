/** The fixed set of bill-import failure codes; the CLI and the API map them to exit codes and statuses. */
export type BillingErrorCode =
  /** The input is not what the format says it is (not JSON, not CSV, the wrong document). */
  | 'INVALID_FORMAT'
  /** A required field or column is absent. */
  | 'MISSING_FIELD'
  /** A field holds a value that cannot be read exactly (a number, a time, a currency). */
  | 'INVALID_VALUE'
  /** The input exceeds a limit (line length, field count, lines per import, page count). */
  | 'TOO_LARGE'
  /** A provider API could not be reached or answered with an error. */
  | 'FETCH_FAILED'
  /** A provider API refused the credentials. */
  | 'UNAUTHENTICATED';

/** Where in the input the problem is; every part that is known is named in the message. */
export interface BillingErrorLocation {
  /** The file (or the URL of an API page). */
  readonly file?: string | undefined;
  /** 1-based line of a CSV file or JSON text. */
  readonly line?: number | undefined;
  /** The column or JSON path, e.g. `data[2].results[0].amount.value`. */
  readonly field?: string | undefined;
}

/** The one error class of bill imports: what is wrong, and exactly where. Nothing is imported. */
export class BillingImportError extends Error {
  override readonly name = 'BillingImportError';
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly field: string | undefined;

  constructor(
    readonly code: BillingErrorCode,
    readonly problem: string,
    location: BillingErrorLocation = {},
    cause?: unknown,
  ) {
    super(describe(problem, location), cause === undefined ? undefined : { cause });
    this.file = location.file;
    this.line = location.line;
    this.field = location.field;
  }

  /** The same error with the file named (parsers see text; the adapter knows the file). */
  inFile(file: string): BillingImportError {
    if (this.file !== undefined) return this;
    return new BillingImportError(this.code, this.problem, { file, line: this.line, field: this.field }, this.cause);
  }
}

function describe(problem: string, { file, line, field }: BillingErrorLocation): string {
  const where = [
    file === undefined ? undefined : file,
    line === undefined ? undefined : `line ${line}`,
    field === undefined ? undefined : `field ${field}`,
  ].filter((part) => part !== undefined);
  return where.length === 0 ? problem : `${where.join(', ')}: ${problem}`;
}
