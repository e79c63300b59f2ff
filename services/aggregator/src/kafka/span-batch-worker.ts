// A worker thread of WorkerSpanBatchRunner: decodes, validates, prices and encodes the batches
// of the partitions routed to it, with the prices the consumer's thread sends along.
import { parentPort, workerData } from 'node:worker_threads';
import { viewFromDocument } from '@costtrace/core';
import type { PricingView } from '@costtrace/core';
import { SpanBatchProcessor } from './span-batch.js';
import { transferables, unpackMessages } from './span-batch-runner.js';
import type { WorkerReply, WorkerRequest, WorkerStart } from './span-batch-runner.js';

const port = parentPort;
if (port === null) throw new Error('span-batch-worker runs as a worker thread');
const { settings } = workerData as WorkerStart;
let view: PricingView | undefined;
const processor = new SpanBatchProcessor(settings, {
  current(): PricingView {
    if (view === undefined) throw new Error('no prices received yet');
    return view;
  },
});

port.on('message', (request: WorkerRequest) => {
  if (request.kind === 'forget') {
    processor.forget(request.partition);
    return;
  }
  let reply: WorkerReply;
  try {
    if (request.pricing !== undefined) {
      view = viewFromDocument(request.pricing.document, 'the consumer’s price snapshot', request.pricing.stale);
    }
    const { packed, ...job } = request.job;
    const result = processor.process({ ...job, messages: unpackMessages(packed) });
    port.postMessage({ id: request.id, result } satisfies WorkerReply, transferables(result));
    return;
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    reply = { id: request.id, error: { name: error.name, message: error.message } };
  }
  port.postMessage(reply);
});
