import { formatScaled, MONEY_SCALE, parseScaled } from '../money.js';
import { exactDecimal } from './billed-line.js';
import type { ParseNotes } from './billed-line.js';
import type { BillingErrorLocation } from './billing-error.js';

/**
 * What a bill's unit of measure counts, as far as costtrace compares it: hours (of an instance or
 * GPU), tokens, or anything else. `multiplier` is the block size the unit names ("1K tokens" is
 * 1000, "10 Hours" is 10): quantities in that unit are multiplied by it to count single units.
 */
export interface BillUnit {
  readonly base: 'hours' | 'tokens' | undefined;
  readonly multiplier: bigint;
}

/** An optional block size ("1", "1,000", "1000", "1K", "1 Million"), then the unit word. */
const UNIT =
  /^(?:(\d{1,3}(?:,\d{3})+|\d+)\s*)?(?:(k|m|b|thousand|million|billion)\b\s*|(k|m|b)(?=[\s-]*tokens?\b))?[\s-]*(hours?|hrs?|h|hour\(s\)|tokens?|token[\s-]count)$/i;

const SUFFIX: Readonly<Record<string, bigint>> = {
  k: 1_000n,
  thousand: 1_000n,
  m: 1_000_000n,
  million: 1_000_000n,
  b: 1_000_000_000n,
  billion: 1_000_000_000n,
};

/**
 * Reads a unit of measure as written by cloud bills: 'Hours', 'Hour', 'Hrs', 'hr', 'h', '1 Hour',
 * '10 Hours' (Azure); 'Tokens', '1K tokens', '1M tokens', '1,000 tokens', '1000 Tokens' (FOCUS
 * unit format and Bedrock). Case-insensitive; anything else has base undefined.
 */
export function readBillUnit(unit: string | undefined): BillUnit {
  const match = unit === undefined ? null : UNIT.exec(unit.trim());
  if (match === null) return { base: undefined, multiplier: 1n };
  const [, count, suffix, tokenSuffix, word = ''] = match;
  const multiplier =
    BigInt((count ?? '1').replaceAll(',', '')) * (SUFFIX[(suffix ?? tokenSuffix ?? '').toLowerCase()] ?? 1n);
  return { base: /^t/i.test(word) ? 'tokens' : 'hours', multiplier: multiplier === 0n ? 1n : multiplier };
}

const NUMBER = /^\s*([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d{1,4}))?\s*$/;

/**
 * `text × multiplier` as exact decimal text (see exactDecimal). A power-of-ten multiplier moves
 * the decimal point before the value is rounded to 12 decimals, so "0.0000000000015" thousand
 * tokens stays exact instead of being rounded first and multiplied after.
 */
export function scaledDecimal(
  text: string,
  multiplier: bigint,
  where: BillingErrorLocation,
  notes: ParseNotes,
): string {
  if (multiplier === 1n) return exactDecimal(text, where, notes);
  const power = powerOfTen(multiplier);
  const number = NUMBER.exec(text);
  if (power !== undefined && number !== null) {
    const [, mantissa = '', exponent = '0'] = number;
    return exactDecimal(`${mantissa}E${Number(exponent) + power}`, where, notes);
  }
  const value = exactDecimal(text, where, notes);
  return formatScaled(parseScaled(value, MONEY_SCALE) * multiplier, MONEY_SCALE);
}

function powerOfTen(value: bigint): number | undefined {
  const digits = value.toString();
  return /^10*$/.test(digits) ? digits.length - 1 : undefined;
}
