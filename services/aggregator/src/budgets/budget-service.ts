import { percentOfLimit } from '@costtrace/core';
import type { Logger } from 'pino';
import { consumerSettings } from '../message-log/message-log.js';
import type { MessageLog } from '../message-log/message-log.js';
import type { RetryPolicy } from '../webhooks/retry-policy.js';
import { parseAllowList } from '../webhooks/ssrf-guard.js';
import type { Resolver } from '../webhooks/ssrf-guard.js';
import { WebhookDispatcher } from '../webhooks/webhook-dispatcher.js';
import { WebhookOutbox } from '../webhooks/webhook-outbox.js';
import { WebhookSender } from '../webhooks/webhook-sender.js';
import type { KeyStatus } from './budget-engine.js';
import { BudgetEvaluator } from './budget-evaluator.js';
import { BudgetRegistry } from './budget-registry.js';
import type { BudgetStore } from './budget-store.js';
import type { BudgetsConfig } from './budgets-config.js';
import { BudgetsApi } from './budgets-http.js';
import { CostDeltaProducer } from './cost-delta-producer.js';
import { budgetDeltas } from './cost-delta.js';
import type { BudgetRow } from './cost-delta.js';
import type { BudgetDeltaStats } from './cost-delta.js';
import { ThrottleBoard, ThrottleSync } from './throttle-board.js';

export interface BudgetServiceOptions {
  readonly config: BudgetsConfig;
  readonly log: MessageLog;
  readonly store: BudgetStore;
  readonly logger: Logger;
  /** Run the evaluator (consume cost_deltas, fire webhooks). Default true. */
  readonly evaluate?: boolean | undefined;
  /** Injected name resolution for webhook destinations (tests). */
  readonly resolver?: Resolver | undefined;
  readonly retry?: Partial<RetryPolicy> | undefined;
  readonly now?: (() => number) | undefined;
}

/**
 * Budgets, throttles and webhooks of one aggregator instance, wired together:
 * span rows → `onRowsStored` → cost_deltas → BudgetEvaluator → outbox → WebhookDispatcher,
 * and the throttle board shared through the message log; `api` serves the HTTP routes
 * (`BudgetsApi.addRoutes`).
 */
export class BudgetService {
  readonly registry: BudgetRegistry;
  readonly board = new ThrottleBoard();
  readonly deltaProducer: CostDeltaProducer;
  readonly deltaStats: BudgetDeltaStats = { nonUsdRows: 0, unpricedAsZero: 0, unpricedEstimated: 0 };
  private readonly sync: ThrottleSync;
  private readonly sender: WebhookSender;
  private outboxValue: WebhookOutbox | undefined;
  private dispatcherValue: WebhookDispatcher | undefined;
  private evaluatorValue: BudgetEvaluator | undefined;
  private apiValue: BudgetsApi | undefined;
  private started = false;

  constructor(private readonly options: BudgetServiceOptions) {
    const { config, log, logger } = options;
    this.registry = new BudgetRegistry({
      store: options.store,
      logger,
      file: config.budgetsFile,
      refreshMs: config.refreshMs,
      maxBudgets: config.maxBudgets,
    });
    this.deltaProducer = new CostDeltaProducer(log, config.costDeltasTopic);
    this.sync = new ThrottleSync({
      log,
      consumer: consumerSettings({
        sessionTimeoutMs: config.evaluatorConsumer.sessionTimeoutMs,
        rebalanceTimeoutMs: config.evaluatorConsumer.rebalanceTimeoutMs,
        maxWaitTimeMs: 100,
      }),
      topic: config.throttlesTopic,
      groupIdPrefix: `${config.evaluatorGroupId}-throttles`,
      instanceId: config.instanceId,
      board: this.board,
      logger,
    });
    this.sender = new WebhookSender({ allow: parseAllowList(config.webhookAllowPrivate), resolver: options.resolver });
  }

  get outbox(): WebhookOutbox {
    if (this.outboxValue === undefined) throw new Error('budget service is not started');
    return this.outboxValue;
  }

  /** Where budgets, endpoints and preflight records are kept. */
  get documents(): BudgetStore {
    return this.options.store;
  }

  get dispatcher(): WebhookDispatcher {
    if (this.dispatcherValue === undefined) throw new Error('budget service is not started');
    return this.dispatcherValue;
  }

  get evaluator(): BudgetEvaluator | undefined {
    return this.evaluatorValue;
  }

  /** Whether `start` has completed (and `stop` not yet begun). */
  get isStarted(): boolean {
    return this.started;
  }

  /** The HTTP API while the service runs (BudgetsApi.addRoutes answers 503 STARTING otherwise). */
  get api(): BudgetsApi | undefined {
    return this.started ? this.apiValue : undefined;
  }

  async start(): Promise<void> {
    const { config, logger } = this.options;
    await this.registry.start();
    this.outboxValue = await WebhookOutbox.open({ directory: config.outboxDirectory, logger, now: this.options.now });
    this.dispatcherValue = new WebhookDispatcher({
      outbox: this.outboxValue,
      sender: this.sender,
      endpoints: () => this.registry.endpointMap(),
      logger,
      retry: this.options.retry,
      now: this.options.now,
    });
    this.dispatcherValue.start();
    await this.deltaProducer.connect();
    await this.sync.start();
    if (this.options.evaluate ?? true) {
      const dispatcher = this.dispatcherValue;
      this.evaluatorValue = new BudgetEvaluator({
        log: this.options.log,
        consumer: config.evaluatorConsumer,
        topic: config.costDeltasTopic,
        deadLetterTopic: config.costDeltasDeadLetterTopic,
        groupId: config.evaluatorGroupId,
        store: this.options.store,
        catalog: () => this.registry.catalog(),
        publish: (event, endpoints) => dispatcher.publish(event, endpoints),
        board: this.board,
        shareThrottle: (change) => this.sync.publish(change),
        logger,
        tickMs: config.tickMs,
        flushMs: config.flushMs,
        now: this.options.now,
      });
      await this.evaluatorValue.start();
    }
    this.apiValue = new BudgetsApi({
      registry: this.registry,
      board: this.board,
      outbox: this.outboxValue,
      dispatcher: this.dispatcherValue,
      status: (budgetId) => this.status(budgetId),
      logger,
    });
    this.started = true;
    logger.info(
      { budgets: this.registry.catalog().size, topic: config.costDeltasTopic, evaluate: this.options.evaluate ?? true },
      'budgets started',
    );
  }

  /**
   * The hand-off from the span path: call after a batch of rows is stored (before committing its
   * offsets). Produces one delta per matching budget key to `cost_deltas`; resolves when Kafka has them.
   */
  async onRowsStored(rows: readonly BudgetRow[]): Promise<void> {
    if (!this.started) throw new Error('budget service is not started');
    await this.deltaProducer.send(budgetDeltas(rows, this.registry.catalog(), { stats: this.deltaStats }));
  }

  /**
   * Status of a budget's keys: live for the keys this instance evaluates, and for keys owned by
   * other instances their last persisted state (at most COSTTRACE_BUDGET_FLUSH_MS old).
   */
  async status(budgetId: string, limit = 1000): Promise<{ keys: KeyStatus[]; keysOverCap: number }> {
    const now = (this.options.now ?? Date.now)();
    const engine = this.evaluatorValue?.engine;
    const local = engine?.status(budgetId, now) ?? [];
    const budget = this.registry.budget(budgetId);
    const seen = new Set(local.map((k) => k.scopeKey));
    const keys: KeyStatus[] = [...local];
    if (budget !== undefined) {
      const persisted = await this.options.store.loadBudgetKeys(this.options.config.costDeltasTopic, budgetId, limit);
      for (const { snapshot, spend } of persisted) {
        if (seen.has(snapshot.scopeKey)) continue;
        const windowMs = budget.window.kind === 'rolling' ? budget.window.durationMs : 0;
        keys.push({
          budgetId,
          scopeKey: snapshot.scopeKey,
          dimensions: snapshot.dimensions,
          spend,
          limit: budget.limit.subunits,
          percent: percentOfLimit(spend, budget.limit.subunits),
          windowStartMs: snapshot.calendar?.startMs ?? now - windowMs,
          windowEndMs: snapshot.calendar?.endMs ?? now,
          thresholdsCrossed: snapshot.thresholds.crossed,
          throttle: snapshot.thresholds.throttle,
          expectedUntilMs: null,
          forecast: null,
          lastSeenMs: snapshot.lastSeenMs,
          live: false,
        });
      }
    }
    keys.sort((a, b) => (a.scopeKey < b.scopeKey ? -1 : 1));
    return { keys: keys.slice(0, limit), keysOverCap: engine?.keysOverCapOf(budgetId) ?? 0 };
  }

  /** Live status of the keys this instance evaluates itself. */
  localStatus(budgetId: string): KeyStatus[] {
    return this.evaluatorValue?.engine.status(budgetId, (this.options.now ?? Date.now)()) ?? [];
  }

  async stop(): Promise<void> {
    this.started = false;
    this.apiValue?.close();
    await this.evaluatorValue?.stop();
    await this.dispatcherValue?.stop();
    await this.sync.stop();
    await this.deltaProducer.disconnect();
    await this.registry.stop();
    await this.outboxValue?.close();
    this.sender.close();
  }
}
