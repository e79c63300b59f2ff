/** Error codes of the SDK; every error it raises is a CostSdkError with one of these. */
export type CostSdkErrorCode =
  /** An option is missing, of the wrong type or out of range; the message names it and the fix. */
  | 'INVALID_OPTION'
  /** pricing-cache answered something the client cannot use (bad money, unknown base version). */
  | 'PRICING_PROTOCOL'
  /** No GPU, no nvidia-smi, or nvidia-smi failed. */
  | 'GPU_UNAVAILABLE'
  /** The aggregator's throttle API could not be read or answered an invalid document. */
  | 'THROTTLE_API';

export class CostSdkError extends Error {
  override readonly name = 'CostSdkError';
  constructor(
    readonly code: CostSdkErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Throws INVALID_OPTION naming `field` and how to fix it. */
export function invalidOption(field: string, problem: string, fix: string): CostSdkError {
  return new CostSdkError('INVALID_OPTION', `${field} ${problem}; ${fix}`);
}
