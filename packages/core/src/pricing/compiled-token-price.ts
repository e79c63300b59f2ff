import { formatScaled, MONEY_SCALE } from '../money.js';
import { divideRoundHalfEven } from '../rounding.js';
import type { Money } from '../money.js';

/** A model's token prices, each an amount per one million tokens, as compileTokenPrice takes them. */
export interface TokenPrice {
  /** Id of the input price (the model's first price). */
  readonly id: string;
  readonly provider: string;
  readonly model: string;
  readonly currency: string;
  readonly inputPerMillion: Money;
  readonly outputPerMillion: Money;
  /** Absent: cache reads are billed as uncached input. */
  readonly cacheReadPerMillion?: Money | undefined;
  /** Absent: cache writes are billed as uncached input. */
  readonly cacheWritePerMillion?: Money | undefined;
  /** Absent: reasoning tokens are billed as output tokens. */
  readonly reasoningPerMillion?: Money | undefined;
}

/** Price id behind each token kind (a kind without its own price cites the one it falls back to). */
export interface TokenPriceIds {
  readonly input: string;
  readonly output: string;
  readonly cacheRead: string;
  readonly cacheWrite: string;
  readonly reasoning: string;
}

/**
 * A token price prepared for the hot path. A price of P USD per 1M tokens is P × 10^6
 * pico-dollars per token; for prices with at most 6 decimals (every list price we know) that is
 * an integer, so a line item `tokens × price` is an exact integer and, while it stays below
 * 2^53, plain double arithmetic computes it exactly: no rounding happens and the result equals
 * the bigint path's (half-even rounding of an exact quotient is the identity). Everything else
 * (sub-pico prices, huge counts) takes the bigint path, which rounds half to even once.
 */
export interface CompiledTokenPrice {
  readonly price: TokenPrice;
  readonly currency: string;
  readonly reasoningSeparate: boolean;
  /** Pico-units per token when an exact integer, else NaN (bigint path). */
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
  readonly reasoning: number;
  /** Pico-units per 1M tokens, exact, for the bigint path. */
  readonly inputPerMillion: bigint;
  readonly outputPerMillion: bigint;
  readonly cacheReadPerMillion: bigint;
  readonly cacheWritePerMillion: bigint;
  readonly reasoningPerMillion: bigint;
  readonly ids: TokenPriceIds;
  /** `cost.pricing.price_ids` by bitmask of billed kinds (see priceIdsFor), built lazily. */
  readonly idLists: (readonly string[] | undefined)[];
}

/** Bits of priceIdsFor's mask. */
export const KIND_BIT = { input: 1, cacheRead: 2, cacheWrite: 4, output: 8, reasoning: 16 } as const;

/** The ids of the prices a span was billed at (kinds with a non-zero quantity), shared and frozen. */
export function priceIdsFor(price: CompiledTokenPrice, mask: number): readonly string[] {
  let list = price.idLists[mask];
  if (list === undefined) {
    const ids: string[] = [];
    if ((mask & KIND_BIT.input) !== 0) ids.push(price.ids.input);
    if ((mask & KIND_BIT.cacheRead) !== 0) ids.push(price.ids.cacheRead);
    if ((mask & KIND_BIT.cacheWrite) !== 0) ids.push(price.ids.cacheWrite);
    if ((mask & KIND_BIT.output) !== 0) ids.push(price.ids.output);
    if ((mask & KIND_BIT.reasoning) !== 0) ids.push(price.ids.reasoning);
    list = Object.freeze([...new Set(ids)]);
    price.idLists[mask] = list;
  }
  return list;
}

const MILLION = 1_000_000n;

function perToken(perMillion: bigint): number {
  return perMillion % MILLION === 0n && perMillion / MILLION <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(perMillion / MILLION)
    : Number.NaN;
}

export function compileTokenPrice(price: TokenPrice, ids: TokenPriceIds): CompiledTokenPrice {
  const input = price.inputPerMillion.subunits;
  const output = price.outputPerMillion.subunits;
  const cacheRead = (price.cacheReadPerMillion ?? price.inputPerMillion).subunits;
  const cacheWrite = (price.cacheWritePerMillion ?? price.inputPerMillion).subunits;
  const reasoning = (price.reasoningPerMillion ?? price.outputPerMillion).subunits;
  return {
    price,
    currency: price.currency,
    reasoningSeparate: price.reasoningPerMillion !== undefined,
    input: perToken(input),
    output: perToken(output),
    cacheRead: perToken(cacheRead),
    cacheWrite: perToken(cacheWrite),
    reasoning: perToken(reasoning),
    inputPerMillion: input,
    outputPerMillion: output,
    cacheReadPerMillion: cacheRead,
    cacheWritePerMillion: cacheWrite,
    reasoningPerMillion: reasoning,
    ids,
    idLists: [],
  };
}

/**
 * One line item in pico-units: `tokens × price per token`, exactly. Returns a number when the
 * exact result is a safe integer, else a bigint computed as price per 1M × tokens / 1M rounded
 * half to even (the rounding rule of core's Money.fromRatio).
 */
export function tokenLine(tokens: number, perTokenPico: number, perMillionPico: bigint): number | bigint {
  if (tokens === 0) return 0;
  const product = tokens * perTokenPico;
  if (product <= Number.MAX_SAFE_INTEGER) return product; // NaN (no exact per-token price) fails this
  return divideRoundHalfEven(perMillionPico * BigInt(tokens), MILLION);
}

/** Adds pico-unit amounts, staying in doubles only while the sum is provably exact. */
export function addPico(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    if (sum <= Number.MAX_SAFE_INTEGER) return sum;
  }
  return BigInt(a) + BigInt(b);
}

const PICO = 1e12;
const ZEROS = [
  '',
  '0',
  '00',
  '000',
  '0000',
  '00000',
  '000000',
  '0000000',
  '00000000',
  '000000000',
  '0000000000',
  '00000000000',
];

/** Canonical exact decimal of a pico-unit amount ("0.00015", "12", "0"). */
export function formatPico(amount: number | bigint): string {
  if (typeof amount === 'number' && amount >= 0 && amount <= Number.MAX_SAFE_INTEGER) return formatPicoNumber(amount);
  return formatScaled(BigInt(amount), MONEY_SCALE);
}

/**
 * formatPico for a number the caller knows to be an integer in [0, 2^53): integer arithmetic on
 * doubles below 2^53 is exact, so it splits into whole units and pico-units without bigints.
 */
export function formatPicoNumber(amount: number): string {
  if (!(amount >= 0 && amount <= Number.MAX_SAFE_INTEGER && Number.isInteger(amount))) {
    return formatScaled(BigInt(amount), MONEY_SCALE); // throws a RangeError for NaN and fractions
  }
  // The quotient is rounded, so near a whole unit it can be one off: correct it.
  let whole = Math.floor(amount / PICO);
  let fraction = amount - whole * PICO;
  if (fraction < 0) {
    whole -= 1;
    fraction += PICO;
  } else if (fraction >= PICO) {
    whole += 1;
    fraction -= PICO;
  }
  if (fraction === 0) return String(whole);
  // Strip trailing zeros in at most four steps (6, 3, 2, 1 digits) rather than one at a time,
  // testing divisibility with a division (exact when it divides: the quotient is an integer
  // below 2^53; otherwise at least 1/divisor away from one, far above double spacing there)
  // instead of a floating-point remainder, which is a library call. The digits left are few,
  // and a number below 2^30 converts to text on V8's fast path.
  let places = MONEY_SCALE;
  for (let i = 0; i < STRIP_DIVISORS.length; i++) {
    const quotient = fraction / (STRIP_DIVISORS[i] as number);
    if (quotient === Math.floor(quotient)) {
      fraction = quotient;
      places -= STRIP_DIGITS[i] as number;
    }
  }
  const digits = String(fraction);
  return whole === 0
    ? (FRACTION_PREFIX[places - digits.length] ?? '0.') + digits
    : `${whole}.${ZEROS[places - digits.length] ?? ''}${digits}`;
}

/** Trailing-zero strip steps of formatPicoNumber: 6, 3, 2 and 1 digits (at most 11 zeros). */
const STRIP_DIVISORS = [1e6, 1e3, 100, 10] as const;
const STRIP_DIGITS = [6, 3, 2, 1] as const;

/** "0." followed by n zeros, by n. */
const FRACTION_PREFIX = ZEROS.map((zeros) => `0.${zeros}`);

/** Nearest double of a pico-unit amount, for `cost.total_float` (display only). */
export function picoToFloat(amount: number | bigint): number {
  // Both operands are exact doubles and IEEE division rounds correctly, so this is the double
  // nearest the exact decimal, the same as Number(formatPico(amount)).
  return typeof amount === 'number' ? amount / 1e12 : Number(formatScaled(amount, MONEY_SCALE));
}
