// The batch runners: the worker pool (real worker_threads running the compiled
// span-batch-worker.js) against the consumer's own thread.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { after, describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { bundledPricingView, snapshotDocument, StaticPriceSource, viewFromDocument } from '@costtrace/core';
import type { PriceSource, PricingView } from '@costtrace/core';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import { SPAN_COST_COLUMNS } from '@costtrace/store';
import { pino } from 'pino';
import {
  InlineSpanBatchRunner,
  packMessages,
  unpackMessages,
  WorkerSpanBatchRunner,
} from '../src/kafka/span-batch-runner.js';
import type { SpanBatchRunner } from '../src/kafka/span-batch-runner.js';
import { LedgerStateLost } from '../src/kafka/span-batch.js';
import type { BatchMessage, ProcessedSpanBatch, SpanBatchJob, SpanBatchSettings } from '../src/kafka/span-batch.js';
import { exportRequestToJson } from '../src/otlp/otlp-json.js';
import { anthropicUsage, exportRequest, openAiUsage, span, stampedCost } from './support/otlp-fixtures.js';

const NOW_MS = 1_795_400_000_000;
const NOW_NS = BigInt(NOW_MS) * 1_000_000n;
const TOPIC = 'spans';
const logger = pino({ level: 'silent' });
const viewA = bundledPricingView();
const prices = new StaticPriceSource(viewA);

const SETTINGS: SpanBatchSettings = {
  pricer: {},
  usageReader: {},
  limits: {},
  audit: true,
  // Large: the bound is per processor (per worker thread), so folding would differ by design.
  maxDimensionValuesPerHour: 10_000,
  output: 'tsv',
  budgetRows: true,
};

const proto = (request: ExportTraceServiceRequest): Buffer =>
  Buffer.from(ExportTraceServiceRequest.encode(request).finish());

/** One partition's messages: priced, stamped, zero-cost, escaped, rejected and undecodable ones. */
function partitionMessages(partition: number, firstOffset: number): BatchMessage[] {
  const start = (i: number): bigint => NOW_NS - BigInt(partition * 10 + i) * 17_000_000_000n;
  const tenant = `tenant-${partition}\t‘x’`;
  const values: [Buffer | null, string | undefined][] = [
    [
      proto(
        exportRequest({ 'service.name': `svc-${partition}`, 'costtrace.tenant': tenant }, [
          span({
            name: 'a',
            attributes: openAiUsage(1000 + partition, 10, 50, { 'http.route': '/v1/a' }).attributes,
            startUnixNano: start(0),
            kind: 2,
          }),
          span({ name: 'plain', attributes: { 'http.route': '/v1/a\nb' }, startUnixNano: start(1), parent: true }),
          span({
            name: 'b',
            attributes: anthropicUsage(5, 10, 20, 30).attributes,
            startUnixNano: start(2),
            parent: true,
          }),
          span({
            name: 'c',
            attributes: stampedCost(BigInt(partition + 1) * 1_000_000n).attributes,
            startUnixNano: start(3),
            parent: true,
          }),
          span({ name: 'bad', attributes: {}, startUnixNano: start(4), traceId: Buffer.alloc(16) }),
        ]),
      ),
      undefined,
    ],
    [Buffer.alloc(0), undefined],
    [null, undefined],
    [Buffer.from('0affffffff0f', 'hex'), undefined],
    [
      Buffer.from(
        JSON.stringify(
          exportRequestToJson(
            exportRequest({ 'service.name': `svc-${partition}` }, [
              span({ name: 'json', attributes: openAiUsage(10, 0, 5).attributes, startUnixNano: start(5) }),
            ]),
          ),
        ),
      ),
      'application/json',
    ],
    [proto(exportRequest({ 'service.name': 'none' }, [])), undefined],
  ];
  return values.map(([value, contentType], i) => ({
    offset: String(firstOffset + i),
    timestamp: String(NOW_MS),
    value,
    contentType,
  }));
}

function job(partition: number, firstOffset: number, generation: number, restore?: readonly []): SpanBatchJob {
  return {
    topic: TOPIC,
    partition,
    messages: partitionMessages(partition, firstOffset),
    storedUpTo: -1n,
    ledger: { generation, maxTraces: 1000, restore },
  };
}

/** What must agree between runners, in comparable form (bodies as text, typed arrays as arrays). */
function comparable(result: ProcessedSpanBatch) {
  const encoded = result.encoded!;
  return {
    rows: result.rows,
    body: Buffer.from(encoded.body.buffer, encoded.body.byteOffset, encoded.body.byteLength).toString('utf8'),
    encodedRows: encoded.rows,
    lineEnds: [...encoded.lineEnds],
    days: [...encoded.days],
    rowMessages: [...result.rowMessages],
    rowSpans: [...result.rowSpans],
    rowMinutes: [...result.rowMinutes],
    rowCosts: [...result.rowCosts],
    rowCostKeys: [...result.rowCostKeys],
    costKeys: result.costKeys,
    deadLetters: result.deadLetters.map((d) => ({
      ...d,
      value: d.value === undefined ? undefined : Buffer.from(d.value).toString('hex'),
    })),
    counts: result.counts,
    auditSamples: result.auditSamples,
    emittedSamples: result.emittedSamples,
    budgetRows: result.budgetRows,
  };
}

/** The pricing_version column of each row of a TSV body. */
function pricingVersions(result: ProcessedSpanBatch): string[] {
  const column = SPAN_COST_COLUMNS.indexOf('pricing_version');
  const text = Buffer.from(result.encoded!.body).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t')[column]!);
}

describe('packMessages / unpackMessages', () => {
  const messages: BatchMessage[] = [
    { offset: '0', timestamp: '1', value: Buffer.from('first'), contentType: undefined },
    { offset: '9007199254740993', timestamp: String(NOW_MS), value: null, contentType: 'application/x-protobuf' },
    { offset: '2', timestamp: '3', value: Buffer.alloc(0), contentType: 'application/json' },
    // A slice of a larger buffer (as kafkajs hands them out).
    { offset: '3', timestamp: '4', value: Buffer.from('..middle..').subarray(2, 8), contentType: '' },
    { offset: '4', timestamp: '5', value: Buffer.from([0, 255, 10, 9]), contentType: undefined },
    { offset: '5', timestamp: '6', value: null, contentType: undefined },
  ];

  it('round-trips values, nulls, empty values, content types and offsets', () => {
    const packed = packMessages(messages);
    assert.deepEqual([...packed.lengths], [5, -1, 0, 6, 4, -1]);
    assert.equal(packed.data.byteLength, 15);
    assert.deepStrictEqual(unpackMessages(packed), messages);
  });

  it('round-trips through a transfer to another thread’s copy', () => {
    const packed = packMessages(messages);
    const moved = structuredClone(packed, { transfer: [packed.data.buffer as ArrayBuffer] });
    assert.equal(packed.data.byteLength, 0, 'the buffer was transferred');
    assert.deepStrictEqual(unpackMessages(moved), messages);
  });

  it('packs an empty batch', () => {
    assert.deepStrictEqual(unpackMessages(packMessages([])), []);
  });
});

describe('WorkerSpanBatchRunner', () => {
  const runners: SpanBatchRunner[] = [];
  const track = <T extends SpanBatchRunner>(runner: T): T => {
    runners.push(runner);
    return runner;
  };
  after(async () => {
    await Promise.all(runners.map((r) => r.close()));
  });

  it('refuses a pool without threads or with row objects', () => {
    assert.throws(() => new WorkerSpanBatchRunner(0, SETTINGS, prices, logger), RangeError);
    assert.throws(() => new WorkerSpanBatchRunner(1, { ...SETTINGS, output: 'rows' }, prices, logger), RangeError);
  });

  it('gives byte-identical bodies, counts, dead letters and budget rows to the inline runner', async () => {
    const workers = track(new WorkerSpanBatchRunner(2, SETTINGS, prices, logger));
    const inline = track(new InlineSpanBatchRunner(SETTINGS, prices));
    assert.equal(workers.threads, 2);
    assert.equal(inline.threads, 0);
    const partitions = [0, 1, 2, 3];
    // Two batches per partition: the first restores the ledger, the second uses what it holds.
    for (const [round, restore] of [
      [0, []],
      [1, undefined],
    ] as const) {
      const jobs = partitions.map((p) => job(p, 1000 * p + 10 * round, 1, restore));
      // Partitions run side by side in the pool, one batch per partition at a time.
      const fromWorkers = await Promise.all(jobs.map((j) => workers.process(j)));
      for (const [i, j] of jobs.entries()) {
        const expected = await inline.process(j);
        const actual = fromWorkers[i]!;
        assert.ok(expected.rows > 0);
        assert.deepStrictEqual(comparable(actual), comparable(expected), `partition ${j.partition}, round ${round}`);
        assert.deepEqual(
          actual.deadLetters.map((d) => d.reason),
          ['invalid_trace_id', 'empty_message', 'empty_message', 'undecodable_protobuf', 'no_spans'],
        );
      }
    }
  });

  it('prices with the source’s current view, sent to each worker when it changes', async () => {
    const viewB = viewFromDocument({ ...snapshotDocument(viewA), version: 'test-b' }, 'test');
    let current: PricingView = viewA;
    const source: PriceSource = { current: () => current };
    const workers = track(new WorkerSpanBatchRunner(2, SETTINGS, source, logger));
    const inline = track(new InlineSpanBatchRunner(SETTINGS, source));
    const both = async (j: SpanBatchJob): Promise<ProcessedSpanBatch> => {
      const actual = await workers.process(j);
      assert.deepStrictEqual(comparable(actual), comparable(await inline.process(j)));
      return actual;
    };
    // The stamped span keeps its own version; the priced ones carry the snapshot's.
    const priced = (result: ProcessedSpanBatch): string[] =>
      pricingVersions(result).filter((v) => v !== 'sdk-test' && v !== '');

    const a0 = await both(job(0, 0, 1, []));
    assert.ok(priced(a0).length >= 2);
    assert.ok(priced(a0).every((v) => v === viewA.version));
    assert.notEqual(viewA.version, 'test-b');

    current = viewB;
    // Worker 1 gets its first prices, worker 0 an update.
    const b1 = await both(job(1, 0, 1, []));
    const b0 = await both(job(0, 10, 1));
    for (const result of [b1, b0]) {
      assert.ok(priced(result).length >= 2);
      assert.ok(priced(result).every((v) => v === 'test-b'));
    }
    // And back again.
    current = viewA;
    assert.ok(priced(await both(job(2, 0, 1, []))).every((v) => v === viewA.version));
    assert.ok(priced(await both(job(0, 20, 1))).every((v) => v === viewA.version));
  });

  it('rejects a batch of an unknown ledger generation with LedgerStateLost, and keeps working', async () => {
    const workers = track(new WorkerSpanBatchRunner(2, SETTINGS, prices, logger));
    await assert.rejects(workers.process(job(1, 0, 1)), (err) => err instanceof LedgerStateLost);
    const restored = await workers.process(job(1, 0, 1, []));
    assert.ok(restored.rows > 0);
    assert.ok((await workers.process(job(1, 10, 1))).rows > 0);
    await assert.rejects(workers.process(job(1, 20, 2)), LedgerStateLost);
    // forget reaches the worker before the next batch.
    workers.forget(1);
    await assert.rejects(workers.process(job(1, 30, 1)), LedgerStateLost);
    assert.ok((await workers.process(job(1, 30, 2, []))).rows > 0);
    // Another kind of failure is not LedgerStateLost, and the worker survives it too.
    const broken: SpanBatchJob = {
      ...job(3, 0, 1, []),
      messages: [{ offset: 'x', timestamp: '0', value: null, contentType: undefined }],
    };
    await assert.rejects(workers.process(broken), (err) => err instanceof Error && !(err instanceof LedgerStateLost));
    assert.ok((await workers.process(job(3, 0, 1, []))).rows > 0);

    const inline = track(new InlineSpanBatchRunner(SETTINGS, prices));
    await assert.rejects(inline.process(job(1, 0, 1)), (err) => err instanceof LedgerStateLost);
  });

  it('replaces a worker that dies: its batch rejects, the next gets prices and a ledger restored again', async () => {
    const workers = track(new WorkerSpanBatchRunner(1, SETTINGS, prices, logger));
    assert.ok((await workers.process(job(0, 0, 1, []))).rows > 0);
    const pool = workers as unknown as { workers: { worker: Worker }[] };
    const dying = pool.workers[0]!.worker;
    const exited = new Promise((resolve) => dying.once('exit', resolve));
    await dying.terminate();
    await exited;
    assert.notEqual(pool.workers[0]!.worker, dying, 'a new worker took its place');
    // The new worker never held the partition's ledger: the consumer restores it and retries.
    await assert.rejects(workers.process(job(0, 10, 1)), LedgerStateLost);
    const batch = job(0, 10, 2, []);
    const again = await workers.process(batch);
    const inline = track(new InlineSpanBatchRunner(SETTINGS, prices));
    const expected = await inline.process(batch);
    assert.ok(again.rows > 0);
    assert.deepEqual(Buffer.from(again.encoded!.body), Buffer.from(expected.encoded!.body), 'priced as before');
  });

  it('close(): later batches reject, and closing twice is fine', async () => {
    const workers = new WorkerSpanBatchRunner(2, SETTINGS, prices, logger);
    runners.push(workers);
    assert.ok((await workers.process(job(0, 0, 1, []))).rows > 0);
    await workers.close();
    await workers.close();
    await assert.rejects(workers.process(job(0, 10, 1)), /closed/);
    workers.forget(0);

    const inline = new InlineSpanBatchRunner(SETTINGS, prices);
    await inline.close();
    await inline.close();
  });
});
