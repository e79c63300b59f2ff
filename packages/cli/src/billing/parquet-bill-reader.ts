/**
 * FOCUS and CUR 2.0 exports in Parquet, read with DuckDB (in memory, chunk by chunk, so a large
 * export never sits in memory) and mapped by the same row mappers as the CSV files. Every column
 * is read as text: decimals exactly as stored, timestamps as ISO 8601 in UTC, maps (CUR's
 * `product`, `resource_tags`) in DuckDB's `{k=v}` form, which the mappers read.
 */
import { BillingImportError, bindCurColumns, bindFocusColumns, mapCurRow, mapFocusRow } from '@costtrace/core';
import type { BilledLine, ParseNotes } from '@costtrace/core';

/** A SQL string literal for DuckDB (a quote doubled; NUL refused). */
function literal(value: string): string {
  if (value.includes('\0')) throw new BillingImportError('INVALID_FORMAT', 'the file name holds a NUL character');
  return `'${value.replaceAll("'", "''")}'`;
}

function identifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The column as text: timestamps in ISO 8601 UTC, everything else DuckDB's exact text form. */
function asText(name: string, type: string): string {
  const column = identifier(name);
  if (/^TIMESTAMP/i.test(type)) return `strftime(${column}, '%Y-%m-%dT%H:%M:%SZ')`;
  if (/^DATE$/i.test(type)) return `strftime(${column}, '%Y-%m-%d')`;
  return `CAST(${column} AS VARCHAR)`;
}

/**
 * Yields the bill lines of a Parquet file, a chunk of rows at a time. `line` in errors is the
 * row's number in the file (1-based, the header not counted).
 */
export async function* readParquetBill(
  file: string,
  source: 'focus' | 'aws-cur',
  account: string | undefined,
  notes: ParseNotes,
): AsyncIterable<BilledLine[]> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    let columns: { name: string; type: string }[];
    try {
      await connection.run("SET TimeZone = 'UTC'");
      const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${literal(file)})`);
      columns = (described.getRowObjectsJson() as { column_name: string; column_type: string }[]).map((c) => ({
        name: c.column_name,
        type: c.column_type,
      }));
    } catch (cause) {
      throw new BillingImportError(
        'INVALID_FORMAT',
        `not a readable Parquet file: ${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)}`,
        { file },
        cause,
      );
    }
    const binding = (source === 'focus' ? bindFocusColumns : bindCurColumns)(
      columns.map((c) => c.name),
      file,
    );
    const result = await connection.stream(
      `SELECT ${columns.map((c) => asText(c.name, c.type)).join(', ')} FROM read_parquet(${literal(file)})`,
    );
    let rowNumber = 0;
    for await (const rows of result.yieldRowsJson()) {
      const lines: BilledLine[] = [];
      for (const values of rows) {
        rowNumber++;
        const row = binding.row(
          // Every column is selected as text (see asText): a string, or null.
          values.map((v) => (typeof v === 'string' ? v : null)),
          rowNumber,
        );
        const line = source === 'focus' ? mapFocusRow(row, notes, { account }) : mapCurRow(row, notes, { account });
        if (line !== undefined) lines.push(line);
      }
      yield lines;
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
