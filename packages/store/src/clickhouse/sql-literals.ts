import { StoreError } from '../store-error.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Checks a database or table name. Names come from configuration, never from requests, and are
 * additionally restricted to a safe character set so they can be spliced into DDL.
 */
export function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new StoreError(
      'INVALID_IDENTIFIER',
      `${JSON.stringify(name)} is not a valid ClickHouse name: use letters, digits and _ (max 64, not starting with a digit)`,
    );
  }
  return name;
}

/**
 * A ClickHouse string literal. The CI server (18.16) has no server-side query parameters, so
 * values that must appear in SQL are quoted here: backslash and quote are escaped, and control
 * characters are written as escapes, so no input can end the literal.
 */
export function stringLiteral(value: string): string {
  let out = "'";
  for (const ch of value) {
    switch (ch) {
      case '\\':
        out += '\\\\';
        break;
      case "'":
        out += "\\'";
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\0':
        out += '\\0';
        break;
      default:
        out += ch;
    }
  }
  return `${out}'`;
}

/** An unsigned integer literal, checked. */
export function uintLiteral(value: bigint | number): string {
  const big = typeof value === 'bigint' ? value : BigInt(value);
  if (big < 0n) throw new RangeError(`expected a non-negative integer, got ${value}`);
  return big.toString();
}
