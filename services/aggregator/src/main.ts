import { pino } from 'pino';
import { Aggregator } from './aggregator.js';
import { loadBudgetsConfig } from './budgets/budgets-config.js';
import type { BudgetsConfig } from './budgets/budgets-config.js';
import { AGGREGATOR_BUDGETS_SWITCH_ENV, ConfigError, loadConfig } from './config.js';
import { StartAborted } from './operations/dependency-wait.js';

const bootLogger = pino({ base: { service: 'costtrace-aggregator' } });
let config;
let budgets: BudgetsConfig | undefined;
try {
  config = loadConfig();
  const budgetsSwitch = process.env[AGGREGATOR_BUDGETS_SWITCH_ENV] ?? 'on';
  if (budgetsSwitch !== 'on' && budgetsSwitch !== 'off') {
    throw new ConfigError(`COSTTRACE_BUDGETS=${JSON.stringify(budgetsSwitch)} is invalid: use on or off`);
  }
  budgets = budgetsSwitch === 'on' ? loadBudgetsConfig() : undefined;
} catch (err) {
  if (err instanceof ConfigError) {
    bootLogger.fatal(`invalid configuration: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
const aggregator = new Aggregator({ config, budgets });
const shutdown = (signal: string): void => {
  aggregator.logger.info({ signal }, 'shutting down');
  aggregator.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      aggregator.logger.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
try {
  await aggregator.start();
} catch (err) {
  // A stop requested while start-up waited for ClickHouse or Kafka: the shutdown handler exits.
  if (err instanceof StartAborted) process.exitCode = 0;
  else {
    aggregator.logger.fatal({ err }, 'aggregator failed to start');
    await aggregator.stop().catch(() => undefined);
    process.exit(1);
  }
}
