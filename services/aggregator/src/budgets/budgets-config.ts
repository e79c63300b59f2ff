import { hostname } from 'node:os';
import { ConfigError } from '../config.js';
import { consumerSettings } from '../message-log/message-log.js';
import type { ConsumerSettings } from '../message-log/message-log.js';
import { EVALUATOR_CONSUMER_DEFAULTS } from './budget-evaluator.js';
import { parseAllowList } from '../webhooks/ssrf-guard.js';

/**
 * Configuration of budgets, throttles and webhooks: one typed object, validated once.
 * Precedence: explicit overrides > environment variables > defaults. Errors name the variable.
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
   * The evaluator group's consumer: COSTTRACE_BUDGET_SESSION_TIMEOUT_MS (default 30000),
   * COSTTRACE_BUDGET_REBALANCE_TIMEOUT_MS (default 60000, at least the session timeout),
   * COSTTRACE_BUDGET_PARTITIONS_CONCURRENTLY (default 4). The throttle readers use the same
   * timeouts.
   */
  readonly evaluatorConsumer: ConsumerSettings;
}

type Env = Readonly<Record<string, string | undefined>>;
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: use an integer from ${min} to ${max}`);
  }
  return value;
}

function topic(value: string, name: string): string {
  if (!TOPIC.test(value))
    throw new ConfigError(
      `${name}=${JSON.stringify(value)} is not a valid Kafka topic name: use letters, digits, '.', '_' or '-'`,
    );
  return value;
}

/**
 * Every environment variable loadBudgetsConfig reads (machine-readable, for deployment checks).
 * A unit test asserts that the loader reads exactly these names, so deploy/ checks can trust them.
 */
export const BUDGETS_ENV_VARS: readonly string[] = [
  'COSTTRACE_BUDGETS_FILE',
  'COSTTRACE_BUDGET_FLUSH_MS',
  'COSTTRACE_BUDGET_GROUP',
  'COSTTRACE_BUDGET_PARTITIONS_CONCURRENTLY',
  'COSTTRACE_BUDGET_REBALANCE_TIMEOUT_MS',
  'COSTTRACE_BUDGET_REFRESH_MS',
  'COSTTRACE_BUDGET_SESSION_TIMEOUT_MS',
  'COSTTRACE_BUDGET_TICK_MS',
  'COSTTRACE_COST_DELTAS_DLQ_TOPIC',
  'COSTTRACE_COST_DELTAS_TOPIC',
  'COSTTRACE_INSTANCE_ID',
  'COSTTRACE_MAX_BUDGETS',
  'COSTTRACE_THROTTLES_TOPIC',
  'COSTTRACE_WEBHOOK_ALLOW_PRIVATE',
  'COSTTRACE_WEBHOOK_OUTBOX_DIR',
];

export function loadBudgetsConfig(overrides: Partial<BudgetsConfig> = {}, env: Env = process.env): BudgetsConfig {
  const costDeltasTopic = topic(
    overrides.costDeltasTopic ?? env.COSTTRACE_COST_DELTAS_TOPIC ?? 'cost_deltas',
    'COSTTRACE_COST_DELTAS_TOPIC',
  );
  const allow =
    overrides.webhookAllowPrivate ??
    (env.COSTTRACE_WEBHOOK_ALLOW_PRIVATE ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  try {
    parseAllowList(allow);
  } catch (err) {
    throw new ConfigError(`COSTTRACE_WEBHOOK_ALLOW_PRIVATE is invalid: ${(err as Error).message}`);
  }
  const sessionTimeoutMs = integer(env, 'COSTTRACE_BUDGET_SESSION_TIMEOUT_MS', 30_000, 6_000, 300_000);
  const rebalanceTimeoutMs = integer(env, 'COSTTRACE_BUDGET_REBALANCE_TIMEOUT_MS', 60_000, 6_000, 600_000);
  if (overrides.evaluatorConsumer === undefined && rebalanceTimeoutMs < sessionTimeoutMs) {
    throw new ConfigError(
      `COSTTRACE_BUDGET_REBALANCE_TIMEOUT_MS (${rebalanceTimeoutMs}) is below COSTTRACE_BUDGET_SESSION_TIMEOUT_MS (${sessionTimeoutMs}): make it at least as long`,
    );
  }
  const config: BudgetsConfig = {
    evaluatorConsumer:
      overrides.evaluatorConsumer ??
      consumerSettings({
        ...EVALUATOR_CONSUMER_DEFAULTS,
        sessionTimeoutMs,
        rebalanceTimeoutMs,
        partitionsConsumedConcurrently: integer(env, 'COSTTRACE_BUDGET_PARTITIONS_CONCURRENTLY', 4, 1, 64),
      }),
    budgetsFile: overrides.budgetsFile ?? (env.COSTTRACE_BUDGETS_FILE || undefined),
    costDeltasTopic,
    costDeltasDeadLetterTopic: topic(
      overrides.costDeltasDeadLetterTopic ?? env.COSTTRACE_COST_DELTAS_DLQ_TOPIC ?? `${costDeltasTopic}.dlq`,
      'COSTTRACE_COST_DELTAS_DLQ_TOPIC',
    ),
    evaluatorGroupId: overrides.evaluatorGroupId ?? env.COSTTRACE_BUDGET_GROUP ?? 'costtrace-budgets',
    throttlesTopic: topic(
      overrides.throttlesTopic ?? env.COSTTRACE_THROTTLES_TOPIC ?? 'budget_throttles',
      'COSTTRACE_THROTTLES_TOPIC',
    ),
    instanceId: overrides.instanceId ?? env.COSTTRACE_INSTANCE_ID ?? `${hostname()}-${process.pid}`,
    outboxDirectory: overrides.outboxDirectory ?? env.COSTTRACE_WEBHOOK_OUTBOX_DIR ?? '.costtrace/webhooks',
    webhookAllowPrivate: allow,
    tickMs: overrides.tickMs ?? integer(env, 'COSTTRACE_BUDGET_TICK_MS', 250, 50, 10_000),
    flushMs: overrides.flushMs ?? integer(env, 'COSTTRACE_BUDGET_FLUSH_MS', 2000, 100, 60_000),
    refreshMs: overrides.refreshMs ?? integer(env, 'COSTTRACE_BUDGET_REFRESH_MS', 2000, 200, 600_000),
    maxBudgets: overrides.maxBudgets ?? integer(env, 'COSTTRACE_MAX_BUDGETS', 10_000, 1, 100_000),
  };
  if (config.flushMs < config.tickMs) {
    throw new ConfigError(
      'COSTTRACE_BUDGET_FLUSH_MS must be at least COSTTRACE_BUDGET_TICK_MS: state is persisted less often than it is evaluated',
    );
  }
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(config.instanceId)) {
    throw new ConfigError(
      `COSTTRACE_INSTANCE_ID=${JSON.stringify(config.instanceId)} is invalid: use letters, digits, '.', '_' or '-'`,
    );
  }
  return config;
}
