// The message-log port's consumer settings: defaults, the cross-field rules, and every consumer
// group's settings reachable from configuration (the span consumer's and the budget evaluator's).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, consumerSettings, loadBudgetsConfig } from '../src/index.js';
import { heartbeatIntervalFor } from '../src/message-log/message-log.js';

describe('consumer settings', () => {
  it('fills defaults and derives the heartbeat from the session timeout', () => {
    assert.deepEqual(consumerSettings(), {
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 60_000,
      heartbeatIntervalMs: 3_000,
      maxWaitTimeMs: 500,
      minBytes: 1,
      maxBytesPerPartition: 1024 * 1024,
      partitionsConsumedConcurrently: 1,
    });
    assert.equal(consumerSettings({ sessionTimeoutMs: 90_000 }).rebalanceTimeoutMs, 90_000);
    assert.equal(heartbeatIntervalFor(6_000), 600);
    assert.equal(heartbeatIntervalFor(1_000), 500);
  });

  it('refuses a rebalance timeout below the session timeout, and a heartbeat as long as the session', () => {
    assert.throws(
      () => consumerSettings({ sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 10_000 }),
      /rebalance timeout \(10000 ms\) is below the session timeout \(30000 ms\)/,
    );
    assert.throws(
      () => consumerSettings({ sessionTimeoutMs: 6_000, heartbeatIntervalMs: 6_000 }),
      /heartbeat interval \(6000 ms\) must be below the session timeout/,
    );
  });

  it('configures the budget evaluator group from the environment, with errors that name the variable', () => {
    const config = loadBudgetsConfig(
      {},
      {
        COSTTRACE_BUDGET_SESSION_TIMEOUT_MS: '45000',
        COSTTRACE_BUDGET_REBALANCE_TIMEOUT_MS: '90000',
        COSTTRACE_BUDGET_PARTITIONS_CONCURRENTLY: '8',
      },
    );
    assert.equal(config.evaluatorConsumer.sessionTimeoutMs, 45_000);
    assert.equal(config.evaluatorConsumer.rebalanceTimeoutMs, 90_000);
    assert.equal(config.evaluatorConsumer.heartbeatIntervalMs, 4_500);
    assert.equal(config.evaluatorConsumer.partitionsConsumedConcurrently, 8);
    assert.equal(config.evaluatorConsumer.maxWaitTimeMs, 100);
    assert.deepEqual(loadBudgetsConfig({}, {}).evaluatorConsumer.partitionsConsumedConcurrently, 4);
    assert.throws(
      () =>
        loadBudgetsConfig(
          {},
          { COSTTRACE_BUDGET_SESSION_TIMEOUT_MS: '60000', COSTTRACE_BUDGET_REBALANCE_TIMEOUT_MS: '30000' },
        ),
      (err: unknown) =>
        err instanceof ConfigError && /COSTTRACE_BUDGET_REBALANCE_TIMEOUT_MS \(30000\) is below/.test(err.message),
    );
    assert.throws(
      () => loadBudgetsConfig({}, { COSTTRACE_BUDGET_PARTITIONS_CONCURRENTLY: '0' }),
      /COSTTRACE_BUDGET_PARTITIONS_CONCURRENTLY="0" is invalid: use an integer from 1 to 64/,
    );
  });
});
