import { exactDecimal, utcSeconds } from './billed-line.js';
import type { ParseNotes } from './billed-line.js';
import { BillingImportError } from './billing-error.js';
import type { BillRow } from './bill-row.js';

/**
 * A cell's text, trimmed, or undefined when the column is absent, null or blank: optional bill
 * columns are often present but empty (a tax row has no quantity), which means the same as absent.
 */
export function cellText(row: BillRow, column: string): string | undefined {
  const value = row.get(column)?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** A cell that must hold a value: blank is INVALID_VALUE, naming the line and column. */
export function requiredText(row: BillRow, column: string): string {
  const value = cellText(row, column);
  if (value === undefined) {
    throw new BillingImportError('INVALID_VALUE', `${column} is empty`, { line: row.line, field: column });
  }
  return value;
}

/** A required amount, as exact decimal text (see exactDecimal). */
export function requiredDecimal(row: BillRow, column: string, notes: ParseNotes): string {
  return exactDecimal(requiredText(row, column), { line: row.line, field: column }, notes);
}

/** An optional amount: undefined when absent or blank, else exact decimal text. */
export function optionalDecimal(row: BillRow, column: string, notes: ParseNotes): string | undefined {
  const value = cellText(row, column);
  return value === undefined ? undefined : exactDecimal(value, { line: row.line, field: column }, notes);
}

const CURRENCY = /^[A-Z]{3}$/;

/** An ISO 4217 currency code, upper-cased ("usd" is read as "USD"); anything else is INVALID_VALUE. */
export function requiredCurrency(row: BillRow, column: string): string {
  const currency = requiredText(row, column).toUpperCase();
  if (!CURRENCY.test(currency)) {
    throw new BillingImportError(
      'INVALID_VALUE',
      `not an ISO 4217 currency code: ${JSON.stringify(currency.slice(0, 64))}`,
      { line: row.line, field: column },
    );
  }
  return currency;
}

/** A charge period in unix seconds; the end must be after the start (INVALID_VALUE on the end column). */
export function requiredPeriod(
  row: BillRow,
  startColumn: string,
  endColumn: string,
): { readonly start: number; readonly end: number } {
  const start = utcSeconds(requiredText(row, startColumn), { line: row.line, field: startColumn });
  const end = utcSeconds(requiredText(row, endColumn), { line: row.line, field: endColumn });
  if (end <= start) {
    throw new BillingImportError(
      'INVALID_VALUE',
      `the charge period must end after it starts (start ${isoTime(start)}, end ${isoTime(end)})`,
      { line: row.line, field: endColumn },
    );
  }
  return { start, end };
}

function isoTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace('.000Z', 'Z');
}
