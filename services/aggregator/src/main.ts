import { loadConfigOrExit, runService } from '@costtrace/service-kit';
import { pino } from 'pino';
import { Aggregator } from './aggregator.js';
import { loadBudgetsConfig } from './budgets/budgets-config.js';
import type { BudgetsConfig } from './budgets/budgets-config.js';
import { AGGREGATOR_BUDGETS_SWITCH_ENV, ConfigError, loadConfig } from './config.js';
import type { AggregatorConfig } from './config.js';
import { StartAborted } from './operations/dependency-wait.js';

const bootLogger = pino({ base: { service: 'costtrace-aggregator' } });
const { config, budgets } = loadConfigOrExit((): { config: AggregatorConfig; budgets: BudgetsConfig | undefined } => {
  const budgetsSwitch = process.env[AGGREGATOR_BUDGETS_SWITCH_ENV] ?? 'on';
  if (budgetsSwitch !== 'on' && budgetsSwitch !== 'off') {
    throw new ConfigError(`COSTTRACE_BUDGETS=${JSON.stringify(budgetsSwitch)} is invalid: use on or off`, {
      variable: AGGREGATOR_BUDGETS_SWITCH_ENV,
    });
  }
  return { config: loadConfig(), budgets: budgetsSwitch === 'on' ? loadBudgetsConfig() : undefined };
}, bootLogger);
const aggregator = new Aggregator({ config, budgets });
// A stop requested while start-up waits for ClickHouse or Kafka ends the start with StartAborted.
await runService(aggregator, { logger: aggregator.logger, isAbort: (err) => err instanceof StartAborted });
