import type { Span, Tracer } from '@opentelemetry/api';
import { ROLLUP_ATTRIBUTE, recordGpuUsage } from '@costtrace/otel';
import type { SelfHostedModel } from './catalog.js';
import { sleep } from './inference-simulator.js';

/** Thrown by `run` when a model's queue is full: answer 503 with Retry-After (backpressure). */
export class GpuQueueFullError extends Error {
  override readonly name = 'GpuQueueFullError';
}

interface Pending {
  readonly span: Span;
  readonly tokens: number;
  readonly resolve: (batch: { size: number; gpuSeconds: number }) => void;
}

/**
 * Dynamic batching as in a self-hosted inference server: requests for a model wait up to
 * `windowMs` (or until `maxBatchSize`), run as one batch on one GPU, and each request span is
 * charged the batch's GPU-seconds in proportion to its tokens. The batch span carries the total
 * as roll-up usage (`costtrace.usage.rollup=true`), so nothing is counted twice.
 */
export class GpuBatcher {
  private readonly queues = new Map<string, Pending[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  batches = 0;
  /** Requests refused because a model's queue was full. */
  dropped = 0;

  constructor(
    private readonly onBatch: (model: string, size: number) => void,
    private readonly tracer: Tracer,
    private readonly gpuType: string,
    private readonly windowMs: number,
    private readonly maxBatchSize: number,
    private readonly latencyScale: number,
    /** Most requests waiting per model; more are refused (GpuQueueFullError). */
    private readonly maxQueued = 256,
  ) {}

  /** Queues a request; resolves when its batch finished, after its share was recorded on `span`. */
  run(model: SelfHostedModel, span: Span, tokens: number): Promise<{ size: number; gpuSeconds: number }> {
    const waiting = this.queues.get(model.model)?.length ?? 0;
    if (waiting >= this.maxQueued) {
      this.dropped += 1;
      return Promise.reject(new GpuQueueFullError(`GPU queue for ${model.model} is full (${waiting} waiting)`));
    }
    return new Promise((resolve) => {
      let queue = this.queues.get(model.model);
      if (queue === undefined) this.queues.set(model.model, (queue = []));
      queue.push({ span, tokens, resolve });
      if (queue.length >= this.maxBatchSize) this.flush(model);
      else if (!this.timers.has(model.model)) {
        this.timers.set(
          model.model,
          setTimeout(() => this.flush(model), this.windowMs),
        );
      }
    });
  }

  private flush(model: SelfHostedModel): void {
    const timer = this.timers.get(model.model);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(model.model);
    const batch = this.queues.get(model.model)?.splice(0, this.maxBatchSize) ?? [];
    if (batch.length === 0) return;
    this.batches += 1;
    this.onBatch(model.model, batch.length);
    const totalTokens = batch.reduce((sum, p) => sum + p.tokens, 0);
    const gpuSeconds = Math.round((model.batchOverheadS + model.perTokenS * totalTokens) * 1e6) / 1e6;
    const span = this.tracer.startSpan(`gpu batch ${model.model}`, {
      attributes: { 'costtrace.gpu.batch_size': batch.length, [ROLLUP_ATTRIBUTE]: true },
      links: batch.map((p) => ({ context: p.span.spanContext() })),
    });
    recordGpuUsage(span, { gpuType: this.gpuType, seconds: gpuSeconds, source: 'manual' });
    void sleep(gpuSeconds * 1000 * this.latencyScale).then(() => {
      for (const p of batch) {
        recordGpuUsage(p.span, {
          gpuType: this.gpuType,
          seconds: totalTokens === 0 ? gpuSeconds / batch.length : (gpuSeconds * p.tokens) / totalTokens,
          source: 'manual',
        });
        p.resolve({ size: batch.length, gpuSeconds });
      }
      span.end();
    });
    if ((this.queues.get(model.model)?.length ?? 0) > 0) this.flush(model);
  }

  /** Runs whatever is queued now (shutdown). */
  drain(models: readonly SelfHostedModel[]): void {
    for (const model of models) this.flush(model);
  }
}
