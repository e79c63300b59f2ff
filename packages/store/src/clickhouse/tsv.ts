/**
 * ClickHouse TabSeparated encoding for inserts. TSV (not JSONEachRow) because the CI server
 * cannot read quoted decimals from JSON and JSON numbers would go through binary floating point:
 * TSV carries exact decimal text.
 */
function escapeTsv(value: string): string {
  let out = '';
  for (const ch of value) {
    switch (ch) {
      case '\\':
        out += '\\\\';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\0':
        out += '\\0';
        break;
      default:
        out += ch;
    }
  }
  return out;
}

function quoteArrayElement(value: string): string {
  let out = "'";
  for (const ch of value) {
    if (ch === '\\' || ch === "'") out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\0') out += '\\0';
    else out += ch;
  }
  return `${out}'`;
}

export type TsvValue = string | number | bigint | boolean | readonly string[];

/** One field: strings escaped, numbers as text, booleans as 0/1, string arrays as ['a','b']. */
export function tsvField(value: TsvValue): string {
  if (typeof value === 'string') return escapeTsv(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`cannot store non-finite number ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? '1' : '0';
  // ClickHouse reads an array field of TSV in its quoted-literal syntax, not TSV-unescaped first;
  // quoteArrayElement already writes control characters as escapes, so no raw tab can appear.
  return `[${value.map(quoteArrayElement).join(',')}]`;
}

export function tsvRow(values: readonly TsvValue[]): string {
  return `${values.map(tsvField).join('\t')}\n`;
}
