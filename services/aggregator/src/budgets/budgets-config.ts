import { hostname } from 'node:os';
import {
  commaList,
  ConfigError,
  envReader,
  envSchema,
  integer,
  optional,
  pattern,
  text,
  topicName,
} from '@costtrace/service-kit';
import type { Env } from '@costtrace/service-kit';
import { consumerSettings } from '../message-log/message-log.js';
import type { ConsumerSettings } from '../message-log/message-log.js';
import { EVALUATOR_CONSUMER_DEFAULTS } from './budget-evaluator.js';
import { parseAllowList } from '../webhooks/ssrf-guard.js';

/**
 * Configuration of budgets, throttles and webhooks: one typed object, validated once.
 * Precedence: explicit overrides > environment variables > defaults. Every variable is checked
 * against BUDGETS_ENV (a zod schema); errors name the variable and say what to put there.
 */
export interface BudgetsConfig {
  /** Budgets file (YAML or JSON) applied at start. COSTTRACE_BUDGETS_FILE. */
  readonly budgetsFile: string | undefined;
  /** COSTTRACE_COST_DELTAS_TOPIC, default `cost_deltas`. */
  readonly costDeltasTopic: string;
  /** COSTTRACE_COST_DELTAS_DLQ_TOPIC, default `<cost deltas topic>.dlq`. */
  readonly costDeltasDeadLetterTopic: string;
  /** COSTTRACE_BUDGET_GROUP, default `costtrace-budgets`. */
  readonly evaluatorGroupId: string;
  /** COSTTRACE_THROTTLES_TOPIC (compacted), default `budget_throttles`. */
  readonly throttlesTopic: string;
  /** COSTTRACE_INSTANCE_ID, default host name + pid; names this instance's throttle reader group. */
  readonly instanceId: string;
  /** COSTTRACE_WEBHOOK_OUTBOX_DIR, default `.costtrace/webhooks`. */
  readonly outboxDirectory: string;
  /** COSTTRACE_WEBHOOK_ALLOW_PRIVATE: CIDRs webhooks may reach despite being private/loopback. */
  readonly webhookAllowPrivate: readonly string[];
  /** COSTTRACE_BUDGET_TICK_MS (50..10000), default 250. */
  readonly tickMs: number;
  /** COSTTRACE_BUDGET_FLUSH_MS (100..60000), default 2000. */
  readonly flushMs: number;
  /** COSTTRACE_BUDGET_REFRESH_MS (200..600000), default 2000. */
  readonly refreshMs: number;
  /** COSTTRACE_MAX_BUDGETS (1..100000), default 10000. */
  readonly maxBudgets: number;
  /**
   * How often the budgets file's drift rules are measured against the imported bills, in ms;
   * 0 turns them off. COSTTRACE_DRIFT_CHECK_SECONDS (0..604800), default 3600.
   */
  readonly driftCheckMs: number;
  /**
   * How often preflight reservations are settled against their jobs' spans and expired, and
   * other instances' preflight records read. COSTTRACE_PREFLIGHT_SETTLE_SECONDS (1..3600), default 30.
   */
  readonly preflightSettleMs: number;
  /**
   * The evaluator group's consumer: COSTTRACE_BUDGET_SESSION_TIMEOUT_MS (default 30000),
   * COSTTRACE_BUDGET_REBALANCE_TIMEOUT_MS (default 60000, at least the session timeout),
   * COSTTRACE_BUDGET_PARTITIONS_CONCURRENTLY (default 4). The throttle readers use the same
   * timeouts.
   */
  readonly evaluatorConsumer: ConsumerSettings;
}

/**
 * The budgets' environment: each variable's schema and default. Defaults that follow from other
 * settings (noted below) and the rules between settings are applied in loadBudgetsConfig.
 */
const BUDGETS_ENV = envSchema({
  COSTTRACE_BUDGETS_FILE: optional(text()),
  COSTTRACE_COST_DELTAS_TOPIC: topicName().default('cost_deltas'),
  /** Default: `<cost deltas topic>.dlq`. */
  COSTTRACE_COST_DELTAS_DLQ_TOPIC: topicName().optional(),
  COSTTRACE_BUDGET_GROUP: text().default('costtrace-budgets'),
  COSTTRACE_THROTTLES_TOPIC: topicName().default('budget_throttles'),
  /** Default: host name and process id. */
  COSTTRACE_INSTANCE_ID: pattern(/^[A-Za-z0-9._-]{1,200}$/, "use 1 to 200 letters, digits, '.', '_' or '-'").optional(),
  COSTTRACE_WEBHOOK_OUTBOX_DIR: text().default('.costtrace/webhooks'),
  COSTTRACE_WEBHOOK_ALLOW_PRIVATE: commaList(
    pattern(isAllowListEntry, 'use an IP address or a CIDR with a valid prefix length, e.g. 10.0.0.0/8 or ::1/128'),
  ).default([]),
  COSTTRACE_BUDGET_TICK_MS: integer(50, 10_000, 250),
  COSTTRACE_BUDGET_FLUSH_MS: integer(100, 60_000, 2000),
  COSTTRACE_BUDGET_REFRESH_MS: integer(200, 600_000, 2000),
  COSTTRACE_MAX_BUDGETS: integer(1, 100_000, 10_000),
  COSTTRACE_DRIFT_CHECK_SECONDS: integer(0, 7 * 86_400, 3600),
  COSTTRACE_PREFLIGHT_SETTLE_SECONDS: integer(1, 3600, 30),
  COSTTRACE_BUDGET_SESSION_TIMEOUT_MS: integer(6_000, 300_000, 30_000),
  COSTTRACE_BUDGET_REBALANCE_TIMEOUT_MS: integer(6_000, 600_000, 60_000),
  COSTTRACE_BUDGET_PARTITIONS_CONCURRENTLY: integer(1, 64, 4),
});

/** Whether the webhook guard's allow-list takes `entry` (an IP address or CIDR). */
function isAllowListEntry(entry: string): boolean {
  try {
    parseAllowList([entry]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every environment variable loadBudgetsConfig reads (machine-readable, for deployment checks): the
 * variables of BUDGETS_ENV. A unit test asserts that the loader reads exactly these names, so deploy/
 * checks can trust them.
 */
export const BUDGETS_ENV_VARS: readonly string[] = Object.keys(BUDGETS_ENV.shape).sort();

export function loadBudgetsConfig(overrides: Partial<BudgetsConfig> = {}, env: Env = process.env): BudgetsConfig {
  const { read, check } = envReader(BUDGETS_ENV, env);
  // Topics, the allow-list and the instance id are checked whether they come from code or not.
  const costDeltasTopic = read('COSTTRACE_COST_DELTAS_TOPIC', overrides.costDeltasTopic);
  const webhookAllowPrivate = read('COSTTRACE_WEBHOOK_ALLOW_PRIVATE', overrides.webhookAllowPrivate);
  const sessionTimeoutMs = read('COSTTRACE_BUDGET_SESSION_TIMEOUT_MS');
  const rebalanceTimeoutMs = read('COSTTRACE_BUDGET_REBALANCE_TIMEOUT_MS');
  if (overrides.evaluatorConsumer === undefined && rebalanceTimeoutMs < sessionTimeoutMs) {
    throw new ConfigError(
      `COSTTRACE_BUDGET_REBALANCE_TIMEOUT_MS (${rebalanceTimeoutMs}) is below COSTTRACE_BUDGET_SESSION_TIMEOUT_MS (${sessionTimeoutMs}): make it at least as long`,
      { variable: 'COSTTRACE_BUDGET_REBALANCE_TIMEOUT_MS' },
    );
  }
  const config: BudgetsConfig = {
    evaluatorConsumer:
      overrides.evaluatorConsumer ??
      consumerSettings({
        ...EVALUATOR_CONSUMER_DEFAULTS,
        sessionTimeoutMs,
        rebalanceTimeoutMs,
        partitionsConsumedConcurrently: read('COSTTRACE_BUDGET_PARTITIONS_CONCURRENTLY'),
      }),
    budgetsFile: overrides.budgetsFile ?? read('COSTTRACE_BUDGETS_FILE'),
    costDeltasTopic,
    costDeltasDeadLetterTopic:
      read('COSTTRACE_COST_DELTAS_DLQ_TOPIC', overrides.costDeltasDeadLetterTopic) ??
      check('COSTTRACE_COST_DELTAS_DLQ_TOPIC', `${costDeltasTopic}.dlq`),
    evaluatorGroupId: overrides.evaluatorGroupId ?? read('COSTTRACE_BUDGET_GROUP'),
    throttlesTopic: read('COSTTRACE_THROTTLES_TOPIC', overrides.throttlesTopic),
    instanceId:
      read('COSTTRACE_INSTANCE_ID', overrides.instanceId) ??
      check('COSTTRACE_INSTANCE_ID', `${hostname()}-${process.pid}`),
    outboxDirectory: overrides.outboxDirectory ?? read('COSTTRACE_WEBHOOK_OUTBOX_DIR'),
    webhookAllowPrivate,
    tickMs: overrides.tickMs ?? read('COSTTRACE_BUDGET_TICK_MS'),
    flushMs: overrides.flushMs ?? read('COSTTRACE_BUDGET_FLUSH_MS'),
    refreshMs: overrides.refreshMs ?? read('COSTTRACE_BUDGET_REFRESH_MS'),
    maxBudgets: overrides.maxBudgets ?? read('COSTTRACE_MAX_BUDGETS'),
    driftCheckMs: overrides.driftCheckMs ?? read('COSTTRACE_DRIFT_CHECK_SECONDS') * 1000,
    preflightSettleMs: overrides.preflightSettleMs ?? read('COSTTRACE_PREFLIGHT_SETTLE_SECONDS') * 1000,
  };
  if (config.flushMs < config.tickMs) {
    throw new ConfigError(
      `COSTTRACE_BUDGET_FLUSH_MS (${config.flushMs}) is below COSTTRACE_BUDGET_TICK_MS (${config.tickMs}): make it at least as long (state is persisted at most once per evaluation)`,
      { variable: 'COSTTRACE_BUDGET_FLUSH_MS' },
    );
  }
  return config;
}
