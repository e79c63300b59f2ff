/**
 * ClickHouse TabSeparated encoding for inserts. TSV (not JSONEachRow) because the CI server
 * cannot read quoted decimals from JSON and JSON numbers would go through binary floating point:
 * TSV carries exact decimal text. This is on the consumer's hot path: strings without special
 * characters (nearly all) are passed through after one regular-expression test.
 */
const TSV_SPECIAL = /[\\\t\n\r\0]/;
export const TSV_SPECIAL_GLOBAL = /[\\\t\n\r\0]/g;
const ARRAY_SPECIAL = /[\\'\t\n\r\0]/;
export const ARRAY_SPECIAL_GLOBAL = /[\\'\t\n\r\0]/g;

const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '\0': '\\0',
};
/** The escape sequence of a special character (see the patterns above). */
export const escapeChar = (ch: string): string => ESCAPES[ch] ?? ch;

/** Escapes a string for a TabSeparated field. */
export function tsvString(value: string): string {
  return TSV_SPECIAL.test(value) ? value.replace(TSV_SPECIAL_GLOBAL, escapeChar) : value;
}

/**
 * A string array as a TabSeparated field: ['a','b'], each element quoted with backslash escapes.
 * ClickHouse reads array fields of TSV in that quoted form directly (18.16 and current releases
 * alike, checked by the chDB comparison test), so the field is not TSV-escaped a second time;
 * the element escapes already keep tabs and newlines out of it.
 */
export function tsvStringArray(values: readonly string[]): string {
  if (values.length === 0) return '[]';
  let out = '[';
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    const quoted = ARRAY_SPECIAL.test(value) ? value.replace(ARRAY_SPECIAL_GLOBAL, escapeChar) : value;
    out += i === 0 ? `'${quoted}'` : `,'${quoted}'`;
  }
  return `${out}]`;
}

export type TsvValue = string | number | bigint | boolean | readonly string[];

/** One field: strings escaped, numbers as text, booleans as 0/1, string arrays as ['a','b']. */
export function tsvField(value: TsvValue): string {
  if (typeof value === 'string') return tsvString(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`cannot store non-finite number ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? '1' : '0';
  return tsvStringArray(value);
}

export function tsvRow(values: readonly TsvValue[]): string {
  return `${values.map(tsvField).join('\t')}\n`;
}
