/** Rendering of result rows as an aligned text table, JSON or CSV (RFC 4180 quoting). */
export const OUTPUT_FORMATS = ['table', 'json', 'csv'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export type Cell = string | number | null;

function csvCell(value: Cell): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function renderRows(
  format: OutputFormat,
  columns: readonly string[],
  rows: readonly (readonly Cell[])[],
): string {
  if (format === 'json') {
    return `${JSON.stringify(
      rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i] ?? null]))),
      null,
      2,
    )}\n`;
  }
  if (format === 'csv') {
    return [columns, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
  }
  const text = rows.map((row) => row.map((c) => (c === null ? '-' : String(c).replace(/[\t\r\n]/g, ' '))));
  const widths = columns.map((c, i) => Math.max(c.length, ...text.map((row) => row[i]!.length)));
  const numeric = columns.map((_c, i) =>
    rows.every((row) => row[i] === null || typeof row[i] === 'number' || /^-?\d+(\.\d+)?$/.test(String(row[i]))),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n') + '\n';
}
