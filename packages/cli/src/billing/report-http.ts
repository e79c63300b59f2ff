import { BillingImportError } from '@costtrace/core';

/**
 * What the bill fetchers (provider Admin APIs, OpenCost) share about HTTP: bodies read without
 * trusting their size (never `response.text()`), error texts that never show the secret, and
 * the times and counts their queries carry.
 */

/** Longest text of an error quoted in a message. */
const MESSAGE_CHARS = 300;

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

/** Bytes of an error answer read for its message. */
const ERROR_BODY_BYTES = 64 * 1024;

/** The start of an error answer's body as text, '' when there is none to quote (the status speaks alone). */
export async function errorBody(response: Response): Promise<string> {
  try {
    const bytes = await readBytes(response, ERROR_BODY_BYTES);
    return bytes === undefined ? '' : new TextDecoder().decode(bytes);
  } catch {
    return '';
  }
}

/** Drops a body unread, so that the connection can be reused. */
export async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

/** An error's message with its causes' (fetch wraps the socket error), the secret shown as `[label]`. */
export function errorText(err: unknown, secret: string, label: string): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 3 && current instanceof Error; depth++) {
    const code = 'code' in current && typeof current.code === 'string' ? ` (${current.code})` : '';
    parts.push(`${current.message}${code}`);
    current = current.cause;
  }
  return clip(scrub(parts.length === 0 ? String(err) : parts.join(': '), secret, label));
}

/** `text` with every occurrence of `secret` shown as `[label]`. */
export function scrub(text: string, secret: string, label: string): string {
  return secret === '' ? text : text.split(secret).join(`[${label}]`);
}

/** `text` cut to the length a message quotes. */
export function clip(text: string): string {
  return text.length <= MESSAGE_CHARS ? text : `${text.slice(0, MESSAGE_CHARS - 1)}…`;
}

/** Unix seconds as RFC 3339 in UTC, whole seconds: 2026-11-10T00:00:00Z. */
export function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A tuning count (attempts, pages) from 1 to `max`, or a RangeError naming it. */
export function checkedCount(name: string, value: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > max)
    throw new RangeError(`${name} must be a whole number from 1 to ${max}`);
  return value;
}
