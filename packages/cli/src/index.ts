export { commandHelp, parseArgs, parseLine } from './args.js';
export type {
  ArgsResult,
  CommandSpec,
  LineProblem,
  OptionSpec,
  OptionSpecs,
  OptionValues,
  ParsedCommand,
  ParsedLine,
  ParseResult,
} from './args.js';
export { CLI_COMMANDS, run } from './cli.js';
export type { CliCommand, CliIo } from './cli.js';
export { storeFromEnv } from './clickhouse-from-env.js';
export {
  extractStoreFlag,
  openSelected,
  openWritable,
  parseStoreSelection,
  STORE_HELP,
  storeOpenHint,
  WRITABLE_STORE_HELP,
} from './store-selection.js';
export type { StoreSelection } from './store-selection.js';
export { parseFlags } from './command-args.js';
export type { CommandOutput } from './command-args.js';
export { DEV_USAGE, loadEmbeddedStack, parseDevArgs, runDev } from './commands/dev.js';
export type {
  DevOptions,
  EmbeddedAddresses,
  EmbeddedStackHandle,
  EmbeddedStackModule,
  EmbeddedStackOptions,
} from './commands/dev.js';
export { BUDGET_USAGE, parseBudgetArgs, runBudgetCommand } from './commands/budget.js';
export type { BudgetCommand, BudgetCommandApi, CommandResult } from './commands/budget.js';
export { MIGRATE_USAGE, parseMigrateArgs, runMigrate } from './commands/migrate.js';
export { offlineBackend, remoteBackend } from './commands/pricing-backend.js';
export type { PricingBackend, RemoteOptions } from './commands/pricing-backend.js';
export { PRICING_COMMANDS, runPricing } from './commands/pricing.js';
export type { PricingContext } from './commands/pricing.js';
export { parseReportArgs, REPORT_USAGE, reportTable, runReport } from './commands/report.js';
export type { ReportArgs } from './commands/report.js';
export { parseRepriceArgs, renderRepriceReport, REPRICE_USAGE, runReprice } from './commands/reprice.js';
export type { RepriceArgs } from './commands/reprice.js';
export { renderJson, renderTable } from './output.js';
export { OUTPUT_FORMATS, renderRows } from './table-format.js';
export type { Cell, OutputFormat } from './table-format.js';
export {
  allocate,
  COMMON_FLAGS,
  COMMON_FLAGS_HELP,
  EXIT,
  parseCommand,
  percentChange,
  percentOf,
  pico,
  ratio,
  totals,
  usd,
} from './analysis/common-flags.js';
export type { AnalysisCommand, CommonArgs, CostSource } from './analysis/common-flags.js';
export type { AnalysisDeps } from './analysis/command-deps.js';
export { parseTopArgs, runTop, TOP_HELP, TOP_USAGE } from './analysis/top.js';
export type { TopArgs } from './analysis/top.js';
export { comparison, COMPARE_HELP, COMPARE_USAGE, parseCompareArgs, runCompare } from './analysis/compare.js';
export type { CompareArgs, ComparisonLine } from './analysis/compare.js';
export {
  parseUnitEconomicsArgs,
  proratedRevenue,
  runUnitEconomics,
  UNIT_ECONOMICS_HELP,
  UNIT_ECONOMICS_USAGE,
} from './analysis/unit-economics.js';
export type { UnitEconomicsArgs } from './analysis/unit-economics.js';
export {
  chargeback,
  CHARGEBACK_HELP,
  CHARGEBACK_USAGE,
  parseAllocation,
  parseChargebackArgs,
  runChargeback,
} from './analysis/chargeback.js';
export type { AllocationRule, ChargebackArgs, ChargebackLine, ChargebackResult } from './analysis/chargeback.js';
export {
  FORECAST_HELP,
  FORECAST_USAGE,
  monthBounds,
  parseForecastArgs,
  project,
  runForecast,
} from './analysis/forecast.js';
export type { ForecastArgs, Projection } from './analysis/forecast.js';
export { ESTIMATE_HELP, ESTIMATE_USAGE, parseEstimateArgs, runEstimate } from './analysis/estimate.js';
export type { EstimateArgs, EstimateDeps } from './analysis/estimate.js';
export {
  storeFocusUsage,
  lineFromReport,
  linesFromUsage,
  csvToParquet,
  EXPORT_HELP,
  EXPORT_USAGE,
  FOCUS_COLUMNS,
  FOCUS_DIMENSIONS,
  focusRow,
  parseExportArgs,
  runExport,
} from './analysis/focus-export.js';
export type { ExportArgs, ExportDeps, FocusLine, FocusUsageSource } from './analysis/focus-export.js';
export {
  storeSignals,
  parseRecommendArgs,
  RECOMMEND_HELP,
  RECOMMEND_USAGE,
  runRecommend,
} from './analysis/recommend.js';
export type {
  BudgetApi,
  Finding,
  GpuSpanRow,
  RecommendArgs,
  RecommendDeps,
  RecommendSignals,
  TokenMixRow,
} from './analysis/recommend.js';
export { ApiCostSource } from './api-cost-source.js';
