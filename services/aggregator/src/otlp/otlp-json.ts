import type {
  AnyValue,
  ExportTraceServiceRequest,
  InstrumentationScope,
  KeyValue,
  Resource,
  ResourceSpans,
  ScopeSpans,
  Span,
  Span_Event,
  Span_Link,
  Status,
} from '@costtrace/proto';

/**
 * Decoder for the OTLP/JSON encoding of ExportTraceServiceRequest (OTLP specification, "JSON
 * Protobuf Encoding"): trace and span ids are hex strings (not base64), 64-bit integers may be
 * strings or numbers, enums are integers (names accepted too), field names are lowerCamelCase
 * (snake_case accepted), unknown fields are ignored. Errors name the JSON path.
 */
export class OtlpJsonError extends Error {
  override readonly name = 'OtlpJsonError';
}

type Json = unknown;
type JsonObject = Readonly<Record<string, Json>>;

function fail(path: string, message: string): never {
  throw new OtlpJsonError(`${path}: ${message}`);
}

function field(obj: JsonObject, camel: string, snake?: string): Json {
  const value = obj[camel];
  return value !== undefined || snake === undefined ? value : obj[snake];
}

function object(value: Json, path: string): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(path, 'expected an object');
  return value as JsonObject;
}

function array(value: Json, path: string): readonly Json[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(path, 'expected an array');
  return value;
}

function string(value: Json, path: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') fail(path, 'expected a string');
  return value;
}

const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function int64(value: Json, path: string, signed: boolean): bigint {
  if (value === undefined || value === null) return 0n;
  let big: bigint;
  if (typeof value === 'string') {
    if (!/^-?\d{1,20}$/.test(value)) fail(path, `expected an integer, got ${JSON.stringify(value.slice(0, 32))}`);
    big = BigInt(value);
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) fail(path, `expected an integer (use a string beyond 2^53), got ${value}`);
    big = BigInt(value);
  } else {
    fail(path, 'expected an integer as a number or a string');
  }
  if (signed ? big < INT64_MIN || big > INT64_MAX : big < 0n || big > UINT64_MAX) fail(path, 'integer out of range');
  return big;
}

function uint32(value: Json, path: string): number {
  if (value === undefined || value === null) return 0;
  const n = typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff)
    fail(path, 'expected an unsigned 32-bit integer');
  return n;
}

function double(value: Json, path: string): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return Number.NaN;
  if (value === 'Infinity') return Number.POSITIVE_INFINITY;
  if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  fail(path, 'expected a number');
}

function hexId(value: Json, path: string, bytes: number): Buffer {
  const text = string(value, path);
  if (text === '') return Buffer.alloc(0);
  if (text.length !== bytes * 2 || !/^[0-9a-fA-F]+$/.test(text)) fail(path, `expected ${bytes * 2} hex digits`);
  return Buffer.from(text, 'hex');
}

function enumValue(value: Json, path: string, names: readonly string[]): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < names.length) return value;
  if (typeof value === 'string') {
    const index = names.indexOf(value);
    if (index >= 0) return index;
  }
  fail(path, `expected one of 0..${names.length - 1} or ${names.join(', ')}`);
}

const SPAN_KINDS = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
] as const;
const STATUS_CODES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'] as const;
const MAX_DEPTH = 16;

function anyValue(value: Json, path: string, depth: number): AnyValue {
  if (depth > MAX_DEPTH) fail(path, `values nested deeper than ${MAX_DEPTH}`);
  const obj = object(value, path);
  const out: AnyValue = {};
  if (obj.stringValue !== undefined) out.stringValue = string(obj.stringValue, `${path}.stringValue`);
  else if (obj.boolValue !== undefined) {
    if (typeof obj.boolValue !== 'boolean') fail(`${path}.boolValue`, 'expected true or false');
    out.boolValue = obj.boolValue;
  } else if (obj.intValue !== undefined) out.intValue = int64(obj.intValue, `${path}.intValue`, true);
  else if (obj.doubleValue !== undefined) out.doubleValue = double(obj.doubleValue, `${path}.doubleValue`);
  else if (obj.arrayValue !== undefined) {
    const values = array(object(obj.arrayValue, `${path}.arrayValue`).values, `${path}.arrayValue.values`);
    out.arrayValue = { values: values.map((v, i) => anyValue(v, `${path}.arrayValue.values[${i}]`, depth + 1)) };
  } else if (obj.kvlistValue !== undefined) {
    const values = array(object(obj.kvlistValue, `${path}.kvlistValue`).values, `${path}.kvlistValue.values`);
    out.kvlistValue = { values: values.map((v, i) => keyValue(v, `${path}.kvlistValue.values[${i}]`, depth + 1)) };
  } else if (obj.bytesValue !== undefined) {
    const text = string(obj.bytesValue, `${path}.bytesValue`);
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) fail(`${path}.bytesValue`, 'expected base64');
    out.bytesValue = Buffer.from(text, 'base64');
  }
  return out;
}

function keyValue(value: Json, path: string, depth: number): KeyValue {
  const obj = object(value, path);
  const kv: KeyValue = { key: string(obj.key, `${path}.key`) };
  if (obj.value !== undefined && obj.value !== null) kv.value = anyValue(obj.value, `${path}.value`, depth);
  return kv;
}

function attributes(value: Json, path: string): KeyValue[] {
  return array(value, path).map((kv, i) => keyValue(kv, `${path}[${i}]`, 0));
}

function span(value: Json, path: string): Span {
  const obj = object(value, path);
  const status = field(obj, 'status');
  let decodedStatus: Status | undefined;
  if (status !== undefined && status !== null) {
    const s = object(status, `${path}.status`);
    decodedStatus = {
      message: string(s.message, `${path}.status.message`),
      code: enumValue(s.code, `${path}.status.code`, STATUS_CODES),
    };
  }
  return {
    traceId: hexId(field(obj, 'traceId', 'trace_id'), `${path}.traceId`, 16),
    spanId: hexId(field(obj, 'spanId', 'span_id'), `${path}.spanId`, 8),
    traceState: string(field(obj, 'traceState', 'trace_state'), `${path}.traceState`),
    parentSpanId: hexId(field(obj, 'parentSpanId', 'parent_span_id'), `${path}.parentSpanId`, 8),
    flags: uint32(field(obj, 'flags'), `${path}.flags`),
    name: string(obj.name, `${path}.name`),
    kind: enumValue(obj.kind, `${path}.kind`, SPAN_KINDS),
    startTimeUnixNano: int64(
      field(obj, 'startTimeUnixNano', 'start_time_unix_nano'),
      `${path}.startTimeUnixNano`,
      false,
    ),
    endTimeUnixNano: int64(field(obj, 'endTimeUnixNano', 'end_time_unix_nano'), `${path}.endTimeUnixNano`, false),
    attributes: attributes(obj.attributes, `${path}.attributes`),
    droppedAttributesCount: uint32(
      field(obj, 'droppedAttributesCount', 'dropped_attributes_count'),
      `${path}.droppedAttributesCount`,
    ),
    events: array(obj.events, `${path}.events`).map((e, i): Span_Event => {
      const p = `${path}.events[${i}]`;
      const ev = object(e, p);
      return {
        timeUnixNano: int64(field(ev, 'timeUnixNano', 'time_unix_nano'), `${p}.timeUnixNano`, false),
        name: string(ev.name, `${p}.name`),
        attributes: attributes(ev.attributes, `${p}.attributes`),
        droppedAttributesCount: uint32(
          field(ev, 'droppedAttributesCount', 'dropped_attributes_count'),
          `${p}.droppedAttributesCount`,
        ),
      };
    }),
    droppedEventsCount: uint32(field(obj, 'droppedEventsCount', 'dropped_events_count'), `${path}.droppedEventsCount`),
    links: array(obj.links, `${path}.links`).map((l, i): Span_Link => {
      const p = `${path}.links[${i}]`;
      const link = object(l, p);
      return {
        traceId: hexId(field(link, 'traceId', 'trace_id'), `${p}.traceId`, 16),
        spanId: hexId(field(link, 'spanId', 'span_id'), `${p}.spanId`, 8),
        traceState: string(field(link, 'traceState', 'trace_state'), `${p}.traceState`),
        attributes: attributes(link.attributes, `${p}.attributes`),
        droppedAttributesCount: uint32(
          field(link, 'droppedAttributesCount', 'dropped_attributes_count'),
          `${p}.droppedAttributesCount`,
        ),
        flags: uint32(link.flags, `${p}.flags`),
      };
    }),
    droppedLinksCount: uint32(field(obj, 'droppedLinksCount', 'dropped_links_count'), `${path}.droppedLinksCount`),
    status: decodedStatus,
  };
}

function scope(value: Json, path: string): InstrumentationScope | undefined {
  if (value === undefined || value === null) return undefined;
  const obj = object(value, path);
  return {
    name: string(obj.name, `${path}.name`),
    version: string(obj.version, `${path}.version`),
    attributes: attributes(obj.attributes, `${path}.attributes`),
    droppedAttributesCount: uint32(
      field(obj, 'droppedAttributesCount', 'dropped_attributes_count'),
      `${path}.droppedAttributesCount`,
    ),
  };
}

function resource(value: Json, path: string): Resource | undefined {
  if (value === undefined || value === null) return undefined;
  const obj = object(value, path);
  return {
    attributes: attributes(obj.attributes, `${path}.attributes`),
    droppedAttributesCount: uint32(
      field(obj, 'droppedAttributesCount', 'dropped_attributes_count'),
      `${path}.droppedAttributesCount`,
    ),
    entityRefs: [],
  };
}

/** Decodes an OTLP/JSON ExportTraceServiceRequest from parsed JSON. Throws OtlpJsonError. */
export function exportRequestFromJson(value: Json): ExportTraceServiceRequest {
  const root = object(value, '$');
  return {
    resourceSpans: array(field(root, 'resourceSpans', 'resource_spans'), '$.resourceSpans').map(
      (rsValue, r): ResourceSpans => {
        const rp = `$.resourceSpans[${r}]`;
        const rs = object(rsValue, rp);
        return {
          resource: resource(rs.resource, `${rp}.resource`),
          schemaUrl: string(field(rs, 'schemaUrl', 'schema_url'), `${rp}.schemaUrl`),
          scopeSpans: array(field(rs, 'scopeSpans', 'scope_spans'), `${rp}.scopeSpans`).map(
            (ssValue, s): ScopeSpans => {
              const sp = `${rp}.scopeSpans[${s}]`;
              const ss = object(ssValue, sp);
              return {
                scope: scope(ss.scope, `${sp}.scope`),
                schemaUrl: string(field(ss, 'schemaUrl', 'schema_url'), `${sp}.schemaUrl`),
                spans: array(ss.spans, `${sp}.spans`).map((spanValue, i) => span(spanValue, `${sp}.spans[${i}]`)),
              };
            },
          ),
        };
      },
    ),
  };
}

/** Parses and decodes OTLP/JSON bytes. Throws OtlpJsonError for bad JSON or a bad shape. */
export function decodeOtlpJson(bytes: Uint8Array): ExportTraceServiceRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new OtlpJsonError(`not JSON: ${(err as Error).message}`);
  }
  return exportRequestFromJson(parsed);
}

/** Encodes a request as OTLP/JSON (hex ids, int64 as strings), e.g. for the Collector's otlp_json. */
export function exportRequestToJson(request: ExportTraceServiceRequest): unknown {
  const value = (v: AnyValue): unknown => {
    if (v.stringValue !== undefined) return { stringValue: v.stringValue };
    if (v.boolValue !== undefined) return { boolValue: v.boolValue };
    if (v.intValue !== undefined) return { intValue: v.intValue.toString() };
    if (v.doubleValue !== undefined)
      return { doubleValue: Number.isFinite(v.doubleValue) ? v.doubleValue : String(v.doubleValue) };
    if (v.arrayValue !== undefined) return { arrayValue: { values: v.arrayValue.values.map(value) } };
    if (v.kvlistValue !== undefined) return { kvlistValue: { values: v.kvlistValue.values.map(kv) } };
    if (v.bytesValue !== undefined) return { bytesValue: Buffer.from(v.bytesValue).toString('base64') };
    return {};
  };
  const kv = (a: KeyValue): unknown => ({ key: a.key, ...(a.value ? { value: value(a.value) } : {}) });
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  return {
    resourceSpans: request.resourceSpans.map((rs) => ({
      resource: { attributes: (rs.resource?.attributes ?? []).map(kv) },
      scopeSpans: rs.scopeSpans.map((ss) => ({
        ...(ss.scope ? { scope: { name: ss.scope.name, version: ss.scope.version } } : {}),
        spans: ss.spans.map((s) => ({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          ...(s.parentSpanId.length > 0 ? { parentSpanId: hex(s.parentSpanId) } : {}),
          name: s.name,
          kind: s.kind,
          startTimeUnixNano: s.startTimeUnixNano.toString(),
          endTimeUnixNano: s.endTimeUnixNano.toString(),
          attributes: s.attributes.map(kv),
          ...(s.status ? { status: { code: s.status.code, message: s.status.message } } : {}),
        })),
      })),
    })),
  };
}
