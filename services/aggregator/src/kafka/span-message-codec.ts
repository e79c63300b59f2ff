import { ExportTraceServiceRequest } from '@costtrace/proto';
import { decodeOtlpJson } from '../otlp/otlp-json.js';
import { readOtlpTraces, viewOfRequest } from '../otlp/otlp-wire-reader.js';
import type { OtlpTracesView } from '../otlp/otlp-wire-reader.js';

/** The two encodings the OpenTelemetry Collector's kafka exporter writes for traces. */
export type SpanEncoding = 'otlp_proto' | 'otlp_json';

export class SpanMessageError extends Error {
  override readonly name = 'SpanMessageError';
  constructor(
    readonly reason: 'empty_message' | 'undecodable_protobuf' | 'undecodable_json',
    message: string,
  ) {
    super(message);
  }
}

function firstSignificantByte(value: Buffer): number | undefined {
  for (let i = 0; i < value.length && i < 64; i++) {
    const b = value[i]!;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return b;
  }
  return undefined;
}

/**
 * Which encoding a message uses. A protobuf ExportTraceServiceRequest starts with field 1
 * (byte 0x0a); `{` (0x7b) would be an invalid protobuf tag, so a JSON object is unambiguous.
 * A `content-type` header, when present, wins.
 */
export function detectEncoding(value: Buffer, contentType: string | undefined): SpanEncoding {
  if (contentType !== undefined) {
    if (contentType.includes('json')) return 'otlp_json';
    if (contentType.includes('protobuf')) return 'otlp_proto';
  }
  return firstSignificantByte(value) === 0x7b ? 'otlp_json' : 'otlp_proto';
}

/** Decodes one Kafka message value with the decoder of its encoding; throws SpanMessageError. */
function decodeAs<T>(
  value: Buffer | null,
  contentType: string | undefined,
  decode: { readonly proto: (value: Buffer) => T; readonly json: (value: Buffer) => T },
): T {
  if (value === null || value.length === 0) throw new SpanMessageError('empty_message', 'message has no value');
  const encoding = detectEncoding(value, contentType);
  try {
    return encoding === 'otlp_json' ? decode.json(value) : decode.proto(value);
  } catch (err) {
    throw new SpanMessageError(
      encoding === 'otlp_json' ? 'undecodable_json' : 'undecodable_protobuf',
      `not an OTLP ExportTraceServiceRequest (${encoding}): ${(err as Error).message}`,
    );
  }
}

/** Decodes one Kafka message value (otlp_proto or otlp_json) completely. Throws SpanMessageError. */
export function decodeSpanMessage(value: Buffer | null, contentType?: string): ExportTraceServiceRequest {
  return decodeAs(value, contentType, { proto: (v) => ExportTraceServiceRequest.decode(v), json: decodeOtlpJson });
}

/**
 * What the row builder reads of one Kafka message value: otlp_proto through the wire reader,
 * otlp_json through its decoder. Throws SpanMessageError.
 */
export function readSpanMessage(value: Buffer | null, contentType?: string): OtlpTracesView {
  return decodeAs(value, contentType, { proto: readOtlpTraces, json: (v) => viewOfRequest(decodeOtlpJson(v)) });
}
