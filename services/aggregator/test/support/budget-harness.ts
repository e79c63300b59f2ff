// Integration helpers for budgets (they connect to Kafka and ClickHouse; unit tests never import
// this): topics for one test, a BudgetService on a real HTTP server, cleanup.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kafka } from 'kafkajs';
import { pino } from 'pino';
import { ClickHouseStore } from '@costtrace/store';
import { Router } from '@costtrace/service-kit';
import { BudgetService, ClickHouseBudgetStore, loadBudgetsConfig } from '../../src/index.js';
import { BudgetsApi, budgetsErrorMapper } from '../../src/budgets/budgets-http.js';
import type { BudgetsConfig } from '../../src/index.js';
import type { RetryPolicy } from '../../src/webhooks/retry-policy.js';
import { createTopicsWithLeaders, testMessageLog } from './live-services.js';

export interface BudgetTopics {
  readonly deltas: string;
  readonly deltasDlq: string;
  readonly throttles: string;
}

export function budgetTopics(prefix: string): BudgetTopics {
  return { deltas: `${prefix}_deltas`, deltasDlq: `${prefix}_deltas.dlq`, throttles: `${prefix}_throttles` };
}

export async function createBudgetTopics(kafka: Kafka, topics: BudgetTopics, partitions = 3): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsWithLeaders(admin, [
      { topic: topics.deltas, numPartitions: partitions },
      { topic: topics.deltasDlq, numPartitions: 1 },
      { topic: topics.throttles, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    ]);
  } finally {
    await admin.disconnect();
  }
}

export interface HarnessOptions {
  readonly brokers: string[];
  readonly clickhouseUrl: string;
  readonly database: string;
  readonly topics: BudgetTopics;
  readonly groupId: string;
  readonly budgetsFile?: string;
  readonly outboxDirectory: string;
  readonly instanceId: string;
  readonly evaluate?: boolean;
  readonly now?: () => number;
  readonly retry?: Partial<RetryPolicy>;
  readonly config?: Partial<BudgetsConfig>;
  readonly logLevel?: string;
}

export interface Harness {
  readonly service: BudgetService;
  readonly store: ClickHouseStore;
  readonly base: string;
  stop(): Promise<void>;
}

/** Budgets configuration for tests: the test's topics, fast ticks, loopback webhooks allowed. */
export function harnessBudgetsConfig(options: {
  readonly budgetsFile?: string | undefined;
  readonly topics: BudgetTopics;
  readonly groupId: string;
  readonly instanceId: string;
  readonly outboxDirectory: string;
  readonly config?: Partial<BudgetsConfig> | undefined;
}): BudgetsConfig {
  return loadBudgetsConfig(
    {
      budgetsFile: options.budgetsFile,
      costDeltasTopic: options.topics.deltas,
      costDeltasDeadLetterTopic: options.topics.deltasDlq,
      throttlesTopic: options.topics.throttles,
      evaluatorGroupId: options.groupId,
      instanceId: options.instanceId,
      outboxDirectory: options.outboxDirectory,
      webhookAllowPrivate: ['127.0.0.1/32'],
      tickMs: 100,
      flushMs: 300,
      refreshMs: 500,
      ...options.config,
    },
    {},
  );
}

export async function startBudgetHarness(options: HarnessOptions): Promise<Harness> {
  const logger = pino({ level: options.logLevel ?? 'warn', base: { instance: options.instanceId } });
  const store = new ClickHouseStore({ url: options.clickhouseUrl, database: options.database });
  const config = harnessBudgetsConfig({
    budgetsFile: options.budgetsFile,
    topics: options.topics,
    groupId: options.groupId,
    instanceId: options.instanceId,
    outboxDirectory: options.outboxDirectory,
    config: options.config,
  });
  const service = new BudgetService({
    config,
    log: testMessageLog(options.brokers),
    store: new ClickHouseBudgetStore(store),
    logger,
    evaluate: options.evaluate ?? true,
    now: options.now,
    retry: options.retry ?? { initialDelayMs: 200, maxDelayMs: 1000 },
  });
  await service.start();
  const router = new Router({ logger, mapError: budgetsErrorMapper });
  BudgetsApi.addRoutes(router, () => service.api);
  const server: Server = createServer(router.listener());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    service,
    store,
    base,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await service.stop();
      await store.close();
    },
  };
}
