import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { credentials } from '@grpc/grpc-js';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { ClickHouseStore, DuckDbStore, jobSpendSql, StoreError } from '@costtrace/store';
import type { CostStore } from '@costtrace/store';
import { QueryApiServer } from './api/query-api-server.js';
import { BudgetsApi, budgetsErrorMapper } from './budgets/budgets-http.js';
import type { AggregatorConfig } from './config.js';
import { OtlpGrpcReceiver } from './ingest/otlp-grpc-receiver.js';
import { OtlpHttpReceiver } from './ingest/otlp-http-receiver.js';
import { SpanIngest } from './ingest/span-ingest.js';
import { KafkaMessageLog } from './message-log/kafka-message-log.js';
import type { MessageLog } from './message-log/message-log.js';
import { SpanConsumer } from './kafka/span-consumer.js';
import type { ConsumerStage } from './kafka/span-consumer.js';
import { SpanProducer } from './kafka/span-producer.js';
import { InlineSpanBatchRunner, WorkerSpanBatchRunner } from './kafka/span-batch-runner.js';
import type { SpanBatchRunner } from './kafka/span-batch-runner.js';
import type { SpanBatchSettings } from './kafka/span-batch.js';
import { AggregatorMetrics } from './operations/aggregator-metrics.js';
import { pipelineHealth } from './operations/pipeline-health.js';
import { untilAvailable } from './operations/dependency-wait.js';
import { ReadinessProbe } from './operations/readiness-probe.js';
import { RetentionJob } from './operations/retention-job.js';
import type { SpanRowOptions } from './otlp/span-rows.js';
import { PricingFollower } from './pricing/pricing-follower.js';
import type { PricingFollowerStatus } from './pricing/pricing-follower.js';
import { ClickHouseBudgetStore } from './budgets/budget-store.js';
import type { BudgetStore } from './budgets/budget-store.js';
import { BudgetService } from './budgets/budget-service.js';
import type { BudgetsConfig } from './budgets/budgets-config.js';
import { bundledPriceSnapshot, MONEY_SCALE, parseScaled } from '@costtrace/core';
import type { PriceSnapshot, PriceSource } from '@costtrace/core';
import { DriftMonitor } from './reconcile/drift-monitor.js';
import { addPreflightRoutes } from './preflight/preflight-http.js';
import { PreflightService } from './preflight/preflight-service.js';

export interface AggregatorOptions {
  readonly config: AggregatorConfig;
  readonly logger?: Logger | undefined;
  /** Run the OTLP receivers (default true). */
  readonly ingest?: boolean | undefined;
  /** Run the Kafka → ClickHouse consumer (default true). */
  readonly consume?: boolean | undefined;
  /** Run the query API / metrics server (default true). */
  readonly api?: boolean | undefined;
  /**
   * Prices for unstamped spans; default: a PricingFollower on config (pricing-cache, the kept
   * snapshot, a snapshot file or the bundled catalog).
   */
  readonly prices?: PriceSource | undefined;
  /**
   * Budgets, throttles and webhooks (cost_deltas → evaluator → signed webhooks, /v1/budgets and
   * /v1/throttles on the API server). Off when absent; `main` turns it on unless COSTTRACE_BUDGETS=off.
   */
  readonly budgets?: BudgetsConfig | undefined;
  /**
   * The message log; default: Kafka on config.kafkaBrokers (KafkaMessageLog). The embedded mode
   * passes an InProcessMessageLog over its bus.
   */
  readonly messageLog?: MessageLog | undefined;
  /** Cost storage; default: ClickHouseStore from config. The embedded mode passes a DuckDbStore. */
  readonly store?: CostStore | undefined;
  /**
   * Budgets that the caller built and started (with a clock or retry policy of its own, as tests
   * and benchmarks do): the consumer hands its rows to this service instead of one built from
   * `budgets`, and the caller stops it.
   */
  readonly budgetService?: BudgetService | undefined;
  /** Budget persistence; default: ClickHouseBudgetStore on the ClickHouse store (required otherwise). */
  readonly budgetStore?: BudgetStore | undefined;
  /** Observes the consumer's batch stages (crash tests). */
  readonly onConsumerStage?: ((stage: ConsumerStage, info: { partition: number; rows: number }) => void) | undefined;
}

export interface AggregatorAddresses {
  http?: AddressInfo;
  grpcPort?: number;
  api?: AddressInfo;
}

/** The aggregator process: OTLP ingest → Kafka → validation, pricing → ClickHouse; query API. */
export class Aggregator {
  readonly logger: Logger;
  readonly store: CostStore;
  readonly metrics = new AggregatorMetrics();
  private readonly producer: SpanProducer;
  private httpReceiver: OtlpHttpReceiver | undefined;
  private grpcReceiver: OtlpGrpcReceiver | undefined;
  private spanIngest: SpanIngest | undefined;
  private consumer: SpanConsumer | undefined;
  private apiServer: QueryApiServer | undefined;
  private retention: RetentionJob | undefined;
  private budgetService: BudgetService | undefined;
  private driftMonitor: DriftMonitor | undefined;
  private preflightService: PreflightService | undefined;
  /** Worker threads of the consumer's batch runner (see `workerThreads`). */
  private threads = 0;
  private pricing: PricingFollower | undefined;
  /** The log answered at start: readiness may ask it (see ReadinessProbe). */
  private kafkaConnected = false;
  private stopping: Promise<void> | undefined;
  /** Aborted by stop(): ends a start-up that still waits for ClickHouse or Kafka. */
  private readonly abort = new AbortController();
  /** What start-up waits for, while it does (readiness reports it). */
  private waitingFor: { dependency: string; reason: string } | undefined;
  private started = false;

  constructor(private readonly options: AggregatorOptions) {
    const { config } = options;
    this.logger = options.logger ?? pino({ level: config.logLevel, base: { service: 'costtrace-aggregator' } });
    this.store =
      options.store ??
      new ClickHouseStore({
        url: config.clickhouseUrl,
        database: config.clickhouseDatabase,
        username: config.clickhouseUser,
        password: config.clickhousePassword,
        requestTimeoutMs: config.clickhouseTimeoutMs,
      });
    if (
      options.budgets !== undefined &&
      options.budgetStore === undefined &&
      !(this.store instanceof ClickHouseStore)
    ) {
      throw new Error(`budgets on a ${this.store.kind} store need options.budgetStore`);
    }
    this.log =
      options.messageLog ??
      new KafkaMessageLog({ brokers: config.kafkaBrokers, clientId: config.kafkaClientId, logger: this.logger });
    this.producer = new SpanProducer(this.log, config.spansTopic);
  }

  private readonly log: MessageLog;

  /**
   * What decodes, validates, prices and encodes the consumer's batches: worker threads
   * (COSTTRACE_WORKER_THREADS) for a store that takes encoded rows, else the consumer's thread.
   */
  private batchRunner(
    prices: PriceSource,
    usageReader: SpanBatchSettings['usageReader'],
    limits: SpanBatchSettings['limits'],
    budgetRows: boolean,
  ): SpanBatchRunner {
    const { config } = this.options;
    const settings: SpanBatchSettings = {
      pricer: { selfHostedProviders: config.selfHostedProviders, inputTokenRules: config.inputTokenRules },
      usageReader,
      limits,
      audit: config.auditStampedCosts,
      maxDimensionValuesPerHour: config.maxDimensionValuesPerHour,
      output: this.store.insertEncodedSpanCosts === undefined ? 'rows' : 'rowbinary',
      budgetRows,
    };
    const runner =
      config.workerThreads === 0 || settings.output === 'rows'
        ? new InlineSpanBatchRunner(settings, prices)
        : new WorkerSpanBatchRunner(config.workerThreads, settings, prices, this.logger);
    this.threads = runner.threads;
    return runner;
  }

  /** Worker threads of the consumer (0: it processes batches in its own thread). */
  get workerThreads(): number {
    return this.threads;
  }

  /**
   * Starts the API (not ready yet), waits for ClickHouse (migrations) and Kafka with backoff,
   * however long they are down, then starts budgets, the consumer and the OTLP receivers. A
   * failure that waiting cannot cure (bad credentials, a broken migration) rejects at once; a
   * stop requested meanwhile rejects with StartAborted.
   */
  async start(): Promise<AggregatorAddresses> {
    const { config } = this.options;
    const prices = this.options.prices ?? (this.pricing = await this.openPricing());
    const limits = {
      maxAgeSeconds: config.maxSpanAgeSeconds,
      maxFutureSeconds: config.maxSpanFutureSeconds,
      maxTokensPerSpan: config.maxTokensPerSpan,
      maxAttributeValueLength: config.maxAttributeValueLength,
    };
    const usageReader = { emitterInputRules: config.emitterInputRules, providerAliases: config.providerAliases };
    // Ingest only decides accept or reject (pricing never rejects): the consumer prices.
    const ingestRows: SpanRowOptions = { prices, limits, price: false, usageReader };
    const addresses: AggregatorAddresses = {};
    if (this.options.api ?? true) addresses.api = await this.startApi();

    const wait = {
      logger: this.logger,
      signal: this.abort.signal,
      onWaiting: (dependency: string, reason: string) => {
        this.waitingFor = { dependency, reason: reason.slice(0, 300) };
      },
    };
    await untilAvailable(
      this.store.kind === 'clickhouse' ? 'ClickHouse' : 'DuckDB',
      () => this.store.migrate(),
      (err) => err instanceof StoreError && err.retryable,
      wait,
    );
    // Any Kafka failure at this point is the broker being down or unreachable (the addresses
    // were validated with the configuration): wait for it.
    await untilAvailable(
      'Kafka',
      () => this.log.ping(),
      () => true,
      wait,
    );
    this.kafkaConnected = true;
    this.waitingFor = undefined;

    if (this.options.budgetService !== undefined) {
      this.budgetService = this.options.budgetService;
    } else if (this.options.budgets !== undefined) {
      this.budgetService = new BudgetService({
        config: this.options.budgets,
        log: this.log,
        store: this.options.budgetStore ?? new ClickHouseBudgetStore(this.store as ClickHouseStore),
        logger: this.logger,
      });
      await this.budgetService.start();
      const service = this.budgetService;
      this.metrics.bridgeUnpricedBudgetMatches(() => service.deltaStats);
      this.metrics.bridgeWebhookDeliveries(() => {
        try {
          return service.dispatcher;
        } catch {
          return undefined; // stopped
        }
      });
    }
    const budgets = this.budgetService;
    const driftCheckMs = this.options.budgets?.driftCheckMs ?? 3_600_000;
    if (
      budgets !== undefined &&
      driftCheckMs > 0 &&
      (this.store instanceof ClickHouseStore || this.store instanceof DuckDbStore)
    ) {
      // The budgets file's drift rules, on the imported bills beside the spans.
      this.driftMonitor = new DriftMonitor({
        store: this.store,
        snapshot: () => this.pricesSnapshot(),
        rules: () => budgets.registry.driftRules(),
        publish: (event, endpoints) => budgets.dispatcher.publish(event, endpoints),
        logger: this.logger,
        intervalMs: driftCheckMs,
      });
      this.driftMonitor.start();
    }
    if (budgets !== undefined) {
      // Decisions before the spend: the budgets file's preflight rules, reservations settled by the jobs' spans.
      const spans = this.store instanceof ClickHouseStore || this.store instanceof DuckDbStore ? this.store : undefined;
      this.preflightService = new PreflightService({
        store: budgets.documents,
        rules: () => budgets.registry.preflightRules(),
        catalog: () => budgets.registry.catalog(),
        status: (budgetId) => budgets.status(budgetId),
        snapshot: () => this.pricesSnapshot(),
        spend:
          spans === undefined
            ? undefined
            : async (items, currency) => {
                const rows = await spans.select<{ job_id: string; spend: string }>(
                  jobSpendSql(spans.database, items, currency, spans.literal),
                );
                return new Map(rows.map((r) => [r.job_id, parseScaled(r.spend, MONEY_SCALE)]));
              },
        publish: (event, endpoints) => budgets.dispatcher.publish(event, endpoints),
        logger: this.logger,
        settleMs: this.options.budgets?.preflightSettleMs,
      });
      await this.preflightService.start();
    }
    if (this.options.consume ?? true) {
      this.consumer = new SpanConsumer({
        log: this.log,
        topic: config.spansTopic,
        deadLetterTopic: config.deadLetterTopic,
        groupId: config.consumerGroupId,
        store: this.store,
        runner: this.batchRunner(prices, usageReader, limits, budgets !== undefined),
        logger: this.logger,
        metrics: this.metrics,
        maxBatchRows: config.maxBatchRows,
        sessionTimeoutMs: config.sessionTimeoutMs,
        rebalanceTimeoutMs: config.rebalanceTimeoutMs,
        maxBytesPerPartition: config.maxBytesPerPartition,
        fetchMinBytes: config.fetchMinBytes,
        fetchMaxWaitMs: config.fetchMaxWaitMs,
        partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
        onStage: this.options.onConsumerStage,
        onRowsStored: budgets === undefined ? undefined : (rows) => budgets.onRowsStored(rows),
        ledger:
          config.dedupeMaxTraces === 0
            ? undefined
            : { maxTraces: config.dedupeMaxTraces, restoreWindowSeconds: config.dedupeRestoreSeconds },
      });
      await this.consumer.start();
      // Partition-drop retention is ClickHouse's; the embedded store keeps everything.
      if (config.retentionIntervalSeconds > 0 && this.store instanceof ClickHouseStore) {
        this.retention = new RetentionJob(
          this.store,
          { spanDays: config.retentionSpanDays, rollupDays: config.retentionRollupDays },
          config.retentionIntervalSeconds * 1000,
          this.logger,
        );
        this.retention.start();
      }
    }
    if (this.options.ingest ?? true) {
      await this.producer.connect();
      this.spanIngest = new SpanIngest({
        producer: this.producer,
        rowOptions: ingestRows,
        maxMessageBytes: config.maxMessageBytes,
        maxInFlight: config.maxInFlightRequests,
        metrics: this.metrics,
        logger: this.logger,
      });
      this.httpReceiver = new OtlpHttpReceiver({
        host: config.httpHost,
        port: config.httpPort,
        maxRequestBytes: config.maxRequestBytes,
        maxDecompressedBytes: config.maxDecompressedBytes,
        ingest: this.spanIngest,
        logger: this.logger,
      });
      this.grpcReceiver = new OtlpGrpcReceiver({
        host: config.grpcHost,
        port: config.grpcPort,
        maxMessageBytes: config.maxDecompressedBytes,
        ingest: this.spanIngest,
        logger: this.logger,
      });
      addresses.http = await this.httpReceiver.listen();
      addresses.grpcPort = await this.grpcReceiver.listen();
    }
    this.started = true;
    this.logger.info(
      {
        http: addresses.http ? `${addresses.http.address}:${addresses.http.port}` : undefined,
        grpcPort: addresses.grpcPort,
        api: addresses.api ? `${addresses.api.address}:${addresses.api.port}` : undefined,
        topic: config.spansTopic,
        store: this.store instanceof ClickHouseStore ? this.store.database : this.store.kind,
        prices: { version: prices.current().version, source: this.pricing?.status().source ?? 'options' },
      },
      'aggregator started',
    );
    return addresses;
  }

  /** The prices of config: pricing-cache followed, with the last snapshot kept on disk. */
  private async openPricing(): Promise<PricingFollower> {
    const { config } = this.options;
    let channel;
    if (config.pricingTls) {
      let ca: Buffer | undefined;
      if (config.pricingTlsCaFile !== undefined) {
        try {
          ca = await readFile(config.pricingTlsCaFile);
        } catch (err) {
          throw new Error(
            `COSTTRACE_PRICING_TLS_CA_FILE=${config.pricingTlsCaFile} cannot be read (${(err as Error).message}): point it at pricing-cache's CA certificate (PEM)`,
            { cause: err },
          );
        }
      }
      channel = credentials.createSsl(ca);
    }
    const follower = await PricingFollower.open({
      address: config.pricingAddress,
      credentials: channel,
      token: config.pricingToken,
      stateFile: config.pricingStateFile,
      snapshotFile: config.priceSnapshotFile,
      logger: this.logger.child({ component: 'pricing' }),
      onRetroactiveChange: (count) => this.metrics.pricingRetroactiveChanges.inc(count),
    });
    this.metrics.bridgePricing(() => follower.status());
    return follower;
  }

  /**
   * The query API, metrics, liveness and readiness, listening before the dependencies answer:
   * readiness says what start-up waits for; budget routes answer 503 until budgets run.
   */
  private async startApi(): Promise<AddressInfo> {
    const { config } = this.options;
    const probe = new ReadinessProbe(
      this.store,
      () => this.log.ping(),
      () => (this.options.consume === false ? this.started : (this.consumer?.isRunning ?? false)),
      () => this.kafkaConnected,
    );
    // Pricing is reported, never a reason to be unready: without pricing-cache the aggregator
    // prices from the kept snapshot (or the bundled catalog) and says which.
    const readiness = async (): Promise<{
      ready: boolean;
      checks: Record<string, boolean>;
      waitingFor?: { dependency: string; reason: string };
      pricing?: PricingFollowerStatus;
    }> => {
      const probed = await probe.check();
      const result = this.pricing === undefined ? probed : { ...probed, pricing: this.pricing.status() };
      return this.waitingFor === undefined ? result : { ...result, ready: false, waitingFor: this.waitingFor };
    };
    const budgetsConfigured = this.options.budgets !== undefined || this.options.budgetService !== undefined;
    this.apiServer = new QueryApiServer({
      host: config.apiHost,
      port: config.apiPort,
      store: this.store,
      registry: this.metrics.registry,
      logger: this.logger,
      readiness,
      health: async () => pipelineHealth(this.metrics, await probe.check()),
      // Budget routes answer 503 STARTING until budgets run (once ClickHouse and Kafka answer).
      addRoutes: !budgetsConfigured
        ? undefined
        : (router) => {
            BudgetsApi.addRoutes(router, () => this.budgetService?.api);
            addPreflightRoutes(router, () => this.preflightService);
          },
      mapError: budgetsErrorMapper,
      // Both stores keep imported bills beside the spans.
      reconcile:
        this.store instanceof ClickHouseStore || this.store instanceof DuckDbStore
          ? {
              bills: this.store,
              snapshot: () => this.pricesSnapshot(),
            }
          : undefined,
    });
    return this.apiServer.listen();
  }

  /** The price snapshot the aggregator prices with (the bundled catalog before pricing starts). */
  get priceSnapshot(): PriceSnapshot {
    return this.pricesSnapshot();
  }

  private pricesSnapshot(): PriceSnapshot {
    return (this.options.prices ?? this.pricing)?.current().snapshot ?? bundledPriceSnapshot();
  }

  /** Preflight decisions while budgets run (tests call `tick()` rather than wait an interval). */
  get preflight(): PreflightService | undefined {
    return this.preflightService;
  }

  /** The drift monitor while budgets run (tests call `check()` rather than wait an interval). */
  get drift(): DriftMonitor | undefined {
    return this.driftMonitor;
  }

  get stats(): { spansAccepted: number; rowsStored: number; deadLettered: number } {
    return {
      spansAccepted: this.spanIngest?.spansAccepted ?? 0,
      ...(this.consumer?.stats ?? { rowsStored: 0, deadLettered: 0 }),
    };
  }

  /**
   * Graceful shutdown: stop taking requests (answering the running ones), let the consumer
   * finish, store and commit its in-flight batch, then disconnect.
   */
  stop(): Promise<void> {
    this.abort.abort();
    this.stopping ??= (async () => {
      await Promise.all([this.httpReceiver?.close(), this.grpcReceiver?.close()]);
      this.retention?.stop();
      await this.driftMonitor?.stop();
      await this.preflightService?.stop();
      await this.consumer?.stop();
      if (this.options.budgetService === undefined) await this.budgetService?.stop();
      await this.pricing?.close();
      await this.producer.disconnect().catch(() => undefined);
      await this.apiServer?.close();
      this.kafkaConnected = false;
      await this.log.disconnect().catch(() => undefined);
      await this.store.close();
      this.logger.info('aggregator stopped');
    })();
    return this.stopping;
  }
}
