export { CLI_COMMANDS, run } from './cli.js';
export type { CliCommand, CliIo } from './cli.js';
export type {
  EmbeddedAddresses,
  EmbeddedStackHandle,
  EmbeddedStackModule,
  EmbeddedStackOptions,
} from './commands/dev.js';
export { BUDGET_USAGE, parseBudgetArgs, runBudgetCommand } from './commands/budget.js';
export type { BudgetCommandApi, CommandResult } from './commands/budget.js';
export {
  parsePreflightArgs,
  PREFLIGHT_EXIT,
  PREFLIGHT_HELP,
  PREFLIGHT_USAGE,
  preflightExitCode,
  runPreflightCommand,
} from './commands/preflight.js';
export type {
  PreflightArgs,
  PreflightCommand,
  PreflightCommandApi,
  PreflightCommandDeps,
} from './commands/preflight.js';
export type { PricingBackend, RemoteOptions } from './commands/pricing-backend.js';
export { EXIT } from './analysis/common-flags.js';
export type { CostSource } from './analysis/common-flags.js';
export { ApiCostSource } from './api-cost-source.js';
export { importBill, importBillFiles } from './billing/bill-import.js';
export type { BillImportOptions, BillImportSummary, BillInput } from './billing/bill-import.js';
