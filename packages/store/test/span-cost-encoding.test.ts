// The byte-level span cost encoding (TsvWriter, SpanCostRecord, writeSpanCostTsv and the batch
// encoder) against the string escapers of tsv.ts, Money's decimal text and an encoding of
// SPAN_COST_COLUMNS written out by hand here. Deterministic: fuzz inputs come from a seeded
// generator, never Math.random.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { Money } from '@costtrace/core';
import {
  concatEncodedSpanCosts,
  encodedSpanCostsByDay,
  NO_ENCODED_SPAN_COSTS,
  recordOfRow,
  rowOfRecord,
  selectEncodedSpanCosts,
  sliceEncodedSpanCosts,
  SPAN_COST_COLUMNS,
  spanCostTsv,
  SpanCostEncoder,
  SpanCostRecord,
  SpanCostTsvEncoder,
  TsvWriter,
  tsvRow,
  writeSpanCostTsv,
} from '../src/index.js';
import type { EncodedSpanCosts, SpanCostRow } from '../src/index.js';
import { tsvField, tsvString, tsvStringArray } from '../src/clickhouse/tsv.js';
import type { TsvValue } from '../src/clickhouse/tsv.js';

/** mulberry32: a small seeded generator of floats in [0, 1). */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function below(next: () => number, n: number): number {
  return Math.floor(next() * n);
}

/** Everything the writer treats differently: escapes, the quote, ASCII edges, UTF-8 of 2/3/4 bytes, lone surrogates. */
const ALPHABET = [
  'a',
  'Z',
  '0',
  ' ',
  '_',
  '`',
  '~',
  '\x7f',
  '\x01',
  ',',
  '[',
  ']',
  '"',
  "'",
  '\\',
  '\t',
  '\n',
  '\r',
  '\0',
  '\x80',
  'é',
  'ß',
  '中',
  '文',
  '€',
  '😀',
  '𝄞',
  '\ud800',
  '\udfff',
];

function fuzzString(next: () => number, maxLength: number): string {
  const length = below(next, maxLength + 1);
  let out = '';
  // Mostly plain ASCII (as real values are), so long ASCII runs with a late special occur too.
  const plainBias = next();
  for (let i = 0; i < length; i++) {
    out += next() < plainBias ? String.fromCharCode(0x20 + below(next, 0x5f)) : ALPHABET[below(next, ALPHABET.length)]!;
  }
  return out;
}

/** The writer's bytes are exactly the UTF-8 of `reference`. */
function assertWritten(w: TsvWriter, reference: string, label: string): void {
  const expected = Buffer.from(reference, 'utf8');
  assert.equal(w.bytes().toString('utf8'), expected.toString('utf8'), label);
  assert.ok(w.bytes().equals(expected), `${label}: bytes ${w.bytes().toString('hex')} != ${expected.toString('hex')}`);
  assert.equal(w.length, expected.length, label);
}

function writtenString(value: string): TsvWriter {
  const w = new TsvWriter();
  w.string(value);
  return w;
}

function writtenArray(values: readonly string[]): TsvWriter {
  const w = new TsvWriter();
  w.stringArray(values);
  return w;
}

const SPECIALS = ['\\', '\t', '\n', '\r', '\0'];

describe('TsvWriter.string', () => {
  it('writes what tsvString gives for fixed cases', () => {
    const cases = [
      '',
      'gpt-4o-mini',
      'POST /v1/chat/completions',
      ...SPECIALS,
      ...SPECIALS.map((ch) => `a${ch}b`),
      ...SPECIALS.map((ch) => ch.repeat(3)),
      "o'reilly",
      "'",
      "''",
      'x'.repeat(31),
      'x'.repeat(32),
      'x'.repeat(33),
      'x'.repeat(100),
      '\\'.repeat(31),
      '\\'.repeat(32),
      '\\'.repeat(33),
      '\t'.repeat(32),
      `${'y'.repeat(31)}\n`,
      `${'y'.repeat(32)}\n`,
      `${'y'.repeat(33)}\n`,
      `${'y'.repeat(99)}\r`,
      'é',
      'café',
      '中文',
      '😀',
      '👍🏽 ok',
      '\ud800',
      '\udc00',
      'a\ud800b',
      `${'a'.repeat(31)}\ud83d`,
      `${'\t'.repeat(10)}é`,
      `${'x'.repeat(31)}é`,
      `${'x'.repeat(32)}é`,
      'é'.repeat(32),
      'é'.repeat(33),
      '中'.repeat(100),
      "tab\there\nnew'line\\back\0nul\rcr é 中文 😀",
      "mixed\t'中\\".repeat(20),
      '\x7f\x80\x01`_',
    ];
    for (const value of cases) assertWritten(writtenString(value), tsvString(value), JSON.stringify(value));
  });

  it('does not escape the single quote in a plain field', () => {
    assertWritten(writtenString("it's"), "it's", 'short');
    assertWritten(writtenString("'".repeat(40)), "'".repeat(40), 'long');
  });

  it('matches tsvString on seeded random strings, one by one and in one buffer', () => {
    const next = generator(0x5eed);
    const shared = new TsvWriter(1024);
    const all: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const value = fuzzString(next, i % 2 === 0 ? 40 : 120);
      const w = new TsvWriter(1024);
      w.string(value);
      assertWritten(w, tsvString(value), JSON.stringify(value));
      if (i > 0) shared.tab();
      shared.string(value);
      all.push(tsvString(value));
    }
    assertWritten(shared, all.join('\t'), 'all strings in one writer');
  });

  it('writes the same after reset over stale bytes', () => {
    const next = generator(42);
    const w = new TsvWriter(1024);
    for (let i = 0; i < 1000; i++) {
      const value = fuzzString(next, 70);
      w.reset();
      w.string(value);
      assertWritten(w, tsvString(value), JSON.stringify(value));
    }
  });
});

describe('TsvWriter.stringArray', () => {
  it('writes what tsvStringArray gives for fixed cases', () => {
    const cases: string[][] = [
      [],
      [''],
      ['one'],
      ['', ''],
      ['openai/gpt-4o@2026-01-01', 'openai/gpt-4o@2026-01-01#cached', 'aws/p5.48xlarge'],
      ["o'reilly"],
      ["'", "''", "\\'"],
      ['a\\b', 'tab\there', 'new\nline', 'cr\rx', 'nul\0x'],
      ['é', '中文', '😀', '\ud800'],
      ['x'.repeat(31) + "'", 'x'.repeat(32) + "'", 'x'.repeat(33) + "'", "'".repeat(100)],
      ['é'.repeat(40) + "'\\", "中'文"],
      ['[', ']', ',', "','"],
    ];
    for (const values of cases) {
      assertWritten(writtenArray(values), tsvStringArray(values), JSON.stringify(values));
    }
  });

  it('matches tsvStringArray on seeded random arrays', () => {
    const next = generator(7);
    const shared = new TsvWriter(1024);
    const all: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const values = Array.from({ length: below(next, 6) }, () => fuzzString(next, 50));
      assertWritten(writtenArray(values), tsvStringArray(values), JSON.stringify(values));
      shared.stringArray(values);
      shared.newline();
      all.push(`${tsvStringArray(values)}\n`);
    }
    assertWritten(shared, all.join(''), 'all arrays in one writer');
  });
});

describe('TsvWriter.integer', () => {
  it('writes numbers and bigints as String does', () => {
    const values: (number | bigint)[] = [
      0,
      -0,
      1,
      9,
      10,
      11,
      99,
      100,
      101,
      123456789,
      999999999999999,
      1e15,
      1e15 + 1,
      2 ** 32,
      2 ** 53 - 1,
      -1,
      -9,
      -10,
      -123456789,
      -(2 ** 53 - 1),
      0n,
      1n,
      -1n,
      10n,
      1_795_000_000_123_456_789n,
      2n ** 63n - 1n,
      2n ** 64n - 1n,
      -(2n ** 63n),
    ];
    for (let k = 0; k <= 15; k++) values.push(10 ** k, 10 ** k - 1, 10 ** k + 1, 10n ** BigInt(k));
    const next = generator(99);
    for (let i = 0; i < 2000; i++) {
      values.push(below(next, 1e15), below(next, 10 ** below(next, 16)), BigInt(below(next, 2 ** 32)) << 31n);
    }
    for (const value of values) {
      const w = new TsvWriter();
      w.integer(value);
      assertWritten(w, String(value), `${typeof value} ${String(value)}`);
    }
  });
});

describe('TsvWriter.pico', () => {
  const decimal = (value: number | bigint): string =>
    value === 0 || value === 0n ? '0' : Money.fromSubunits(BigInt(value), 'USD').toDecimalString();

  it('writes exact decimals for fixed amounts', () => {
    const cases: [number | bigint, string][] = [
      [0, '0'],
      [0n, '0'],
      [1, '0.000000000001'],
      [1n, '0.000000000001'],
      [10 ** 12, '1'],
      [10n ** 12n, '1'],
      [150_000_000, '0.00015'],
      [150_000_000n, '0.00015'],
      [2_500_000_000_000, '2.5'],
      [10 ** 12 - 1, '0.999999999999'],
      [10 ** 12 + 1, '1.000000000001'],
      [Number.MAX_SAFE_INTEGER, '9007.199254740991'],
      [2n ** 63n - 1n, '9223372.036854775807'],
      [10n ** 30n, '1000000000000000000'],
      [-150_000_000, '-0.00015'],
      [-1n, '-0.000000000001'],
    ];
    for (const [amount, text] of cases) {
      const w = new TsvWriter();
      w.pico(amount);
      assertWritten(w, text, `${typeof amount} ${String(amount)}`);
      assert.equal(decimal(amount), text, `Money for ${String(amount)}`);
    }
  });

  it('matches Money#toDecimalString on seeded random amounts', () => {
    const next = generator(1234);
    const amounts: (number | bigint)[] = [];
    for (let i = 0; i < 3000; i++) {
      // Safe integers of every size, with runs of trailing zeros, and near whole units.
      const safe = below(next, 2 ** 21) * 2 ** 32 + below(next, 2 ** 32);
      const scaled = below(next, 10 ** below(next, 8)) * 10 ** below(next, 8);
      const nearUnit = below(next, 9000) * 1e12 + below(next, 3) - 1;
      amounts.push(safe, scaled, Math.max(0, nearUnit), BigInt(safe));
      let big = 0n;
      const digits = below(next, 31);
      for (let d = 0; d < digits; d++) big = big * 10n + BigInt(below(next, 10));
      amounts.push(big, big * 10n ** BigInt(below(next, 12)));
    }
    const shared = new TsvWriter(1024);
    const all: string[] = [];
    for (const amount of amounts) {
      const w = new TsvWriter();
      w.pico(amount);
      assertWritten(w, decimal(amount), `${typeof amount} ${String(amount)}`);
      shared.pico(amount);
      shared.tab();
      all.push(`${decimal(amount)}\t`);
    }
    assertWritten(shared, all.join(''), 'all amounts in one writer');
  });
});

describe('TsvWriter buffer growth', () => {
  it('writes more than 1 MB from the smallest buffer in many mixed calls', () => {
    for (const initial of [0, 1, 1024]) {
      const next = generator(2024 + initial);
      const w = new TsvWriter(initial);
      const expected: string[] = [];
      while (Buffer.byteLength(expected.join(''), 'utf8') < 1_200_000 || expected.length < 1000) {
        for (let i = 0; i < 500; i++) {
          switch (below(next, 9)) {
            case 0: {
              const value = fuzzString(next, 40);
              w.string(value);
              expected.push(tsvString(value));
              break;
            }
            case 1: {
              // Long strings, sometimes longer than the whole buffer so far.
              const value = fuzzString(next, 300).repeat(1 + below(next, 40));
              w.string(value);
              expected.push(tsvString(value));
              break;
            }
            case 2: {
              const values = Array.from({ length: below(next, 4) }, () => fuzzString(next, 60));
              w.stringArray(values);
              expected.push(tsvStringArray(values));
              break;
            }
            case 3: {
              const value = below(next, 1e15);
              w.integer(value);
              expected.push(String(value));
              break;
            }
            case 4: {
              const value = BigInt(below(next, 2 ** 32)) * 2n ** 31n;
              w.integer(value);
              expected.push(String(value));
              break;
            }
            case 5: {
              const amount = below(next, 2 ** 40);
              w.pico(amount);
              expected.push(amount === 0 ? '0' : Money.fromSubunits(BigInt(amount)).toDecimalString());
              break;
            }
            case 6: {
              const flag = next() < 0.5;
              w.flag(flag);
              expected.push(flag ? '1' : '0');
              break;
            }
            case 7:
              w.tab();
              expected.push('\t');
              break;
            default:
              w.newline();
              expected.push('\n');
          }
        }
      }
      assertWritten(w, expected.join(''), `initial ${initial}`);
    }
  });

  it('grows for every write that ends at or past the end of the buffer', () => {
    const values = [
      '\\'.repeat(32),
      '\t\n'.repeat(16),
      `${'\0'.repeat(31)}é`,
      '\r'.repeat(33),
      '中'.repeat(32),
      '😀'.repeat(40),
      `${'\n'.repeat(100)}é`,
    ];
    const arrays = [["'".repeat(32)], ["'\\".repeat(20), 'é'], ["'".repeat(50)]];
    for (let fill = 1024 - 260; fill <= 1024; fill++) {
      const prefix = 'x'.repeat(fill);
      for (const value of values) {
        const w = new TsvWriter(1024);
        w.ascii(prefix);
        w.string(value);
        w.tab();
        assertWritten(w, `${prefix}${tsvString(value)}\t`, `string ${JSON.stringify(value)} after ${fill} bytes`);
      }
      for (const array of arrays) {
        const w = new TsvWriter(1024);
        w.ascii(prefix);
        w.stringArray(array);
        assertWritten(w, `${prefix}${tsvStringArray(array)}`, `array ${JSON.stringify(array)} after ${fill} bytes`);
      }
      const w = new TsvWriter(1024);
      w.ascii(prefix);
      w.integer(999_999_999_999_999);
      w.pico(123_456_789_012_345n);
      w.integer(2n ** 63n - 1n);
      w.flag(true);
      assertWritten(w, `${prefix}999999999999999123.456789012345${2n ** 63n - 1n}1`, `numbers after ${fill} bytes`);
    }
  });

  it('grows for one write much larger than the buffer', () => {
    const w = new TsvWriter(1024);
    w.ascii('12.5');
    w.tab();
    const value = `${'é\t'.repeat(300_000)}end`;
    w.string(value);
    w.tab();
    const values = Array.from({ length: 5000 }, (_, i) => `k'${i}`);
    w.stringArray(values);
    assertWritten(w, `12.5\t${tsvString(value)}\t${tsvStringArray(values)}`, 'one large string and array');
  });
});

/** The decimal text of a money column: "0" for zero. */
function moneyText(value: Money): string {
  return value.subunits === 0n ? '0' : value.toDecimalString();
}

/** The reference line of a row: every column of SPAN_COST_COLUMNS named here, by hand. */
function referenceLine(row: SpanCostRow): string {
  const values: Record<(typeof SPAN_COST_COLUMNS)[number], TsvValue> = {
    start_time: row.startTimeUnixNano / 1_000_000_000n,
    start_time_unix_nano: row.startTimeUnixNano,
    end_time_unix_nano: row.endTimeUnixNano,
    duration_ns: row.endTimeUnixNano > row.startTimeUnixNano ? row.endTimeUnixNano - row.startTimeUnixNano : 0n,
    trace_id: row.traceId,
    span_id: row.spanId,
    parent_span_id: row.parentSpanId,
    span_name: row.spanName,
    span_kind: row.spanKind,
    status_code: row.statusCode,
    is_request: row.isRequest,
    service: row.service,
    environment: row.environment,
    route: row.route,
    commit: row.commit,
    model: row.model,
    provider: row.provider,
    team: row.team,
    tenant: row.tenant,
    feature: row.feature,
    input_tokens: row.inputTokens,
    output_tokens: row.outputTokens,
    cache_read_tokens: row.cacheReadTokens,
    cache_write_tokens: row.cacheWriteTokens,
    reasoning_tokens: row.reasoningTokens,
    gpu_type: row.gpuType,
    gpu_count: row.gpuCount,
    gpu_seconds: row.gpuSeconds,
    instance_type: row.instanceType,
    cost_input: moneyText(row.costInput),
    cost_output: moneyText(row.costOutput),
    cost_cache_read: moneyText(row.costCacheRead),
    cost_cache_write: moneyText(row.costCacheWrite),
    cost_reasoning: moneyText(row.costReasoning),
    cost_gpu: moneyText(row.costGpu),
    cost_compute: moneyText(row.costCompute),
    cost_total: moneyText(row.costTotal),
    currency: row.currency,
    pricing_version: row.pricingVersion,
    pricing_source: row.pricingSource,
    price_ids: row.priceIds,
    unpriced_reason: row.unpricedReason,
    kafka_topic: row.kafkaTopic,
    kafka_partition: row.kafkaPartition,
    kafka_offset: row.kafkaOffset,
    kafka_span_index: row.kafkaSpanIndex,
    attribute_keys: row.attributeKeys,
    attribute_values: row.attributeValues,
    rollup_overflow: row.rollupOverflow,
    sanitized: row.sanitized,
    gpu_provider: row.gpuProvider ?? '',
    gpu_pricing_model: row.gpuPricingModel ?? '',
    cloud_provider: row.cloudProvider ?? '',
    cloud_region: row.cloudRegion ?? '',
    instance_pricing_model: row.instancePricingModel ?? '',
    instance_seconds: row.instanceSeconds ?? '0',
    usage_complete: row.usageComplete === true,
    cost_upper_bound: row.costUpperBound === true,
    emitter: row.emitter ?? '',
    usage_role: row.usageRole ?? '',
    duplicate_of: row.duplicateOf ?? '',
    response_id: row.responseId ?? '',
    usage_key: row.usageKey ?? '',
    job_id: row.jobId ?? '',
    job_kind: row.jobKind ?? '',
    job_epoch: row.jobEpoch ?? -1,
    job_samples: row.jobSamples ?? 0,
  };
  assert.equal(Object.keys(values).length, SPAN_COST_COLUMNS.length);
  const fields = SPAN_COST_COLUMNS.map((column) => values[column]);
  const line = tsvRow(fields);
  assert.equal(line, `${fields.map(tsvField).join('\t')}\n`);
  return line;
}

const usd = (text: string): Money => Money.parse(text, 'USD');

/** A priced row: every usage column set. */
const PRICED: SpanCostRow = {
  startTimeUnixNano: 1_795_000_123_456_789_012n,
  endTimeUnixNano: 1_795_000_125_000_000_000n,
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  parentSpanId: 'b7ad6b7169203331',
  spanName: 'chat gpt-4o',
  spanKind: 3,
  statusCode: 0,
  isRequest: false,
  service: 'gateway',
  environment: 'prod',
  route: '/v1/chat',
  commit: 'a1b2c3d',
  model: 'gpt-4o',
  provider: 'openai',
  team: 'search',
  tenant: 'acme',
  feature: 'autocomplete',
  inputTokens: 1234n,
  outputTokens: 567n,
  cacheReadTokens: 89n,
  cacheWriteTokens: 10n,
  reasoningTokens: 3n,
  gpuType: 'h100-80gb',
  gpuCount: 8,
  gpuSeconds: '12.345678901',
  instanceType: 'p5.48xlarge',
  gpuProvider: 'aws',
  gpuPricingModel: 'on_demand',
  cloudProvider: 'aws',
  cloudRegion: 'us-east-1',
  instancePricingModel: 'spot',
  instanceSeconds: '1.5',
  usageComplete: true,
  costUpperBound: true,
  emitter: 'opentelemetry-instrumentation-openai@0.1.2',
  usageRole: '',
  duplicateOf: '',
  responseId: 'chatcmpl-123',
  usageKey: 'openai:chatcmpl-123',
  jobId: 'ft-42',
  jobKind: 'fine_tuning',
  jobEpoch: 3,
  jobSamples: 1_200,
  costInput: usd('0.003085'),
  costOutput: usd('0.00567'),
  costCacheRead: usd('0.000111111111'),
  costCacheWrite: usd('0.000000000001'),
  costReasoning: usd('0.00003'),
  costGpu: usd('12.123456789012'),
  costCompute: usd('3'),
  costTotal: usd('15.131729900124'),
  currency: 'USD',
  pricingVersion: 'bundled-2026-11-01',
  pricingSource: 'aggregator:bundled',
  priceIds: ['openai/gpt-4o@2026-01-01', 'aws/p5.48xlarge@us-east-1'],
  unpricedReason: '',
  kafkaTopic: 'costtrace.spans',
  kafkaPartition: 2,
  kafkaOffset: 123_456_789n,
  kafkaSpanIndex: 17,
  attributeKeys: ['gen_ai.request.model', 'http.route'],
  attributeValues: ['gpt-4o', '/v1/chat'],
  rollupOverflow: ['tenant'],
  sanitized: ['trace_id'],
};

/** A row built only to validate a span: no usage columns, no costs. */
const VALIDATE_ONLY: SpanCostRow = {
  startTimeUnixNano: 1_795_003_600_000_000_000n,
  endTimeUnixNano: 1_795_003_600_000_000_000n,
  traceId: '',
  spanId: '',
  parentSpanId: '',
  spanName: '',
  spanKind: 0,
  statusCode: 0,
  isRequest: true,
  service: '',
  environment: '',
  route: '',
  commit: '',
  model: '',
  provider: '',
  team: '',
  tenant: '',
  feature: '',
  inputTokens: 0n,
  outputTokens: 0n,
  cacheReadTokens: 0n,
  cacheWriteTokens: 0n,
  reasoningTokens: 0n,
  gpuType: '',
  gpuCount: 0,
  gpuSeconds: '0',
  instanceType: '',
  costInput: Money.zero(),
  costOutput: Money.zero(),
  costCacheRead: Money.zero(),
  costCacheWrite: Money.zero(),
  costReasoning: Money.zero(),
  costGpu: Money.zero(),
  costCompute: Money.zero(),
  costTotal: Money.zero(),
  currency: 'USD',
  pricingVersion: '',
  pricingSource: '',
  priceIds: [],
  unpricedReason: 'no_model',
  kafkaTopic: 't',
  kafkaPartition: 0,
  kafkaOffset: 0n,
  kafkaSpanIndex: 0,
  attributeKeys: [],
  attributeValues: [],
  rollupOverflow: [],
  sanitized: [],
};

/** Special characters and non-ASCII in every kind of text column. */
const SPECIAL_TEXT: SpanCostRow = {
  ...PRICED,
  startTimeUnixNano: 1_795_000_000_000_000_001n,
  endTimeUnixNano: 1_794_999_999_000_000_000n, // ends before it starts: duration 0
  spanName: "tab\there\nnew'line\\back\0nul\rcr",
  service: 'café-中文-😀',
  route: `/v1/${'x'.repeat(40)}\t${'é'.repeat(10)}`,
  team: '\ud800lone',
  tenant: "o'reilly",
  feature: 'x'.repeat(32),
  instanceType: 'y'.repeat(33),
  usageRole: 'duplicate',
  duplicateOf: '00f067aa0ba902b8',
  responseId: 'resp\t1',
  usageKey: 'k\\1',
  emitter: '',
  costUpperBound: false,
  priceIds: ["id'1", 'id\\2', 'id\t3', ''],
  attributeKeys: ['k\n', "'", '\\', 'é', '中文', '😀', '\0', '\r', ''],
  attributeValues: ["v'al\tue", 'line\nbreak', 'back\\slash', 'x'.repeat(100), "'".repeat(33), '🇺🇳', '', 'z', 'q'],
  rollupOverflow: ['route', "te'nant"],
  sanitized: ['span_name:truncated', 'attr\tkey'],
  unpricedReason: 'no\tprice',
  kafkaTopic: 'spans.中文',
};

/** A currency other than USD. */
const EURO: SpanCostRow = {
  ...PRICED,
  currency: 'EUR',
  costInput: Money.parse('0.1', 'EUR'),
  costOutput: Money.parse('0.000000000007', 'EUR'),
  costCacheRead: Money.zero('EUR'),
  costCacheWrite: Money.zero('EUR'),
  costReasoning: Money.zero('EUR'),
  costGpu: Money.parse('1000000', 'EUR'),
  costCompute: Money.zero('EUR'),
  costTotal: Money.parse('1000000.100000000007', 'EUR'),
  usageComplete: false,
};

/** Amounts and counts beyond 2^53, start at the far end of the nanosecond range. */
const HUGE: SpanCostRow = {
  ...VALIDATE_ONLY,
  startTimeUnixNano: 2n ** 63n - 1_000_000_000_000n,
  endTimeUnixNano: 2n ** 63n - 1n,
  inputTokens: 2n ** 60n,
  outputTokens: 2n ** 63n - 1n,
  cacheReadTokens: 9_007_199_254_740_993n,
  kafkaPartition: 2 ** 31 - 1,
  kafkaOffset: 2n ** 63n - 1n,
  kafkaSpanIndex: 2 ** 32 - 1,
  gpuCount: 2 ** 53 - 1,
  costInput: Money.fromSubunits(2n ** 53n + 1n),
  costOutput: Money.fromSubunits(10n ** 30n + 7n),
  costCacheRead: Money.fromSubunits(2n ** 64n),
  costCacheWrite: Money.fromSubunits(9_007_199_254_740_991n),
  costReasoning: Money.fromSubunits(1n),
  costGpu: Money.fromSubunits(-150_000_000n),
  costCompute: Money.zero(),
  costTotal: Money.fromSubunits(10n ** 30n + 2n ** 64n + 2n ** 53n + 9_007_199_254_740_993n - 150_000_000n),
  unpricedReason: '',
};

/** Some usage columns only (as a test fixture elsewhere builds them): the missing ones are defaults. */
const PARTIAL_USAGE: SpanCostRow = {
  ...VALIDATE_ONLY,
  usageComplete: true,
  gpuProvider: 'gcp',
};

const ROWS: [string, SpanCostRow][] = [
  ['priced', PRICED],
  ['validate-only', VALIDATE_ONLY],
  ['special text', SPECIAL_TEXT],
  ['EUR', EURO],
  ['huge', HUGE],
  ['partial usage', PARTIAL_USAGE],
];

/** A copy of `record` with the pico amounts as numbers where they are exact (as the pricer gives them). */
function withNumberAmounts(record: SpanCostRecord): SpanCostRecord {
  const copy = Object.assign(new SpanCostRecord(), record);
  const asNumber = (pico: number | bigint): number | bigint =>
    typeof pico === 'bigint' && pico >= 0n && pico <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(pico) : pico;
  copy.costInput = asNumber(copy.costInput);
  copy.costOutput = asNumber(copy.costOutput);
  copy.costCacheRead = asNumber(copy.costCacheRead);
  copy.costCacheWrite = asNumber(copy.costCacheWrite);
  copy.costReasoning = asNumber(copy.costReasoning);
  copy.costGpu = asNumber(copy.costGpu);
  copy.costCompute = asNumber(copy.costCompute);
  copy.costTotal = asNumber(copy.costTotal);
  return copy;
}

describe('span cost rows', () => {
  it('the reference lines are what the columns say', () => {
    const fields = referenceLine(PRICED).slice(0, -1).split('\t');
    assert.equal(fields.length, SPAN_COST_COLUMNS.length);
    const at = (column: (typeof SPAN_COST_COLUMNS)[number]): string => fields[SPAN_COST_COLUMNS.indexOf(column)]!;
    assert.equal(at('start_time'), '1795000123');
    assert.equal(at('duration_ns'), '1543210988');
    assert.equal(at('cost_gpu'), '12.123456789012');
    assert.equal(at('cost_compute'), '3');
    assert.equal(at('is_request'), '0');
    assert.equal(at('usage_complete'), '1');
    assert.equal(at('price_ids'), "['openai/gpt-4o@2026-01-01','aws/p5.48xlarge@us-east-1']");
    const bare = referenceLine(VALIDATE_ONLY).slice(0, -1).split('\t');
    assert.equal(bare[SPAN_COST_COLUMNS.indexOf('instance_seconds')], '0');
    assert.equal(bare[SPAN_COST_COLUMNS.indexOf('cost_total')], '0');
    assert.equal(bare[SPAN_COST_COLUMNS.indexOf('gpu_provider')], '');
  });

  it('spanCostTsv writes the reference line of each row, in any order', () => {
    for (const order of [ROWS, [...ROWS].reverse(), [...ROWS, ...ROWS]]) {
      for (const [name, row] of order) {
        // Compared as UTF-8 (what is sent): the line is decoded from bytes, so a lone surrogate
        // comes back as U+FFFD, the character its UTF-8 encoding stands for.
        const line = spanCostTsv(row);
        const reference = referenceLine(row);
        assert.equal(line, Buffer.from(reference, 'utf8').toString('utf8'), name);
        assert.ok(Buffer.from(line, 'utf8').equals(Buffer.from(reference, 'utf8')), name);
      }
    }
  });

  it('writeSpanCostTsv writes the reference line from a record, with bigint or number amounts', () => {
    const w = new TsvWriter(1024);
    const record = new SpanCostRecord();
    let expected = '';
    for (const [name, row] of ROWS) {
      recordOfRow(row, record);
      const one = new TsvWriter();
      writeSpanCostTsv(one, record);
      assertWritten(one, referenceLine(row), name);
      const numbers = new TsvWriter();
      writeSpanCostTsv(numbers, withNumberAmounts(record));
      assertWritten(numbers, referenceLine(row), `${name}, number amounts`);
      writeSpanCostTsv(w, record);
      expected += referenceLine(row);
    }
    assertWritten(w, expected, 'all rows in one writer');
  });

  it('a record read from a row gives the row back', () => {
    for (const [name, row] of ROWS) {
      if (row === PARTIAL_USAGE) continue;
      const back = rowOfRecord(recordOfRow(row));
      assert.deepStrictEqual(back, row, name);
      assert.equal(back.costTotal.toDecimalString(), row.costTotal.toDecimalString(), name);
      assert.equal(back.costTotal.currency, row.currency, name);
    }
    // Reusing one record for many rows leaves nothing of the one before.
    const record = new SpanCostRecord();
    for (const [name, row] of [...ROWS, ...ROWS].reverse()) {
      if (row === PARTIAL_USAGE) continue;
      assert.deepStrictEqual(rowOfRecord(recordOfRow(row, record)), row, `${name}, reused record`);
    }
  });

  it('a row with only some usage columns comes back with the rest as their defaults', () => {
    const back = rowOfRecord(recordOfRow(PARTIAL_USAGE));
    assert.equal(back.gpuProvider, 'gcp');
    assert.equal(back.instanceSeconds, '0');
    assert.equal(back.costUpperBound, false);
    assert.equal(spanCostTsv(back), spanCostTsv(PARTIAL_USAGE));
  });

  it('the row of a record is a copy: refilling the record does not change it', () => {
    const record = recordOfRow(PRICED);
    const row = rowOfRecord(record);
    recordOfRow(VALIDATE_ONLY, record);
    assert.deepStrictEqual(row, PRICED);
  });
});

const NANOS_PER_DAY = 86_400_000_000_000n;
const FIRST_DAY = 20_775n;

/** Row i of a batch: its start on day FIRST_DAY + day, text that varies (some non-ASCII). */
function batchRow(i: number, day: number): SpanCostRow {
  const start = (FIRST_DAY + BigInt(day)) * NANOS_PER_DAY + BigInt(i) * 1_000_003n;
  return {
    ...(i % 3 === 0 ? PRICED : VALIDATE_ONLY),
    startTimeUnixNano: start,
    endTimeUnixNano: start + BigInt(i % 7) * 1_000_000n,
    spanId: i.toString(16).padStart(16, '0'),
    tenant: i % 5 === 0 ? `tenant-中文-${i}` : `tenant-${i}`,
    kafkaOffset: BigInt(i),
    costTotal: Money.fromSubunits(BigInt(i) * 150_000_000n),
  };
}

function bodyText(encoded: EncodedSpanCosts): string {
  return Buffer.from(encoded.body.buffer, encoded.body.byteOffset, encoded.body.byteLength).toString('utf8');
}

/** Each row's line, cut at lineEnds. */
function linesOf(encoded: EncodedSpanCosts): string[] {
  const body = Buffer.from(encoded.body.buffer, encoded.body.byteOffset, encoded.body.byteLength);
  const lines: string[] = [];
  for (let i = 0; i < encoded.rows; i++) {
    lines.push(body.subarray(i === 0 ? 0 : encoded.lineEnds[i - 1], encoded.lineEnds[i]).toString('utf8'));
  }
  return lines;
}

/** Checks an encoded batch against the rows it should hold, in order. */
function assertEncoded(encoded: EncodedSpanCosts, rows: readonly SpanCostRow[], label: string): void {
  const lines = rows.map(spanCostTsv);
  assert.equal(encoded.rows, rows.length, label);
  assert.equal(encoded.lineEnds.length, rows.length, label);
  assert.equal(encoded.days.length, rows.length, label);
  assert.equal(bodyText(encoded), lines.join(''), label);
  assert.equal(encoded.body.byteLength, Buffer.byteLength(lines.join(''), 'utf8'), label);
  let end = 0;
  const ends: number[] = [];
  for (const line of lines) {
    end += Buffer.byteLength(line, 'utf8');
    ends.push(end);
  }
  assert.deepEqual([...encoded.lineEnds], ends, `${label}: line ends`);
  if (rows.length > 0) assert.equal(encoded.lineEnds[rows.length - 1], encoded.body.byteLength, label);
  assert.deepEqual(linesOf(encoded), lines, `${label}: lines`);
  assert.deepEqual(
    [...encoded.days],
    rows.map((row) => Number(row.startTimeUnixNano / NANOS_PER_DAY)),
    `${label}: days`,
  );
}

function encode(rows: readonly SpanCostRow[], encoder = new SpanCostTsvEncoder(1024)): EncodedSpanCosts {
  const record = new SpanCostRecord();
  for (const row of rows) encoder.add(recordOfRow(row, record));
  return encoder.finish();
}

describe('SpanCostTsvEncoder', () => {
  const next = generator(31337);
  const ROWS_3000 = Array.from({ length: 3000 }, (_, i) => batchRow(i, below(next, 4)));

  it('encodes more rows than its first arrays hold, with line ends and days', () => {
    const encoder = new SpanCostTsvEncoder(1024);
    const record = new SpanCostRecord();
    for (const [i, row] of ROWS_3000.entries()) {
      encoder.add(recordOfRow(row, record));
      assert.equal(encoder.rows, i + 1);
    }
    const first = encoder.finish();
    assert.equal(encoder.rows, 0);
    assertEncoded(first, ROWS_3000, 'first batch');
    for (let i = 1; i < first.rows; i++) assert.ok(first.lineEnds[i]! > first.lineEnds[i - 1]!, `line end ${i}`);
    assert.equal(first.days[0], Number(ROWS_3000[0]!.startTimeUnixNano / NANOS_PER_DAY));
    assert.ok(new Set(first.days).size > 1);

    // A second finish holds only what was added since, and the first batch is its own copy.
    const more = Array.from({ length: 5 }, (_, i) => batchRow(i + 5000, i % 2));
    const firstText = bodyText(first);
    const second = encode(more, encoder);
    assertEncoded(second, more, 'second batch');
    assert.equal(bodyText(first), firstText);
    assertEncoded(first, ROWS_3000, 'first batch after the second');

    assertEncoded(encoder.finish(), [], 'empty batch');
  });

  it('slices rows: the whole range is the same object, others views of the lines', () => {
    const encoded = encode(ROWS_3000);
    assert.equal(sliceEncodedSpanCosts(encoded, 0, encoded.rows), encoded);
    assert.equal(sliceEncodedSpanCosts(encoded, -5, encoded.rows + 10), encoded);
    assertEncoded(sliceEncodedSpanCosts(encoded, 100, 250), ROWS_3000.slice(100, 250), 'middle');
    assertEncoded(sliceEncodedSpanCosts(encoded, 0, 10), ROWS_3000.slice(0, 10), 'head');
    assertEncoded(sliceEncodedSpanCosts(encoded, 2990, 5000), ROWS_3000.slice(2990), 'tail');
    assertEncoded(sliceEncodedSpanCosts(encoded, 1234, 1235), ROWS_3000.slice(1234, 1235), 'one row');
    for (const [from, to] of [
      [5, 5],
      [10, 3],
      [3000, 3100],
    ] as const) {
      const empty = sliceEncodedSpanCosts(encoded, from, to);
      assert.equal(empty.rows, 0);
      assert.equal(empty.body.byteLength, 0);
      assert.equal(empty, NO_ENCODED_SPAN_COSTS);
    }
    const sliced = sliceEncodedSpanCosts(encoded, 100, 250);
    assert.equal(sliced.body.buffer, encoded.body.buffer, 'a view, not a copy');
  });

  it('selects rows into a new body', () => {
    const encoded = encode(ROWS_3000);
    assertEncoded(
      selectEncodedSpanCosts(encoded, (i) => i % 2 === 1),
      ROWS_3000.filter((_, i) => i % 2 === 1),
      'odd rows',
    );
    assertEncoded(
      selectEncodedSpanCosts(encoded, (i) => i % 2 === 0),
      ROWS_3000.filter((_, i) => i % 2 === 0),
      'even rows',
    );
    assertEncoded(
      selectEncodedSpanCosts(encoded, (i) => i === 0),
      ROWS_3000.slice(0, 1),
      'row 0',
    );
    assertEncoded(
      selectEncodedSpanCosts(encoded, () => false),
      [],
      'no rows',
    );
    assert.equal(
      selectEncodedSpanCosts(encoded, () => true),
      encoded,
    );
    // A selection of a slice.
    const slice = sliceEncodedSpanCosts(encoded, 500, 900);
    assertEncoded(
      selectEncodedSpanCosts(slice, (i) => i % 3 === 0),
      ROWS_3000.slice(500, 900).filter((_, i) => i % 3 === 0),
      'every third row of a slice',
    );
  });

  it('joins batches into one body, rows in the order given', () => {
    const encoded = encode(ROWS_3000);
    const a = sliceEncodedSpanCosts(encoded, 0, 700);
    const b = selectEncodedSpanCosts(encoded, (i) => i >= 700 && i % 2 === 0);
    const c = encode(ROWS_3000.slice(2000, 2100));
    const joined = concatEncodedSpanCosts([a, NO_ENCODED_SPAN_COSTS, b, c]);
    assertEncoded(
      joined,
      [
        ...ROWS_3000.slice(0, 700),
        ...ROWS_3000.filter((_, i) => i >= 700 && i % 2 === 0),
        ...ROWS_3000.slice(2000, 2100),
      ],
      'three batches joined',
    );
    assert.equal(joined.lineEnds[joined.rows - 1], joined.body.byteLength);
    // By day after the join: every row once, on its own day.
    const byDay = encodedSpanCostsByDay(joined);
    assert.equal(
      byDay.reduce((n, day) => n + day.rows, 0),
      joined.rows,
    );
    assert.equal(concatEncodedSpanCosts([a]), a, 'one batch is returned as it is');
    assert.equal(concatEncodedSpanCosts([NO_ENCODED_SPAN_COSTS, c]), c);
    assert.equal(concatEncodedSpanCosts([]), NO_ENCODED_SPAN_COSTS);
    const binary = new SpanCostEncoder('RowBinary');
    binary.add(recordOfRow(ROWS_3000[0]!, new SpanCostRecord()));
    assert.throws(() => concatEncodedSpanCosts([a, binary.finish()]), /cannot join TabSeparated and RowBinary/);
  });

  it('splits a batch by day, days ascending, each in the original order', () => {
    const oneDay = Array.from({ length: 50 }, (_, i) => batchRow(i, 1));
    const single = encode(oneDay);
    const byDay = encodedSpanCostsByDay(single);
    assert.equal(byDay.length, 1);
    assert.equal(byDay[0], single);

    const dayOf = [2, 0, 1, 1, 2, 0, 0, 2, 1];
    const interleaved = Array.from({ length: 900 }, (_, i) => batchRow(i, dayOf[i % dayOf.length]!));
    const split = encodedSpanCostsByDay(encode(interleaved));
    assert.equal(split.length, 3);
    for (const [k, batch] of split.entries()) {
      const day = Number(FIRST_DAY) + k;
      const rows = interleaved.filter((row) => Number(row.startTimeUnixNano / NANOS_PER_DAY) === day);
      assertEncoded(batch, rows, `day ${day}`);
      assert.ok(batch.days.every((d) => d === day));
    }

    const random = encodedSpanCostsByDay(encode(ROWS_3000));
    const days = [...new Set(ROWS_3000.map((row) => Number(row.startTimeUnixNano / NANOS_PER_DAY)))].sort(
      (a, b) => a - b,
    );
    assert.deepEqual(
      random.map((batch) => batch.days[0]),
      days,
    );
    for (const [k, batch] of random.entries()) {
      assertEncoded(
        batch,
        ROWS_3000.filter((row) => Number(row.startTimeUnixNano / NANOS_PER_DAY) === days[k]),
        `random day ${days[k]}`,
      );
    }

    assert.deepEqual(encodedSpanCostsByDay(NO_ENCODED_SPAN_COSTS), []);
  });
});
