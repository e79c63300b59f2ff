/** What went wrong talking to the aggregator API. */
export type ApiErrorCode =
  /** No answer: connection refused, DNS, reset. */
  | 'UNREACHABLE'
  /** No answer within the client's timeout. */
  | 'TIMEOUT'
  /** An answer with an error status; `status` and the server's `code`/`message` are set. */
  | 'HTTP_STATUS'
  /** An answer that is not the documented shape. */
  | 'INVALID_RESPONSE';

/** The one error the client throws, with a fixed code and the cause. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    options?: {
      readonly cause?: unknown;
      /** HTTP status (HTTP_STATUS, INVALID_RESPONSE). */
      readonly status?: number | undefined;
      /** The server's error code from its envelope (`{"error": {"code": …}}`), when it sent one. */
      readonly serverCode?: string | undefined;
      /** The server's error message from its envelope, when it sent one. */
      readonly serverMessage?: string | undefined;
      /** The decoded response body, when there was one. */
      readonly body?: unknown;
    },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = options?.status;
    this.serverCode = options?.serverCode;
    this.serverMessage = options?.serverMessage;
    this.body = options?.body;
  }

  readonly status: number | undefined;
  readonly serverCode: string | undefined;
  readonly serverMessage: string | undefined;
  readonly body: unknown;

  /** Worth retrying later: unreachable, timed out, 429 or 5xx. */
  get retryable(): boolean {
    if (this.code === 'UNREACHABLE' || this.code === 'TIMEOUT') return true;
    return this.status !== undefined && (this.status === 429 || this.status >= 500);
  }
}
