import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { PricingError } from '@costtrace/core';
import type { PricingErrorCode } from '@costtrace/core';

/** The explicit mapping of pricing failures to gRPC status codes. */
export const GRPC_STATUS: Readonly<Record<PricingErrorCode, status>> = {
  NOT_FOUND: status.NOT_FOUND,
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  INVALID_CATALOG: status.INTERNAL,
  SOURCE_FAILED: status.UNAVAILABLE,
  UNAVAILABLE: status.UNAVAILABLE,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  INTERNAL: status.INTERNAL,
};

/**
 * A gRPC error for any thrown value. PricingError keeps its message; INVALID_ARGUMENT carries
 * `costtrace-field` and NOT_FOUND `costtrace-suggestions` (comma-separated) in trailers.
 * Anything else is INTERNAL with a generic message (details go to the log, not the client).
 */
export function toServiceError(err: unknown): Partial<ServiceError> & { code: status } {
  const metadata = new Metadata();
  if (err instanceof PricingError) {
    if (err.field !== undefined) metadata.set('costtrace-field', err.field);
    if (err.suggestions.length > 0) metadata.set('costtrace-suggestions', err.suggestions.join(','));
    return { code: GRPC_STATUS[err.code], details: err.message, metadata };
  }
  return { code: status.INTERNAL, details: 'internal error', metadata };
}
