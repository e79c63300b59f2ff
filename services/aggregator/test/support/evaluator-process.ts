// One aggregator's budgets (evaluator + API) in its own process, for the scale-out test. Options
// come as JSON in argv[2]; prints "ready <api base URL>" once started; stops cleanly on SIGTERM.
import { startBudgetHarness } from './budget-harness.js';
import type { HarnessOptions } from './budget-harness.js';

const options = JSON.parse(process.argv[2]!) as HarnessOptions;
const harness = await startBudgetHarness(options);
process.stdout.write(`ready ${harness.base}\n`);
process.once('SIGTERM', () => {
  harness.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
