import type { ServerResponse } from 'node:http';

/**
 * An error with its HTTP answer: status, a stable code, a message for people and, when one
 * input is to blame, the field (a body path like `budget.limit_usd` or a query parameter).
 * Every costtrace HTTP API answers errors in one envelope:
 *
 *   {"error": {"code": "INVALID_QUERY", "message": "limit must be …", "field": "limit"}}
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options: {
      readonly field?: string | undefined;
      readonly headers?: Readonly<Record<string, string>> | undefined;
      readonly cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.field = options.field;
    this.headers = options.headers ?? {};
  }

  readonly field: string | undefined;
  /** Extra response headers (Retry-After, Allow). */
  readonly headers: Readonly<Record<string, string>>;
}

/** The error envelope's body. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly field?: string };
}

export function errorBody(err: HttpError): ErrorBody {
  return {
    error: { code: err.code, message: err.message, ...(err.field === undefined ? {} : { field: err.field }) },
  };
}

/** Writes a JSON answer (no-store; `undefined` body: an empty answer, e.g. 204). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Writes an HttpError as the envelope with its status and headers. */
export function sendError(res: ServerResponse, err: HttpError): void {
  sendJson(res, err.status, errorBody(err), err.headers);
}

/**
 * Maps a service's domain errors to their HTTP answer (StoreError unavailable → 503, …);
 * undefined: not one of its errors. The router answers anything unmapped with 500 INTERNAL and
 * logs it, never exposing the message.
 */
export type ErrorMapper = (err: unknown) => HttpError | undefined;
