/** Why a value read as a token count is not one. */
export type TokenCountProblem = 'not_a_number' | 'not_an_integer' | 'negative' | 'too_large';

export type TokenCountResult =
  { readonly ok: true; readonly count: number } | { readonly ok: false; readonly problem: TokenCountProblem };

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const DIGITS = /^-?\d{1,30}$/;

/**
 * The one rule for a token count read from a span attribute (the SDK's and the aggregator's
 * usage reader, and the aggregator's validation of stamped counts): absent is 0; a number, a
 * bigint or a string of decimal digits that is a non-negative integer up to 2^53 − 1 is that
 * count; anything else says why it is not (NaN and infinities are `not_a_number`).
 */
export function readTokenCount(value: unknown): TokenCountResult {
  if (value === undefined) return { ok: true, count: 0 };
  let big: bigint;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, problem: 'not_a_number' };
    if (!Number.isInteger(value)) return { ok: false, problem: 'not_an_integer' };
    if (value < 0) return { ok: false, problem: 'negative' };
    return Number.isSafeInteger(value) ? { ok: true, count: value } : { ok: false, problem: 'too_large' };
  }
  if (typeof value === 'bigint') big = value;
  else if (typeof value === 'string' && DIGITS.test(value)) big = BigInt(value);
  else return { ok: false, problem: 'not_an_integer' };
  if (big < 0n) return { ok: false, problem: 'negative' };
  if (big > MAX) return { ok: false, problem: 'too_large' };
  return { ok: true, count: Number(big) };
}
