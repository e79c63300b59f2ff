export type WebhookErrorCode =
  'INVALID_ENDPOINT' | 'INVALID_SECRET' | 'DESTINATION_REFUSED' | 'OUTBOX_CORRUPT' | 'OUTBOX_IO' | 'NOT_FOUND';

/** The one error class of webhook delivery; `cause` keeps the underlying error. */
export class WebhookError extends Error {
  override readonly name = 'WebhookError';
  constructor(
    readonly code: WebhookErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
