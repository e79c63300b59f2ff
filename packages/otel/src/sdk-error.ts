import type { PreflightRecord } from '@costtrace/client';

/** Error codes of the SDK; every error it raises is a CostSdkError with one of these. */
export type CostSdkErrorCode =
  /** An option is missing, of the wrong type or out of range; the message names it and the fix. */
  | 'INVALID_OPTION'
  /** pricing-cache answered something the client cannot use (bad money, unknown base version). */
  | 'PRICING_PROTOCOL'
  /** No GPU, no nvidia-smi, or nvidia-smi failed. */
  | 'GPU_UNAVAILABLE'
  /** The aggregator's throttle API could not be read or answered an invalid document. */
  | 'THROTTLE_API'
  /** `requirePreflight`: the aggregator denied the work; `preflight` is the record with the reasons. */
  | 'PREFLIGHT_DENIED'
  /** `requirePreflight`: the work waits for approval (status pending); `preflight` is the record. */
  | 'PREFLIGHT_NEEDS_APPROVAL'
  /** `requirePreflight` failing closed: the aggregator could not be asked (down, timed out, 5xx). */
  | 'PREFLIGHT_UNAVAILABLE'
  /** The aggregator refused the preflight request itself (400 invalid plan, 401/403, 404 no such API). */
  | 'PREFLIGHT_API';

export class CostSdkError extends Error {
  override readonly name = 'CostSdkError';
  /** The preflight record behind a PREFLIGHT_DENIED or PREFLIGHT_NEEDS_APPROVAL error. */
  readonly preflight: PreflightRecord | undefined;

  constructor(
    readonly code: CostSdkErrorCode,
    message: string,
    options?: { cause?: unknown; preflight?: PreflightRecord | undefined },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.preflight = options?.preflight;
  }
}

/** Throws INVALID_OPTION naming `field` and how to fix it. */
export function invalidOption(field: string, problem: string, fix: string): CostSdkError {
  return new CostSdkError('INVALID_OPTION', `${field} ${problem}; ${fix}`);
}
