// Differential tests of the hand-written OTLP wire reader against the decoder it stands in for,
// ts-proto's ExportTraceServiceRequest.decode followed by viewOfRequest: whatever the reader
// accepts, ts-proto accepts with an equal view; the reader refuses with an OtlpWireError, never
// another error; and it refuses what ts-proto accepts only for the reasons listed in the module.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import type {
  AnyValue,
  InstrumentationScope,
  KeyValue,
  Resource,
  ResourceSpans,
  Span,
  Span_Event,
  Span_Link,
  Span_SpanKind,
  Status,
  Status_StatusCode,
} from '@costtrace/proto';
import { AttributeTooLarge } from '../src/otlp/otlp-attributes.js';
import { OtlpWireError, readOtlpTraces, viewOfRequest } from '../src/otlp/otlp-wire-reader.js';
import type { OtlpTracesView, OtlpWireErrorCode } from '../src/otlp/otlp-wire-reader.js';

// ---------------------------------------------------------------------------------------------
// Decoding both ways

type Outcome = { readonly ok: true; readonly view: OtlpTracesView } | { readonly ok: false; readonly error: unknown };

function ours(bytes: Uint8Array): Outcome {
  try {
    return { ok: true, view: readOtlpTraces(bytes) };
  } catch (error) {
    return { ok: false, error };
  }
}

function theirs(bytes: Uint8Array): Outcome {
  try {
    return { ok: true, view: viewOfRequest(ExportTraceServiceRequest.decode(bytes)) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Attribute keys in insertion order: deepStrictEqual compares Maps without regard to order. */
function keyOrder(view: OtlpTracesView): unknown {
  return view.resources.map((resource) => [
    [...resource.attributes.keys()],
    resource.scopes.map((scope) => scope.spans.map((span) => [...span.attributes.keys()])),
  ]);
}

function assertEqualViews(actual: OtlpTracesView, expected: OtlpTracesView): void {
  assert.deepStrictEqual(actual, expected);
  assert.deepStrictEqual(keyOrder(actual), keyOrder(expected));
}

/** Both decoders accept `bytes` and agree; returns the reader's view. */
function assertSame(bytes: Uint8Array): OtlpTracesView {
  const expected = viewOfRequest(ExportTraceServiceRequest.decode(bytes));
  const actual = readOtlpTraces(bytes);
  assertEqualViews(actual, expected);
  return actual;
}

function assertWireError(bytes: Uint8Array, code: OtlpWireErrorCode): OtlpWireError {
  let caught: unknown;
  try {
    readOtlpTraces(bytes);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof OtlpWireError, `expected OtlpWireError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.name, 'OtlpWireError');
  assert.match(caught.message, /at byte \d+/);
  return caught;
}

/** A tag byte followed by varint bytes written out by hand. */
const varint = (tag: number, bytes: number[]): Buffer => Buffer.from([tag, ...bytes]);
const ones = (n: number): number[] => Array<number>(n).fill(0xff);
const zeros = (n: number): number[] => Array<number>(n).fill(0x80);
const encode = (request: ExportTraceServiceRequest): Uint8Array => ExportTraceServiceRequest.encode(request).finish();
const hex = (text: string): Buffer => Buffer.from(text, 'hex');

// ---------------------------------------------------------------------------------------------
// Builders of requests as objects (encoded by ts-proto's encoder)

function span(overrides: Partial<Span> = {}): Span {
  return {
    traceId: hex('5b8efff798038103d269b633813fc60c'),
    spanId: hex('eee19b7ec3c1b174'),
    traceState: '',
    parentSpanId: Buffer.alloc(0),
    flags: 0,
    name: 'op',
    kind: 1,
    startTimeUnixNano: 1_544_712_660_000_000_000n,
    endTimeUnixNano: 1_544_712_661_000_000_000n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: undefined,
    ...overrides,
  };
}

function resource(attributes: KeyValue[]): Resource {
  return { attributes, droppedAttributesCount: 0, entityRefs: [] };
}

function scope(name: string, version: string): InstrumentationScope {
  return { name, version, attributes: [], droppedAttributesCount: 0 };
}

function requestOf(spans: Span[], resourceAttributes: KeyValue[] = []): ExportTraceServiceRequest {
  return {
    resourceSpans: [
      {
        resource: resource(resourceAttributes),
        schemaUrl: '',
        scopeSpans: [{ scope: scope('lib', '1.0'), schemaUrl: '', spans }],
      },
    ],
  };
}

const kv = (key: string, value: AnyValue | undefined): KeyValue => ({ key, value });

// ---------------------------------------------------------------------------------------------
// Builders of requests as bytes (BinaryWriter), for what the encoder never writes

type Body = (w: BinaryWriter) => void;

function bytesOf(body: Body): Uint8Array {
  const w = new BinaryWriter();
  body(w);
  return w.finish();
}

/** A length-delimited field holding a sub-message. */
function sub(w: BinaryWriter, field: number, body: Body): void {
  w.tag(field, WireType.LengthDelimited).fork();
  body(w);
  w.join();
}

/** A request of one resource, one scope and one span written by `spanBody`. */
function requestWithSpan(spanBody: Body): Uint8Array {
  return bytesOf((w) => sub(w, 1, (w) => sub(w, 2, (w) => sub(w, 2, spanBody))));
}

/** A span attribute `key` whose AnyValue is written by `valueBody`. */
function attribute(w: BinaryWriter, key: string, valueBody: Body): void {
  sub(w, 9, (w) => {
    w.tag(1, WireType.LengthDelimited).string(key);
    sub(w, 2, valueBody);
  });
}

/** One unknown field of every wire type, a group with a nested group included. */
function unknownFields(w: BinaryWriter): void {
  w.tag(1000, WireType.Varint).uint64(2n ** 64n - 1n);
  w.tag(1001, WireType.Bit64).fixed64(123n);
  w.tag(1002, WireType.LengthDelimited).bytes(hex('0a0b0c'));
  w.tag(1003, WireType.StartGroup);
  w.tag(1, WireType.Varint).uint32(5);
  w.tag(2, WireType.StartGroup);
  w.tag(1, WireType.LengthDelimited).string('inside');
  w.tag(2, WireType.EndGroup);
  w.tag(1003, WireType.EndGroup);
  w.tag(1004, WireType.Bit32).fixed32(7);
  w.tag(536_870_911, WireType.Varint).uint32(1); // the largest field number
}

// ---------------------------------------------------------------------------------------------
// A seeded pseudo-random generator (mulberry32): the same cases on every run

class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('nothing to pick from');
    return item;
  }

  u32(): number {
    return this.int(2 ** 16) * 2 ** 16 + this.int(2 ** 16);
  }

  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** Strings that share the bytes the reader hashes (first, middle and last 4) but differ elsewhere. */
const COLLIDING = ['abcdefgh0ijkl', 'abcdefgh1ijkl', 'abcdefgh2ijkl'];
const KEYS = [
  'service.name',
  'gen_ai.request.model',
  'gen_ai.usage.input_tokens',
  'a',
  'ab',
  '',
  '1',
  '10',
  '__proto__',
  'ключ',
  '🔑',
  ...COLLIDING,
  'k'.repeat(64),
  'k'.repeat(65),
];
const TEXTS = ['', 'openai', 'gpt-4o-mini', 'héllo', '日本語', '🦄 unicorn', '\uFEFFbom', 'lone \uD800 surrogate', 'x'];
const ID_LENGTHS = [0, 8, 16, 16, 8, 1, 3, 7, 15, 17, 33];

function randomText(rng: Rng): string {
  switch (rng.int(7)) {
    case 0:
      return rng.pick(TEXTS);
    case 1:
      return rng.pick(KEYS);
    case 2:
      return String.fromCharCode(...Array.from({ length: rng.int(20) }, () => 32 + rng.int(95)));
    case 3: // around the reader's 64-byte intern limit
      return 'v'.repeat(60 + rng.int(8));
    case 4:
      return String.fromCodePoint(
        ...Array.from({ length: rng.int(10) }, () => rng.int(0x11_0000)).filter((cp) => cp < 0xd800 || cp > 0xdfff),
      );
    case 5:
      return 'long '.repeat(20 + rng.int(60));
    default:
      return rng.pick(COLLIDING);
  }
}

const INT64_EDGES = [0n, 1n, -1n, 2n ** 49n - 1n, 2n ** 49n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 56n];
const INT64_EXTREMES = [2n ** 63n - 1n, -(2n ** 63n), -(2n ** 53n), -(2n ** 31n)];

function randomInt64(rng: Rng): bigint {
  switch (rng.int(4)) {
    case 0:
      return BigInt(rng.int(10_000));
    case 1:
      return -BigInt(rng.int(10_000));
    case 2:
      return BigInt.asIntN(64, rng.u64());
    default:
      return rng.pick([...INT64_EDGES, ...INT64_EXTREMES]);
  }
}

function randomDouble(rng: Rng): number {
  if (rng.chance(0.3)) return rng.pick([0, -0, NaN, Infinity, -Infinity, 1.5, Number.MIN_VALUE, Number.MAX_VALUE]);
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, rng.u64());
  return view.getFloat64(0);
}

function randomAnyValue(rng: Rng, depth: number): AnyValue {
  const value: AnyValue = {};
  const nested = depth < 4;
  const fields = rng.chance(0.15) ? 1 + rng.int(4) : 1; // sometimes several at once
  for (let i = 0; i < fields; i++) {
    switch (rng.int(nested ? 9 : 7)) {
      case 0:
      case 1:
        value.stringValue = randomText(rng);
        break;
      case 2:
        value.intValue = randomInt64(rng);
        break;
      case 3:
        value.doubleValue = randomDouble(rng);
        break;
      case 4:
        value.boolValue = rng.chance(0.5);
        break;
      case 5:
        value.bytesValue = rng.bytes(rng.pick([0, 1, 8, 20]));
        break;
      case 6:
        break; // an empty AnyValue
      case 7:
        value.arrayValue = { values: Array.from({ length: rng.int(4) }, () => randomAnyValue(rng, depth + 1)) };
        break;
      default:
        value.kvlistValue = { values: randomAttributes(rng, rng.int(4), depth + 1) };
    }
  }
  return value;
}

function randomAttributes(rng: Rng, count: number, depth = 0): KeyValue[] {
  return Array.from({ length: count }, () =>
    kv(rng.chance(0.8) ? rng.pick(KEYS) : randomText(rng), rng.chance(0.95) ? randomAnyValue(rng, depth) : undefined),
  );
}

const randomId = (rng: Rng): Buffer => rng.bytes(rng.pick(ID_LENGTHS));
const randomInt32 = (rng: Rng): number => (rng.chance(0.7) ? rng.int(6) : rng.u32() | 0);

function randomEvent(rng: Rng): Span_Event {
  return {
    timeUnixNano: rng.u64(),
    name: randomText(rng),
    attributes: randomAttributes(rng, rng.int(3)),
    droppedAttributesCount: rng.int(3),
  };
}

function randomLink(rng: Rng): Span_Link {
  return {
    traceId: randomId(rng),
    spanId: randomId(rng),
    traceState: rng.chance(0.3) ? 'k=v' : '',
    attributes: randomAttributes(rng, rng.int(3)),
    droppedAttributesCount: rng.int(3),
    flags: rng.u32(),
  };
}

function randomStatus(rng: Rng): Status | undefined {
  return rng.chance(0.5) ? undefined : { code: randomInt32(rng), message: rng.chance(0.5) ? 'boom' : '' };
}

function randomSpan(rng: Rng): Span {
  return {
    traceId: randomId(rng),
    spanId: randomId(rng),
    traceState: rng.chance(0.2) ? 'vendor=opaque' : '',
    parentSpanId: rng.chance(0.3) ? Buffer.alloc(0) : randomId(rng),
    flags: rng.chance(0.5) ? 0 : rng.u32(),
    name: randomText(rng),
    kind: randomInt32(rng),
    startTimeUnixNano: rng.chance(0.1) ? 0n : rng.u64(),
    endTimeUnixNano: rng.chance(0.1) ? 0n : rng.u64(),
    attributes: randomAttributes(rng, rng.int(10)),
    droppedAttributesCount: rng.int(3),
    events: Array.from({ length: rng.chance(0.7) ? 0 : 1 + rng.int(2) }, () => randomEvent(rng)),
    droppedEventsCount: rng.int(2),
    links: Array.from({ length: rng.chance(0.8) ? 0 : 1 + rng.int(2) }, () => randomLink(rng)),
    droppedLinksCount: rng.int(2),
    status: randomStatus(rng),
  };
}

function randomResourceSpans(rng: Rng): ResourceSpans {
  return {
    resource: rng.chance(0.2)
      ? undefined
      : {
          attributes: randomAttributes(rng, rng.int(5)),
          droppedAttributesCount: rng.int(2),
          entityRefs: rng.chance(0.8)
            ? []
            : [{ schemaUrl: 'https://x', type: 'service', idKeys: ['service.name'], descriptionKeys: [] }],
        },
    schemaUrl: rng.chance(0.5) ? '' : 'https://opentelemetry.io/schemas/1.26.0',
    scopeSpans: Array.from({ length: rng.int(3) + (rng.chance(0.2) ? 0 : 1) }, () => ({
      scope: rng.chance(0.3)
        ? undefined
        : {
            name: randomText(rng),
            version: randomText(rng),
            attributes: randomAttributes(rng, rng.int(2)),
            droppedAttributesCount: rng.int(2),
          },
      schemaUrl: rng.chance(0.7) ? '' : 'https://scope',
      spans: Array.from({ length: rng.int(4) }, () => randomSpan(rng)),
    })),
  };
}

function randomRequest(rng: Rng): ExportTraceServiceRequest {
  return {
    resourceSpans: Array.from({ length: rng.int(3) + (rng.chance(0.1) ? 0 : 1) }, () => randomResourceSpans(rng)),
  };
}

/** Protobuf-shaped random bytes: fields with plausible numbers, random wire types and contents. */
function randomWireMessage(rng: Rng, w: BinaryWriter, depth: number): void {
  const fields = rng.int(6);
  for (let i = 0; i < fields; i++) {
    const field = rng.chance(0.9) ? 1 + rng.int(16) : rng.int(2 ** 29);
    switch (rng.int(depth < 5 ? 9 : 7)) {
      case 0:
        w.tag(field, WireType.Varint).uint64(rng.chance(0.5) ? BigInt(rng.int(300)) : rng.u64());
        break;
      case 1:
        w.tag(field, WireType.Bit64).fixed64(rng.u64());
        break;
      case 2:
        w.tag(field, WireType.Bit32).fixed32(rng.u32());
        break;
      case 3:
        w.tag(field, WireType.LengthDelimited).string(randomText(rng));
        break;
      case 4:
        w.tag(field, WireType.LengthDelimited).bytes(rng.bytes(rng.int(20)));
        break;
      case 5:
        w.tag(field, rng.int(8)); // any wire type, contents left to chance
        break;
      case 6:
        w.raw(rng.bytes(1 + rng.int(4)));
        break;
      case 7:
        w.tag(field, WireType.StartGroup);
        randomWireMessage(rng, w, depth + 1);
        w.tag(rng.chance(0.9) ? field : field + 1, WireType.EndGroup);
        break;
      default:
        w.tag(field, WireType.LengthDelimited).fork();
        randomWireMessage(rng, w, depth + 1);
        w.join();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The fuzzing contract

interface Tally {
  bothAccept: number;
  bothReject: number;
  /** Reader refuses what ts-proto accepts, by OtlpWireError code. */
  readerStricter: Partial<Record<OtlpWireErrorCode, number>>;
}

const newTally = (): Tally => ({ bothAccept: 0, bothReject: 0, readerStricter: {} });

/**
 * Why the reader may refuse what ts-proto accepts. Both read the same bytes the same way up to
 * the first place where the reader is stricter, so that is where it throws:
 * - TRUNCATED: a length or value runs past its enclosing message (ts-proto reads on);
 * - INVALID_TAG: tag 0 (ts-proto ends the message), field number 0 or a tag wider than 32 bits;
 * - UNMATCHED_END_GROUP: an end-group without its start (ts-proto ends the message there), or
 *   closing another field's group;
 * - VARINT_TOO_LONG: an unknown varint field of more than 10 bytes (ts-proto skips any length);
 * - TOO_LARGE: a kvlist rendering over budget.
 * Never INVALID_WIRE_TYPE or TOO_DEEP, which ts-proto refuses as well.
 */
const STRICTER_CODES: ReadonlySet<OtlpWireErrorCode> = new Set<OtlpWireErrorCode>([
  'TRUNCATED',
  'INVALID_TAG',
  'UNMATCHED_END_GROUP',
  'VARINT_TOO_LONG',
  'TOO_LARGE',
]);

/** Decodes both ways and checks the contract; tallies who refused what. */
function compare(bytes: Uint8Array, tally: Tally): void {
  const a = ours(bytes);
  const b = theirs(bytes);
  if (!a.ok) {
    assert.ok(
      a.error instanceof OtlpWireError,
      `reader threw ${String(a.error)} on ${Buffer.from(bytes).toString('hex')}`,
    );
  }
  if (a.ok) {
    assert.ok(b.ok, `the reader accepted what ts-proto refuses: ${Buffer.from(bytes).toString('hex')}`);
    assertEqualViews(a.view, b.view);
    tally.bothAccept++;
  } else if (!b.ok) {
    tally.bothReject++;
  } else if (a.error instanceof OtlpWireError) {
    const hexBytes = Buffer.from(bytes).toString('hex');
    assert.ok(
      STRICTER_CODES.has(a.error.code),
      `ts-proto accepts what the reader refuses (${a.error.message}): ${hexBytes}`,
    );
    tally.readerStricter[a.error.code] = (tally.readerStricter[a.error.code] ?? 0) + 1;
  }
}

function report(t: TestContext, label: string, tally: Tally): void {
  t.diagnostic(`${label}: ${JSON.stringify(tally)}`);
}

// ---------------------------------------------------------------------------------------------

describe('OTLP wire reader: valid requests encoded by ts-proto', () => {
  it('reads a request into the expected view', () => {
    const bytes = encode(
      requestOf(
        [
          span({
            parentSpanId: hex('eee19b7ec3c1b173'),
            kind: 3,
            status: { code: 2, message: 'boom' },
            attributes: [
              kv('gen_ai.usage.input_tokens', { intValue: 1200n }),
              kv('gen_ai.request.model', { stringValue: 'gpt-4o-mini' }),
              kv('ratio', { doubleValue: 0.25 }),
              kv('ok', { boolValue: true }),
              kv('list', { arrayValue: { values: [{ stringValue: 'a' }, { intValue: -2n }] } }),
              kv('raw', { bytesValue: hex('00ff10') }),
              kv('map', { kvlistValue: { values: [kv('b', { intValue: 1n }), kv('a', { stringValue: 'x' })] } }),
              kv('gen_ai.usage.input_tokens', { intValue: 1n }),
            ],
          }),
        ],
        [kv('service.name', { stringValue: 'svc' })],
      ),
    );
    const view = assertSame(bytes);
    assert.equal(view.spanCount, 1);
    const [resource] = view.resources;
    assert.deepEqual([...resource!.attributes], [['service.name', 'svc']]);
    assert.deepEqual(resource!.scopes[0]!.scope, { name: 'lib', version: '1.0' });
    const s = resource!.scopes[0]!.spans[0]!;
    assert.equal(s.traceId, '5b8efff798038103d269b633813fc60c');
    assert.equal(s.spanId, 'eee19b7ec3c1b174');
    assert.equal(s.parentSpanId, 'eee19b7ec3c1b173');
    assert.equal(s.name, 'op');
    assert.equal(s.kind, 3);
    assert.equal(s.statusCode, 2);
    assert.equal(s.startTimeUnixNano, 1_544_712_660_000_000_000n);
    assert.equal(s.endTimeUnixNano, 1_544_712_661_000_000_000n);
    assert.deepEqual(
      [...s.attributes],
      [
        ['gen_ai.usage.input_tokens', 1200n],
        ['gen_ai.request.model', 'gpt-4o-mini'],
        ['ratio', 0.25],
        ['ok', true],
        ['list', ['a', -2n]],
        ['raw', '00ff10'],
        ['map', '{"b":"1","a":"x"}'],
      ],
    );
  });

  it('reads an empty input and empty messages', () => {
    assert.deepEqual(assertSame(new Uint8Array(0)), { resources: [], spanCount: 0 });
    assertSame(encode({ resourceSpans: [{ resource: undefined, schemaUrl: '', scopeSpans: [] }] }));
    const view = assertSame(
      encode({
        resourceSpans: [
          { resource: resource([]), schemaUrl: '', scopeSpans: [{ scope: scope('', ''), schemaUrl: '', spans: [] }] },
          { resource: undefined, schemaUrl: '', scopeSpans: [{ scope: undefined, schemaUrl: '', spans: [span()] }] },
        ],
      }),
    );
    // An empty InstrumentationScope is present (encoded as a zero-length field); an absent one is not.
    assert.deepEqual(view.resources[0]!.scopes[0]!.scope, { name: '', version: '' });
    assert.equal(view.resources[1]!.scopes[0]!.scope, undefined);
    assert.equal(view.resources[1]!.attributes.size, 0);
  });

  it('keeps repeated resources, scopes and spans in order, and counts spans', () => {
    const request: ExportTraceServiceRequest = {
      resourceSpans: [1, 2, 3].map((r) => ({
        resource: resource([kv('service.name', { stringValue: `svc-${r}` })]),
        schemaUrl: 'https://schema',
        scopeSpans: [1, 2].map((s) => ({
          scope: scope(`scope-${r}-${s}`, `${s}`),
          schemaUrl: '',
          spans: Array.from({ length: r + s }, (_, i) => span({ name: `span-${r}-${s}-${i}` })),
        })),
      })),
    };
    assert.equal(assertSame(encode(request)).spanCount, 2 + 3 + 3 + 4 + 4 + 5);
  });

  it('reads ids of any length as lowercase hex of the bytes sent', () => {
    for (const length of [0, 1, 3, 7, 8, 15, 16, 17, 33, 100]) {
      const id = Buffer.from(Array.from({ length }, (_, i) => (i * 37 + 200) & 0xff));
      const view = assertSame(encode(requestOf([span({ traceId: id, spanId: id, parentSpanId: id })])));
      const s = view.resources[0]!.scopes[0]!.spans[0]!;
      assert.equal(s.traceId, id.toString('hex'));
      assert.equal(s.parentSpanId, id.toString('hex'));
    }
  });

  it('reads kinds, status codes and timestamps at their limits', () => {
    const spans = [
      span({ kind: 0, status: undefined }),
      span({ kind: -1 as Span_SpanKind, status: { code: -5 as Status_StatusCode, message: '' } }),
      span({ kind: 2 ** 31 - 1, status: { code: 0, message: 'only a message' } }),
      span({ kind: -(2 ** 31), status: { code: 2 ** 31 - 1, message: '' } }),
      span({ startTimeUnixNano: 0n, endTimeUnixNano: 2n ** 64n - 1n }),
      span({ startTimeUnixNano: 2n ** 63n, endTimeUnixNano: 1n }),
    ];
    const view = assertSame(encode(requestOf(spans)));
    const read = view.resources[0]!.scopes[0]!.spans;
    assert.deepEqual(
      read.map((s) => [s.kind, s.statusCode]),
      [
        [0, 0],
        [-1, -5],
        [2 ** 31 - 1, 0],
        [-(2 ** 31), 2 ** 31 - 1],
        [1, 0],
        [1, 0],
      ],
    );
    assert.equal(read[4]!.endTimeUnixNano, 2n ** 64n - 1n);
  });

  it('reads every AnyValue type, plainValue precedence when several are set, and empty values', () => {
    const all: AnyValue = {
      stringValue: 's',
      boolValue: true,
      intValue: 7n,
      doubleValue: 1.5,
      arrayValue: { values: [] },
      kvlistValue: { values: [] },
      bytesValue: hex('01'),
    };
    const attributes = [
      kv('all', all),
      kv('no-string', { ...all, stringValue: undefined }),
      kv('no-int', { ...all, stringValue: undefined, intValue: undefined }),
      kv('no-double', { boolValue: false, arrayValue: { values: [] }, bytesValue: hex('02') }),
      kv('array-over-bytes', { arrayValue: { values: [{}] }, bytesValue: hex('02'), kvlistValue: { values: [] } }),
      kv('bytes-over-kvlist', { bytesValue: Buffer.alloc(0), kvlistValue: { values: [] } }),
      kv('kvlist', { kvlistValue: { values: [] } }),
      kv('empty', {}),
      kv('no-value', undefined),
      kv('', { stringValue: '' }),
      kv('zero', { intValue: 0n }),
      kv('false', { boolValue: false }),
      kv('negative-zero', { doubleValue: -0 }),
      kv('nan', { doubleValue: NaN }),
      kv('infinity', { doubleValue: -Infinity }),
      kv('tiny', { doubleValue: Number.MIN_VALUE }),
    ];
    const view = assertSame(encode(requestOf([span({ attributes })])));
    const map = view.resources[0]!.scopes[0]!.spans[0]!.attributes;
    assert.equal(map.get('all'), 's');
    assert.equal(map.get('no-string'), 7n);
    assert.equal(map.get('no-int'), 1.5);
    assert.equal(map.get('no-double'), false);
    assert.deepEqual(map.get('array-over-bytes'), [undefined]);
    assert.equal(map.get('bytes-over-kvlist'), '');
    assert.equal(map.get('kvlist'), '{}');
    assert.ok(map.has('empty') && map.get('empty') === undefined);
    assert.ok(map.has('no-value') && map.get('no-value') === undefined);
    assert.ok(Object.is(map.get('negative-zero'), -0));
  });

  it('reads int64 values exactly, negative ones in two’s complement', () => {
    const values = [...INT64_EDGES, ...INT64_EXTREMES, -2n, 127n, 128n, 2n ** 62n, -(2n ** 62n) - 3n];
    const attributes = values.map((v, i) => kv(`i${i}`, { intValue: v }));
    const view = assertSame(encode(requestOf([span({ attributes })])));
    assert.deepEqual([...view.resources[0]!.scopes[0]!.spans[0]!.attributes.values()], values);
  });

  it('renders nested arrays and kvlists as plainValue does', () => {
    const nested: AnyValue = {
      arrayValue: {
        values: [
          { arrayValue: { values: [{ intValue: 1n }, { arrayValue: { values: [{ boolValue: true }] } }] } },
          { kvlistValue: { values: [kv('z', { arrayValue: { values: [{ intValue: 2n }, { stringValue: 'q' }] } })] } },
          {},
        ],
      },
    };
    const kvlist: AnyValue = {
      kvlistValue: {
        values: [
          kv('b', { stringValue: 'first' }),
          kv('10', { intValue: 10n }),
          kv('1', { doubleValue: 0.5 }),
          kv('b', { stringValue: 'last wins in a kvlist' }),
          kv('__proto__', { boolValue: false }),
          kv('none', undefined),
          kv('empty', {}),
          kv('bytes', { bytesValue: hex('beef') }),
          kv('inner', { kvlistValue: { values: [kv('x', { stringValue: '"quoted"' })] } }),
          kv('arr', nested),
        ],
      },
    };
    const view = assertSame(encode(requestOf([span({ attributes: [kv('nested', nested), kv('kvlist', kvlist)] })])));
    const map = view.resources[0]!.scopes[0]!.spans[0]!.attributes;
    assert.deepEqual(map.get('nested'), [[1n, [true]], '{"z":"2,q"}', undefined]);
    assert.equal(
      map.get('kvlist'),
      '{"1":"0.5","10":"10","b":"last wins in a kvlist","__proto__":"false","none":"undefined",' +
        '"empty":"undefined","bytes":"beef","inner":"{\\"x\\":\\"\\\\\\"quoted\\\\\\"\\"}","arr":"1,true,{\\"z\\":\\"2,q\\"},"}',
    );
  });

  it('keeps the first occurrence of a key, in span and resource attributes alike', () => {
    const attributes = [
      kv('k', { stringValue: 'first' }),
      kv(COLLIDING[0]!, { intValue: 1n }),
      kv(COLLIDING[1]!, { intValue: 2n }), // evicts the first from the reader's string table
      kv('k', { stringValue: 'second' }),
      kv(COLLIDING[0]!, { intValue: 3n }),
      kv(COLLIDING[1]!, { intValue: 4n }),
      kv('', { intValue: 5n }),
      kv('', { intValue: 6n }),
      kv('k'.repeat(80), { intValue: 7n }),
      kv('k'.repeat(80), { intValue: 8n }),
      kv('ключ', { intValue: 9n }),
      kv('ключ', { intValue: 10n }),
    ];
    const request = requestOf([span({ attributes }), span({ attributes: attributes.slice().reverse() })], attributes);
    const view = assertSame(encode(request));
    assert.deepEqual([...view.resources[0]!.attributes.values()], ['first', 1n, 2n, 5n, 7n, 9n]);
  });

  it('decodes strings as BinaryReader.string() does: unicode, BOM, long, near the intern limit', () => {
    const texts = [
      '',
      'a',
      'ab',
      'abc',
      'abcd',
      'héllo wörld',
      '日本語のテキスト',
      '🦄🦄',
      '\uFEFFstarts with a BOM',
      'lone \uDC00 surrogate',
      'x'.repeat(63),
      'x'.repeat(64),
      'x'.repeat(65),
      'é'.repeat(40),
      'long '.repeat(500),
      ...COLLIDING,
      ...COLLIDING,
    ];
    const spans = texts.map((text) => span({ name: text, attributes: [kv(text, { stringValue: text })] }));
    assertSame(encode(requestOf(spans)));
  });

  it('decodes invalid UTF-8 as TextDecoder does, and Buffer agrees with TextDecoder', () => {
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true }); // BinaryReader's, see @bufbuild text-encoding
    const edgeBytes = [0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
    const rng = new Rng(7);
    const samples: Buffer[] = [hex('efbbbf41'), hex('eda080'), hex('f4908080'), hex('c0af'), hex('e282'), hex('f09f')];
    for (let i = 0; i < 3000; i++) {
      samples.push(
        Buffer.from(Array.from({ length: rng.int(12) }, () => (rng.chance(0.6) ? rng.pick(edgeBytes) : rng.int(256)))),
      );
    }
    for (const sample of samples) assert.equal(sample.toString('utf8'), decoder.decode(sample), sample.toString('hex'));
    for (let i = 0; i < samples.length; i += 50) {
      const batch = samples.slice(i, i + 50);
      assertSame(
        requestWithSpan((w) => {
          for (const sample of batch) {
            w.tag(5, WireType.LengthDelimited).bytes(sample); // the span name
            attribute(w, 'k', (w) => w.tag(1, WireType.LengthDelimited).bytes(sample));
            sub(w, 9, (w) => w.tag(1, WireType.LengthDelimited).bytes(sample));
          }
        }),
      );
    }
  });

  it('steps over events, links, trace state, flags, dropped counts, schema urls and scope attributes', () => {
    const full = span({
      traceState: 'rojo=00f067aa0ba902b7',
      flags: 0x301,
      droppedAttributesCount: 3,
      events: [{ timeUnixNano: 5n, name: 'e', attributes: [kv('x', { stringValue: 'y' })], droppedAttributesCount: 1 }],
      droppedEventsCount: 4,
      links: [
        {
          traceId: hex('0102'),
          spanId: hex('03'),
          traceState: 's',
          attributes: [kv('l', { intValue: 1n })],
          droppedAttributesCount: 2,
          flags: 1,
        },
      ],
      droppedLinksCount: 5,
      status: { code: 1, message: 'fine' },
    });
    const request: ExportTraceServiceRequest = {
      resourceSpans: [
        {
          resource: {
            attributes: [kv('service.name', { stringValue: 's' })],
            droppedAttributesCount: 9,
            entityRefs: [{ schemaUrl: 'u', type: 't', idKeys: ['a'], descriptionKeys: ['b'] }],
          },
          schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
          scopeSpans: [
            {
              scope: {
                name: 'n',
                version: 'v',
                attributes: [kv('scope.attr', { intValue: 1n })],
                droppedAttributesCount: 1,
              },
              schemaUrl: 'https://scope',
              spans: [full],
            },
          ],
        },
      ],
    };
    assertSame(encode(request));
  });

  it('agrees with ts-proto on a few hundred seeded random requests', () => {
    const rng = new Rng(20_261_101);
    let spans = 0;
    for (let i = 0; i < 400; i++) spans += assertSame(encode(randomRequest(rng))).spanCount;
    assert.ok(spans > 1000, `only ${spans} spans generated`);
  });

  it('reads a Uint8Array view into a larger buffer, a Buffer and a copy alike', () => {
    const bytes = encode(requestOf([span({ attributes: [kv('a', { stringValue: 'b' })] })]));
    const pool = new Uint8Array(bytes.length + 20).fill(0xff);
    pool.set(bytes, 7);
    const view = pool.subarray(7, 7 + bytes.length);
    assertEqualViews(readOtlpTraces(view), readOtlpTraces(bytes));
    assertEqualViews(readOtlpTraces(Buffer.from(view)), readOtlpTraces(bytes));
    // Offsets in errors count from the start of the view, not of the underlying buffer.
    const error = assertWireError(pool.subarray(7, 9), 'TRUNCATED');
    assert.equal(error.offset, 1);
  });
});

describe('OTLP wire reader: hand-written encodings ts-proto accepts', () => {
  it('skips unknown fields of every wire type, groups included, at every level', () => {
    const u = unknownFields;
    const bytes = bytesOf((w) => {
      u(w);
      sub(w, 1, (w) => {
        u(w);
        sub(w, 1, (w) => {
          u(w);
          sub(w, 1, (w) => {
            u(w);
            w.tag(1, WireType.LengthDelimited).string('service.name');
            u(w);
            sub(w, 2, (w) => {
              u(w);
              w.tag(1, WireType.LengthDelimited).string('svc');
              u(w);
            });
          });
        });
        sub(w, 2, (w) => {
          u(w);
          sub(w, 1, (w) => {
            u(w);
            w.tag(1, WireType.LengthDelimited).string('scope');
            u(w);
          });
          sub(w, 2, (w) => {
            u(w);
            w.tag(5, WireType.LengthDelimited).string('name');
            u(w);
            attribute(w, 'arr', (w) => {
              u(w);
              sub(w, 5, (w) => {
                u(w);
                sub(w, 1, (w) => {
                  u(w);
                  w.tag(3, WireType.Varint).int64(-9n);
                });
                u(w);
              });
            });
            attribute(w, 'kvl', (w) =>
              sub(w, 6, (w) => {
                u(w);
                sub(w, 1, (w) => {
                  u(w);
                  w.tag(1, WireType.LengthDelimited).string('k');
                  sub(w, 2, (w) => w.tag(2, WireType.Varint).bool(true));
                  u(w);
                });
              }),
            );
            sub(w, 15, (w) => {
              u(w);
              w.tag(3, WireType.Varint).int32(2);
              u(w);
            });
          });
          u(w);
        });
      });
      u(w);
    });
    const view = assertSame(bytes);
    const s = view.resources[0]!.scopes[0]!.spans[0]!;
    assert.deepEqual(
      [...s.attributes],
      [
        ['arr', [-9n]],
        ['kvl', '{"k":"true"}'],
      ],
    );
    assert.equal(s.statusCode, 2);
    assert.deepEqual([...view.resources[0]!.attributes], [['service.name', 'svc']]);
  });

  it('skips known field numbers sent with another wire type', () => {
    assertSame(
      requestWithSpan((w) => {
        w.tag(1, WireType.Bit64).fixed64(1n); // trace_id
        w.tag(2, WireType.Varint).uint32(1); // span_id
        w.tag(4, WireType.Bit32).fixed32(1); // parent_span_id
        w.tag(5, WireType.Varint).uint32(1); // name
        w.tag(6, WireType.LengthDelimited).string('x'); // kind
        w.tag(7, WireType.Varint).uint32(1); // start (fixed64)
        w.tag(8, WireType.Bit32).fixed32(1); // end (fixed64)
        w.tag(9, WireType.Varint).uint32(1); // attributes
        w.tag(15, WireType.Bit64).fixed64(1n); // status
        w.tag(9, WireType.StartGroup).tag(1, WireType.Varint).uint32(1).tag(9, WireType.EndGroup);
        attribute(w, 'k', (w) => {
          w.tag(1, WireType.Varint).uint32(1); // string
          w.tag(2, WireType.LengthDelimited).string('x'); // bool
          w.tag(3, WireType.Bit64).fixed64(1n); // int
          w.tag(4, WireType.Varint).uint32(1); // double
          w.tag(5, WireType.Varint).uint32(1); // array
          w.tag(6, WireType.Bit32).fixed32(1); // kvlist
          w.tag(7, WireType.Varint).uint32(1); // bytes
        });
        sub(w, 9, (w) => {
          w.tag(1, WireType.Varint).uint32(1); // key
          w.tag(2, WireType.Varint).uint32(1); // value
        });
        sub(w, 15, (w) => w.tag(3, WireType.Bit32).fixed32(2)); // status code
      }),
    );
    assertSame(
      bytesOf((w) => {
        w.tag(1, WireType.Varint).uint32(1); // resource_spans
        sub(w, 1, (w) => {
          w.tag(1, WireType.Varint).uint32(1); // resource
          w.tag(2, WireType.Bit64).fixed64(1n); // scope_spans
          sub(w, 2, (w) => {
            w.tag(1, WireType.Bit32).fixed32(1); // scope
            w.tag(2, WireType.Varint).uint32(1); // spans
            sub(w, 1, (w) => w.tag(1, WireType.Varint).uint32(1).tag(2, WireType.Bit64).fixed64(1n));
          });
        });
      }),
    );
  });

  it('takes the last of repeated singular fields, and replaces repeated singular messages', () => {
    const bytes = bytesOf((w) =>
      sub(w, 1, (w) => {
        sub(w, 1, (w) => attribute(w, 'dropped with the first resource', (w) => w.tag(1, 2).string('x')));
        sub(w, 1, (w) => sub(w, 1, (w) => w.tag(1, WireType.LengthDelimited).string('kept')));
        sub(w, 2, (w) => {
          sub(w, 1, (w) => w.tag(1, 2).string('first-scope').tag(2, 2).string('first-version'));
          sub(w, 1, (w) => w.tag(1, 2).string('second-scope'));
          sub(w, 2, (w) => {
            w.tag(5, 2).string('first-name').tag(5, 2).string('last-name');
            w.tag(6, 0).int32(1).tag(6, 0).int32(4);
            w.tag(7, 1).fixed64(5n).tag(7, 1).fixed64(6n);
            w.tag(1, 2).bytes(hex('aa')).tag(1, 2).bytes(hex('bbcc'));
            w.tag(4, 2).bytes(hex('dd')).tag(4, 2).bytes(new Uint8Array(0));
            sub(w, 15, (w) => w.tag(3, 0).int32(2).tag(3, 0).int32(1));
            sub(w, 15, (w) => w.tag(2, 2).string('a status without a code'));
            sub(w, 9, (w) => {
              w.tag(1, 2).string('first-key').tag(1, 2).string('key');
              sub(w, 2, (w) => w.tag(1, 2).string('replaced'));
              sub(w, 2, (w) => w.tag(3, 0).int64(3n));
            });
            attribute(w, 'strings', (w) => w.tag(1, 2).string('a').tag(1, 2).string('b'));
            attribute(w, 'arrays', (w) => {
              sub(w, 5, (w) => sub(w, 1, (w) => w.tag(1, 2).string('old')));
              sub(w, 5, (w) => sub(w, 1, (w) => w.tag(3, 0).int64(1n)));
            });
            attribute(w, 'kvlists', (w) => {
              sub(w, 6, (w) => sub(w, 1, (w) => w.tag(1, 2).string('old')));
              sub(w, 6, (w) => sub(w, 1, (w) => w.tag(1, 2).string('new')));
            });
            attribute(w, 'bools', (w) => w.tag(2, 0).bool(true).tag(2, 0).bool(false));
            attribute(w, 'doubles', (w) => w.tag(4, 1).double(1).tag(4, 1).double(2));
            attribute(w, 'bytes', (w) => w.tag(7, 2).bytes(hex('01')).tag(7, 2).bytes(hex('02')));
          });
        });
      }),
    );
    const view = assertSame(bytes);
    const [r] = view.resources;
    assert.deepEqual([...r!.attributes], [['kept', undefined]]);
    assert.deepEqual(r!.scopes[0]!.scope, { name: 'second-scope', version: '' });
    const s = r!.scopes[0]!.spans[0]!;
    assert.deepEqual(
      [s.name, s.kind, s.startTimeUnixNano, s.traceId, s.parentSpanId, s.statusCode],
      ['last-name', 4, 6n, 'bbcc', '', 0],
    );
    assert.deepEqual(
      [...s.attributes],
      [
        ['key', 3n],
        ['strings', 'b'],
        ['arrays', [1n]],
        ['kvlists', '{"new":"undefined"}'],
        ['bools', false],
        ['doubles', 2],
        ['bytes', '02'],
      ],
    );
  });

  it('reads over-long and sign-extended varints as BinaryReader truncates them', () => {
    const view = assertSame(
      requestWithSpan((w) => {
        w.raw(hex('2a8500')).raw(Buffer.from('named')); // name, length 5 in two bytes
        w.raw(varint(0x30, [...ones(9), 0x01])); // kind -1, sign-extended to 10 bytes as int64
        attribute(w, 'bool-wide', (w) => w.raw(hex('10808001'))); // 1 << 14
        attribute(w, 'bool-beyond-64-bits', (w) => w.raw(varint(0x10, [...zeros(9), 0x7e]))); // true only past bit 63
        attribute(w, 'bool-bit-63', (w) => w.raw(varint(0x10, [...zeros(9), 0x01])));
        attribute(w, 'int-padded', (w) => w.raw(hex('18858080808000'))); // 5 in 6 bytes
        attribute(w, 'int-high-garbage', (w) => w.raw(varint(0x18, [...ones(9), 0x7f]))); // bits past 63 dropped
        attribute(w, 'int-8-bytes', (w) => w.raw(varint(0x18, [...ones(7), 0x7f]))); // 2^56 - 1
        sub(w, 15, (w) => w.raw(hex('18feffffff0f'))); // code 0xfffffffe, an int32 of -2
        w.raw(hex('8a80808000')).raw(hex('0401020304')); // trace_id with its tag padded to 5 bytes
      }),
    );
    const s = view.resources[0]!.scopes[0]!.spans[0]!;
    assert.deepEqual([s.name, s.kind, s.statusCode], ['named', -1, -2]);
    assert.equal(s.traceId, '01020304');
    assert.deepEqual([...s.attributes.values()], [true, false, true, 5n, -1n, 2n ** 56n - 1n]);
  });

  it('renders nested kvlists as plainValue does, within the rendering budget', () => {
    let value: AnyValue = { stringValue: 'say "hi"\\' };
    for (let i = 0; i < 8; i++) value = { kvlistValue: { values: [kv(`k${i}`, value), kv('n', { intValue: 1n })] } };
    const view = assertSame(encode(requestOf([span({ attributes: [kv('nested', value)] })])));
    const text = view.resources[0]!.scopes[0]!.spans[0]!.attributes.get('nested');
    assert.ok(typeof text === 'string' && text.length > 1000, 'eight levels of escaping');
  });

  it('skips groups nested 100 deep, as BinaryReader.skip allows', () => {
    assertSame(
      requestWithSpan((w) => {
        for (let i = 0; i < 100; i++) w.tag(20 + i, WireType.StartGroup);
        for (let i = 99; i >= 0; i--) w.tag(20 + i, WireType.EndGroup);
        w.tag(5, 2).string('after the groups');
      }),
    );
  });

  it('reads AnyValue trees exactly as deep as ts-proto allows, and refuses one level more', () => {
    const nest = (levels: number): Body => {
      const body: Body = (w) => w.tag(1, 2).string('leaf');
      let current = body;
      for (let i = 0; i < levels; i++) {
        const inner = current;
        current = (w) => sub(w, 5, (w) => sub(w, 1, inner));
      }
      return current;
    };
    const outcomes = [45, 46, 47, 48, 49].map((levels) => {
      const bytes = requestWithSpan((w) => attribute(w, 'deep', nest(levels)));
      const a = ours(bytes);
      const b = theirs(bytes);
      assert.equal(a.ok, b.ok, `${levels} levels`);
      if (a.ok && b.ok) assertEqualViews(a.view, b.view);
      else assert.ok(!a.ok && a.error instanceof OtlpWireError && a.error.code === 'TOO_DEEP');
      return a.ok;
    });
    // A span attribute's AnyValue is the 6th message down; each array level adds 2 of the 100.
    assert.deepEqual(outcomes, [true, true, true, false, false]);
    // A resource attribute's AnyValue is the 5th message down, a kvlist level adds 3 (KeyValueList,
    // KeyValue, AnyValue): arrays start from the 8th, and 46 of them reach the 100th.
    const kvlistThenArrays = (arrays: number): Uint8Array =>
      bytesOf((w) =>
        sub(w, 1, (w) =>
          sub(w, 1, (w) =>
            sub(w, 1, (w) => {
              w.tag(1, 2).string('k');
              sub(w, 2, (w) => sub(w, 6, (w) => sub(w, 1, (w) => sub(w, 2, nest(arrays)))));
            }),
          ),
        ),
      );
    const kvlistOutcomes = [45, 46, 47].map((arrays) => {
      const bytes = kvlistThenArrays(arrays);
      assert.equal(ours(bytes).ok, theirs(bytes).ok, `${arrays} levels`);
      if (ours(bytes).ok) assertSame(bytes);
      else assertWireError(bytes, 'TOO_DEEP');
      return ours(bytes).ok;
    });
    assert.deepEqual(kvlistOutcomes, [true, true, false]);
  });
});

describe('OTLP wire reader: malformed input', () => {
  it('refuses every truncation that ts-proto refuses, and agrees on the rest', (t) => {
    const rng = new Rng(99);
    const samples = [
      encode(requestOf([span({ attributes: [kv('a', { arrayValue: { values: [{ doubleValue: 1 }] } })] })])),
      ...Array.from({ length: 6 }, () => encode(randomRequest(rng))),
      requestWithSpan((w) => {
        unknownFields(w);
        w.tag(7, 1).fixed64(1n);
        attribute(w, 'b', (w) => w.tag(4, 1).double(2.5).tag(3, 0).int64(-1n));
      }),
    ];
    const tally = newTally();
    let prefixes = 0;
    for (const bytes of samples) {
      for (let cut = 0; cut <= bytes.length; cut++) {
        const prefix = bytes.subarray(0, cut);
        const a = ours(prefix);
        const b = theirs(prefix);
        if (!a.ok) assert.ok(a.error instanceof OtlpWireError, String(a.error));
        assert.equal(a.ok, b.ok, `cut at ${cut} of ${Buffer.from(bytes).toString('hex')}`);
        compare(prefix, tally);
        prefixes++;
      }
    }
    report(t, `${prefixes} prefixes`, tally);
    assert.ok(tally.bothAccept > 0 && tally.bothReject > 0);
  });

  it('refuses a length running past its enclosing message (ts-proto reads on into the parent)', () => {
    // The span says it is 4 bytes long; its name claims 10 bytes: 2 in the span, 8 after it.
    const bytes = bytesOf((w) =>
      sub(w, 1, (w) => sub(w, 2, (w) => w.raw(hex('1204')).raw(hex('2a0a6e61')).raw(Buffer.alloc(8, 0x61)))),
    );
    const error = assertWireError(bytes, 'TRUNCATED');
    assert.match(error.message, /runs past the end of its enclosing message/);
    assert.equal(theirs(bytes).ok, true);
    assertWireError(
      bytesOf((w) => w.raw(hex('0a05')).raw(hex('0a02'))),
      'TRUNCATED',
    );
    assertWireError(
      requestWithSpan((w) => w.raw(hex('3901020304'))),
      'TRUNCATED',
    ); // fixed64 cut short
    assertWireError(
      requestWithSpan((w) => attribute(w, 'd', (w) => w.raw(hex('2100')))),
      'TRUNCATED',
    ); // double
    assertWireError(
      requestWithSpan((w) => w.raw(hex('a5060102'))),
      'TRUNCATED',
    ); // unknown fixed32
  });

  it('refuses varints longer than 10 bytes, wherever they are', () => {
    const eleven = hex('ffffffffffffffffffff01');
    for (const field of [6, 99]) {
      // kind (ts-proto refuses too) and an unknown varint field (ts-proto skips any length)
      const bytes = requestWithSpan((w) => w.tag(field, WireType.Varint).raw(eleven));
      assertWireError(bytes, 'VARINT_TOO_LONG');
      assert.equal(theirs(bytes).ok, field === 99);
    }
    assertWireError(
      requestWithSpan((w) => attribute(w, 'i', (w) => w.tag(3, 0).raw(eleven))),
      'VARINT_TOO_LONG',
    );
    assertWireError(
      requestWithSpan((w) => attribute(w, 'b', (w) => w.tag(2, 0).raw(eleven))),
      'VARINT_TOO_LONG',
    );
    assertWireError(
      bytesOf((w) => w.raw(hex('0a')).raw(eleven)),
      'VARINT_TOO_LONG',
    ); // a length
  });

  it('refuses wire types 6 and 7', () => {
    for (const wireType of [6, 7]) {
      const bytes = requestWithSpan((w) => w.tag(30, wireType).uint32(0));
      const error = assertWireError(bytes, 'INVALID_WIRE_TYPE');
      assert.match(error.message, new RegExp(`wire type ${wireType} of field 30`));
      assert.equal(theirs(bytes).ok, false);
    }
  });

  it('refuses end-group tags without their start (ts-proto ends the message there instead)', () => {
    const lone = bytesOf((w) => {
      sub(w, 1, (w) => sub(w, 2, (w) => sub(w, 2, (w) => w.tag(5, 2).string('a'))));
      w.tag(1, WireType.EndGroup);
      sub(w, 1, (w) => w);
    });
    assert.equal(assertWireError(lone, 'UNMATCHED_END_GROUP').offset, lone.length - 3);
    assert.equal(theirs(lone).ok, true);
    assertWireError(
      requestWithSpan((w) => w.tag(9, WireType.EndGroup)),
      'UNMATCHED_END_GROUP',
    );
    const mismatched = requestWithSpan((w) => w.tag(40, WireType.StartGroup).tag(41, WireType.EndGroup));
    assertWireError(mismatched, 'UNMATCHED_END_GROUP');
    assert.equal(theirs(mismatched).ok, true);
    assertWireError(
      requestWithSpan((w) => w.tag(40, WireType.StartGroup).tag(1, 0).uint32(1)),
      'TRUNCATED',
    );
  });

  it('refuses flaws inside events, links, scope attributes and entity refs, which it walks unread', () => {
    // An event whose attribute runs past the event: ts-proto reads on, and swallows the span's
    // next field (a name) as an unknown field of that attribute.
    const overrun = requestWithSpan((w) => {
      w.tag(5, 2).string('the span name');
      w.raw(hex('5a021a08')); // an event of 2 bytes whose attributes claim the next 8
      w.tag(5, 2).string('swallow'); // those 8 bytes
    });
    assertWireError(overrun, 'TRUNCATED');
    const misread = theirs(overrun);
    assert.ok(misread.ok);
    assert.equal(misread.view.resources[0]!.scopes[0]!.spans[0]!.name, 'the span name');
    // A zero tag inside a link: ts-proto ends the link there and reads the rest as span fields.
    const zeroTag = requestWithSpan((w) => w.raw(hex('6a04')).raw(hex('00')).raw(hex('2a0161')));
    assertWireError(zeroTag, 'INVALID_TAG');
    assert.equal(theirs(zeroTag).ok, true);
    // Too deep inside an event's attribute: both refuse.
    const deep = requestWithSpan((w) =>
      sub(w, 11, (w) =>
        sub(w, 3, (w) => {
          let body: Body = (w) => w.tag(1, 2).string('leaf');
          for (let i = 0; i < 48; i++) {
            const inner = body;
            body = (w) => sub(w, 5, (w) => sub(w, 1, inner));
          }
          sub(w, 2, body);
        }),
      ),
    );
    assertWireError(deep, 'TOO_DEEP');
    assert.equal(theirs(deep).ok, false);
    // Scope attributes and entity refs.
    const scopeFlaw = bytesOf((w) => sub(w, 1, (w) => sub(w, 2, (w) => sub(w, 1, (w) => w.raw(hex('1a020a05'))))));
    assertWireError(scopeFlaw, 'TRUNCATED');
    const entityFlaw = bytesOf((w) => sub(w, 1, (w) => sub(w, 1, (w) => w.raw(hex('1a020c00')))));
    assertWireError(entityFlaw, 'UNMATCHED_END_GROUP');
  });

  it('refuses kvlists whose rendering outgrows the budget, quickly', () => {
    // Each kvlist level escapes the one inside again: 31 levels (the most the depth limit allows
    // under a span attribute) would render to some 2^31 characters from 300 bytes.
    let body: Body = (w) => w.tag(1, 2).string('"');
    for (let i = 0; i < 31; i++) {
      const inner = body;
      body = (w) => sub(w, 6, (w) => sub(w, 1, (w) => sub(w.tag(1, 2).string('k'), 2, inner)));
    }
    const bytes = requestWithSpan((w) => attribute(w, 'bomb', body));
    const started = process.hrtime.bigint();
    assertWireError(bytes, 'TOO_LARGE');
    assert.ok(process.hrtime.bigint() - started < 5_000_000_000n, 'refused within seconds, not minutes');
    // The object path (OTLP/JSON, gRPC ingest) refuses it too, with the ingest's own error.
    assert.throws(() => viewOfRequest(ExportTraceServiceRequest.decode(bytes)), AttributeTooLarge);
  });

  it('refuses groups nested deeper than 100', () => {
    const bytes = requestWithSpan((w) => {
      for (let i = 0; i < 101; i++) w.tag(20 + i, WireType.StartGroup);
      for (let i = 100; i >= 0; i--) w.tag(20 + i, WireType.EndGroup);
    });
    assertWireError(bytes, 'TOO_DEEP');
    assert.equal(theirs(bytes).ok, false);
  });

  it('refuses tag 0, field number 0 and tags wider than 32 bits', () => {
    const zero = bytesOf((w) => {
      sub(w, 1, (w) => w);
      w.raw(hex('00'));
    });
    assert.equal(assertWireError(zero, 'INVALID_TAG').offset, 2);
    assert.equal(theirs(zero).ok, true); // ts-proto stops at a zero tag
    assertWireError(
      requestWithSpan((w) => w.raw(hex('0200'))),
      'INVALID_TAG',
    ); // field 0, length 0
    assertWireError(
      requestWithSpan((w) => w.raw(hex('8a80808010'))),
      'INVALID_TAG',
    ); // 36-bit tag
    assertWireError(
      requestWithSpan((w) => w.raw(hex('8a8080808000'))),
      'INVALID_TAG',
    ); // 6-byte tag
  });

  it('throws only OtlpWireError on random bytes, and agrees with ts-proto when both accept', (t) => {
    const rng = new Rng(4242);
    const random = newTally();
    for (let i = 0; i < 1500; i++) compare(rng.bytes(rng.int(40)), random);
    report(t, '1500 random byte strings', random);
    const shaped = newTally();
    for (let i = 0; i < 2500; i++) {
      const w = new BinaryWriter();
      if (rng.chance(0.8)) sub(w, 1, (w) => randomWireMessage(rng, w, 0));
      randomWireMessage(rng, w, 0);
      compare(w.finish(), shaped);
    }
    report(t, '2500 protobuf-shaped random messages', shaped);
    assert.ok(shaped.bothAccept > 100, 'the shaped messages should often be valid');
  });

  it('agrees with ts-proto on random single-byte mutations of valid encodings', (t) => {
    const rng = new Rng(777);
    const tally = newTally();
    const interesting = [0x00, 0x01, 0x02, 0x04, 0x07, 0x0a, 0x0c, 0x7f, 0x80, 0xff];
    let mutations = 0;
    for (let i = 0; i < 120; i++) {
      const original = encode(randomRequest(rng));
      if (original.length === 0) continue;
      for (let j = 0; j < 40; j++) {
        const bytes = Uint8Array.from(original);
        const at = rng.int(bytes.length);
        bytes[at] = rng.chance(0.5) ? rng.pick(interesting) : rng.int(256);
        compare(bytes, tally);
        mutations++;
      }
    }
    report(t, `${mutations} mutations`, tally);
    assert.ok(tally.bothAccept > 0 && tally.bothReject > 0);
  });
});

describe('viewOfRequest', () => {
  it('views a decoded request the same way as the wire reader', () => {
    const request = requestOf(
      [span({ parentSpanId: hex('0102'), status: { code: 2, message: '' }, attributes: [kv('k', { intValue: 1n })] })],
      [kv('service.name', { stringValue: 'svc' })],
    );
    const view = viewOfRequest(request);
    assert.equal(view.spanCount, 1);
    assert.equal(view.resources[0]!.scopes[0]!.spans[0]!.parentSpanId, '0102');
    assertEqualViews(readOtlpTraces(encode(request)), view);
  });
});
