import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the pricing gauges read (the aggregator's PricingFollower). */
export interface PricingState {
  readonly version: string;
  readonly source: string;
  readonly stale: boolean;
  readonly connected: boolean;
}

/** Counters a WebhookDispatcher keeps. */
export interface WebhookDeliveryCounts {
  readonly delivered: number;
  readonly failedAttempts: number;
  readonly deadLettered: number;
}

/**
 * The aggregator's Prometheus metrics, on a registry of its own (no global state). Label values
 * are bounded: reasons come from fixed lists, partitions from the topic, services from a
 * capped set (see costByService).
 */
export class AggregatorMetrics {
  readonly registry = new Registry();
  readonly spansReceived: Counter<'transport'>;
  readonly spansRejectedAtIngest: Counter<'reason'>;
  readonly ingestRequests: Counter<'transport' | 'outcome'>;
  readonly spansConsumed: Counter;
  readonly spansStored: Counter;
  readonly spansRejected: Counter<'reason'>;
  readonly spansSanitized: Counter<'reason'>;
  readonly spansPricedHere: Counter;
  readonly spansUnpriced: Counter;
  readonly pricingRetroactiveChanges: Counter;
  readonly emittedCosts: Counter<'key' | 'outcome'>;
  readonly upperBoundSpans: Counter;
  readonly unchargedSpans: Counter<'role'>;
  readonly usageSpans: Counter<'outcome'>;
  readonly auditDifferences: Counter;
  readonly deadLettered: Counter<'reason'>;
  readonly duplicatesSkipped: Counter;
  readonly rollupRowsRepaired: Counter;
  readonly ownershipLost: Counter;
  readonly rollupExcessKeys: Counter;
  readonly consumerLag: Gauge<'partition'>;
  readonly batchRows: Histogram;
  readonly insertSeconds: Histogram;
  readonly insertFailures: Counter<'code'>;
  readonly handOffFailures: Counter;
  readonly pausedPartitions: Gauge;
  readonly rollupValuesFolded: Counter;
  readonly costByService: Counter<'service' | 'currency'>;
  private readonly services = new Set<string>();

  constructor(
    /** Distinct service label values at most; later ones are counted as __other__. */
    private readonly maxServiceLabels = 200,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'costtrace_aggregator_' });
    this.spansReceived = new Counter({
      name: 'costtrace_ingest_spans_received_total',
      help: 'Spans received by the OTLP receivers and acknowledged by Kafka',
      labelNames: ['transport'],
      registers,
    });
    this.spansRejectedAtIngest = new Counter({
      name: 'costtrace_ingest_spans_rejected_total',
      help: 'Spans refused by the OTLP receivers (reported to the client as partial success)',
      labelNames: ['reason'],
      registers,
    });
    this.ingestRequests = new Counter({
      name: 'costtrace_ingest_requests_total',
      help: 'OTLP export requests by outcome',
      labelNames: ['transport', 'outcome'],
      registers,
    });
    this.spansConsumed = new Counter({
      name: 'costtrace_consumer_spans_in_total',
      help: 'Spans decoded from Kafka',
      registers,
    });
    this.spansStored = new Counter({
      name: 'costtrace_consumer_spans_out_total',
      help: 'Span cost rows acknowledged by ClickHouse',
      registers,
    });
    this.spansRejected = new Counter({
      name: 'costtrace_consumer_spans_rejected_total',
      help: 'Spans rejected by validation and sent to the dead-letter topic, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.spansSanitized = new Counter({
      name: 'costtrace_consumer_spans_sanitized_total',
      help: 'Spans stored after a fix, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.spansPricedHere = new Counter({
      name: 'costtrace_consumer_spans_priced_total',
      help: 'Spans that arrived without cost attributes and were priced by the aggregator',
      registers,
    });
    this.spansUnpriced = new Counter({
      name: 'costtrace_consumer_spans_unpriced_total',
      help: 'Spans with model usage that could not be priced (stored with cost 0 and a reason)',
      registers,
    });
    this.upperBoundSpans = new Counter({
      name: 'costtrace_consumer_upper_bound_spans_total',
      help: 'Spans whose cost is an upper bound (cost.upper_bound: the instrumentation reports no cached-token count, so cached input was billed as uncached)',
      registers,
    });
    this.unchargedSpans = new Counter({
      name: 'costtrace_consumer_uncharged_spans_total',
      help: 'Spans with model usage stored uncharged because it is not their own call’s: role="duplicate" (another span carries the same call: cost.duplicate_of), role="rollup" (the span sums its calls’ usage)',
      labelNames: ['role'],
      registers,
    });
    this.usageSpans = new Counter({
      name: 'costtrace_consumer_usage_spans_total',
      help: 'Spans carrying their own usage (tokens, GPU or instance time), by pricing outcome: exact, upper_bound (cached tokens not reported), unpriced (cost.unpriced_reason). Coverage = exact / all',
      labelNames: ['outcome'],
      registers,
    });
    this.emittedCosts = new Counter({
      name: 'costtrace_consumer_emitted_costs_total',
      help: 'Spans that carried a cost written by another tool (gen_ai.usage.cost, llm.cost.total, gen_ai.usage.cost.amount), by whether it agrees with costtrace’s within 0.5 % (compared only, never added)',
      labelNames: ['key', 'outcome'],
      registers,
    });
    this.pricingRetroactiveChanges = new Counter({
      name: 'costtrace_pricing_retroactive_changes_total',
      help: 'Price or override changes from pricing-cache that took effect before they arrived: stored rows keep their cost until `costtrace reprice` applies them',
      registers,
    });
    this.auditDifferences = new Counter({
      name: 'costtrace_consumer_audit_differences_total',
      help: 'Stamped span costs that differ from the aggregator recomputation (audit mode)',
      registers,
    });
    this.deadLettered = new Counter({
      name: 'costtrace_consumer_dead_letter_messages_total',
      help: 'Messages written to the dead-letter topic, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.duplicatesSkipped = new Counter({
      name: 'costtrace_consumer_redelivered_spans_skipped_total',
      help: 'Spans of redelivered messages not inserted again because the store already holds them',
      registers,
    });
    this.rollupRowsRepaired = new Counter({
      name: 'costtrace_consumer_rollup_rows_repaired_total',
      help: 'Rollup rows written by recovery because a crash left the rollup short of the stored spans',
      registers,
    });
    this.ownershipLost = new Counter({
      name: 'costtrace_consumer_batches_abandoned_total',
      help: 'Batches left unwritten because the heartbeat before a write failed (partition reassigned or rebalancing)',
      registers,
    });
    this.rollupExcessKeys = new Counter({
      name: 'costtrace_consumer_rollup_excess_keys_total',
      help: 'Rollup keys found holding more than their spans during recovery (not expected on ClickHouse 18.16; corrected)',
      registers,
    });
    this.consumerLag = new Gauge({
      name: 'costtrace_consumer_lag_messages',
      help: 'Messages between the last processed offset and the high watermark, per partition',
      labelNames: ['partition'],
      registers,
    });
    this.batchRows = new Histogram({
      name: 'costtrace_consumer_batch_rows',
      help: 'Rows per ClickHouse insert',
      buckets: [10, 100, 1000, 5000, 10_000, 25_000, 50_000, 100_000, 250_000],
      registers,
    });
    this.insertSeconds = new Histogram({
      name: 'costtrace_consumer_insert_seconds',
      help: 'ClickHouse insert latency',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.insertFailures = new Counter({
      name: 'costtrace_consumer_insert_failures_total',
      help: 'Failed ClickHouse inserts by store error code (the batch is retried)',
      labelNames: ['code'],
      registers,
    });
    this.handOffFailures = new Counter({
      name: 'costtrace_consumer_budget_handoff_failures_total',
      help: 'Stored batches whose rows could not be handed to budgets (cost_deltas) after retries',
      registers,
    });
    this.pausedPartitions = new Gauge({
      name: 'costtrace_consumer_paused_partitions',
      help: 'Partitions paused while ClickHouse is unavailable',
      registers,
    });
    this.rollupValuesFolded = new Counter({
      name: 'costtrace_consumer_rollup_values_folded_total',
      help: 'Dimension values folded into __other__ for the rollups by the cardinality bound',
      registers,
    });
    this.costByService = new Counter({
      name: 'costtrace_cost_total',
      help: 'Stored cost by service (float copy for dashboards; ClickHouse holds the exact sums)',
      labelNames: ['service', 'currency'],
      registers,
    });
  }

  /**
   * Exports the webhook dispatcher's counters (read at scrape time) as
   * costtrace_webhook_deliveries_total{outcome=delivered|failed_attempt|dead}.
   */
  /**
   * Gauges of the prices in use, read at scrape time: `costtrace_pricing_snapshot_info{version,
   * source}` (1), `costtrace_pricing_snapshot_stale` and `costtrace_pricing_connected`.
   */
  bridgePricing(read: () => PricingState): void {
    const registers = [this.registry];
    new Gauge({
      name: 'costtrace_pricing_snapshot_info',
      help: 'The price snapshot the aggregator prices with (version, and where it came from: pricing-cache, state-file, snapshot-file, bundled)',
      labelNames: ['version', 'source'],
      registers,
      collect() {
        const state = read();
        this.reset();
        this.set({ version: state.version, source: state.source }, 1);
      },
    });
    new Gauge({
      name: 'costtrace_pricing_snapshot_stale',
      help: '1 when the price snapshot is stale (pricing-cache silent or its sources stale)',
      registers,
      collect() {
        this.set(read().stale ? 1 : 0);
      },
    });
    new Gauge({
      name: 'costtrace_pricing_connected',
      help: '1 while the watch stream to pricing-cache is open',
      registers,
      collect() {
        this.set(read().connected ? 1 : 0);
      },
    });
  }

  bridgeWebhookDeliveries(source: () => WebhookDeliveryCounts | undefined): void {
    if (this.registry.getSingleMetric('costtrace_webhook_deliveries_total') !== undefined) return;
    new Counter({
      name: 'costtrace_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome: delivered, failed_attempt (will retry or dead-letter), dead',
      labelNames: ['outcome'],
      registers: [this.registry],
      collect() {
        const counts = source();
        this.reset();
        this.inc({ outcome: 'delivered' }, counts?.delivered ?? 0);
        this.inc({ outcome: 'failed_attempt' }, counts?.failedAttempts ?? 0);
        this.inc({ outcome: 'dead' }, counts?.deadLettered ?? 0);
      },
    });
  }

  /** `costtrace_budget_unpriced_matches_total{count_as}`: unpriced spans met by budgets, read at scrape time. */
  bridgeUnpricedBudgetMatches(source: () => { unpricedAsZero: number; unpricedEstimated: number }): void {
    if (this.registry.getSingleMetric('costtrace_budget_unpriced_matches_total') !== undefined) return;
    new Counter({
      name: 'costtrace_budget_unpriced_matches_total',
      help: 'Unpriced spans (cost.unpriced_reason) matched by a budget, by what the budget did with them: count_as="zero" (counted as $0) or "estimate" (its unpriced estimate added)',
      labelNames: ['count_as'],
      registers: [this.registry],
      collect() {
        const counts = source();
        this.reset();
        this.inc({ count_as: 'zero' }, counts.unpricedAsZero);
        this.inc({ count_as: 'estimate' }, counts.unpricedEstimated);
      },
    });
  }

  /** Adds stored cost for a service, folding services beyond the label cap into __other__. */
  addCost(service: string, currency: string, amount: number): void {
    if (amount === 0) return;
    let label = service;
    if (!this.services.has(service)) {
      if (this.services.size < this.maxServiceLabels) this.services.add(service);
      else label = '__other__';
    }
    this.costByService.inc({ service: label, currency }, amount);
  }
}
