import grpc from '@grpc/grpc-js';

export type IngestErrorCode = 'INVALID_REQUEST' | 'TOO_LARGE' | 'UNSUPPORTED_MEDIA_TYPE' | 'UNAVAILABLE' | 'BUSY';

/** The ingest domain's one error class, mapped to HTTP and gRPC status at the edges. */
export class IngestError extends Error {
  override readonly name = 'IngestError';
  constructor(
    readonly code: IngestErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Seconds a client should wait before retrying, for retryable codes. */
  get retryAfterSeconds(): number | undefined {
    return this.code === 'UNAVAILABLE' ? 5 : this.code === 'BUSY' ? 1 : undefined;
  }

  get httpStatus(): number {
    switch (this.code) {
      case 'INVALID_REQUEST':
        return 400;
      case 'TOO_LARGE':
        return 413;
      case 'UNSUPPORTED_MEDIA_TYPE':
        return 415;
      case 'BUSY':
        return 429;
      case 'UNAVAILABLE':
        return 503;
    }
  }

  get grpcStatus(): grpc.status {
    switch (this.code) {
      case 'INVALID_REQUEST':
      case 'UNSUPPORTED_MEDIA_TYPE':
        return grpc.status.INVALID_ARGUMENT;
      case 'TOO_LARGE':
        return grpc.status.RESOURCE_EXHAUSTED;
      case 'BUSY':
      case 'UNAVAILABLE':
        return grpc.status.UNAVAILABLE;
    }
  }
}
