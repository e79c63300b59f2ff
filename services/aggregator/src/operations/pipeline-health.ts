import type { Counter, Gauge } from 'prom-client';
import type { AggregatorMetrics } from './aggregator-metrics.js';

/** Pipeline health as `GET /api/v1/health` serves it (counters are since this process started). */
export interface PipelineHealth {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, boolean>>;
  readonly consumer: {
    /** Messages behind the high watermark, per partition of the spans topic. */
    readonly lag: readonly { readonly partition: string; readonly messages: number }[];
    readonly lag_total: number;
    readonly paused_partitions: number;
  };
  readonly spans: {
    /** Spans accepted by the OTLP receivers. */
    readonly received: number;
    /** Spans decoded from Kafka. */
    readonly in: number;
    /** Cost rows acknowledged by the store. */
    readonly out: number;
    /** Stored with cost 0 because no price matched. */
    readonly unpriced: number;
    /** Priced by the aggregator because they arrived without cost attributes. */
    readonly priced_here: number;
    readonly rejected: number;
  };
  /**
   * Pricing coverage of the spans consumed: of those carrying their own usage, how many were
   * priced exactly (`share`, null before the first), as an upper bound, or not at all; and the
   * usage-bearing spans not charged again (duplicates, roll-ups). Per service, model and emitter
   * over any range: `GET /api/v1/coverage`.
   */
  readonly coverage: {
    readonly usage_spans: number;
    readonly exact: number;
    readonly upper_bound: number;
    readonly unpriced: number;
    readonly share: number | null;
    readonly duplicates: number;
    readonly rollups: number;
  };
  readonly dead_letter: { readonly messages: number; readonly by_reason: Readonly<Record<string, number>> };
  readonly insert_failures: number;
  readonly generated_at: string;
}

async function total(metric: Counter<string> | Gauge<string>): Promise<number> {
  const { values } = await metric.get();
  return values.reduce((sum, v) => sum + v.value, 0);
}

async function byLabel(metric: Counter<string> | Gauge<string>, label: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await metric.get()).values) {
    const key = String(v.labels[label] ?? '');
    out[key] = (out[key] ?? 0) + v.value;
  }
  return out;
}

/** Reads the aggregator's metrics (no extra bookkeeping) and the readiness checks into one document. */
export async function pipelineHealth(
  metrics: AggregatorMetrics,
  readiness: { ready: boolean; checks: Record<string, boolean> },
  now: Date = new Date(),
): Promise<PipelineHealth> {
  const lagByPartition = await byLabel(metrics.consumerLag, 'partition');
  const lag = Object.entries(lagByPartition)
    .map(([partition, messages]) => ({ partition, messages }))
    .sort((a, b) => Number(a.partition) - Number(b.partition));
  const dlqByReason = await byLabel(metrics.deadLettered, 'reason');
  const usage = await byLabel(metrics.usageSpans, 'outcome');
  const uncharged = await byLabel(metrics.unchargedSpans, 'role');
  const exact = usage.exact ?? 0;
  const usageSpans = exact + (usage.upper_bound ?? 0) + (usage.unpriced ?? 0);
  return {
    ready: readiness.ready,
    checks: readiness.checks,
    consumer: {
      lag,
      lag_total: lag.reduce((sum, p) => sum + p.messages, 0),
      paused_partitions: await total(metrics.pausedPartitions),
    },
    spans: {
      received: await total(metrics.spansReceived),
      in: await total(metrics.spansConsumed),
      out: await total(metrics.spansStored),
      unpriced: await total(metrics.spansUnpriced),
      priced_here: await total(metrics.spansPricedHere),
      rejected: await total(metrics.spansRejected),
    },
    coverage: {
      usage_spans: usageSpans,
      exact,
      upper_bound: usage.upper_bound ?? 0,
      unpriced: usage.unpriced ?? 0,
      share: usageSpans === 0 ? null : Math.floor((exact * 10_000) / usageSpans) / 10_000,
      duplicates: uncharged.duplicate ?? 0,
      rollups: uncharged.rollup ?? 0,
    },
    dead_letter: {
      messages: Object.values(dlqByReason).reduce((sum, n) => sum + n, 0),
      by_reason: dlqByReason,
    },
    insert_failures: await total(metrics.insertFailures),
    generated_at: now.toISOString(),
  };
}
