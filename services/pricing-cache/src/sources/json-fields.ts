import { PricingError } from '@costtrace/core';

/** Small readers for untrusted JSON: each failure is INVALID_CATALOG naming the path. */
export function asObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PricingError('INVALID_CATALOG', `${path} must be an object`, { field: path });
  }
  return value as Record<string, unknown>;
}

export function asArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new PricingError('INVALID_CATALOG', `${path} must be an array`, { field: path });
  return value;
}

export function asString(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new PricingError('INVALID_CATALOG', `${path} must be a string`, { field: path });
  return value;
}

export function optionalString(value: unknown, path: string): string | undefined {
  return value === undefined || value === null ? undefined : asString(value, path);
}

/**
 * The exact decimal a JSON number was written as. JSON.parse keeps the shortest round-trip
 * form, so "2.5e-06" comes back as 0.0000025 exactly; exponents are expanded here.
 */
export function decimalFromNumber(value: unknown, path: string): string {
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) return value.trim();
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new PricingError('INVALID_CATALOG', `${path} must be a finite number`, { field: path });
  }
  const text = String(value);
  const match = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (match === null) return text;
  const [, sign = '', whole = '', fraction = '', exp = '0'] = match;
  const digits = whole + fraction;
  const point = whole.length + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Moves the decimal point `places` to the right, exactly ("0.0000025", 6 → "2.5"). */
export function shiftDecimal(decimal: string, places: number): string {
  const negative = decimal.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? decimal.slice(1) : decimal).split('.');
  const digits = whole + fraction.padEnd(places, '0');
  const point = whole.length + places;
  const out = `${digits.slice(0, point)}.${digits.slice(point)}`.replace(/^0+(?=\d)/, '').replace(/\.?0*$/, '');
  return `${negative ? '-' : ''}${out === '' ? '0' : out}`;
}
