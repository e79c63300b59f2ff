import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CircuitState } from './sources/circuit-breaker.js';

const CIRCUIT_VALUE: Readonly<Record<CircuitState, number>> = { closed: 0, 'half-open': 1, open: 2 };

/** The service's Prometheus metrics, on a registry of its own (no global state). */
export class PricingMetrics {
  readonly registry = new Registry();
  readonly rpcDuration: Histogram<'method' | 'code'>;
  readonly snapshotVersion: Gauge;
  readonly snapshotAge: Gauge;
  readonly snapshotPrices: Gauge;
  readonly stale: Gauge;
  readonly sourceRefreshes: Counter<'source' | 'result'>;
  readonly sourceAge: Gauge<'source'>;
  readonly circuitState: Gauge<'source'>;
  readonly watchStreams: Gauge;
  readonly persistFailures: Counter;

  constructor(options: { readonly processMetrics: boolean; readonly snapshotAgeSeconds: () => number | undefined }) {
    const registers = [this.registry];
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'costtrace_pricing_' });
    this.rpcDuration = new Histogram({
      name: 'costtrace_pricing_rpc_duration_seconds',
      help: 'gRPC handling time by method and status code',
      labelNames: ['method', 'code'],
      buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
      registers,
    });
    this.snapshotVersion = new Gauge({
      name: 'costtrace_pricing_snapshot_version',
      help: 'Version of the price snapshot being served',
      registers,
    });
    this.snapshotAge = new Gauge({
      name: 'costtrace_pricing_snapshot_age_seconds',
      help: 'Age of the oldest source data in the served snapshot (time since that source last refreshed)',
      registers,
      collect() {
        const age = options.snapshotAgeSeconds();
        if (age !== undefined) this.set(age);
      },
    });
    this.snapshotPrices = new Gauge({
      name: 'costtrace_pricing_snapshot_prices',
      help: 'Price versions in the served snapshot',
      registers,
    });
    this.stale = new Gauge({
      name: 'costtrace_pricing_snapshot_stale',
      help: '1 while some source serves its last good data because its latest refresh failed',
      registers,
    });
    this.sourceRefreshes = new Counter({
      name: 'costtrace_pricing_source_refresh_total',
      help: 'Source refreshes by result: success, failure (fetch), rejected (invalid data), circuit_open',
      labelNames: ['source', 'result'],
      registers,
    });
    this.sourceAge = new Gauge({
      name: 'costtrace_pricing_source_last_success_timestamp_seconds',
      help: 'Unix time of the last successful refresh of each source',
      labelNames: ['source'],
      registers,
    });
    this.circuitState = new Gauge({
      name: 'costtrace_pricing_source_circuit_state',
      help: 'Circuit breaker state per source: 0 closed, 1 half-open, 2 open',
      labelNames: ['source'],
      registers,
    });
    this.watchStreams = new Gauge({
      name: 'costtrace_pricing_watch_streams',
      help: 'Open WatchPrices streams',
      registers,
    });
    this.persistFailures = new Counter({
      name: 'costtrace_pricing_persist_failures_total',
      help: 'Failed writes of the last good snapshot',
      registers,
    });
  }

  setCircuit(source: string, state: CircuitState): void {
    this.circuitState.set({ source }, CIRCUIT_VALUE[state]);
  }
}
