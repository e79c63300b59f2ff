import { PricingError } from '@costtrace/core';

export interface HttpJsonOptions {
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Largest accepted body; larger responses are rejected. */
  readonly maxBytes: number;
}

/** GETs a URL and parses its JSON body. Failures are PricingError SOURCE_FAILED / INVALID_CATALOG. */
export async function fetchJson(url: string, signal: AbortSignal, options: HttpJsonOptions): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { signal, headers: { accept: 'application/json', ...options.headers } });
  } catch (err) {
    throw new PricingError('SOURCE_FAILED', `GET ${redact(url)} failed: ${(err as Error).message}`, { cause: err });
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new PricingError('SOURCE_FAILED', `GET ${redact(url)} answered HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > options.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new PricingError(
      'SOURCE_FAILED',
      `GET ${redact(url)}: body of ${declared} bytes exceeds ${options.maxBytes}`,
    );
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body ?? []) {
      const bytes = chunk as Uint8Array;
      size += bytes.byteLength;
      if (size > options.maxBytes) {
        throw new PricingError('SOURCE_FAILED', `GET ${redact(url)}: body exceeds ${options.maxBytes} bytes`);
      }
      chunks.push(bytes);
    }
  } catch (err) {
    if (err instanceof PricingError) throw err;
    throw new PricingError('SOURCE_FAILED', `GET ${redact(url)}: ${(err as Error).message}`, { cause: err });
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new PricingError('INVALID_CATALOG', `GET ${redact(url)}: body is not JSON`, { cause: err });
  }
}

/** A URL without its query string (API keys travel there) for logs and errors. */
export function redact(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : `${url.slice(0, q)}?…`;
}
