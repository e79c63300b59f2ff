import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { CostSpanProcessor } from '@costtrace/otel';

/** Prometheus metrics of demo-inference (served on GET /metrics), on a registry of its own. */
export class DemoMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'status'>;
  readonly modelCalls: Counter<'model'>;
  readonly gpuBatches: Counter<'model'>;
  readonly throttled: Counter<'route' | 'outcome'>;

  constructor(options: { processor?: CostSpanProcessor | undefined; processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'demo_requests_total',
      help: 'Inference requests by route and HTTP status',
      labelNames: ['route', 'status'],
      registers,
    });
    this.modelCalls = new Counter({
      name: 'demo_model_calls_total',
      help: 'Model calls by model',
      labelNames: ['model'],
      registers,
    });
    this.gpuBatches = new Counter({
      name: 'demo_gpu_batches_total',
      help: 'GPU batches run for self-hosted models',
      labelNames: ['model'],
      registers,
    });
    this.throttled = new Counter({
      name: 'demo_throttled_requests_total',
      help: 'Requests under a budget throttle: rejected (429) or degraded to a cheaper model',
      labelNames: ['route', 'outcome'],
      registers,
    });
    const processor = options.processor;
    if (processor !== undefined) {
      new Gauge({
        name: 'costtrace_sdk_spans',
        help: 'Spans the CostSpanProcessor priced, or could not price (by reason), since start',
        labelNames: ['outcome', 'reason'],
        registers,
        collect() {
          const stats = processor.stats();
          this.set({ outcome: 'priced', reason: '' }, stats.priced);
          for (const [reason, count] of Object.entries(stats.unpricedByReason)) {
            this.set({ outcome: 'unpriced', reason }, count);
          }
          this.set({ outcome: 'rollup', reason: '' }, stats.rollups);
          this.set({ outcome: 'error', reason: '' }, stats.errors);
        },
      });
    }
    if (options.processMetrics === true) collectDefaultMetrics({ register: this.registry });
  }
}
