// A consumer-only aggregator in a child process that SIGKILLs itself at a chosen stage of a
// batch (the crash tests spawn it). Environment:
//   CRASH_CONFIG   JSON of AggregatorConfig overrides
//   CRASH_STAGE    batch-received | before-insert | insert-started | after-insert | after-commit | none
//   CRASH_AT       kill at the Nth occurrence of the stage (default 1)
//   CRASH_DELAY_MS with insert-started: kill this many ms after the insert request started
//   CRASH_BUDGETS  optional JSON of harnessBudgetsConfig options: budgets on (the span hand-off)
import { writeSync } from 'node:fs';
import { Aggregator, loadConfig } from '../../src/index.js';
import type { AggregatorConfig } from '../../src/index.js';
import type { ConsumerStage } from '../../src/kafka/span-consumer.js';
import { harnessBudgetsConfig } from './budget-harness.js';

const overrides = JSON.parse(process.env.CRASH_CONFIG ?? '{}') as Partial<AggregatorConfig>;
const stage = (process.env.CRASH_STAGE ?? 'none') as ConsumerStage | 'none';
const at = Number(process.env.CRASH_AT ?? '1');
const delayMs = Number(process.env.CRASH_DELAY_MS ?? '0');
let seen = 0;

function die(): void {
  writeSync(2, `CRASH ${stage}\n`);
  process.kill(process.pid, 'SIGKILL');
}

const budgets =
  process.env.CRASH_BUDGETS === undefined
    ? undefined
    : harnessBudgetsConfig(JSON.parse(process.env.CRASH_BUDGETS) as Parameters<typeof harnessBudgetsConfig>[0]);
const aggregator = new Aggregator({
  config: loadConfig(overrides, {}),
  budgets,
  ingest: false,
  api: false,
  onConsumerStage: (current, info) => {
    if (current !== stage) return;
    if (current === 'after-insert' || current === 'before-insert' || current === 'insert-started') {
      if (info.rows === 0) return;
    }
    seen++;
    if (seen < at) return;
    if (delayMs > 0) setTimeout(die, delayMs);
    else die();
  },
});
process.once('SIGTERM', () => {
  aggregator.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
await aggregator.start();
writeSync(2, 'STARTED\n');
