import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import { decodeOtlpJson, exportRequestFromJson, exportRequestToJson, OtlpJsonError } from '../src/otlp/otlp-json.js';
import { exportRequest, span } from './support/otlp-fixtures.js';

const TRACE = '5b8efff798038103d269b633813fc60c';
const SPAN = 'eee19b7ec3c1b174';

describe('OTLP/JSON decoding', () => {
  it('decodes the specification example shape: hex ids, int64 as strings or numbers, enums as ints', () => {
    const request = exportRequestFromJson({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
          scopeSpans: [
            {
              scope: { name: 'lib', version: '1.0.0' },
              spans: [
                {
                  traceId: TRACE,
                  spanId: SPAN,
                  parentSpanId: 'eee19b7ec3c1b173',
                  name: 'I am a span!',
                  startTimeUnixNano: '1544712660000000000',
                  endTimeUnixNano: 1544712661000000000n.toString(),
                  kind: 2,
                  attributes: [
                    { key: 'tokens', value: { intValue: '12345678901234' } },
                    { key: 'small', value: { intValue: 7 } },
                    { key: 'ratio', value: { doubleValue: 0.5 } },
                    { key: 'nan', value: { doubleValue: 'NaN' } },
                    { key: 'ok', value: { boolValue: true } },
                    { key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }] } } },
                    { key: 'bytes', value: { bytesValue: Buffer.from('hi').toString('base64') } },
                  ],
                  status: { code: 2, message: 'boom' },
                  events: [{ timeUnixNano: '1544712660500000000', name: 'e' }],
                },
              ],
            },
          ],
        },
      ],
    });
    const s = request.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    assert.equal(Buffer.from(s.traceId).toString('hex'), TRACE);
    assert.equal(Buffer.from(s.spanId).toString('hex'), SPAN);
    assert.equal(s.startTimeUnixNano, 1544712660000000000n);
    assert.equal(s.kind, 2);
    assert.equal(s.status?.code, 2);
    assert.equal(s.attributes[0]!.value?.intValue, 12345678901234n);
    assert.equal(s.attributes[1]!.value?.intValue, 7n);
    assert.ok(Number.isNaN(s.attributes[3]!.value?.doubleValue));
    assert.equal(Buffer.from(s.attributes[6]!.value!.bytesValue!).toString(), 'hi');
    assert.equal(s.events[0]!.timeUnixNano, 1544712660500000000n);
  });

  it('accepts enum names and snake_case field names', () => {
    const request = exportRequestFromJson({
      resource_spans: [
        {
          scope_spans: [
            { spans: [{ trace_id: TRACE, span_id: SPAN, kind: 'SPAN_KIND_CLIENT', start_time_unix_nano: 5 }] },
          ],
        },
      ],
    });
    const s = request.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    assert.equal(s.kind, 3);
    assert.equal(s.startTimeUnixNano, 5n);
  });

  it('round-trips through the encoder, and matches protobuf', () => {
    const original = exportRequest({ 'service.name': 'rt' }, [
      span({ name: 'a', attributes: { n: 5, s: 'x', d: 1.5, b: true } }),
    ]);
    const decoded = decodeOtlpJson(Buffer.from(JSON.stringify(exportRequestToJson(original))));
    const bytes = (r: ExportTraceServiceRequest): string =>
      Buffer.from(ExportTraceServiceRequest.encode(r).finish()).toString('hex');
    assert.equal(
      bytes(decoded),
      bytes({
        ...original,
        resourceSpans: original.resourceSpans.map((rs) => ({
          ...rs,
          scopeSpans: rs.scopeSpans.map((ss) => ({
            ...ss,
            scope: { ...ss.scope!, attributes: [], droppedAttributesCount: 0 },
          })),
        })),
      }),
    );
  });

  it('rejects bad shapes with the JSON path', () => {
    const bad: [unknown, RegExp][] = [
      [{ resourceSpans: 5 }, /\$\.resourceSpans: expected an array/],
      [
        { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'zz' }] }] }] },
        /spans\[0\]\.traceId: expected 32 hex digits/,
      ],
      [
        { resourceSpans: [{ scopeSpans: [{ spans: [{ spanId: Buffer.from('12345678').toString('base64') }] }] }] },
        /spanId: expected 16 hex digits/,
      ],
      [
        { resourceSpans: [{ scopeSpans: [{ spans: [{ startTimeUnixNano: 1.5 }] }] }] },
        /startTimeUnixNano: expected an integer/,
      ],
      [{ resourceSpans: [{ scopeSpans: [{ spans: [{ startTimeUnixNano: '-1' }] }] }] }, /out of range/],
      [{ resourceSpans: [{ scopeSpans: [{ spans: [{ kind: 9 }] }] }] }, /kind: expected one of/],
      [
        { resourceSpans: [{ scopeSpans: [{ spans: [{ attributes: [{ key: 'k', value: { boolValue: 'yes' } }] }] }] }] },
        /boolValue: expected true or false/,
      ],
      [[], /\$: expected an object/],
    ];
    for (const [value, message] of bad)
      assert.throws(
        () => exportRequestFromJson(value),
        (err: unknown) => err instanceof OtlpJsonError && message.test(err.message),
      );
    assert.throws(() => decodeOtlpJson(Buffer.from('{nope')), /not JSON/);
  });
});
