export { commandHelp, parseArgs } from './args.js';
export type { CommandSpec, OptionSpec, ParsedCommand, ParseResult } from './args.js';
export { COMMANDS, run } from './cli.js';
export type { CliIo } from './cli.js';
export { offlineBackend, remoteBackend } from './commands/pricing-backend.js';
export type { PricingBackend, RemoteOptions } from './commands/pricing-backend.js';
export { PRICING_COMMANDS, runPricing } from './commands/pricing.js';
export type { PricingContext } from './commands/pricing.js';
export { renderJson, renderTable } from './output.js';
