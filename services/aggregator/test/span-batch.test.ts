// SpanBatchProcessor (the consumer's fast path: wire reader, one reused record, rows encoded as
// they are built) against the object path (ts-proto decode, spanCostRows, spanCostTsv per row).
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { bundledPricingView, parseBudget, SpanPricer, StaticPriceSource } from '@costtrace/core';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import type { ResourceSpans, Span } from '@costtrace/proto';
import { spanCostTsv } from '@costtrace/store';
import type { SpanCostRow } from '@costtrace/store';
import { BudgetCatalog } from '../src/budgets/budget-catalog.js';
import { budgetDeltas } from '../src/budgets/cost-delta.js';
import type { BudgetDeltaStats } from '../src/budgets/cost-delta.js';
import { LedgerStateLost, SpanBatchProcessor } from '../src/kafka/span-batch.js';
import type { BatchCounts, BatchMessage, SpanBatchJob, SpanBatchSettings } from '../src/kafka/span-batch.js';
import { decodeSpanMessage } from '../src/kafka/span-message-codec.js';
import { CardinalityLimiter } from '../src/otlp/cardinality-limiter.js';
import { exportRequestToJson } from '../src/otlp/otlp-json.js';
import { spanCostRows, spanCount } from '../src/otlp/span-rows.js';
import type { SpanRowsResult } from '../src/otlp/span-rows.js';
import { anthropicUsage, exportRequest, openAiUsage, span, stampedCost } from './support/otlp-fixtures.js';
import type { AttrValue } from './support/otlp-fixtures.js';

const NOW_MS = 1_795_400_000_000;
const NOW_NS = BigInt(NOW_MS) * 1_000_000n;
const TOPIC = 'spans';
const PARTITION = 3;
const prices = new StaticPriceSource(bundledPricingView());

const SETTINGS: SpanBatchSettings = {
  pricer: {},
  usageReader: {},
  limits: {},
  audit: true,
  // Small, so that some rows of the batch fold rollup values (the rollupOverflow column).
  maxDimensionValuesPerHour: 3,
  output: 'tsv',
  budgetRows: true,
};

/** Span start times spread over several minutes (rowMinutes) before NOW. */
const at = (i: number): bigint => NOW_NS - BigInt(i) * 37_000_000_000n - 123_456_789n;

const proto = (request: ExportTraceServiceRequest): Buffer =>
  Buffer.from(ExportTraceServiceRequest.encode(request).finish());
const json = (request: ExportTraceServiceRequest): Buffer =>
  Buffer.from(JSON.stringify(exportRequestToJson(request)), 'utf8');

function resourceSpans(resource: Record<string, AttrValue>, spans: Span[]): ResourceSpans {
  return exportRequest(resource, spans).resourceSpans[0]!;
}

/** Text that needs every TabSeparated escape, plus non-ASCII (2-, 3- and 4-byte UTF-8). */
const NASTY = 'tab\there\nnew\\back\'single"double\r\0 é—日本🚀';

/** The span with a zero trace id in message 5, and the resource it came with. */
const INVALID_RESOURCE = { 'service.name': 'billing-b', 'host.name': 'h2', 'costtrace.tenant': 'acme' };
const invalidSpan = span({
  name: 'zero-trace',
  attributes: openAiUsage(10, 0, 10).attributes,
  startUnixNano: at(2),
  traceId: Buffer.alloc(16),
});

/** A batch with every kind of message the consumer meets; index = message index. */
function batchMessages(): BatchMessage[] {
  const checkout = { 'service.name': 'checkout', 'vcs.ref.head.revision': 'c1', 'deployment.environment.name': 'prod' };
  const m0 = exportRequest({ ...checkout, 'costtrace.tenant': 'acme' }, [
    span({
      name: 'chat',
      attributes: openAiUsage(48_213, 40_960, 1_021, { 'http.route': '/v1/chat' }).attributes,
      startUnixNano: at(0),
      kind: 2,
    }),
    // Nothing to price between priced spans: zero-cost rows that still count in the message's seq.
    span({
      name: 'POST /v1/chat',
      attributes: { 'http.route': '/v1/chat', 'http.request.method': 'POST' },
      startUnixNano: at(1),
      parent: true,
    }),
    span({
      name: 'claude',
      attributes: anthropicUsage(25, 18_000, 0, 1_337, { 'http.route': '/v1/chat' }).attributes,
      startUnixNano: at(2),
      parent: true,
    }),
    span({ name: 'db', attributes: { 'db.system': 'postgresql' }, startUnixNano: at(3), parent: true }),
    span({
      name: 'stamped',
      attributes: stampedCost(123_456_789n, {
        'http.route': '/v1/summarize',
        'cost.input_tokens': '0.000000100000',
        'cost.output_tokens': '0.000123356789',
        'cost.pricing.source': 'pricing-cache',
        'cost.pricing.price_ids': ['openai/gpt-4o-mini/input', 'openai/gpt-4o-mini/output'],
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': 1000,
        'gen_ai.usage.output_tokens': 200,
      }).attributes,
      startUnixNano: at(4),
      parent: true,
    }),
    span({
      name: 'unknown-model',
      attributes: {
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-unknown-9',
        'gen_ai.usage.input_tokens': 100,
        'gen_ai.usage.output_tokens': 50,
        'http.route': '/v1/chat',
      },
      startUnixNano: at(5),
      parent: true,
    }),
    span({
      name: 'tenant-override',
      attributes: openAiUsage(1000, 0, 200, { 'costtrace.tenant': 'initech' }).attributes,
      startUnixNano: at(6),
      parent: true,
    }),
  ]);
  const manyAttributes: Record<string, AttrValue> = {};
  for (let i = 0; i < 40; i++) manyAttributes[`extra.${i}`] = `${i}:${NASTY}`.repeat(12);
  const m4 = exportRequest({ 'service.name': 'svc\twith\ttabs', 'costtrace.tenant': `Zürich ${NASTY}` }, [
    span({
      name: `name ${NASTY}`,
      attributes: openAiUsage(500, 100, 50, { 'http.route': `/v1/it's/${NASTY}`, note: NASTY, 'x.quote': "'" })
        .attributes,
      startUnixNano: at(7),
      kind: 2,
    }),
    span({ name: 'many', attributes: manyAttributes, startUnixNano: at(8), parent: true }),
    span({
      name: 'euro',
      attributes: {
        'cost.total': '0.000002000000',
        'cost.currency': 'EUR',
        'cost.pricing.version': 'sdk-eur',
        'http.route': NASTY,
      },
      startUnixNano: at(9),
      parent: true,
    }),
  ]);
  const m5: ExportTraceServiceRequest = {
    resourceSpans: [
      resourceSpans({ 'service.name': 'billing', 'host.name': 'h1' }, [
        span({ name: 'ok-a', attributes: openAiUsage(300, 0, 30).attributes, startUnixNano: at(1), kind: 2 }),
      ]),
      resourceSpans(INVALID_RESOURCE, [
        span({ name: 'ok-b', attributes: anthropicUsage(40, 0, 0, 10).attributes, startUnixNano: at(2) }),
        invalidSpan,
        span({ name: 'ok-c', attributes: { 'http.route': '/after' }, startUnixNano: at(3), parent: true }),
      ]),
    ],
  };
  const m6 = exportRequest({ 'service.name': 'json-svc', 'costtrace.tenant': 'acme' }, [
    span({
      name: 'json-chat',
      attributes: openAiUsage(2000, 1000, 100, { 'http.route': '/json' }).attributes,
      startUnixNano: at(4),
      kind: 2,
    }),
    span({
      name: 'json-plain',
      attributes: { 'http.route': '/json', n: 5, d: 1.5, b: true },
      startUnixNano: at(5),
      parent: true,
    }),
    span({ name: 'json-stamped', attributes: stampedCost(9_000_000n).attributes, startUnixNano: at(6), parent: true }),
  ]);
  const m7 = exportRequest({ 'service.name': 'json-svc' }, [
    span({ name: 'json-no-header', attributes: anthropicUsage(1, 2, 3, 4).attributes, startUnixNano: at(7) }),
  ]);
  const m9 = exportRequest({ 'service.name': 'empty' }, []);
  const m10 = exportRequest({ ...checkout, 'costtrace.tenant': 'globex' }, [
    span({
      name: 'g1',
      attributes: openAiUsage(100, 0, 10, { 'http.route': '/v1/chat' }).attributes,
      startUnixNano: at(0),
      kind: 2,
    }),
    span({ name: 'g-plain', attributes: { 'http.route': '/v1/chat' }, startUnixNano: at(0), parent: true }),
    span({
      name: 'g2',
      attributes: openAiUsage(200, 0, 20, { 'http.route': '/v1/chat' }).attributes,
      startUnixNano: at(1),
      parent: true,
    }),
    span({ name: 'g-plain-2', attributes: {}, startUnixNano: at(1), parent: true }),
    span({
      name: 'g3',
      attributes: openAiUsage(300, 0, 30, { 'http.route': '/v1/other' }).attributes,
      startUnixNano: at(2),
      parent: true,
    }),
  ]);
  const values: [Buffer | null, string | undefined][] = [
    [proto(m0), undefined],
    [Buffer.alloc(0), undefined],
    [null, undefined],
    // A length-delimited field 1 whose length runs far past the end.
    [Buffer.from('0affffffff0f0102030405', 'hex'), 'application/x-protobuf'],
    [proto(m4), 'application/x-protobuf'],
    [proto(m5), undefined],
    [json(m6), 'application/json'],
    [json(m7), undefined],
    [Buffer.from('{"resourceSpans": [', 'utf8'), 'application/json'],
    [proto(m9), undefined],
    [proto(m10), undefined],
  ];
  return values.map(([value, contentType], i) => ({
    offset: String(100 + i),
    timestamp: String(NOW_MS + i),
    value,
    contentType,
  }));
}

const MESSAGES = batchMessages();
const INVALID_MESSAGE = 5;

function job(messages: readonly BatchMessage[], extra: Partial<SpanBatchJob> = {}): SpanBatchJob {
  return { topic: TOPIC, partition: PARTITION, messages, storedUpTo: -1n, ...extra };
}

interface Reference {
  readonly message: number;
  readonly result: SpanRowsResult;
  readonly spans: number;
}

/**
 * The object path: each message decoded by ts-proto (or the JSON decoder) and turned into row
 * objects by spanCostRows, with the processor's settings and a cardinality limiter of its own.
 */
function reference(messages: readonly BatchMessage[], settings: SpanBatchSettings = SETTINGS): Reference[] {
  const cardinality = new CardinalityLimiter(settings.maxDimensionValuesPerHour);
  const pricer = new SpanPricer(settings.pricer);
  const out: Reference[] = [];
  messages.forEach((m, i) => {
    let request: ExportTraceServiceRequest;
    try {
      request = decodeSpanMessage(m.value, m.contentType);
    } catch {
      return;
    }
    if (spanCount(request) === 0) return;
    const result = spanCostRows(
      request,
      { topic: TOPIC, partition: PARTITION, offset: BigInt(m.offset) },
      Number(m.timestamp),
      {
        prices,
        pricer,
        usageReader: settings.usageReader,
        limits: settings.limits,
        audit: settings.audit,
        cardinality,
      },
    );
    out.push({ message: i, result, spans: spanCount(request) });
  });
  return out;
}

const rowsOf = (refs: readonly Reference[]): SpanCostRow[] => refs.flatMap((r) => r.result.rows);

/** The counts the processor should report for the messages `counted` selects. */
function expectedCounts(refs: readonly Reference[], counted: (message: number) => boolean): BatchCounts {
  const counts: BatchCounts = {
    spansConsumed: 0,
    pricedHere: 0,
    upperBound: 0,
    unpriced: 0,
    duplicates: 0,
    rollups: 0,
    usageExact: 0,
    usageUpperBound: 0,
    usageUnpriced: 0,
    sanitized: {},
    rejected: {},
    emittedCosts: {},
    auditDifferences: 0,
    rollupValuesFolded: 0,
  };
  for (const { message, result, spans } of refs) {
    if (!counted(message)) continue;
    counts.spansConsumed += spans;
    counts.pricedHere += result.pricedHere;
    counts.upperBound += result.upperBound;
    counts.unpriced += result.unpriced;
    counts.duplicates += result.duplicates;
    counts.rollups += result.rollups;
    counts.usageExact += result.usage.exact;
    counts.usageUpperBound += result.usage.upperBound;
    counts.usageUnpriced += result.usage.unpriced;
    for (const [reason, n] of result.sanitized) counts.sanitized[reason] = (counts.sanitized[reason] ?? 0) + n;
    for (const r of result.rejected) counts.rejected[r.reason] = (counts.rejected[r.reason] ?? 0) + 1;
    for (const e of result.emittedCosts) {
      const k = `${e.key}|${e.agrees ? 'agrees' : 'differs'}`;
      counts.emittedCosts[k] = (counts.emittedCosts[k] ?? 0) + 1;
    }
    counts.auditDifferences += result.auditDifferences.length;
    for (const row of result.rows) counts.rollupValuesFolded += row.rollupOverflow.length;
  }
  return counts;
}

const bodyText = (body: Uint8Array): string =>
  Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');

describe('SpanBatchProcessor: the fast path builds exactly the object path’s rows', () => {
  const refs = reference(MESSAGES);
  const rows = rowsOf(refs);

  it('covers what it claims to (priced, stamped, zero-cost, escaped, folded, rejected rows)', () => {
    assert.deepEqual(
      refs.map((r) => r.message),
      [0, 4, 5, 6, 7, 10],
    );
    assert.ok(rows.some((r) => r.pricingSource === 'aggregator:bundled' && r.costTotal.subunits > 0n));
    assert.ok(rows.some((r) => r.pricingVersion === 'sdk-test'));
    assert.ok(rows.some((r) => r.currency === 'EUR'));
    assert.ok(rows.some((r) => r.unpricedReason === 'unknown_model'));
    assert.ok(rows.some((r) => r.costTotal.subunits === 0n && r.unpricedReason === ''));
    assert.ok(rows.some((r) => r.route.includes('\t') && r.route.includes('🚀')));
    assert.ok(rows.some((r) => r.rollupOverflow.length > 0));
    assert.ok(rows.some((r) => r.sanitized.includes('extra_attributes_dropped')));
    assert.ok(rows.some((r) => r.sanitized.includes('attribute_truncated')));
    assert.equal(refs.find((r) => r.message === INVALID_MESSAGE)!.result.rejected.length, 1);
  });

  it("output 'tsv': the body is spanCostTsv of each row, in order, with its per-row columns", () => {
    const processed = new SpanBatchProcessor(SETTINGS, prices).process(job(MESSAGES));
    assert.equal(processed.rows, rows.length);
    assert.equal(processed.objects, undefined);
    const encoded = processed.encoded!;
    assert.equal(encoded.rows, rows.length);
    const lines = rows.map(spanCostTsv);
    assert.equal(bodyText(encoded.body), lines.join(''));
    let end = 0;
    assert.deepEqual(
      [...encoded.lineEnds],
      lines.map((line) => (end += Buffer.byteLength(line, 'utf8'))),
    );
    assert.deepEqual(
      [...encoded.days],
      rows.map((r) => Number(r.startTimeUnixNano / 86_400_000_000_000n)),
    );
    assert.deepEqual(
      [...processed.rowMessages],
      refs.flatMap((ref) => ref.result.rows.map(() => ref.message)),
    );
    assert.deepEqual(
      [...processed.rowSpans],
      rows.map((r) => r.kafkaSpanIndex),
    );
    assert.deepEqual(
      [...processed.rowMinutes],
      rows.map((r) => Math.floor(Number(r.startTimeUnixNano / 1_000_000_000n) / 60) * 60),
    );
    assert.deepEqual(
      [...processed.rowCostKeys].map((k) => processed.costKeys[k]),
      rows.map((r) => ({ service: r.service, currency: r.currency })),
    );
    assert.deepEqual(
      [...processed.rowCosts],
      rows.map((r) => Number(r.costTotal.subunits) / 1e12),
    );
    // The span index counts the rejected span too.
    const invalid = refs.find((r) => r.message === INVALID_MESSAGE)!.result.rows;
    assert.deepEqual(
      invalid.map((r) => r.kafkaSpanIndex),
      [0, 1, 3],
    );
  });

  it("output 'rows': the objects are spanCostRows' rows", () => {
    const settings: SpanBatchSettings = { ...SETTINGS, output: 'rows' };
    const processed = new SpanBatchProcessor(settings, prices).process(job(MESSAGES));
    assert.equal(processed.encoded, undefined);
    assert.equal(processed.rows, rows.length);
    assert.deepStrictEqual(processed.objects, rows);
    assert.deepEqual(
      [...processed.rowSpans],
      rows.map((r) => r.kafkaSpanIndex),
    );
  });

  it('dead-letters what cannot be stored, the rejected spans as a request of their own, and counts', () => {
    const processed = new SpanBatchProcessor(SETTINGS, prices).process(job(MESSAGES));
    assert.deepEqual(
      processed.deadLetters.map((d) => [d.message, d.reason, d.spans]),
      [
        [1, 'empty_message', 0],
        [2, 'empty_message', 0],
        [3, 'undecodable_protobuf', 0],
        [INVALID_MESSAGE, 'invalid_trace_id', 1],
        [8, 'undecodable_json', 0],
        [9, 'no_spans', 0],
      ],
    );
    for (const d of processed.deadLetters) {
      if (d.message !== INVALID_MESSAGE) assert.equal(d.value, undefined, `message ${d.message} goes as it came`);
    }
    const rejected = processed.deadLetters.find((d) => d.message === INVALID_MESSAGE)!;
    assert.match(rejected.detail, /^invalid_trace_id: /);
    const request = ExportTraceServiceRequest.decode(rejected.value!);
    const expected = ExportTraceServiceRequest.decode(
      ExportTraceServiceRequest.encode(exportRequest(INVALID_RESOURCE, [invalidSpan])).finish(),
    );
    assert.deepStrictEqual(request, expected);
    assert.equal(spanCount(request), 1);
    assert.deepEqual(
      Object.fromEntries(request.resourceSpans[0]!.resource!.attributes.map((a) => [a.key, a.value?.stringValue])),
      INVALID_RESOURCE,
    );
    assert.deepEqual(Buffer.from(request.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.spanId), invalidSpan.spanId);

    assert.deepStrictEqual(
      processed.counts,
      expectedCounts(refs, () => true),
    );
    assert.equal(processed.counts.spansConsumed, 7 + 3 + 4 + 3 + 1 + 5);
    assert.deepEqual(processed.counts.rejected, { invalid_trace_id: 1 });
    assert.ok(processed.counts.rollupValuesFolded > 0);
  });

  it('storedUpTo: messages at or below it give the same rows, but no dead letters and no counts', () => {
    const full = new SpanBatchProcessor(SETTINGS, prices).process(job(MESSAGES));
    const storedUpTo = BigInt(MESSAGES[INVALID_MESSAGE]!.offset);
    const again = new SpanBatchProcessor(SETTINGS, prices).process(job(MESSAGES, { storedUpTo }));
    assert.equal(bodyText(again.encoded!.body), bodyText(full.encoded!.body));
    assert.deepEqual([...again.rowMessages], [...full.rowMessages]);
    assert.deepEqual([...again.rowSpans], [...full.rowSpans]);
    assert.deepEqual(
      again.deadLetters.map((d) => [d.message, d.reason]),
      [
        [8, 'undecodable_json'],
        [9, 'no_spans'],
      ],
    );
    assert.deepStrictEqual(
      again.counts,
      expectedCounts(refs, (m) => m > INVALID_MESSAGE),
    );

    const all = new SpanBatchProcessor(SETTINGS, prices).process(job(MESSAGES, { storedUpTo: 1_000n }));
    assert.equal(bodyText(all.encoded!.body), bodyText(full.encoded!.body));
    assert.deepEqual(all.deadLetters, []);
    assert.deepStrictEqual(
      all.counts,
      expectedCounts(refs, () => false),
    );
  });

  it('budget rows give the same deltas as all the row objects of the batch', () => {
    const catalog = new BudgetCatalog([
      parseBudget({ id: 'tenant-daily', per: ['tenant'], window: 'day', limit_usd: '50' }),
      parseBudget({
        id: 'checkout',
        scope: { service: 'checkout' },
        window: '1h',
        limit_usd: '10',
        unpriced: { count_as: 'estimate', usd_per_million_tokens: '15', usd_per_span: '0.000001' },
      }),
    ]);
    const processed = new SpanBatchProcessor(SETTINGS, prices).process(job(MESSAGES));
    const stats = (): BudgetDeltaStats => ({ nonUsdRows: 0, unpricedAsZero: 0, unpricedEstimated: 0 });
    const fastStats = stats();
    const objectStats = stats();
    const fast = budgetDeltas(processed.budgetRows, catalog, { stats: fastStats });
    const objects = budgetDeltas(rows, catalog, { stats: objectStats });
    assert.deepStrictEqual(fast, objects);
    assert.deepStrictEqual(fastStats, objectStats);

    // What the comparison rests on: only some rows are handed off, numbered with gaps, and the
    // deltas include budget, unpriced-estimate and anomaly scope deltas.
    assert.ok(processed.budgetRows.length < rows.length);
    assert.ok(
      processed.budgetRows.some(
        (r, i, all) => i > 0 && all[i - 1]!.kafkaOffset === r.kafkaOffset && r.seq! > all[i - 1]!.seq! + 1,
      ),
    );
    assert.ok(fast.some((d) => d.kind === 'scope' && d.requests > 1));
    assert.ok(fast.some((d) => d.kind === 'budget' && d.budgetId === 'checkout' && d.source.seq > 0));
    assert.ok(objectStats.unpricedEstimated > 0);
    assert.ok(objectStats.nonUsdRows > 0);
  });
});

describe('SpanBatchProcessor: large batches, one processor for many', () => {
  it('grows its columns and body past their first sizes, and starts each batch afresh', () => {
    const settings: SpanBatchSettings = { ...SETTINGS, maxDimensionValuesPerHour: 100_000 };
    const messages: BatchMessage[] = [];
    for (let m = 0; m < 3; m++) {
      const spans: Span[] = [];
      for (let s = 0; s < 700; s++) {
        const usage =
          s % 3 === 0 ? openAiUsage(100 + s, 0, 10) : s % 3 === 1 ? anthropicUsage(s, 0, 0, 5) : stampedCost(BigInt(s));
        spans.push(
          span({
            name: `s-${m}-${s}`,
            attributes: { ...usage.attributes, 'http.route': `/r/${s % 50}`, note: NASTY },
            startUnixNano: at(s % 20),
            parent: s > 0,
          }),
        );
      }
      messages.push({
        offset: String(500 + m),
        timestamp: String(NOW_MS),
        value: proto(exportRequest({ 'service.name': `svc-${m}`, 'costtrace.tenant': `t${m}` }, spans)),
        contentType: undefined,
      });
    }
    const processor = new SpanBatchProcessor(settings, prices);
    for (const batch of [messages, messages.slice(1), messages]) {
      const rows = rowsOf(reference(batch, settings));
      const processed = processor.process(job(batch));
      assert.equal(processed.rows, rows.length);
      assert.ok(processed.encoded!.body.byteLength > 256 * 1024);
      assert.equal(bodyText(processed.encoded!.body), rows.map(spanCostTsv).join(''));
      assert.equal(processed.encoded!.lineEnds.at(-1), processed.encoded!.body.byteLength);
      assert.deepEqual(
        [...processed.rowSpans],
        rows.map((r) => r.kafkaSpanIndex),
      );
      assert.deepEqual(
        [...processed.rowMessages],
        batch.flatMap((_m, i) => Array.from({ length: 700 }, () => i)),
      );
    }
  });
});

describe('SpanBatchProcessor: model-call ledgers', () => {
  const usage = openAiUsage(1000, 0, 100).attributes;

  it('needs the restore on the first batch of a generation, and forgets on request', () => {
    const processor = new SpanBatchProcessor(SETTINGS, prices);
    const messages = [MESSAGES[0]!];
    const ledger = (generation: number, restore?: []): SpanBatchJob =>
      job(messages, { ledger: { generation, maxTraces: 100, restore } });
    assert.throws(() => processor.process(ledger(1)), LedgerStateLost);
    assert.equal(processor.process(ledger(1, [])).rows, 7);
    assert.equal(processor.process(ledger(1)).rows, 7);
    assert.throws(() => processor.process(ledger(2)), LedgerStateLost);
    assert.equal(processor.process(ledger(1)).rows, 7, 'generation 1 is still held');
    processor.forget(PARTITION);
    assert.throws(
      () => processor.process(ledger(1)),
      (err) => err instanceof LedgerStateLost && /generation 1 for partition 3/.test(err.message),
    );
    // A batch without a ledger never needs one.
    assert.equal(processor.process(job(messages)).rows, 7);
  });

  it('keeps the partitions’ ledgers apart', () => {
    const processor = new SpanBatchProcessor({ ...SETTINGS, output: 'rows' }, prices);
    const repeated = span({ name: 'call', attributes: usage, startUnixNano: at(0), kind: 2 });
    const value = proto(exportRequest({ 'service.name': 's' }, [repeated]));
    const one = (partition: number, offset: number, restore?: []): SpanBatchJob => ({
      topic: TOPIC,
      partition,
      messages: [{ offset: String(offset), timestamp: String(NOW_MS), value, contentType: undefined }],
      storedUpTo: -1n,
      ledger: { generation: 1, maxTraces: 100, restore },
    });
    const spanId = Buffer.from(repeated.spanId).toString('hex');
    const row = (j: SpanBatchJob): SpanCostRow => {
      const processed = processor.process(j);
      assert.equal(processed.rows, 1);
      return processed.objects![0]!;
    };

    const first = row(one(0, 10, []));
    assert.equal(first.usageRole, '');
    assert.ok(first.costTotal.subunits > 0n);
    // The same message again (a redelivery) is decided as it was.
    assert.equal(row(one(0, 10)).usageRole, '');
    // The same span in another message of the partition: its first copy carries the charge.
    const duplicate = processor.process(one(0, 11));
    assert.equal(duplicate.objects![0]!.usageRole, 'duplicate');
    assert.equal(duplicate.objects![0]!.duplicateOf, spanId);
    assert.equal(duplicate.objects![0]!.costTotal.subunits, 0n);
    assert.equal(duplicate.counts.duplicates, 1);
    // In another partition the span is charged: that partition's ledger never saw it.
    const other = row(one(1, 11, []));
    assert.equal(other.usageRole, '');
    assert.equal(other.costTotal.subunits, first.costTotal.subunits);
    // Forgetting partition 1 leaves partition 0's ledger alone.
    processor.forget(1);
    assert.equal(row(one(0, 12)).usageRole, 'duplicate');
    assert.throws(() => processor.process(one(1, 12)), LedgerStateLost);
  });

  it('a restore replays stored decisions', () => {
    const processor = new SpanBatchProcessor({ ...SETTINGS, output: 'rows' }, prices);
    const stored = span({ name: 'call', attributes: usage, startUnixNano: at(0), kind: 2 });
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    const processed = processor.process({
      topic: TOPIC,
      partition: 0,
      messages: [
        {
          offset: '20',
          timestamp: String(NOW_MS),
          value: proto(exportRequest({ 'service.name': 's' }, [stored])),
          contentType: undefined,
        },
      ],
      storedUpTo: -1n,
      ledger: {
        generation: 7,
        maxTraces: 100,
        restore: [
          {
            traceId: hex(stored.traceId),
            spanId: hex(stored.spanId),
            parentSpanId: '',
            responseId: '',
            usageKey: 'k',
            usageRole: '',
            duplicateOf: '',
            origin: '19:0',
          },
        ],
      },
    });
    // Stored from offset 19 before the restart: the copy at offset 20 repeats it.
    assert.equal(processed.objects![0]!.usageRole, 'duplicate');
  });
});
