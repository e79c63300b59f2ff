/** The fixed set of pricing failure codes; services map them to gRPC and HTTP statuses. */
export type PricingErrorCode =
  /** No price for the asked provider/SKU/kind/region/time. `suggestions` lists close names. */
  | 'NOT_FOUND'
  /** A request field is malformed; `field` names it. */
  | 'INVALID_ARGUMENT'
  /** A catalog or source payload is malformed; the whole payload is rejected. */
  | 'INVALID_CATALOG'
  /** A source could not be fetched (network, timeout, HTTP status, open circuit). */
  | 'SOURCE_FAILED'
  /** No snapshot is loaded yet. */
  | 'UNAVAILABLE'
  /** Missing or wrong credentials. */
  | 'UNAUTHENTICATED'
  /** A bug: should never happen. */
  | 'INTERNAL';

export interface PricingErrorDetails {
  readonly field?: string | undefined;
  readonly suggestions?: readonly string[] | undefined;
  readonly cause?: unknown;
}

/** The one error class of the pricing domain. */
export class PricingError extends Error {
  override readonly name = 'PricingError';
  readonly field: string | undefined;
  readonly suggestions: readonly string[];

  constructor(
    readonly code: PricingErrorCode,
    message: string,
    details: PricingErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.field = details.field;
    this.suggestions = details.suggestions ?? [];
  }
}

/** Shorthand for a malformed request field. */
export function invalidArgument(field: string, problem: string): PricingError {
  return new PricingError('INVALID_ARGUMENT', `${field}: ${problem}`, { field });
}
