import { BillingImportError } from '@costtrace/core';

/**
 * Reading an HTTP answer of a report API without trusting its size: the bill fetchers (provider
 * Admin APIs, OpenCost) read bodies through these, never `response.text()`.
 */

/**
 * The body as UTF-8 text, at most `maxBytes` bytes (a declared or streamed larger body is
 * refused with TOO_LARGE, whose message ends with `hint`: what to fetch instead).
 */
export async function readBody(response: Response, maxBytes: number, shown: string, hint: string): Promise<string> {
  const tooLarge = (): BillingImportError =>
    new BillingImportError('TOO_LARGE', `the response is larger than ${maxBytes} bytes: ${hint}`, { file: shown });
  const declared = Number(response.headers.get('content-length') ?? '');
  if (Number.isFinite(declared) && declared > maxBytes) {
    await discard(response);
    throw tooLarge();
  }
  const bytes = await readBytes(response, maxBytes);
  if (bytes === undefined) throw tooLarge();
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new BillingImportError('INVALID_FORMAT', 'the response is not UTF-8 text', { file: shown }, cause);
  }
}

/** The body's bytes; undefined (and the stream cancelled) once it exceeds `maxBytes`. */
export async function readBytes(response: Response, maxBytes: number): Promise<Uint8Array | undefined> {
  if (response.body === null) return new Uint8Array(0);
  // A fetch body is a byte stream; its type leaves the chunk type open.
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

/** Drops a body unread, so that the connection can be reused. */
export async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}
