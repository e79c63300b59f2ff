import { Buffer } from 'node:buffer';
import { Worker } from 'node:worker_threads';
import { snapshotDocument } from '@costtrace/core';
import type { PriceSource, PricingView, SnapshotDocument } from '@costtrace/core';
import type { Logger } from 'pino';
import { LedgerStateLost, SpanBatchProcessor } from './span-batch.js';
import type { BatchMessage, ProcessedSpanBatch, SpanBatchJob, SpanBatchSettings } from './span-batch.js';

/** Runs the consumer's batch processing: in its own thread, or in a pool of worker threads. */
export interface SpanBatchRunner {
  /** Threads that process batches (0: the consumer's own). */
  readonly threads: number;
  process(job: SpanBatchJob): Promise<ProcessedSpanBatch>;
  /** The partition was revoked: its ledger may go. */
  forget(partition: number): void;
  /** Ends the workers; in-flight batches fail. */
  close(): Promise<void>;
}

/** In the consumer's thread (the embedded mode, and `COSTTRACE_WORKER_THREADS=0`). */
export class InlineSpanBatchRunner implements SpanBatchRunner {
  readonly threads = 0;
  private readonly processor: SpanBatchProcessor;

  constructor(settings: SpanBatchSettings, prices: PriceSource) {
    this.processor = new SpanBatchProcessor(settings, prices);
  }

  process(job: SpanBatchJob): Promise<ProcessedSpanBatch> {
    try {
      return Promise.resolve(this.processor.process(job));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  forget(partition: number): void {
    this.processor.forget(partition);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A batch's messages packed into one buffer, so that it crosses to a worker by transfer. */
export interface PackedMessages {
  readonly data: Uint8Array;
  /** Byte length of each value; -1 for a null value. */
  readonly lengths: Int32Array;
  readonly offsets: readonly string[];
  readonly timestamps: readonly string[];
  readonly contentTypes: readonly (string | undefined)[];
}

export function packMessages(messages: readonly BatchMessage[]): PackedMessages {
  let total = 0;
  for (const m of messages) total += m.value?.length ?? 0;
  const data = new Uint8Array(total);
  const lengths = new Int32Array(messages.length);
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    const value = messages[i]!.value;
    if (value === null) {
      lengths[i] = -1;
      continue;
    }
    data.set(value, at);
    at += value.length;
    lengths[i] = value.length;
  }
  return {
    data,
    lengths,
    offsets: messages.map((m) => m.offset),
    timestamps: messages.map((m) => m.timestamp),
    contentTypes: messages.map((m) => m.contentType),
  };
}

export function unpackMessages(packed: PackedMessages): BatchMessage[] {
  const messages: BatchMessage[] = [];
  let at = 0;
  for (let i = 0; i < packed.lengths.length; i++) {
    const length = packed.lengths[i]!;
    const value = length < 0 ? null : Buffer.from(packed.data.buffer, packed.data.byteOffset + at, length);
    if (length > 0) at += length;
    messages.push({
      offset: packed.offsets[i]!,
      timestamp: packed.timestamps[i]!,
      value,
      contentType: packed.contentTypes[i],
    });
  }
  return messages;
}

/** Main thread → worker. */
export type WorkerRequest =
  | {
      readonly kind: 'job';
      readonly id: number;
      readonly job: Omit<SpanBatchJob, 'messages'> & { readonly packed: PackedMessages };
      /** The prices to use from now on, when they changed since the worker's last job. */
      readonly pricing?: { readonly document: SnapshotDocument; readonly stale: boolean } | undefined;
    }
  | { readonly kind: 'forget'; readonly partition: number };

/** Worker → main thread. */
export type WorkerReply =
  | { readonly id: number; readonly result: ProcessedSpanBatch }
  | { readonly id: number; readonly error: { readonly name: string; readonly message: string } };

/** What the worker is started with. */
export interface WorkerStart {
  readonly settings: SpanBatchSettings;
}

interface Pending {
  readonly resolve: (result: ProcessedSpanBatch) => void;
  readonly reject: (err: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  readonly pending: Map<number, Pending>;
  /** The prices this worker holds (undefined: none yet). */
  sentView: PricingView | undefined;
}

/** The buffers of a result that move to the main thread instead of being copied. */
export function transferables(result: ProcessedSpanBatch): ArrayBuffer[] {
  const buffers = [
    result.rowMessages.buffer,
    result.rowSpans.buffer,
    result.rowMinutes.buffer,
    result.rowCosts.buffer,
    result.rowCostKeys.buffer,
  ];
  if (result.encoded !== undefined) {
    buffers.push(result.encoded.body.buffer, result.encoded.lineEnds.buffer, result.encoded.days.buffer);
  }
  return [...new Set(buffers.filter((b): b is ArrayBuffer => b instanceof ArrayBuffer && b.byteLength > 0))];
}

/**
 * A pool of worker threads that decode, validate, price and encode batches. Each partition is
 * routed to one worker (partition mod threads), which keeps its model-call ledger; the
 * consumer keeps every partition strictly sequential, so a partition never has two batches in
 * a worker at once. Prices follow the consumer's source: a worker gets the snapshot whenever
 * the source's view changed since its last batch. A worker that dies is replaced; batches it
 * held fail (the consumer retries them) and its ledgers are restored again from the store.
 */
export class WorkerSpanBatchRunner implements SpanBatchRunner {
  private readonly workers: PoolWorker[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    readonly threads: number,
    private readonly settings: SpanBatchSettings,
    private readonly prices: PriceSource,
    private readonly logger: Logger,
  ) {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError('threads must be a positive integer');
    if (settings.output === 'rows') throw new RangeError('worker threads return encoded rows only, not row objects');
    for (let i = 0; i < threads; i++) this.workers.push(this.spawn(i));
  }

  private spawn(index: number): PoolWorker {
    const worker = new Worker(new URL('./span-batch-worker.js', import.meta.url), {
      workerData: { settings: this.settings } satisfies WorkerStart,
      name: `costtrace-span-batch-${index}`,
    });
    const entry: PoolWorker = { worker, pending: new Map(), sentView: undefined };
    worker.on('message', (reply: WorkerReply) => {
      const pending = entry.pending.get(reply.id);
      if (pending === undefined) return;
      entry.pending.delete(reply.id);
      if ('result' in reply) pending.resolve(reply.result);
      else
        pending.reject(
          reply.error.name === 'LedgerStateLost'
            ? new LedgerStateLost(reply.error.message)
            : new Error(`span batch worker: ${reply.error.message}`),
        );
    });
    const fail = (err: Error): void => {
      for (const p of entry.pending.values()) p.reject(err);
      entry.pending.clear();
    };
    worker.on('error', (err) => {
      this.logger.error({ err, worker: index }, 'span batch worker failed');
      fail(err);
    });
    worker.on('exit', (code) => {
      fail(new Error(`span batch worker ${index} exited with code ${code}`));
      if (this.closed) return;
      this.logger.warn({ worker: index, code }, 'span batch worker exited; starting another');
      this.workers[index] = this.spawn(index);
    });
    // An idle pool must not keep the process alive on its own.
    worker.unref();
    return entry;
  }

  process(job: SpanBatchJob): Promise<ProcessedSpanBatch> {
    if (this.closed) return Promise.reject(new Error('the span batch workers are closed'));
    const entry = this.workers[job.partition % this.threads]!;
    const id = this.nextId++;
    const view = this.prices.current();
    let pricing: { document: SnapshotDocument; stale: boolean } | undefined;
    if (entry.sentView !== view) {
      pricing = { document: snapshotDocument(view), stale: view.stale };
      entry.sentView = view;
    }
    const packed = packMessages(job.messages);
    const request: WorkerRequest = {
      kind: 'job',
      id,
      job: { topic: job.topic, partition: job.partition, storedUpTo: job.storedUpTo, ledger: job.ledger, packed },
      pricing,
    };
    return new Promise<ProcessedSpanBatch>((resolve, reject) => {
      entry.pending.set(id, { resolve, reject });
      entry.worker.ref();
      entry.worker.postMessage(request, [packed.data.buffer as ArrayBuffer]);
    }).finally(() => {
      if (entry.pending.size === 0) entry.worker.unref();
    });
  }

  forget(partition: number): void {
    if (this.closed) return;
    const request: WorkerRequest = { kind: 'forget', partition };
    this.workers[partition % this.threads]!.worker.postMessage(request);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
