export type StoreErrorCode =
  'INVALID_CONFIG' | 'INVALID_IDENTIFIER' | 'UNAVAILABLE' | 'MIGRATION_FAILED' | 'INSERT_FAILED' | 'QUERY_FAILED';

/** The one error class of the storage layer; `cause` keeps the driver's error. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Whether retrying the same operation later can succeed (the server was unreachable). */
  get retryable(): boolean {
    return this.code === 'UNAVAILABLE';
  }
}
