import { divideRoundHalfEven } from './rounding.js';

/** Number of decimal places every amount carries: amounts are integer counts of 10^-12 units. */
export const MONEY_SCALE = 12;
/** 10^MONEY_SCALE: sub-units per whole currency unit. */
export const SUBUNITS_PER_UNIT = 10n ** BigInt(MONEY_SCALE);

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;
const CURRENCY = /^[A-Z]{3}$/;

export type MoneyErrorCode = 'INVALID_AMOUNT' | 'INVALID_CURRENCY' | 'CURRENCY_MISMATCH' | 'TOO_PRECISE';

export class MoneyError extends Error {
  override readonly name = 'MoneyError';
  constructor(
    readonly code: MoneyErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * An exact amount of money: a bigint count of 10^-12 of a currency unit (pico-dollars for USD)
 * and an ISO 4217 currency code. Never binary floating point; `toNumber()` exists for display.
 */
export class Money {
  private constructor(
    /** Amount in 10^-12 currency units. */
    readonly subunits: bigint,
    readonly currency: string,
  ) {}

  static zero(currency = 'USD'): Money {
    return new Money(0n, checkCurrency(currency));
  }

  static fromSubunits(subunits: bigint, currency = 'USD'): Money {
    return new Money(subunits, checkCurrency(currency));
  }

  /**
   * Parses a plain decimal string ("12", "-0.000000075"). More than MONEY_SCALE fraction digits
   * is an error unless they are all zero: parsing never rounds silently.
   */
  static parse(text: string, currency = 'USD'): Money {
    return new Money(parseScaled(text, MONEY_SCALE), checkCurrency(currency));
  }

  /**
   * `amount × numerator / denominator`, rounded once, half to even, to the money scale.
   * This is how a unit price becomes a line item: price × quantity / unit size.
   */
  static fromRatio(amount: Money, numerator: bigint, denominator: bigint): Money {
    return new Money(divideRoundHalfEven(amount.subunits * numerator, denominator), amount.currency);
  }

  static sum(items: readonly Money[], currency = 'USD'): Money {
    let total = 0n;
    for (const item of items) {
      if (item.currency !== currency) throw mismatch(currency, item.currency);
      total += item.subunits;
    }
    return new Money(total, checkCurrency(currency));
  }

  add(other: Money): Money {
    if (other.currency !== this.currency) throw mismatch(this.currency, other.currency);
    return new Money(this.subunits + other.subunits, this.currency);
  }

  subtract(other: Money): Money {
    if (other.currency !== this.currency) throw mismatch(this.currency, other.currency);
    return new Money(this.subunits - other.subunits, this.currency);
  }

  negate(): Money {
    return new Money(-this.subunits, this.currency);
  }

  isZero(): boolean {
    return this.subunits === 0n;
  }

  compare(other: Money): -1 | 0 | 1 {
    if (other.currency !== this.currency) throw mismatch(this.currency, other.currency);
    return this.subunits < other.subunits ? -1 : this.subunits > other.subunits ? 1 : 0;
  }

  equals(other: Money): boolean {
    return this.currency === other.currency && this.subunits === other.subunits;
  }

  /** Rounds half to even to `places` decimals (e.g. 6 for micro-dollars), for display and reports. */
  roundTo(places: number): Money {
    if (!Number.isInteger(places) || places < 0 || places > MONEY_SCALE) {
      throw new RangeError(`places must be an integer in 0..${MONEY_SCALE}, got ${places}`);
    }
    const step = 10n ** BigInt(MONEY_SCALE - places);
    return new Money(divideRoundHalfEven(this.subunits, step) * step, this.currency);
  }

  /** Canonical exact decimal: no exponent, no trailing fraction zeros ("0.000123", "5", "-1.5"). */
  toDecimalString(): string {
    return formatScaled(this.subunits, MONEY_SCALE);
  }

  /** Fixed number of decimals (rounded half to even), e.g. `toFixed(6)` → "0.000123". */
  toFixed(places: number): string {
    const rounded = this.roundTo(places).subunits / 10n ** BigInt(MONEY_SCALE - places);
    const negative = rounded < 0n;
    const digits = (negative ? -rounded : rounded).toString().padStart(places + 1, '0');
    const whole = digits.slice(0, digits.length - places);
    const fraction = digits.slice(digits.length - places);
    return `${negative ? '-' : ''}${whole}${places > 0 ? `.${fraction}` : ''}`;
  }

  /** Nearest binary double: for display tools only, never for sums. */
  toNumber(): number {
    return Number(this.toDecimalString());
  }

  toString(): string {
    return `${this.toDecimalString()} ${this.currency}`;
  }

  toJSON(): { amount: string; currency: string } {
    return { amount: this.toDecimalString(), currency: this.currency };
  }
}

/** Parses a plain decimal string into an integer scaled by 10^scale, rejecting lost precision. */
export function parseScaled(text: string, scale: number): bigint {
  const match = DECIMAL.exec(text.trim());
  if (match === null) {
    throw new MoneyError('INVALID_AMOUNT', `not a plain decimal number: ${JSON.stringify(text)}`);
  }
  const [, sign, whole = '0', fraction = ''] = match;
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > scale) {
    throw new MoneyError('TOO_PRECISE', `${text} has more than ${scale} decimal places`);
  }
  const value = BigInt(whole) * 10n ** BigInt(scale) + BigInt(significant.padEnd(scale, '0') || '0');
  return sign === '-' ? -value : value;
}

/** Formats an integer scaled by 10^scale as a canonical decimal string. */
export function formatScaled(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction.length > 0 ? `.${fraction}` : ''}`;
}

function checkCurrency(currency: string): string {
  if (!CURRENCY.test(currency)) {
    throw new MoneyError(
      'INVALID_CURRENCY',
      `currency must be an ISO 4217 code like "USD", got ${JSON.stringify(currency)}`,
    );
  }
  return currency;
}

function mismatch(expected: string, actual: string): MoneyError {
  return new MoneyError('CURRENCY_MISMATCH', `cannot combine ${expected} with ${actual}; convert first`);
}
